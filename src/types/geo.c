/* geo: the GEO commands, over sorted sets whose scores are 52-bit geohashes
 * (types/geohash.h).
 *
 * Commands: GEOADD GEOPOS GEODIST GEOHASH GEOSEARCH GEOSEARCHSTORE
 * GEORADIUS GEORADIUS_RO GEORADIUSBYMEMBER GEORADIUSBYMEMBER_RO.
 *
 * The search commands share one path (geo_search) driven by a small table
 * of what each variant takes: where its centre and shape come from, whether
 * it may store. A search scans the score ranges of at most nine cells
 * (geo_cover_shape), keeps the points inside the shape, then sorts and cuts
 * them to COUNT. */
#include "types/geo.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "types/geohash.h"
#include "types/keyspace_events.h"
#include "types/zset.h"
#include "util/mem.h"
#include "util/numbers.h"

/* ---- arguments ---- */

static bool arg_double(struct request *req, const struct arg *a, double *out, const char *err)
{
    if (parse_double(a->ptr, a->len, out) && !isnan(*out)) return true;
    reply_error(req->out, err);
    return false;
}

/* Reads "lon lat" at argv[i], i+1 and checks the pair's range. */
static bool arg_lonlat(struct request *req, int i, double *lon, double *lat)
{
    if (!arg_double(req, &req->argv[i], lon, "ERR value is not a valid float") ||
        !arg_double(req, &req->argv[i + 1], lat, "ERR value is not a valid float"))
        return false;
    if (geohash_valid(*lon, *lat)) return true;
    reply_errorf(req->out, "ERR invalid longitude,latitude pair %f,%f", *lon, *lat);
    return false;
}

/* Metres per unit of m, km, ft or mi; 0 after replying the error. */
static double arg_unit(struct request *req, const struct arg *a)
{
    static const struct {
        const char *name;
        double metres;
    } units[] = {{"m", 1}, {"km", 1000}, {"ft", 0.3048}, {"mi", 1609.34}};
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (a->len == strlen(units[i].name) && strncasecmp(a->ptr, units[i].name, a->len) == 0)
            return units[i].metres;
    reply_error(req->out, "ERR unsupported unit provided. please use M, KM, FT, MI");
    return 0;
}

/* A member's position, decoded from its score; false when absent. */
static bool member_lonlat(const struct object *o, const struct arg *m, double *lon, double *lat)
{
    double score;
    if (!o || !zset_object_score(o, m->ptr, m->len, &score)) return false;
    geohash_decode_score((uint64_t)score, lon, lat);
    return true;
}

/* A coordinate as Redis replies it: %.17Lf with the trailing zeros cut, as
 * a bulk string in RESP2 and the same digits as a double in RESP3. */
static void reply_coord(struct request *req, double v)
{
    char buf[128];
    size_t n = format_ld(buf + 1, sizeof(buf) - 3, (long double)v);
    if (req->out->resp < 3) {
        reply_bulk(req->out, buf + 1, n);
        return;
    }
    buf[0] = ',';
    memcpy(buf + 1 + n, "\r\n", 2);
    reply_raw(req->out, buf, n + 3);
}

/* A distance: always a bulk string with four decimals. */
static void reply_distance(struct request *req, double d)
{
    char buf[128];
    int n = snprintf(buf, sizeof(buf), "%.4f", d);
    reply_bulk(req->out, buf, (size_t)n);
}

/* ---- GEOADD GEOPOS GEODIST GEOHASH ---- */

