/* runnel-check-aof: checks an append-only file, or every file a manifest
 * names, and with --fix cuts a torn tail off the last one.
 *
 *   runnel-check-aof [--fix] <file.manifest | file.aof>
 *
 * A valid file is a sequence of complete multibulk commands (the server
 * never writes inline commands) in which MULTI and EXEC pair up. The first
 * problem is reported with its byte offset and the number of the command it
 * falls in. --fix asks nothing: it truncates the last file of the set at the
 * end of its last good command (before an unfinished MULTI) and says so;
 * damage in an earlier file cannot be fixed by truncation and is only
 * reported. Exit status: 0 valid or fixed, 1 invalid (or unusable input).
 *
 * A base written as a snapshot (aof-use-rdb-preamble yes; it starts with
 * the snapshot signature) is checked as the server checks it before
 * loading: header, every record and the framing of every value, the end
 * marker and the CRC-64 (when it was recorded). The values' contents are
 * left to the server's loader; a damaged snapshot cannot be fixed. A Redis
 * RDB base (an appendonlydir Redis 7 wrote) gets its end marker and CRC-64
 * checked, and is never fixed either.
 *
 * Built from the server's own RESP parser (src/protocol/parser.c) and
 * snapshot reader (src/persistence/snapshot_walk.c), without the rest of
 * the server. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "persistence/snapshot_walk.h"
#include "util/crc64.h"
#include "protocol/parser.h"

#define MAX_FILES 256
#define MANIFEST_SUFFIX ".manifest"

struct check_result {
    bool valid;
    size_t size;
    size_t ok_up_to;      /* end of the last good command (outside MULTI) */
    long long commands;   /* complete commands before the problem */
    size_t bad_offset;    /* where the problem starts */
    char reason[256];
    bool torn_tail;       /* only the end is bad: truncation repairs it */
    bool snapshot;        /* a snapshot base, checked by snapshot_check */
    bool crc_recorded;
};

static bool arg_is(const char *buf, const struct resp_arg *a, const char *word)
{
    size_t n = strlen(word);
    return a->len == n && strncasecmp(buf + a->off, word, n) == 0;
}

static void result_fail(struct check_result *res, size_t offset, bool torn, const char *reason)
{
    res->valid = false;
    res->bad_offset = offset;
    res->torn_tail = torn;
    snprintf(res->reason, sizeof(res->reason), "%s", reason);
}

/* Walks buf command by command. Inside MULTI the last good offset stays
 * before the MULTI, since a transaction cut short must be dropped whole. */
static void check_buffer(char *buf, size_t size, struct check_result *res)
{
    struct resp_parser p;
    resp_parser_init(&p, 1LL << 40, 1LL << 31);
    *res = (struct check_result){.valid = true, .size = size};
    bool in_multi = false;
    size_t multi_start = 0, pos = 0;
    for (;;) {
        if (pos < size && buf[pos] != '*') {
            result_fail(res, pos, false, "expected '*' (a multibulk command), got something else");
            break;
        }
        enum resp_status st = resp_parse(&p, buf, size);
        if (st == RESP_ERROR) {
            result_fail(res, pos, false, p.error);
            break;
        }
        if (st == RESP_INCOMPLETE) {
            if (pos < size) result_fail(res, pos, true, "the file ends inside a command");
            else if (in_multi) result_fail(res, multi_start, true, "MULTI without EXEC at the end of the file");
            break;
        }
        const struct resp_arg *name = &p.args[0];
        if (arg_is(buf, name, "multi")) {
            if (in_multi) {
                result_fail(res, pos, false, "MULTI inside MULTI");
                break;
            }
            in_multi = true;
            multi_start = pos;
        } else if (arg_is(buf, name, "exec")) {
            if (!in_multi) {
                result_fail(res, pos, false, "EXEC without MULTI");
                break;
            }
            in_multi = false;
        }
        res->commands++;
        pos = p.pos;
        if (!in_multi) res->ok_up_to = pos;
    }
    resp_parser_free(&p);
}

