#include "util/base64.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

str base64_encode(const void *data, size_t len)
{
    const unsigned char *p = data;
    str out = str_empty((len + 2) / 3 * 4 + 1);
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < len ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < len ? p[i + 2] : 0);
        char quad[4] = {alphabet[v >> 18 & 63], alphabet[v >> 12 & 63], i + 1 < len ? alphabet[v >> 6 & 63] : '=',
                        i + 2 < len ? alphabet[v & 63] : '='};
        out = str_append(out, quad, 4);
    }
    return out;
}

static int sextet(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

bool base64_decode(const char *text, size_t len, str *out)
{
    if (len % 4 != 0) return false;
    str s = str_empty(len / 4 * 3 + 1);
    for (size_t i = 0; i < len; i += 4) {
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            char c = text[i + k];
            bool last_quad = i + 4 == len;
            if (c == '=' && last_quad && k >= 2 && (k == 3 || text[i + 3] == '=')) {
                v[k] = 0;
                pad++;
                continue;
            }
            v[k] = pad ? -1 : sextet(c);
            if (v[k] < 0) {
                str_free(s);
                return false;
            }
        }
        unsigned bits = (unsigned)v[0] << 18 | (unsigned)v[1] << 12 | (unsigned)v[2] << 6 | (unsigned)v[3];
        char bytes[3] = {(char)(bits >> 16), (char)(bits >> 8 & 255), (char)(bits & 255)};
        s = str_append(s, bytes, 3 - (size_t)pad);
    }
    *out = s;
    return true;
}