static void cmd_geoadd(struct request *req)
{
    int flags = 0, i = 2;
    bool ch = false;
    for (; i < req->argc; i++) {
        if (ARG_IS(req, i, "NX")) flags |= ZSET_IN_NX;
        else if (ARG_IS(req, i, "XX")) flags |= ZSET_IN_XX;
        else if (ARG_IS(req, i, "CH")) ch = true;
        else break;
    }
    int left = req->argc - i;
    if (left % 3 || ((flags & ZSET_IN_NX) && (flags & ZSET_IN_XX))) {
        reply_syntax_error(req->out);
        return;
    }
    if (left == 0) {
        reply_error(req->out, "ERR wrong number of arguments for 'zadd' command");
        return;
    }
    int n = left / 3;
    double small[16];
    double *scores = n <= 16 ? small : mem_alloc(sizeof(double) * (size_t)n);
    bool ok = true;
    for (int k = 0; k < n && ok; k++) {
        double lon, lat;
        ok = arg_lonlat(req, i + 3 * k, &lon, &lat);
        if (ok) scores[k] = (double)geohash_encode(lon, lat, GEO_STEP_MAX).bits;
    }
    if (ok) zset_add_scored(req, scores, i + 2, 3, n, flags, ch);
    if (scores != small) mem_free(scores);
}

static void cmd_geopos(struct request *req)
{
    struct object *o;
    if (!zset_lookup(req, &req->argv[1], false, &o)) return;
    reply_array(req->out, req->argc - 2);
    for (int i = 2; i < req->argc; i++) {
        double lon, lat;
        if (!member_lonlat(o, &req->argv[i], &lon, &lat)) {
            reply_null_array(req->out);
            continue;
        }
        reply_array(req->out, 2);
        reply_coord(req, lon);
        reply_coord(req, lat);
    }
}

static void cmd_geodist(struct request *req)
{
    double metres = 1;
    if (req->argc == 5) {
        if (!(metres = arg_unit(req, &req->argv[4]))) return;
    } else if (req->argc > 5) {
        reply_syntax_error(req->out);
        return;
    }
    struct object *o;
    if (!zset_lookup(req, &req->argv[1], false, &o)) return;
    double lon1, lat1, lon2, lat2;
    if (!member_lonlat(o, &req->argv[2], &lon1, &lat1) || !member_lonlat(o, &req->argv[3], &lon2, &lat2)) {
        reply_null(req->out);
        return;
    }
    reply_distance(req, geo_distance(lon1, lat1, lon2, lat2) / metres);
}

static void cmd_geohash(struct request *req)
{
    struct object *o;
    if (!zset_lookup(req, &req->argv[1], false, &o)) return;
    reply_array(req->out, req->argc - 2);
    for (int i = 2; i < req->argc; i++) {
        double score;
        if (!o || !zset_object_score(o, req->argv[i].ptr, req->argv[i].len, &score)) {
            reply_null(req->out);
            continue;
        }
        char text[12];
        geohash_string((uint64_t)score, text);
        reply_bulk(req->out, text, 11);
    }
}

/* ---- searches ---- */

enum geo_variant_flags {
    GEO_FROM_LONLAT = 1 << 0, /* GEORADIUS: lon lat radius unit */
    GEO_FROM_MEMBER = 1 << 1, /* GEORADIUSBYMEMBER: member radius unit */
    GEO_SEARCH = 1 << 2,      /* GEOSEARCH syntax: FROM... BY... */
    GEO_STORE_ARG = 1 << 3,   /* the destination is argv[1] (GEOSEARCHSTORE) */
    GEO_NO_STORE = 1 << 4,    /* the _RO forms */
};

struct geo_query {
    int flags;
    double lon, lat;
    bool box;
    double radius, width, height; /* metres */
    double unit;                  /* metres per unit of the reply */
    bool withdist, withhash, withcoord, any, storedist;
    int sort; /* 0 none, 1 ascending, -1 descending */
    long long count;
    const struct arg *store;
};

struct geo_hit {
    char *member;
    size_t len;
    double score, dist, lon, lat;
    size_t order;
};

struct geo_hits {
    struct geo_hit *items;
    size_t count, cap;
    const struct geo_query *q;
};

/* BYRADIUS r unit / the radius of GEORADIUS, at argv[i]. */
static bool parse_radius(struct request *req, int i, struct geo_query *q)
{
    double r;
    if (!arg_double(req, &req->argv[i], &r, "ERR need numeric radius")) return false;
    if (r < 0) {
        reply_error(req->out, "ERR radius cannot be negative");
        return false;
    }
    if (!(q->unit = arg_unit(req, &req->argv[i + 1]))) return false;
    q->radius = r * q->unit;
    q->box = false;
    return true;
}

