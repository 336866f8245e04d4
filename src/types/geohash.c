/* geohash: interleaved geohashes, cells, distances and search covers (see
 * geohash.h). */
#include "types/geohash.h"

#include <math.h>

#define MERCATOR_MAX 20037726.37
#define DEG_TO_RAD (M_PI / 180.0)

/* Spreads the low 32 bits of v over the even bits of the result. */
static uint64_t spread_bits(uint32_t v)
{
    uint64_t x = v;
    x = (x | (x << 16)) & 0x0000FFFF0000FFFFULL;
    x = (x | (x << 8)) & 0x00FF00FF00FF00FFULL;
    x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0FULL;
    x = (x | (x << 2)) & 0x3333333333333333ULL;
    x = (x | (x << 1)) & 0x5555555555555555ULL;
    return x;
}

/* The inverse: gathers the even bits of x into 32 bits. */
static uint32_t gather_bits(uint64_t x)
{
    x &= 0x5555555555555555ULL;
    x = (x | (x >> 1)) & 0x3333333333333333ULL;
    x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0FULL;
    x = (x | (x >> 4)) & 0x00FF00FF00FF00FFULL;
    x = (x | (x >> 8)) & 0x0000FFFF0000FFFFULL;
    x = (x | (x >> 16)) & 0x00000000FFFFFFFFULL;
    return (uint32_t)x;
}

/* Latitude index in the even bits, longitude index in the odd ones. */
static uint64_t interleave(uint32_t lat_index, uint32_t lon_index)
{
    return spread_bits(lat_index) | (spread_bits(lon_index) << 1);
}

bool geohash_valid(double lon, double lat)
{
    return lon >= GEO_LON_MIN && lon <= GEO_LON_MAX && lat >= GEO_LAT_MIN && lat <= GEO_LAT_MAX;
}

struct geohash geohash_encode_range(double lon, double lat, int step, double lat_min, double lat_max)
{
    double lat_off = (lat - lat_min) / (lat_max - lat_min);
    double lon_off = (lon - GEO_LON_MIN) / (GEO_LON_MAX - GEO_LON_MIN);
    lat_off *= (double)(1ULL << step);
    lon_off *= (double)(1ULL << step);
    return (struct geohash){interleave((uint32_t)lat_off, (uint32_t)lon_off), step};
}

struct geohash geohash_encode(double lon, double lat, int step)
{
    return geohash_encode_range(lon, lat, step, GEO_LAT_MIN, GEO_LAT_MAX);
}

struct geo_area geohash_area(struct geohash h)
{
    uint32_t lat_i = gather_bits(h.bits), lon_i = gather_bits(h.bits >> 1);
    double cells = (double)(1ULL << h.step);
    double lat_span = GEO_LAT_MAX - GEO_LAT_MIN, lon_span = GEO_LON_MAX - GEO_LON_MIN;
    struct geo_area a;
    a.lat_min = GEO_LAT_MIN + (lat_i / cells) * lat_span;
    a.lat_max = GEO_LAT_MIN + ((lat_i + 1.0) / cells) * lat_span;
    a.lon_min = GEO_LON_MIN + (lon_i / cells) * lon_span;
    a.lon_max = GEO_LON_MIN + ((lon_i + 1.0) / cells) * lon_span;
    return a;
}

void geohash_decode_score(uint64_t score, double *lon, double *lat)
{
    struct geo_area a = geohash_area((struct geohash){score, GEO_STEP_MAX});
    double x = (a.lon_min + a.lon_max) / 2, y = (a.lat_min + a.lat_max) / 2;
    *lon = x > GEO_LON_MAX ? GEO_LON_MAX : x < GEO_LON_MIN ? GEO_LON_MIN : x;
    *lat = y > GEO_LAT_MAX ? GEO_LAT_MAX : y < GEO_LAT_MIN ? GEO_LAT_MIN : y;
}

void geohash_string(uint64_t score, char *out)
{
    static const char alphabet[] = "0123456789bcdefghjkmnpqrstuvwxyz";
    double lon, lat;
    geohash_decode_score(score, &lon, &lat);
    uint64_t bits = geohash_encode_range(lon, lat, GEO_STEP_MAX, -90.0, 90.0).bits;
    for (int i = 0; i < 11; i++) {
        unsigned idx = i == 10 ? 0 : (unsigned)((bits >> (52 - (i + 1) * 5)) & 0x1f);
        out[i] = alphabet[idx];
    }
    out[11] = '\0';
}

/* ---- distances ---- */

double geo_distance(double lon1, double lat1, double lon2, double lat2)
{
    /* each angle converted first, in this order: the last bits of the
     * result must be Redis's (STOREDIST stores them) */
    double lon1r = lon1 * DEG_TO_RAD, lon2r = lon2 * DEG_TO_RAD;
    double v = sin((lon2r - lon1r) / 2);
    double lat1r = lat1 * DEG_TO_RAD, lat2r = lat2 * DEG_TO_RAD;
    /* along a meridian the arc is the latitude difference */
    if (v == 0.0) return GEO_EARTH_RADIUS * fabs(lat2r - lat1r);
    double u = sin((lat2r - lat1r) / 2);
    double a = u * u + cos(lat1r) * cos(lat2r) * v * v;
    return 2.0 * GEO_EARTH_RADIUS * asin(sqrt(a));
}

