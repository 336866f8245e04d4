#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "types/geohash.h"

/* Palermo's score as redis-server 7.0.15 stores it (GEOADD Sicily 13.361389 38.115556 Palermo). */
#define PALERMO 3479099956230698ULL

Test(geohash, encodes_a_known_point)
{
    cr_assert_eq(geohash_encode(13.361389, 38.115556, GEO_STEP_MAX).bits, PALERMO);
}

Test(geohash, decodes_to_the_cell_centre)
{
    double lon, lat;
    geohash_decode_score(PALERMO, &lon, &lat);
    cr_assert(fabs(lon - 13.361389) < 1e-5 && fabs(lat - 38.115556) < 1e-5);
    /* the centre encodes back to the same cell */
    cr_assert_eq(geohash_encode(lon, lat, GEO_STEP_MAX).bits, PALERMO);
}

Test(geohash, standard_string)
{
    char s[12];
    geohash_string(PALERMO, s);
    cr_assert_str_eq(s, "sqc8b49rny0");
}

Test(geohash, every_decoded_point_reencodes_to_its_cell)
{
    unsigned long long x = 88172645463325252ULL;
    for (int i = 0; i < 10000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint64_t score = x & ((1ULL << 52) - 1);
        double lon, lat;
        geohash_decode_score(score, &lon, &lat);
        cr_assert(geohash_valid(lon, lat));
        cr_assert_eq(geohash_encode(lon, lat, GEO_STEP_MAX).bits, score);
    }
}

Test(geohash, distance_on_redis_sphere)
{
    /* GEODIST Sicily Palermo Catania = 166274.1516 m on redis-server */
    double lon1, lat1, lon2, lat2;
    geohash_decode_score(PALERMO, &lon1, &lat1);
    geohash_decode_score(3479447370796909ULL, &lon2, &lat2);
    cr_assert(fabs(geo_distance(lon1, lat1, lon2, lat2) - 166274.1516) < 0.0001);
    cr_assert_eq(geo_distance(10, 20, 10, 20), 0.0);
}

Test(geohash, cover_holds_the_centre_cell_and_its_range)
{
    struct geo_cover c;
    geo_cover_shape(13.361389, 38.115556, 1000, 1000, 1000, &c);
    uint64_t min, max;
    geohash_score_range(c.cells[0], &min, &max);
    cr_assert(min <= PALERMO && PALERMO < max);
    cr_assert(c.cells[0].step > 1 && c.cells[0].step <= GEO_STEP_MAX);
}

Test(geohash, upper_edge_stays_in_its_own_cell)
{
    /* latitude at the very top encodes one past the last cell; the cover's
     * centre cell must still hold that score */
    uint64_t score = geohash_encode(2.0, GEO_LAT_MAX, GEO_STEP_MAX).bits;
    struct geo_cover c;
    geo_cover_shape(2.0, GEO_LAT_MAX, 5000000, 5000000, 5000000, &c);
    uint64_t min, max;
    geohash_score_range(c.cells[0], &min, &max);
    cr_assert(min <= score && score < max);
}