static bool parse_box(struct request *req, int i, struct geo_query *q)
{
    double w, h;
    if (!arg_double(req, &req->argv[i], &w, "ERR need numeric width") ||
        !arg_double(req, &req->argv[i + 1], &h, "ERR need numeric height"))
        return false;
    if (w < 0 || h < 0) {
        reply_error(req->out, "ERR height or width cannot be negative");
        return false;
    }
    if (!(q->unit = arg_unit(req, &req->argv[i + 2]))) return false;
    q->width = w * q->unit;
    q->height = h * q->unit;
    q->box = true;
    return true;
}

/* Everything after the fixed arguments; replies the error and returns false
 * when malformed. A FROMMEMBER whose member is missing fails only when the
 * key exists (without it the reply is empty anyway). */
static bool parse_options(struct request *req, int first, const struct object *o, struct geo_query *q)
{
    bool from_member = false, from_lonlat = false, by_radius = false, by_box = false;
    int argc = req->argc;
    for (int i = first; i < argc; i++) {
        int left = argc - i - 1;
        bool search = q->flags & GEO_SEARCH;
        if (ARG_IS(req, i, "WITHDIST")) q->withdist = true;
        else if (ARG_IS(req, i, "WITHHASH")) q->withhash = true;
        else if (ARG_IS(req, i, "WITHCOORD")) q->withcoord = true;
        else if (ARG_IS(req, i, "ANY")) q->any = true;
        else if (ARG_IS(req, i, "ASC")) q->sort = 1;
        else if (ARG_IS(req, i, "DESC")) q->sort = -1;
        else if (ARG_IS(req, i, "COUNT") && left >= 1) {
            if (!request_ll(req, i + 1, &q->count)) return false;
            if (q->count <= 0) {
                reply_error(req->out, "ERR COUNT must be > 0");
                return false;
            }
            i++;
        } else if ((ARG_IS(req, i, "STORE") || ARG_IS(req, i, "STOREDIST")) && left >= 1 &&
                   !(q->flags & (GEO_NO_STORE | GEO_SEARCH))) {
            q->storedist = ARG_IS(req, i, "STOREDIST");
            q->store = &req->argv[++i];
        } else if (ARG_IS(req, i, "STOREDIST") && (q->flags & GEO_STORE_ARG)) {
            q->storedist = true;
        } else if (ARG_IS(req, i, "FROMMEMBER") && left >= 1 && search && !from_lonlat) {
            if (o && !member_lonlat(o, &req->argv[i + 1], &q->lon, &q->lat)) {
                reply_error(req->out, "ERR could not decode requested zset member");
                return false;
            }
            from_member = true;
            i++;
        } else if (ARG_IS(req, i, "FROMLONLAT") && left >= 2 && search && !from_member) {
            if (!arg_lonlat(req, i + 1, &q->lon, &q->lat)) return false;
            from_lonlat = true;
            i += 2;
        } else if (ARG_IS(req, i, "BYRADIUS") && left >= 2 && search && !by_box) {
            if (!parse_radius(req, i + 1, q)) return false;
            by_radius = true;
            i += 2;
        } else if (ARG_IS(req, i, "BYBOX") && left >= 3 && search && !by_radius) {
            if (!parse_box(req, i + 1, q)) return false;
            by_box = true;
            i += 3;
        } else {
            reply_syntax_error(req->out);
            return false;
        }
    }
    if (q->store && (q->withdist || q->withhash || q->withcoord)) {
        reply_errorf(req->out, "ERR %s is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
                     (q->flags & GEO_STORE_ARG) ? "GEOSEARCHSTORE" : "STORE option in GEORADIUS");
        return false;
    }
    const char *name = (q->flags & GEO_STORE_ARG) ? "GEOSEARCHSTORE" : "GEOSEARCH";
    if ((q->flags & GEO_SEARCH) && !from_member && !from_lonlat) {
        reply_errorf(req->out, "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for %s", name);
        return false;
    }
    if ((q->flags & GEO_SEARCH) && !by_radius && !by_box) {
        reply_errorf(req->out, "ERR exactly one of BYRADIUS and BYBOX can be specified for %s", name);
        return false;
    }
    if (q->any && !q->count) {
        reply_error(req->out, "ERR the ANY argument requires COUNT argument");
        return false;
    }
    return true;
}

