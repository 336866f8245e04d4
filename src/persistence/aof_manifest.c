#include "persistence/aof_manifest.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void aof_file_name(char *out, size_t size, const char *prefix, long long seq, enum aof_file_kind kind)
{
    static const char *const suffix[] = {"incr.aof", "base.aof", "base.rdb"};
    snprintf(out, size, "%s.%lld.%s", prefix, seq, suffix[kind]);
}

int aof_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* One line: "file <name> seq <n> type b|i". */
static int manifest_parse_line(const char *line, struct aof_manifest *m)
{
    char name[256], type;
    long long seq;
    if (sscanf(line, "file %255s seq %lld type %c", name, &seq, &type) != 3) return -1;
    if (type == 'b') {
        snprintf(m->base, sizeof(m->base), "%s", name);
        m->base_seq = seq;
        return 0;
    }
    if (type != 'i' || m->incr_count >= AOF_MAX_INCR) return -1;
    snprintf(m->incr[m->incr_count], sizeof(m->incr[0]), "%s", name);
    m->incr_seq[m->incr_count++] = seq;
    return 0;
}

int aof_manifest_load(const char *dir, const char *name, struct aof_manifest *m, char *err, size_t errlen)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    memset(m, 0, sizeof(*m));
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[1024];
    int lineno = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        if (line[0] == '#' || line[0] == '\n') continue;
        if (manifest_parse_line(line, m) != 0) {
            snprintf(err, errlen, "Invalid AOF manifest file format: %s line %d", path, lineno);
            fclose(f);
            return -1;
        }
    }
    fclose(f);
    return 1;
}

int aof_manifest_save(const char *dir, const char *name, const struct aof_manifest *m)
{
    char path[1024], tmp[1100];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    snprintf(tmp, sizeof(tmp), "%s/temp-%s", dir, name);
    FILE *f = fopen(tmp, "w");
    if (!f) return -1;
    if (m->base[0]) fprintf(f, "file %s seq %lld type b\n", m->base, m->base_seq);
    for (int i = 0; i < m->incr_count; i++) fprintf(f, "file %s seq %lld type i\n", m->incr[i], m->incr_seq[i]);
    bool ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return aof_fsync_dir(dir);
}
