/* stream: the stream data type — an append-only log of entries, each an ID
 * and field/value pairs — with its low-level API and the commands XADD
 * XLEN XRANGE XREVRANGE XDEL XTRIM XSETID XREAD. Consumer groups live in
 * stream_group.h, XINFO in stream_info.c. */
#ifndef RUNNEL_TYPES_STREAM_H
#define RUNNEL_TYPES_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "messaging/blocking.h"
#include "protocol/command.h"
#include "types/stream_block.h"
#include "types/stream_index.h"
#include "types/stream_refs.h"

/* stream-node-max-bytes / stream-node-max-entries: when the last block
 * reaches either (0: no limit), the next entry starts a new block. */
extern long long stream_node_max_bytes;
extern int stream_node_max_entries;

extern struct command stream_commands[];
extern struct command stream_group_commands[];
extern struct command stream_info_commands[];

struct stream_groups;
struct stream_idmp;
struct stream_delay;

struct stream {
    struct stream_index *blocks;     /* each block's first ID -> struct stream_block * */
    uint64_t length;                 /* live entries */
    uint64_t entries_added;          /* entries ever appended (XSETID may set it) */
    struct stream_id last_id;        /* greatest ID ever appended (or set by XSETID) */
    struct stream_id first_id;       /* first live entry; 0-0 when empty */
    struct stream_id max_deleted_id; /* greatest ID removed by XDEL */
    struct stream_groups *groups;    /* consumer groups (stream_group.c); NULL when none */
    struct stream_idmp *idmp;        /* idempotent production (stream_idmp.c); NULL when unused */
    struct stream_delay *delay;      /* delayed delivery (stream_delay.c); NULL when unused */
    uint64_t retention_maxage;       /* standing policy (stream_retention.c): ms, 0: none */
    uint64_t retention_maxlen;       /* entries, 0: none */
    uint8_t retention_refs;          /* enum stream_ref_policy its trims use */
    uint32_t freeze_queued;          /* entries naming it in stream_freeze's queues */
};

/* Registers the "stream" value type with the keyspace (types_init). */
void stream_type_register(void);

/* ---- low-level API ---- */

struct stream *stream_new(void);
void stream_free(struct stream *s);
struct stream *stream_copy(const struct stream *s);
size_t stream_memory(const struct stream *s);

enum stream_add_result {
    STREAM_ADD_OK,
    STREAM_ADD_ID_TOO_SMALL, /* not greater than the top item (or exhausted) */
    STREAM_ADD_TOO_LARGE,    /* the entry exceeds STREAM_BLOCK_MAX_ENTRY */
};

/* Appends an entry of npairs field/value pairs (2*npairs args). `given`
 * NULL takes the clock (db_now_ms); otherwise the ID is *given, or with
 * !seq_given "ms-*" (next sequence within ms). The new ID goes to *added. */
enum stream_add_result stream_append(struct stream *s, const struct arg *pairs, size_t npairs,
                                     const struct stream_id *given, bool seq_given, struct stream_id *added);

/* Walks live entries with IDs in [start, end], forwards or backwards,
 * without allocating. Entries may be deleted while walking (with
 * stream_iter_delete); any other change to the stream ends the walk. */
struct stream_iter {
    struct stream *s;
    struct stream_id start, end;
    bool reverse;
    bool done;
    struct stream_block *block; /* NULL: find the next block from block_key */
    struct stream_id block_key;
    bool have_key;              /* block_key names a block already visited */
    uint32_t offset;            /* next entry to decode (forward) or end of it (reverse) */
};

void stream_iter_init(struct stream_iter *it, struct stream *s, struct stream_id start, struct stream_id end,
                      bool reverse);
/* The next live entry, or false at the end of the range. The entry's
 * pointers stay valid until the stream changes. */
bool stream_iter_next(struct stream_iter *it, struct stream_entry *e);
/* Deletes the entry the iterator just returned; the walk may continue.
 * Only the entry and the length change: callers keep first_id and
 * max_deleted_id (stream_delete does both). */
void stream_iter_delete(struct stream_iter *it, const struct stream_entry *e);

/* The live entry with this ID, if any. */
bool stream_lookup(struct stream *s, struct stream_id id, struct stream_entry *e);
/* Deletes one entry as XDEL does; false if there is no live entry with id. */
bool stream_delete(struct stream *s, struct stream_id id);
/* ID of the first or last live entry; false when the stream is empty. */
bool stream_first_live(struct stream *s, struct stream_id *id);
bool stream_last_live(struct stream *s, struct stream_id *id);

enum stream_trim_strategy { STREAM_TRIM_NONE, STREAM_TRIM_MAXLEN, STREAM_TRIM_MINID };

struct stream_trim {
    enum stream_trim_strategy strategy;
    long long maxlen;
    struct stream_id minid;
    bool approx;      /* `~`: whole blocks only */
    long long limit;  /* most entries to remove, 0: no limit (approx only) */
    bool by_age;      /* MAXAGE: minid is now - age, logged as that concrete MINID */
    enum stream_ref_policy policy; /* what becomes of the groups' references */
};

/* Trims as XTRIM/XADD do; returns the number of entries removed. Under
 * DELREF the removed entries leave every PEL; under ACKED only entries no
 * group refers to go (an exact trim steps over the others, a `~` trim
 * stops at the first block holding one). */