static void hits_free(struct geo_hits *h)
{
    for (size_t i = 0; i < h->count; i++) mem_free(h->items[i].member);
    mem_free(h->items);
}

/* Keeps a member of a scanned cell when it lies inside the shape. */
static void hit_visit(void *ctx, const char *member, size_t len, double score)
{
    struct geo_hits *h = ctx;
    const struct geo_query *q = h->q;
    if (q->any && h->count >= (size_t)q->count) return;
    double lon, lat, dist;
    geohash_decode_score((uint64_t)score, &lon, &lat);
    bool inside = q->box ? geo_in_box(q->lon, q->lat, lon, lat, q->width, q->height, &dist)
                         : geo_in_radius(q->lon, q->lat, lon, lat, q->radius, &dist);
    if (!inside) return;
    if (h->count == h->cap) {
        h->cap = h->cap ? 2 * h->cap : 16;
        h->items = mem_realloc(h->items, h->cap * sizeof(*h->items));
    }
    struct geo_hit *it = &h->items[h->count];
    it->member = mem_alloc(len ? len : 1);
    if (len) memcpy(it->member, member, len);
    it->len = len;
    it->score = score;
    it->dist = dist;
    it->lon = lon;
    it->lat = lat;
    it->order = h->count++;
}

struct score_bound {
    double v;
};

static bool score_below(const void *ctx, double score, const char *member, size_t len)
{
    (void)member;
    (void)len;
    return score < ((const struct score_bound *)ctx)->v;
}

/* Visits the members whose scores lie in [min, max). */
static void scan_range(const struct object *o, uint64_t min, uint64_t max, struct geo_hits *h)
{
    struct score_bound lo = {(double)min}, hi = {(double)max};
    size_t start = zset_object_count_prefix(o, score_below, &lo);
    size_t end = zset_object_count_prefix(o, score_below, &hi);
    if (end > start) zset_object_range(o, start, end - 1, false, hit_visit, h);
}

static void search_points(const struct object *o, const struct geo_query *q, struct geo_hits *h)
{
    struct geo_cover cover;
    double half_w = q->box ? q->width / 2 : q->radius, half_h = q->box ? q->height / 2 : q->radius;
    double reach = q->box ? sqrt(half_w * half_w + half_h * half_h) : q->radius;
    geo_cover_shape(q->lon, q->lat, reach, half_w, half_h, &cover);
    int last = -1;
    for (int i = 0; i < 9; i++) {
        struct geohash c = cover.cells[i];
        if (c.step == 0) continue;
        /* a cell equal to the one just scanned (at coarse steps neighbours
         * wrap onto each other) is not scanned twice */
        if (last >= 0 && cover.cells[last].bits == c.bits && cover.cells[last].step == c.step) continue;
        if (q->any && h->count >= (size_t)q->count) break;
        uint64_t min, max;
        geohash_score_range(c, &min, &max);
        scan_range(o, min, max, h);
        last = i;
    }
}

