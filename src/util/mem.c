#include "util/mem.h"

#include <jemalloc/jemalloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void mem_oom(size_t size)
{
    fprintf(stderr, "Out Of Memory allocating %zu bytes!\n", size);
    fflush(stderr);
    abort();
}

void *mem_alloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p) mem_oom(size);
    return p;
}

void *mem_calloc(size_t size)
{
    void *p = calloc(1, size ? size : 1);
    if (!p) mem_oom(size);
    return p;
}

void *mem_realloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);
    if (!p) mem_oom(size);
    return p;
}

void mem_free(void *ptr)
{
    free(ptr);
}

char *mem_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = mem_alloc(n);
    memcpy(p, s, n);
    return p;
}

/* jemalloc caches its statistics; bumping the epoch refreshes them. */
static size_t mem_stat(const char *name)
{
    uint64_t epoch = 1;
    size_t sz = sizeof(epoch);
    mallctl("epoch", &epoch, &sz, &epoch, sz);
    size_t value = 0;
    sz = sizeof(value);
    if (mallctl(name, &value, &sz, NULL, 0) != 0) return 0;
    return value;
}

size_t mem_used(void)
{
    return mem_stat("stats.allocated");
}

size_t mem_resident(void)
{
    return mem_stat("stats.resident");
}

size_t mem_usable_size(void *ptr)
{
    return ptr ? malloc_usable_size(ptr) : 0;
}

size_t mem_rss(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return 0;
    unsigned long pages_total = 0, pages_rss = 0;
    int n = fscanf(f, "%lu %lu", &pages_total, &pages_rss);
    fclose(f);
    if (n != 2) return 0;
    return (size_t)pages_rss * (size_t)sysconf(_SC_PAGESIZE);
}
