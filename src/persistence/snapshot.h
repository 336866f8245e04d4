/* snapshot: point-in-time images of the whole dataset (SAVE, BGSAVE, `save`
 * rules, SHUTDOWN, DEBUG RELOAD, and the AOF base with
 * aof-use-rdb-preamble yes) in Runnel's own binary format, loaded at
 * start-up.
 *
 * The file (dbfilename inside dir, or <appendfilename>.<n>.base.rdb), in
 * the primitives of db/codec.h (varint lengths, little-endian integers):
 *
 *   "RUNNEL" "0003"                       magic and format version (ASCII)
 *   { record }
 *   0xFF                                  end of data
 *   crc64                                 u64: CRC-64/Jones of every byte
 *                                         before it, 0 if not computed
 *
 *   record  = 0xFA bytes:name bytes:value  aux field (runnel-ver, ctime, aof-base)
 *           | 0xF5 bytes:code               a library of functions (FUNCTION
 *                                         LOAD's code), before any key
 *           | 0xFE varint:db               SELECT: following keys go there
 *           | 0xFB varint:keys varint:expires   size hint of the current db
 *           | 0x01 u8:type bytes:key value            a key without expiry
 *           | 0x02 u8:type u64:expire-ms bytes:key value
 *   value   = a framed codec value (chunks, then a zero length) holding the
 *             type's native encoding, written by object_save (the type's
 *             object_ops.save hook) and read by object_load; each type
 *             describes its layout where it implements the hook
 *             (db/object.c for strings, types/list.c, hash.c, set.c, zset.c,
 *             stream_save.c).
 *
 * Loading checks the whole file first (snapshot_walk.h: the header, every
 * record and the framing of every value, the end marker, exactly eight
 * checksum bytes after it, and the checksum), so a damaged or truncated
 * file is refused before anything is applied; then each value is decoded
 * by its type, which checks what it copies in and refuses it (with the
 * offset) rather than load something that could fail later. Persistence
 * never sees a type's internals: it calls the hooks.
 *
 * Version 2 (still read): the same without function libraries. A file
 * without 0xF5 records leaves the server with no libraries once loaded.
 *
 * Version 1 (still read): the same records, but in place of `value` the
 * key's value as the commands object_rewrite() emits for it,
 *   commands = { varint:argc arg* } 0      (argc >= 1; 0 ends the value)
 *   arg      = 0                           (the record's key itself)
 *            | varint:length+1 bytes
 * replayed through the command table as a loading client; and the expiry
 * is before the key in both versions. */
#ifndef RUNNEL_PERSISTENCE_SNAPSHOT_H
#define RUNNEL_PERSISTENCE_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>

#include "protocol/command.h"
#include "util/str.h"

/* At start-up with appendonly no: loads dbfilename if it exists. Returns -1
 * (after logging the file and the reason) when it exists but cannot be
 * loaded: the server must not start over a snapshot it would overwrite. */
int snapshot_startup(void);

/* SAVE: writes the dataset to dbfilename in the foreground (temporary file,
 * fsync, rename, directory fsync). 0, or -1 after logging why. */
int snapshot_save(void);

/* Reaps a finished BGSAVE child, runs scheduled and rule-triggered
 * BGSAVEs, and keeps the MISCONF write refusal in step with the last
 * background save. From the server cron. */
void snapshot_cron(void);

/* Before the loop sleeps: re-asserts the MISCONF refusal when another sink
 * (the AOF) cleared the shared error while a background save is failing. */
void snapshot_before_sleep(void);

/* When the loop stopped for SHUTDOWN or SIGTERM (flags: enum
 * shutdown_flags): stops a BGSAVE child and, when save rules exist or SAVE
 * was asked for (and not NOSAVE), saves. Returns 0 when the server may exit,
 * -1 when the save failed without FORCE: the server must keep running (the
 * SHUTDOWN caller has been told "ERR Errors trying to SHUTDOWN. Check
 * logs."), as Redis does. */
int snapshot_shutdown(int flags);

