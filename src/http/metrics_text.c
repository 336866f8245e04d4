/* metrics_text: see metrics_text.h. */
#include "http/metrics_text.h"

#include <math.h>
#include <string.h>

str metrics_text_header(str s, const char *name, const char *type, const char *help)
{
    return str_append_printf(s, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

str metrics_text_value(str s, double value)
{
    if (isnan(value)) return str_append(s, "NaN", 3);
    if (isinf(value)) return str_append(s, value > 0 ? "+Inf" : "-Inf", 4);
    if (value == floor(value) && fabs(value) < 9e15) return str_append_printf(s, "%.0f", value);
    return str_append_printf(s, "%.17g", value);
}

str metrics_text_single(str s, const char *name, const char *type, const char *help, double value)
{
    s = metrics_text_header(s, name, type, help);
    s = str_append_printf(s, "%s ", name);
    s = metrics_text_value(s, value);
    return str_append(s, "\n", 1);
}

str metrics_text_escape(str s, const char *v, size_t len)
{
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        const char *esc = v[i] == '\\' ? "\\\\" : v[i] == '"' ? "\\\"" : v[i] == '\n' ? "\\n" : NULL;
        if (!esc) continue;
        s = str_append(s, v + run, i - run);
        s = str_append(s, esc, 2);
        run = i + 1;
    }
    return str_append(s, v + run, len - run);
}

str metrics_family_flush(str s, struct metrics_family *f)
{
    if (!f->samples) return s;
    s = metrics_text_header(s, f->name, f->type, f->help);
    s = str_append(s, f->samples, str_len(f->samples));
    str_free(f->samples);
    f->samples = NULL;
    return s;
}
