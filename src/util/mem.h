/* Memory: thin wrappers over the allocator (jemalloc) that abort with a log
 * line on allocation failure, as Redis does, plus the allocator's own view of
 * how much memory is in use. */
#ifndef RUNNEL_UTIL_MEM_H
#define RUNNEL_UTIL_MEM_H

#include <stddef.h>

void *mem_alloc(size_t size);
void *mem_calloc(size_t size);
void *mem_realloc(void *ptr, size_t size);
void mem_free(void *ptr);
char *mem_strdup(const char *s);

/* Bytes the allocator has handed out (jemalloc stats.allocated). */
size_t mem_used(void);
/* Bytes the allocator holds from the OS (jemalloc stats.resident). */
size_t mem_resident(void);
/* Usable size of an allocation, for exact accounting. */
size_t mem_usable_size(void *ptr);
/* Resident set size of the process, from /proc. */
size_t mem_rss(void);

#endif