/* A snapshot base: checked whole; it is valid or not, never fixable. */
static void check_snapshot(const unsigned char *buf, size_t size, struct check_result *res)
{
    *res = (struct check_result){.size = size, .snapshot = true};
    struct snapshot_image image = {.data = buf, .size = size};
    res->valid = snapshot_check(&image, UINT64_MAX, true, res->reason, sizeof(res->reason));
    res->crc_recorded = image.stored_crc != 0;
}

/* A Redis RDB base (an appendonlydir written by Redis 7): its frame only —
 * the magic, the end marker and the CRC-64 of everything before it. Its
 * records are left to the server's loader, which checks them before it
 * applies any. */
static void check_redis_rdb(const unsigned char *buf, size_t size, struct check_result *res)
{
    *res = (struct check_result){.size = size, .snapshot = true};
    if (size < 18 || buf[size - 9] != 0xFF) {
        snprintf(res->reason, sizeof(res->reason), "a Redis RDB file without its end marker (truncated)");
        return;
    }
    uint64_t want = 0;
    for (int i = 7; i >= 0; i--) want = want << 8 | buf[size - 8 + i];
    res->crc_recorded = want != 0;
    res->valid = !want || crc64(0, buf, size - 8) == want;
    if (!res->valid) snprintf(res->reason, sizeof(res->reason), "a Redis RDB file with a wrong checksum");
}

static bool is_snapshot(const char *buf, size_t size)
{
    return size >= SNAPSHOT_MAGIC_LEN && memcmp(buf, SNAPSHOT_MAGIC, SNAPSHOT_MAGIC_LEN) == 0;
}

static bool is_redis_rdb(const char *buf, size_t size)
{
    return size >= 5 && memcmp(buf, "REDIS", 5) == 0;
}

/* Maps the file privately (the parser may write to its buffer; the file
 * never changes) and checks it. -1 if it cannot be read. */
static int check_file(const char *path, struct check_result *res)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "Cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        fprintf(stderr, "Cannot stat %s: %s\n", path, strerror(errno));
        close(fd);
        return -1;
    }
    size_t size = (size_t)st.st_size;
    char *buf = NULL;
    if (size > 0) {
        buf = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
        if (buf == MAP_FAILED) {
            fprintf(stderr, "Cannot map %s: %s\n", path, strerror(errno));
            close(fd);
            return -1;
        }
    }
    close(fd);
    if (buf && is_snapshot(buf, size)) check_snapshot((const unsigned char *)buf, size, res);
    else if (buf && is_redis_rdb(buf, size)) check_redis_rdb((const unsigned char *)buf, size, res);
    else check_buffer(buf ? buf : (char *)"", size, res);
    if (buf) munmap(buf, size);
    return 0;
}

/* ---- the file set ---- */

struct file_set {
    char *paths[MAX_FILES];
    int count;
};

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Reads the manifest's "file <name> seq <n> type b|i" lines, base first,
 * then the incremental files in order, with names taken relative to the
 * manifest's directory. */
static int read_manifest(const char *path, struct file_set *set)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "Cannot open the manifest %s: %s\n", path, strerror(errno));
        return -1;
    }
    const char *slash = strrchr(path, '/');
    int dir_len = slash ? (int)(slash - path) : 1;
    const char *dir = slash ? path : ".";
    char line[1024], *base = NULL;
    char *incr[MAX_FILES];
    int incr_count = 0, lineno = 0, rc = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        if (line[0] == '#' || line[0] == '\n') continue;
        char name[256], type;
        long long seq;
        if (sscanf(line, "file %255s seq %lld type %c", name, &seq, &type) != 3 || (type != 'b' && type != 'i') ||
            (type == 'i' && incr_count == MAX_FILES - 1)) {
            fprintf(stderr, "Invalid manifest %s at line %d\n", path, lineno);
            rc = -1;
            break;
        }
        char full[1400];
        snprintf(full, sizeof(full), "%.*s/%s", dir_len, dir, name);
        if (type == 'b') {
            free(base);
            base = strdup(full);
        } else {
            incr[incr_count++] = strdup(full);
        }
    }
    fclose(f);
    if (rc == 0 && base) set->paths[set->count++] = base;
    else free(base);
    for (int i = 0; i < incr_count; i++) {
        if (rc == 0) set->paths[set->count++] = incr[i];
        else free(incr[i]);
    }
    if (rc == 0 && set->count == 0) {
        fprintf(stderr, "The manifest %s names no files\n", path);
        rc = -1;
    }
    return rc;
}