static int by_distance_asc(const void *a, const void *b)
{
    const struct geo_hit *x = a, *y = b;
    if (x->dist != y->dist) return x->dist < y->dist ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int by_distance_desc(const void *a, const void *b)
{
    const struct geo_hit *x = a, *y = b;
    if (x->dist != y->dist) return x->dist > y->dist ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static void reply_hits(struct request *req, const struct geo_query *q, const struct geo_hits *h, size_t n)
{
    int extras = q->withdist + q->withhash + q->withcoord;
    reply_array(req->out, (long long)n);
    for (size_t i = 0; i < n; i++) {
        const struct geo_hit *it = &h->items[i];
        if (extras) reply_array(req->out, 1 + extras);
        reply_bulk(req->out, it->member, it->len);
        if (!extras) continue;
        if (q->withdist) reply_distance(req, it->dist / q->unit);
        if (q->withhash) reply_int(req->out, (long long)it->score);
        if (q->withcoord) {
            reply_array(req->out, 2);
            reply_coord(req, it->lon);
            reply_coord(req, it->lat);
        }
    }
}

static void store_hits(struct request *req, const struct geo_query *q, const struct geo_hits *h, size_t n)
{
    const char *event = (q->flags & GEO_STORE_ARG) ? "geosearchstore" : "georadiusstore";
    if (n == 0) {
        zset_store_result(req, q->store, NULL, event);
        return;
    }
    size_t longest = 0;
    for (size_t i = 0; i < n; i++)
        if (h->items[i].len > longest) longest = h->items[i].len;
    struct object *set = zset_object_create(n, longest);
    for (size_t i = 0; i < n; i++) {
        const struct geo_hit *it = &h->items[i];
        double score = q->storedist ? it->dist / q->unit : it->score, ignored;
        zset_object_add(set, score, it->member, it->len, 0, &ignored);
    }
    zset_store_result(req, q->store, set, event);
}

/* What each search command takes. */
struct geo_variant {
    int flags;
    int first_option; /* index of the first optional argument */
};

static void geo_search(struct request *req, const struct geo_variant *v)
{
    struct geo_query q = {.flags = v->flags, .unit = 1};
    int src = (v->flags & GEO_STORE_ARG) ? 2 : 1;
    if (v->flags & GEO_STORE_ARG) q.store = &req->argv[1];
    struct object *o;
    if (!zset_lookup(req, &req->argv[src], false, &o)) return;
    if (v->flags & GEO_FROM_LONLAT) {
        if (!arg_lonlat(req, 2, &q.lon, &q.lat) || !parse_radius(req, 4, &q)) return;
    } else if (v->flags & GEO_FROM_MEMBER) {
        if (o && !member_lonlat(o, &req->argv[2], &q.lon, &q.lat)) {
            reply_error(req->out, "ERR could not decode requested zset member");
            return;
        }
        if (o && !parse_radius(req, 3, &q)) return;
    }
    if (!parse_options(req, v->first_option, o, &q)) return;
    if (!o) {
        if (q.store) zset_store_result(req, q.store, NULL, NULL);
        else reply_empty_array(req->out);
        return;
    }
    /* COUNT means the nearest ones, unless ANY */
    if (q.count && !q.sort && !q.any) q.sort = 1;
    struct geo_hits hits = {.q = &q};
    search_points(o, &q, &hits);
    if (q.sort && hits.count > 1)
        qsort(hits.items, hits.count, sizeof(*hits.items), q.sort > 0 ? by_distance_asc : by_distance_desc);
    size_t n = q.count && (size_t)q.count < hits.count ? (size_t)q.count : hits.count;
    if (q.store) store_hits(req, &q, &hits, n);
    else reply_hits(req, &q, &hits, n);
    hits_free(&hits);
}

static void cmd_georadius(struct request *req)
{
    static const struct geo_variant v = {GEO_FROM_LONLAT, 6};
    geo_search(req, &v);
}

static void cmd_georadius_ro(struct request *req)
{
    static const struct geo_variant v = {GEO_FROM_LONLAT | GEO_NO_STORE, 6};
    geo_search(req, &v);
}

static void cmd_georadiusbymember(struct request *req)
{
    static const struct geo_variant v = {GEO_FROM_MEMBER, 5};
    geo_search(req, &v);
}

static void cmd_georadiusbymember_ro(struct request *req)
{
    static const struct geo_variant v = {GEO_FROM_MEMBER | GEO_NO_STORE, 5};
    geo_search(req, &v);
}

static void cmd_geosearch(struct request *req)
{
    static const struct geo_variant v = {GEO_SEARCH, 2};
    geo_search(req, &v);
}

static void cmd_geosearchstore(struct request *req)
{
    static const struct geo_variant v = {GEO_SEARCH | GEO_STORE_ARG, 3};
    geo_search(req, &v);
}

/* GEORADIUS[BYMEMBER]: the source, and the key after STORE or STOREDIST. */
static int georadius_keys(const struct command *cmd, struct arg *argv, int argc, int *positions, int max)
{
    (void)cmd;
    int n = 0;
    if (argc > 1 && n < max) positions[n++] = 1;
    for (int i = 2; i + 1 < argc && n < max; i++) {
        bool store = (argv[i].len == 5 && strncasecmp(argv[i].ptr, "store", 5) == 0) ||
                     (argv[i].len == 9 && strncasecmp(argv[i].ptr, "storedist", 9) == 0);
        if (store) {
            positions[n++] = i + 1;
            break;
        }
    }
    return n;
}

#define R (CMD_READONLY)
#define W (CMD_WRITE | CMD_DENYOOM)
#define SEARCH_N "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the " \
                 "shape provided as the filter and M is the number of items inside the shape"
#define RADIUS_N "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area " \
                 "delimited by center and radius and M is the number of items inside the index."

struct command geo_commands[] = {
    {"geoadd", cmd_geoadd, -5, W, 1, 1, 1, "@write @geo @slow", "geo",
     "Adds one or more members to a geospatial index. The key is created if it doesn't exist.", "3.2.0",
     "O(log(N)) for each item added, where N is the number of elements in the sorted set."},
    {"geopos", cmd_geopos, -2, R, 1, 1, 1, "@read @geo @slow", "geo",
     "Returns the longitude and latitude of members from a geospatial index.", "3.2.0",
     "O(N) where N is the number of members requested."},
    {"geodist", cmd_geodist, -4, R, 1, 1, 1, "@read @geo @slow", "geo",
     "Returns the distance between two members of a geospatial index.", "3.2.0", "O(log(N))"},
    {"geohash", cmd_geohash, -2, R, 1, 1, 1, "@read @geo @slow", "geo",
     "Returns members from a geospatial index as geohash strings.", "3.2.0",
     "O(log(N)) for each member requested, where N is the number of elements in the sorted set."},
    {"geosearch", cmd_geosearch, -7, R, 1, 1, 1, "@read @geo @slow", "geo",
     "Queries a geospatial index for members inside an area of a box or a circle.", "6.2.0", SEARCH_N},
    {"geosearchstore", cmd_geosearchstore, -8, W, 1, 2, 1, "@write @geo @slow", "geo",
     "Queries a geospatial index for members inside an area of a box or a circle, optionally stores the result.",
     "6.2.0", SEARCH_N},
    {"georadius", cmd_georadius, -6, W | CMD_MOVABLE_KEYS, 1, 1, 1, "@write @geo @slow", "geo",
     "Queries a geospatial index for members within a distance from a coordinate, optionally stores the result.",
     "3.2.0", RADIUS_N, .keys = georadius_keys},
    {"georadius_ro", cmd_georadius_ro, -6, R, 1, 1, 1, "@read @geo @slow", "geo",
     "Returns members from a geospatial index that are within a distance from a coordinate.", "3.2.10", RADIUS_N},
    {"georadiusbymember", cmd_georadiusbymember, -5, W | CMD_MOVABLE_KEYS, 1, 1, 1, "@write @geo @slow", "geo",
     "Queries a geospatial index for members within a distance from a member, optionally stores the result.",
     "3.2.0", RADIUS_N, .keys = georadius_keys},
    {"georadiusbymember_ro", cmd_georadiusbymember_ro, -5, R, 1, 1, 1, "@read @geo @slow", "geo",
     "Returns members from a geospatial index that are within a distance from a member.", "3.2.10", RADIUS_N},
    {0},
};
