/* aof_manifest: the list of files that make up the append-only log — one
 * base (a full image of the dataset: a snapshot, or commands) and the
 * incremental files written since, in order. A rewrite never edits a file in place: it writes
 * new files and then replaces the manifest atomically. */
#ifndef RUNNEL_PERSISTENCE_AOF_MANIFEST_H
#define RUNNEL_PERSISTENCE_AOF_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>

#define AOF_MAX_INCR 64

struct aof_manifest {
    char base[256];              /* file name inside the AOF directory, "" if none */
    long long base_seq;
    char incr[AOF_MAX_INCR][256];
    long long incr_seq[AOF_MAX_INCR];
    int incr_count;
};

/* Reads dir/name; returns 1 when loaded, 0 when absent, -1 (err set) when malformed. */
int aof_manifest_load(const char *dir, const char *name, struct aof_manifest *m, char *err, size_t errlen);
/* Writes dir/name through a temporary file, fsync and rename, then fsyncs dir. */
int aof_manifest_save(const char *dir, const char *name, const struct aof_manifest *m);
enum aof_file_kind {
    AOF_FILE_INCR,          /* "<prefix>.<seq>.incr.aof" */
    AOF_FILE_BASE,          /* "<prefix>.<seq>.base.aof": the dataset as commands */
    AOF_FILE_BASE_SNAPSHOT, /* "<prefix>.<seq>.base.rdb": a snapshot (aof-use-rdb-preamble yes) */
};
void aof_file_name(char *out, size_t size, const char *prefix, long long seq, enum aof_file_kind kind);
/* fsync of a directory, after renames in it. */
int aof_fsync_dir(const char *dir);

#endif
