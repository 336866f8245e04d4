/* snapshot: point-in-time images of the whole dataset (SAVE, BGSAVE, `save`
 * rules, SHUTDOWN, DEBUG RELOAD) in Runnel's own binary format, loaded at
 * start-up when the AOF is off.
 *
 * The file (dbfilename inside dir), all integers little-endian, every
 * length an unsigned LEB128 varint:
 *
 *   "RUNNEL" "0001"                       magic and format version (ASCII)
 *   { record }
 *   0xFF                                  end of data
 *   crc64                                 8 bytes: CRC-64/Jones of every
 *                                         byte before it, 0 if not computed
 *
 *   record  = 0xFA aux-name aux-value      (strings: varint length + bytes)
 *           | 0xFE db                      (SELECT: following keys go there)
 *           | 0xFB keys expires            (size hint of the current db)
 *           | 0x01 type key commands       (a key without expiry)
 *           | 0x02 type expire-ms key commands
 *   commands = { argc arg* } 0             (argc >= 1; 0 ends the value)
 *   arg      = 0                           (the record's key itself)
 *            | length+1 bytes
 *
 * A value is not encoded by type: it is the list of commands that
 * object_rewrite() (the AOF rewrite's hook) emits to rebuild it, and the
 * loader replays them through the command table as a loading client, the way
 * aof_load.c replays an AOF. Persistence never sees a type's internals, and
 * a new type is saved as soon as it can be rewritten. `type` is checked
 * against the key's type after the replay. */
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

/* DEBUG RELOAD [NOSAVE]: save, empty every database, load the file back.
 * Installed as server_debug_extension; false for other subcommands. */
struct request;
bool snapshot_debug(struct request *req);

/* Appends the rdb_* fields INFO persistence owns here. */
str snapshot_info(str s);

extern struct command snapshot_commands[];

/* ---- shared by snapshot*.c ---- */

#define SNAPSHOT_MAGIC "RUNNEL"
#define SNAPSHOT_MAGIC_LEN 6
#define SNAPSHOT_VERSION 1
#define SNAPSHOT_HEADER_LEN 10 /* magic + four version digits */

enum snapshot_opcode {
    SNAP_OP_KEY = 0x01,
    SNAP_OP_KEY_EXPIRE = 0x02,
    SNAP_OP_AUX = 0xFA,
    SNAP_OP_DBSIZE = 0xFB,
    SNAP_OP_SELECT = 0xFE,
    SNAP_OP_EOF = 0xFF,
};

struct snapshot_load_result {
    long long keys_loaded;
    long long keys_expired; /* skipped: their deadline had passed */
};

/* Loads the snapshot at path into the databases (which the caller emptied):
 * the whole file is checked (structure, checksum) before anything is
 * applied. Returns 1 when loaded, 0 when the file does not exist, -1 with
 * the reason in err. */
int snapshot_load_file(const char *path, struct snapshot_load_result *res, char *err, size_t errlen);

#endif