/* DEBUG RELOAD [NOSAVE] [NOFLUSH] [MERGE] and DEBUG LOADAOF (aof.c).
 * Installed as server_debug_extension; false for other subcommands. */
struct request;
bool snapshot_debug(struct request *req);

/* Appends the rdb_* fields INFO persistence owns here. */
str snapshot_info(str s);

extern struct command snapshot_commands[];

/* ---- shared by snapshot*.c ---- */

struct snapshot_load_result {
    long long keys_loaded;
    long long keys_expired; /* skipped: their deadline had passed */
};

/* What snapshot_load_file may do beyond loading into empty databases. */
enum snapshot_load_flags {
    SNAPSHOT_KEEP_EXPIRED = 1 << 0, /* load keys past their deadline (an AOF base: the log after it decides) */
    SNAPSHOT_MERGE = 1 << 1,        /* a key already in the database is replaced by the file's */
};

/* Loads the snapshot at path into the databases (which the caller emptied,
 * unless SNAPSHOT_MERGE): the whole file is checked (structure, checksum)
 * before anything is applied. Keys already past their deadline are skipped
 * unless SNAPSHOT_KEEP_EXPIRED; a key met twice (or already present without
 * SNAPSHOT_MERGE) fails the load there. Returns 1 when loaded, 0 when the
 * file does not exist, -1 with the reason in err. */
int snapshot_load_file(const char *path, unsigned flags, struct snapshot_load_result *res, char *err, size_t errlen);
/* Empties every database, telling WATCH (DEBUG RELOAD and LOADAOF). */
void snapshot_empty_databases(void);
/* Whether the file at path starts with a snapshot's signature (an AOF base
 * written with aof-use-rdb-preamble yes), Runnel's or a Redis RDB file's
 * (the base of an appendonlydir written by Redis 7). */
bool snapshot_file_is_snapshot(const char *path);
/* Writes the dataset as a snapshot to path (created or truncated) and
 * fsyncs it; aof_base marks it as an AOF base. 0, or -1 after logging. */
int snapshot_write_file(const char *path, bool aof_base);
/* The same in Runnel's format or (rdb) as a Redis RDB file (rdb_write.h):
 * a full sync to a redis-server replica or to redis-cli --rdb. */
int snapshot_write_file_as(const char *path, bool aof_base, bool rdb);
/* Writes the dataset as a snapshot (rdb: an RDB file) to an open
 * descriptor (a pipe to a replica): no fsync. 0, or -1 after logging. */
int snapshot_write_fd(int fd, bool rdb);
/* Loads a snapshot held in memory (a replica's full sync), as
 * snapshot_load_file does a file: checked whole before anything is
 * applied. 1 when loaded, -1 with the reason in err. */
int snapshot_load_memory(const void *data, size_t size, struct snapshot_load_result *res, char *err, size_t errlen);

/* Aux fields owned by a higher layer (replication's id and offset): the
 * writer asks for them on every save, the loader hands over each aux field
 * it reads. Both may be NULL. */
extern void (*snapshot_aux_save_hook)(void (*emit)(void *ctx, const char *name, const char *value), void *ctx);
extern void (*snapshot_aux_load_hook)(const char *name, size_t nlen, const char *value, size_t vlen);

/* Libraries of functions (scripting/, above persistence): every save
 * writes the code `each` hands out, and a load runs begin, load for each
 * library record (false, with the reason, refuses the file) and end with
 * whether the whole file loaded. The AOF rewrite without a snapshot
 * preamble writes them as FUNCTION LOAD commands. Members may be NULL. */
struct snapshot_function_hooks {
    void (*each)(void (*emit)(void *ctx, const char *code, size_t len), void *ctx);
    void (*load_begin)(void);
    bool (*load)(const char *code, size_t len, char *err, size_t errlen);
    void (*load_end)(bool ok);
};
extern struct snapshot_function_hooks snapshot_function_hooks;

/* Only one child process at a time: BGSAVE, an AOF rewrite, or another
 * layer's (a replica's full sync), which registers it here. */
bool snapshot_child_busy(void);
void snapshot_foreign_child_set(pid_t pid);

#endif
