/* log: server log lines in Redis's format ("pid:M dd Mon yyyy hh:mm:ss.mmm * msg"),
 * to stdout or to the configured file. */
#ifndef RUNNEL_UTIL_LOG_H
#define RUNNEL_UTIL_LOG_H

enum { LOGL_DEBUG = 0, LOGL_VERBOSE = 1, LOGL_NOTICE = 2, LOGL_WARNING = 3 };

extern int log_min_level;
/* Path of the log file, or NULL/"" for stdout. */
void log_set_file(const char *path);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOGL_DEBUG, __VA_ARGS__)
#define log_verbose(...) log_msg(LOGL_VERBOSE, __VA_ARGS__)
#define log_notice(...) log_msg(LOGL_NOTICE, __VA_ARGS__)
#define log_warning(...) log_msg(LOGL_WARNING, __VA_ARGS__)

#endif