static void report(const char *path, const struct check_result *res)
{
    if (res->snapshot) {
        if (res->valid)
            printf("AOF %s is valid (a snapshot base, %zu bytes, %s)\n", path, res->size,
                   res->crc_recorded ? "CRC-64 checked" : "no checksum recorded");
        else
            printf("AOF %s: bad snapshot base: %s\n", path, res->reason);
        return;
    }
    if (res->valid) {
        printf("AOF %s is valid (%lld commands, %zu bytes)\n", path, res->commands, res->size);
        return;
    }
    printf("AOF %s: bad format at offset %zu, in command #%lld: %s\n", path, res->bad_offset, res->commands + 1,
           res->reason);
    printf("AOF analyzed: filename=%s, size=%zu, ok_up_to=%zu, commands_ok=%lld, diff=%zu\n", path, res->size,
           res->ok_up_to, res->commands, res->size - res->ok_up_to);
}

static int fix_file(const char *path, const struct check_result *res)
{
    if (truncate(path, (off_t)res->ok_up_to) != 0) {
        fprintf(stderr, "Failed to truncate AOF %s: %s\n", path, strerror(errno));
        return -1;
    }
    printf("Successfully truncated AOF %s from %zu to %zu bytes (%zu bytes dropped at offset %zu)\n", path, res->size,
           res->ok_up_to, res->size - res->ok_up_to, res->ok_up_to);
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "Usage: runnel-check-aof [--fix] <file.manifest|file.aof>\n");
}

int main(int argc, char **argv)
{
    bool fix = false;
    const char *target = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--fix") == 0) {
            fix = true;
        } else if (!target && argv[i][0] != '-') {
            target = argv[i];
        } else {
            usage();
            return 1;
        }
    }
    if (!target) {
        usage();
        return 1;
    }
    struct file_set set = {0};
    if (ends_with(target, MANIFEST_SUFFIX)) {
        if (read_manifest(target, &set) != 0) return 1;
    } else {
        set.paths[set.count++] = strdup(target);
    }
    int status = 0;
    for (int i = 0; i < set.count && status == 0; i++) {
        struct check_result res;
        if (check_file(set.paths[i], &res) != 0) {
            status = 1;
            break;
        }
        report(set.paths[i], &res);
        if (res.valid) continue;
        bool last = i == set.count - 1;
        if (res.snapshot) {
            printf("AOF %s is a damaged snapshot base: truncation cannot repair it; not fixed\n", set.paths[i]);
            status = 1;
        } else if (!fix) {
            printf("AOF %s is not valid. Use the --fix option to try fixing it.\n", set.paths[i]);
            status = 1;
        } else if (!last) {
            printf("AOF %s is not the last file of the set: truncating it would drop the files after it; "
                   "not fixed\n", set.paths[i]);
            status = 1;
        } else if (!res.torn_tail) {
            printf("AOF %s is damaged before its end: truncating at offset %zu anyway drops %zu bytes\n",
                   set.paths[i], res.ok_up_to, res.size - res.ok_up_to);
            status = fix_file(set.paths[i], &res) == 0 ? 0 : 1;
        } else {
            status = fix_file(set.paths[i], &res) == 0 ? 0 : 1;
        }
    }
    for (int i = 0; i < set.count; i++) free(set.paths[i]);
    return status;
}
