/* bitmap: bit operations on string values (SETBIT GETBIT BITCOUNT BITPOS
 * BITOP), and what BITFIELD (types/bitfield.c) shares with them. */
#ifndef RUNNEL_TYPES_BITMAP_H
#define RUNNEL_TYPES_BITMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "protocol/command.h"

struct object;

extern struct command bitmap_commands[];
extern struct command bitfield_commands[]; /* types/bitfield.c */

/* Reads argument i as a bit offset: a non-negative integer whose byte lies
 * below proto-max-bulk-len. With `hash` and a width, "#n" means n * width.
 * Replies Redis's error and returns false otherwise. */
bool bitmap_parse_offset(struct request *req, int i, bool hash, int width, uint64_t *out);

/* The string at argv[1], made private, raw and at least long enough to
 * hold bit `maxbit` (created zero-filled when missing). NULL after a
 * WRONGTYPE reply. *grew tells whether the key was created or lengthened. */
struct object *bitmap_for_write(struct request *req, uint64_t maxbit, bool *grew);

#endif
