/* metrics_text: writing Prometheus's text exposition format (version
 * 0.0.4): a family's HELP and TYPE lines, and its samples with escaped
 * label values. */
#ifndef RUNNEL_HTTP_METRICS_TEXT_H
#define RUNNEL_HTTP_METRICS_TEXT_H

#include <stddef.h>

#include "util/str.h"

/* One family whose samples are gathered apart (during one walk over the
 * keyspace) and written out whole, since a family's samples must follow
 * its header without another family in between. */
struct metrics_family {
    const char *name;
    const char *type; /* "gauge", "counter" or "histogram" */
    const char *help;
    str samples; /* lines "name{labels} value\n"; NULL until the first */
};

/* Appends "# HELP name help\n# TYPE name type\n". */
str metrics_text_header(str s, const char *name, const char *type, const char *help);
/* Appends a whole unlabelled family: header and one sample. */
str metrics_text_single(str s, const char *name, const char *type, const char *help, double value);
/* Appends a label value, escaping backslash, double quote and newline. */
str metrics_text_escape(str s, const char *v, size_t len);
/* Appends a sample value: integers without a fraction, others as %.17g. */
str metrics_text_value(str s, double value);

/* Appends the family (header, then its samples) if it has any, and frees them. */
str metrics_family_flush(str s, struct metrics_family *f);

#endif
