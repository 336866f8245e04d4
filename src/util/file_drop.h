/* file_drop: deleting a large file without waiting for the file system to
 * free its blocks (tens of milliseconds for a gigabyte on ext4, a stall if
 * the event loop waited for it). Removing the name is quick while the file
 * is still open somewhere; the last close, which frees the blocks, then
 * runs on a background thread of this module, started at first use. */
#ifndef RUNNEL_UTIL_FILE_DROP_H
#define RUNNEL_UTIL_FILE_DROP_H

/* Unlinks path; its blocks are freed in the background. 0, or -1 with
 * errno as unlink sets it. */
int file_drop(const char *path);
/* Opens path (when it exists) so that a rename over it does not free its
 * blocks at once; give the result to file_drop_fd afterwards. -1 when
 * there is no such file. */
int file_drop_hold(const char *path);
/* Closes fd in the background (nothing for -1). */
void file_drop_fd(int fd);
/* Waits until every close handed over so far is done (tests, shutdown). */
void file_drop_flush(void);

#endif
