#include "util/glob.h"

#include <ctype.h>

static int glob_fold(int c, bool nocase)
{
    return nocase ? tolower(c) : c;
}

/* Matches byte c against the class whose body starts at p[*i] (just past the
 * '['); leaves *i on the closing ']' or, if the class is unterminated, on
 * the pattern's last byte, as Redis does. */
static bool glob_class(const unsigned char *p, size_t plen, size_t *i, int c, bool nocase)
{
    bool negate = *i < plen && p[*i] == '^';
    if (negate) (*i)++;
    bool match = false;
    for (;;) {
        if (*i >= plen) {
            (*i)--;
            break;
        }
        if (p[*i] == '\\' && plen - *i >= 2) {
            (*i)++;
            if (p[*i] == c) match = true;
        } else if (p[*i] == ']') {
            break;
        } else if (plen - *i >= 3 && p[*i + 1] == '-') {
            int lo = glob_fold(p[*i], nocase), hi = glob_fold(p[*i + 2], nocase);
            if (lo > hi) {
                int t = lo;
                lo = hi;
                hi = t;
            }
            int fc = glob_fold(c, nocase);
            if (fc >= lo && fc <= hi) match = true;
            *i += 2;
        } else if (glob_fold(p[*i], nocase) == glob_fold(c, nocase)) {
            match = true;
        }
        (*i)++;
    }
    return match != negate;
}

/* Matches one non-star pattern element at p[*i] against byte c; on a match
 * advances *i past the element. */
static bool glob_one(const unsigned char *p, size_t plen, size_t *i, int c, bool nocase)
{
    size_t j = *i;
    bool match;
    if (p[j] == '?') {
        match = true;
    } else if (p[j] == '[') {
        j++;
        match = glob_class(p, plen, &j, c, nocase);
    } else {
        if (p[j] == '\\' && plen - j >= 2) j++;
        match = glob_fold(p[j], nocase) == glob_fold(c, nocase);
    }
    if (match) *i = j + 1;
    return match;
}

bool glob_match(const char *pattern, size_t plen, const char *string, size_t slen, bool nocase)
{
    const unsigned char *p = (const unsigned char *)pattern;
    const unsigned char *s = (const unsigned char *)string;
    size_t pi = 0, si = 0;
    /* Only the latest star needs remembering: it can absorb whatever an
     * earlier star would have, so one backtrack point keeps this linear
     * in the pattern per string position. */
    bool have_star = false;
    size_t star_pi = 0, star_si = 0;
    while (si < slen) {
        if (pi < plen && p[pi] == '*') {
            while (pi < plen && p[pi] == '*') pi++;
            if (pi == plen) return true;
            have_star = true;
            star_pi = pi;
            star_si = si;
            continue;
        }
        if (pi < plen && glob_one(p, plen, &pi, s[si], nocase)) {
            si++;
            continue;
        }
        if (!have_star) return false;
        pi = star_pi;
        si = ++star_si;
    }
    while (pi < plen && p[pi] == '*') pi++;
    return pi == plen;
}

size_t glob_literal_prefix(const char *pattern, size_t len)
{
    size_t i = 0;
    while (i < len && pattern[i] != '*' && pattern[i] != '?' && pattern[i] != '[' && pattern[i] != '\\') i++;
    return i;
}