long long stream_trim(struct stream *s, const struct stream_trim *t);
/* The trim arguments ("MINID = <id>" / "MAXLEN = <n>", then the reference
 * policy unless KEEPREF) that remove, on replay, exactly what the `~` trim
 * `t` just removed from s. Writes up to 4 args into out, formatting into
 * buf (>= 48 bytes); returns how many. */
int stream_trim_effect_args(const struct stream *s, const struct stream_trim *t, struct arg *out, char *buf);

/* ---- replies and argument parsing, shared with groups and XINFO ---- */

/* Writes "ms-seq" into buf (>= 48 bytes); returns its length. */
size_t stream_id_format(char *buf, const struct stream_id *id);
void stream_reply_id(struct outbuf *out, const struct stream_id *id);
/* [id, [field, value, ...]] */
void stream_reply_entry(struct outbuf *out, const struct stream_entry *e);
/* [id, [field, value, ...], idle, deliveries]: an entry of XREADGROUP ... CLAIM. */
void stream_reply_entry_meta(struct outbuf *out, const struct stream_entry *e, long long idle, long long deliveries);
/* Replies up to `count` (0: all) entries in [start, end]; returns how many. */
long long stream_reply_range(struct outbuf *out, struct stream *s, struct stream_id start, struct stream_id end,
                             long long count, bool reverse);

/* Parses an ID as Redis does: "ms-seq", "ms" (seq = missing_seq), and
 * unless strict "-" and "+". With seq_given non-NULL, "ms-*" is accepted
 * and *seq_given reports whether the sequence was given. */
bool stream_parse_id(const struct arg *a, uint64_t missing_seq, bool strict, struct stream_id *id,
                     bool *seq_given);
/* The same for argument i, replying Redis's error on failure. */
bool stream_parse_id_or_reply(struct request *req, int i, uint64_t missing_seq, bool strict, struct stream_id *id);
/* A range bound: like above, plus "(id" for an exclusive bound (strict). */
bool stream_parse_range_id(struct request *req, int i, uint64_t missing_seq, struct stream_id *id, bool *exclusive);

/* An `IDS numids id ...` block (XDELEX, XACKDEL, XNACK): where the IDs are. */
struct stream_ids {
    int first; /* argv index of the first ID */
    int count;
};
/* Reads the block whose IDS word is argv[i]: numids must be positive and
 * that many arguments must follow. Returns the index after the block, or
 * -1 after replying Redis's error. The IDs are not checked yet. */
int stream_parse_ids_block(struct request *req, int i, struct stream_ids *ids);
/* Checks that the block was given (first != 0: a syntax error otherwise)
 * and that every ID in it is a strict ID; replies the error. */
bool stream_ids_check(struct request *req, const struct stream_ids *ids);
/* The block's n-th ID (checked already). */
struct stream_id stream_ids_at(const struct request *req, const struct stream_ids *ids, int n);

/* Looks a key up for reading or writing; replies WRONGTYPE (returns false)
 * when it holds another type. *out is NULL when the key is missing. */
bool stream_find(struct request *req, const struct arg *key, bool write, struct stream **out);

/* ---- XREAD / XREADGROUP, shared ---- */

struct stream_read_args {
    long long count;      /* COUNT, 0: no limit */
    long long maxcount;   /* MAXCOUNT (entries across all keys), 0: no limit */
    long long maxsize;    /* MAXSIZE (reply bytes across all keys), 0: no limit */
    long long timeout_ms; /* BLOCK, -1: do not block */
    bool noack;
    long long claim;      /* CLAIM min-idle-time, -1: no CLAIM */
    int group_arg;        /* argv index of GROUP's group name, 0: none */
    int streams_arg;      /* argv index of the first key */
    int nstreams;
};

/* What one XREAD or XREADGROUP call may still reply across its keys
 * (MAXCOUNT, MAXSIZE). An entry's size is the bytes of its reply: the
 * first entry of a call is always taken; after it, an entry that would
 * pass either limit is not, and ends the call's reading (later keys are
 * left out of the reply). */
struct stream_budget {
    long long maxcount; /* 0: no limit */
    long long maxsize;  /* 0: no limit */
    long long entries;  /* taken so far */
    long long bytes;    /* their size */
    bool full;          /* nothing more this call */
};

struct stream_budget stream_budget_of(const struct stream_read_args *a);
/* Whether the next entry (e; NULL for an entry gone from the stream, with
 * ID id, replied as [id, nil]; meta: with CLAIM's two numbers) fits;
 * counts it if so, else sets full. */
bool stream_budget_take(struct stream_budget *b, const struct stream_entry *e, const struct stream_id *id, bool meta);
/* The same question without taking it (to leave out a key whose first
 * entry would not fit); false when full. */
bool stream_budget_fits(struct stream_budget *b, const struct stream_entry *e, const struct stream_id *id, bool meta);

/* Parses XREAD/XREADGROUP options; replies the error and returns false. */
bool stream_read_parse(struct request *req, bool group, struct stream_read_args *a);

/* Key positions of XREAD/XREADGROUP: the first half of what follows STREAMS. */
int stream_read_keys(const struct command *cmd, struct arg *argv, int argc, int *positions, int max);

/* The reply wrapper both commands share: a map (RESP3) or array (RESP2)
 * of key -> entries. */
void stream_read_reply_key(struct outbuf *out, const char *key, size_t len);

#endif
