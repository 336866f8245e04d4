#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

int log_min_level = LOGL_NOTICE;
static char log_path[1024];

void log_set_file(const char *path)
{
    if (!path) path = "";
    snprintf(log_path, sizeof(log_path), "%s", path);
}

void log_msg(int level, const char *fmt, ...)
{
    if (level < log_min_level) return;
    static const char marks[] = ".-*#";
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    char when[64];
    size_t n = strftime(when, sizeof(when), "%d %b %Y %H:%M:%S.", &tm);
    snprintf(when + n, sizeof(when) - n, "%03d", (int)(tv.tv_usec / 1000));

    FILE *f = log_path[0] ? fopen(log_path, "a") : stdout;
    if (!f) return;
    fprintf(f, "%d:M %s %c %s\n", (int)getpid(), when, marks[level & 3], msg);
    fflush(f);
    if (f != stdout) fclose(f);
}