bool geo_in_radius(double clon, double clat, double lon, double lat, double radius, double *dist)
{
    *dist = geo_distance(clon, clat, lon, lat);
    return *dist <= radius;
}

bool geo_in_box(double clon, double clat, double lon, double lat, double width, double height, double *dist)
{
    if (GEO_EARTH_RADIUS * fabs(clat * DEG_TO_RAD - lat * DEG_TO_RAD) > height / 2) return false;
    if (geo_distance(lon, lat, clon, lat) > width / 2) return false;
    *dist = geo_distance(clon, clat, lon, lat);
    return true;
}

/* ---- covering a search shape with cells ---- */

/* The coarsest step whose cells are still about as large as the radius, so
 * that a cell and its neighbours hold the whole shape; coarser near the
 * poles, where cells narrow. */
static int estimate_step(double radius_m, double lat)
{
    if (radius_m == 0) return GEO_STEP_MAX;
    int step = 1;
    while (radius_m < MERCATOR_MAX) {
        radius_m *= 2;
        step++;
    }
    step -= 2;
    if (lat > 66 || lat < -66) {
        step--;
        if (lat > 80 || lat < -80) step--;
    }
    if (step < 1) step = 1;
    if (step > GEO_STEP_MAX) step = GEO_STEP_MAX;
    return step;
}

/* The neighbour of h dlon cells east and dlat cells north, wrapping around.
 * An axis that does not move keeps its bits as they are: a point on the
 * range's upper edge encodes one past the last cell, and the cell holding
 * it must stay the one its score falls in. */
static struct geohash neighbour(struct geohash h, int dlon, int dlat)
{
    uint64_t mask = (1ULL << h.step) - 1;
    uint64_t lat_bits = h.bits & 0x5555555555555555ULL, lon_bits = h.bits & 0xAAAAAAAAAAAAAAAAULL;
    if (dlat) lat_bits = spread_bits((uint32_t)((gather_bits(h.bits) + (uint64_t)(int64_t)dlat) & mask));
    if (dlon) lon_bits = spread_bits((uint32_t)((gather_bits(h.bits >> 1) + (uint64_t)(int64_t)dlon) & mask)) << 1;
    return (struct geohash){lat_bits | lon_bits, h.step};
}

enum { CELL_C, CELL_N, CELL_S, CELL_E, CELL_W, CELL_NE, CELL_NW, CELL_SE, CELL_SW };

static void cover_at(struct geohash c, struct geo_cover *out)
{
    static const int d[9][2] = {{0, 0}, {0, 1}, {0, -1}, {1, 0}, {-1, 0}, {1, 1}, {-1, 1}, {1, -1}, {-1, -1}};
    for (int i = 0; i < 9; i++) out->cells[i] = neighbour(c, d[i][0], d[i][1]);
}

static void zero_cells(struct geo_cover *out, int a, int b, int c)
{
    out->cells[a].step = out->cells[b].step = out->cells[c].step = 0;
    out->cells[a].bits = out->cells[b].bits = out->cells[c].bits = 0;
}

void geo_cover_shape(double lon, double lat, double radius_m, double half_w, double half_h, struct geo_cover *out)
{
    /* the shape's bounding box */
    double lat_delta = (half_h / GEO_EARTH_RADIUS) / DEG_TO_RAD;
    double lon_top = (half_w / GEO_EARTH_RADIUS / cos((lat + lat_delta) * DEG_TO_RAD)) / DEG_TO_RAD;
    double lon_bottom = (half_w / GEO_EARTH_RADIUS / cos((lat - lat_delta) * DEG_TO_RAD)) / DEG_TO_RAD;
    /* the box is widest on its parallel nearest the pole */
    bool southern = lat < 0;
    double lon_delta = southern ? lon_bottom : lon_top;
    double min_lat = lat - lat_delta, max_lat = lat + lat_delta;
    double min_lon = lon - lon_delta, max_lon = lon + lon_delta;

    int step = estimate_step(radius_m, lat);
    struct geohash c = geohash_encode(lon, lat, step);
    cover_at(c, out);
    /* near a cell's edge the estimated step can leave part of the box
     * outside the neighbours: one step coarser then */
    struct geo_area n = geohash_area(out->cells[CELL_N]), s = geohash_area(out->cells[CELL_S]);
    struct geo_area e = geohash_area(out->cells[CELL_E]), w = geohash_area(out->cells[CELL_W]);
    bool coarser = n.lat_max < max_lat || s.lat_min > min_lat || e.lon_max < max_lon || w.lon_min > min_lon;
    if (step > 1 && coarser) {
        step--;
        c = geohash_encode(lon, lat, step);
        cover_at(c, out);
    }
    /* neighbours the bounding box does not reach are skipped */
    if (step >= 2) {
        struct geo_area a = geohash_area(c);
        if (a.lat_min < min_lat) zero_cells(out, CELL_S, CELL_SW, CELL_SE);
        if (a.lat_max > max_lat) zero_cells(out, CELL_N, CELL_NE, CELL_NW);
        if (a.lon_min < min_lon) zero_cells(out, CELL_W, CELL_SW, CELL_NW);
        if (a.lon_max > max_lon) zero_cells(out, CELL_E, CELL_SE, CELL_NE);
    }
}

void geohash_score_range(struct geohash h, uint64_t *min, uint64_t *max)
{
    int shift = 2 * (GEO_STEP_MAX - h.step);
    *min = h.bits << shift;
    *max = (h.bits + 1) << shift;
}
