/* geohash: the arithmetic under the GEO commands — 52-bit interleaved
 * geohashes (26 bits of longitude and 26 of latitude, longitude in the odd
 * bits), cells and their neighbours, great-circle distances on Redis's
 * sphere, and the cells that cover a search shape.
 *
 * A point's score in the sorted set is its geohash at 26 steps over
 * longitude -180..180 and latitude -85.05112878..85.05112878 (the range Web
 * Mercator maps); a point read back is the centre of its cell. */
#ifndef RUNNEL_TYPES_GEOHASH_H
#define RUNNEL_TYPES_GEOHASH_H

#include <stdbool.h>
#include <stdint.h>

#define GEO_LON_MIN (-180.0)
#define GEO_LON_MAX 180.0
#define GEO_LAT_MIN (-85.05112878)
#define GEO_LAT_MAX 85.05112878
#define GEO_STEP_MAX 26
/* The sphere Redis measures on, in metres. */
#define GEO_EARTH_RADIUS 6372797.560856

/* A cell: its bits at `step` bits per axis (2*step bits in all). */
struct geohash {
    uint64_t bits;
    int step;
};

struct geo_area {
    double lon_min, lon_max, lat_min, lat_max;
};

/* True when lon/lat are inside the ranges a point may have. */
bool geohash_valid(double lon, double lat);
/* The cell of lon/lat at `step` over the given latitude range (GEO's own, or
 * -90..90 for the standard geohash strings). The point must be valid. */
struct geohash geohash_encode_range(double lon, double lat, int step, double lat_min, double lat_max);
struct geohash geohash_encode(double lon, double lat, int step);
/* The bounds of a cell (over GEO's latitude range). */
struct geo_area geohash_area(struct geohash h);
/* The point a 52-bit score stands for: its cell's centre, clamped. */
void geohash_decode_score(uint64_t score, double *lon, double *lat);
/* The 11-character standard geohash of a score ("...0" last: 52 bits
 * fill ten characters and two bits). out must hold 12 bytes. */
void geohash_string(uint64_t score, char *out);

/* Great-circle distance in metres (haversine). */
double geo_distance(double lon1, double lat1, double lon2, double lat2);
/* Whether (lon, lat) is within radius of the centre; the distance in *dist. */
bool geo_in_radius(double clon, double clat, double lon, double lat, double radius, double *dist);
/* Whether (lon, lat) is inside the width x height box (metres) centred on
 * (clon, clat), measured along the meridian and along the point's parallel. */
bool geo_in_box(double clon, double clat, double lon, double lat, double width, double height, double *dist);

/* The cells to scan for a search: the centre's cell at a step coarse enough
 * for the shape, and its eight neighbours, those the shape cannot reach
 * zeroed (step 0). Order: centre, N, S, E, W, NE, NW, SE, SW. */
struct geo_cover {
    struct geohash cells[9];
};
/* radius_m: the circle's radius, or for a box half its diagonal;
 * half_w/half_h: the box's half sides (for a circle, the radius twice). */
void geo_cover_shape(double lon, double lat, double radius_m, double half_w, double half_h, struct geo_cover *out);
/* The score range [*min, *max) holding the points of a cell. */
void geohash_score_range(struct geohash h, uint64_t *min, uint64_t *max);

#endif
