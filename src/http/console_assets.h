/* console_assets: the console's files (HTML, CSS, JavaScript, icons),
 * built into the binary. The table is generated at build time by
 * scripts/embed-assets from src/http/console/ into build/gen/; nothing is
 * read from disk or fetched at run time. */
#ifndef RUNNEL_HTTP_CONSOLE_ASSETS_H
#define RUNNEL_HTTP_CONSOLE_ASSETS_H

#include <stddef.h>

struct console_asset {
    const char *name; /* file name under src/http/console/, e.g. "app.js" */
    const char *type; /* Content-Type */
    const unsigned char *data;
    size_t len;
};

extern const struct console_asset console_assets[];
extern const size_t console_asset_count;

#endif
