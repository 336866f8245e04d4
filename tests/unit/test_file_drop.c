#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/file_drop.h"

static int open_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    cr_assert(d);
    while (readdir(d)) n++;
    closedir(d);
    return n;
}

static void make_file(const char *path, size_t bytes)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    cr_assert(fd >= 0);
    char buf[4096];
    memset(buf, 'x', sizeof(buf));
    for (size_t done = 0; done < bytes; done += sizeof(buf)) cr_assert(write(fd, buf, sizeof(buf)) == sizeof(buf));
    close(fd);
}

Test(file_drop, unlinks_at_once_and_closes_in_the_background)
{
    char path[] = "/tmp/file-drop-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
    make_file(path, 1 << 20);
    int before = open_fds();
    cr_assert_eq(file_drop(path), 0);
    cr_assert_eq(access(path, F_OK), -1, "the name is gone when file_drop returns");
    file_drop_flush();
    cr_assert_eq(open_fds(), before, "the held descriptor is closed by the background thread");
}

Test(file_drop, a_missing_file_fails_as_unlink_does)
{
    cr_assert_eq(file_drop("/tmp/file-drop-does-not-exist"), -1);
    cr_assert_eq(errno, ENOENT);
}

Test(file_drop, hold_keeps_a_renamed_over_file_until_dropped)
{
    char dir[] = "/tmp/file-drop-dir-XXXXXX";
    cr_assert(mkdtemp(dir));
    char old_path[128], new_path[128];
    snprintf(old_path, sizeof(old_path), "%s/target", dir);
    snprintf(new_path, sizeof(new_path), "%s/incoming", dir);
    make_file(old_path, 8192);
    make_file(new_path, 4096);
    int before = open_fds();
    int held = file_drop_hold(old_path);
    cr_assert(held >= 0);
    cr_assert_eq(rename(new_path, old_path), 0);
    cr_assert_eq(lseek(held, 0, SEEK_END), 8192, "the replaced file is still readable through the hold");
    file_drop_fd(held);
    file_drop_fd(-1); /* nothing */
    file_drop_flush();
    cr_assert_eq(open_fds(), before);
    cr_assert_eq(file_drop_hold(new_path), -1);
    unlink(old_path);
    rmdir(dir);
}

Test(file_drop, many_descriptors_queue_past_the_first_ring)
{
    int before = open_fds();
    for (int i = 0; i < 100; i++) {
        int fd = open("/dev/null", O_RDONLY);
        cr_assert(fd >= 0);
        file_drop_fd(fd);
    }
    file_drop_flush();
    cr_assert_eq(open_fds(), before);
}
