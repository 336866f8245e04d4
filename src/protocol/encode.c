#include "protocol/encode.h"

#include <string.h>

str encode_command(str out, int argc, const char *const *argv, const size_t *lens)
{
    out = str_append_printf(out, "*%d\r\n", argc);
    for (int i = 0; i < argc; i++) {
        size_t len = lens ? lens[i] : strlen(argv[i]);
        out = str_append_printf(out, "$%zu\r\n", len);
        out = str_append(out, argv[i], len);
        out = str_append(out, "\r\n", 2);
    }
    return out;
}
