/* Unit tests for the pattern index (messaging/pattern_index.c): it must find
 * exactly the patterns glob_match would, in any mix of adds and removes,
 * and give its nodes back when patterns go. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "messaging/pattern_index.h"
#include "util/glob.h"

struct found {
    int count;
    char seen[64];
};

static void collect(const char *pattern, size_t len, void *value, void *ctx)
{
    (void)pattern;
    (void)len;
    struct found *f = ctx;
    f->seen[(long)value] = 1;
    f->count++;
}

static struct found match(struct pattern_index *idx, const char *name)
{
    struct found f = {0};
    pattern_index_match(idx, name, strlen(name), collect, &f);
    return f;
}

Test(pattern_index, finds_by_prefix_and_checks_the_whole_glob)
{
    struct pattern_index *idx = pattern_index_create();
    const char *pats[] = {"user:1:*", "user:12:*", "user:*", "*", "news.?", "ne[wx]s", "a\\*b", "exact"};
    for (long i = 0; i < 8; i++) pattern_index_add(idx, pats[i], strlen(pats[i]), (void *)i);
    cr_assert_eq(pattern_index_size(idx), 8);

    struct found f = match(idx, "user:12:login");
    cr_assert_eq(f.count, 3);
    cr_assert(f.seen[1] && f.seen[2] && f.seen[3] && !f.seen[0]);
    f = match(idx, "user:1:x");
    cr_assert(f.seen[0] && f.seen[2] && f.seen[3] && !f.seen[1]);
    f = match(idx, "news.1");
    cr_assert(f.seen[4] && f.seen[3] && f.count == 2);
    f = match(idx, "nexs");
    cr_assert(f.seen[5] && f.count == 2);
    f = match(idx, "a*b");
    cr_assert(f.seen[6] && f.count == 2);
    f = match(idx, "exact");
    cr_assert(f.seen[7] && f.count == 2);
    f = match(idx, "exactly");
    cr_assert_eq(f.count, 1);
    f = match(idx, "");
    cr_assert_eq(f.count, 1);
    pattern_index_release(idx);
}

Test(pattern_index, remove_takes_only_the_given_value)
{
    struct pattern_index *idx = pattern_index_create();
    pattern_index_add(idx, "a*", 2, (void *)1);
    pattern_index_add(idx, "ab*", 3, (void *)2);
    cr_assert_not(pattern_index_remove(idx, "a*", 2, (void *)2));
    cr_assert_not(pattern_index_remove(idx, "zz*", 3, (void *)1));
    cr_assert(pattern_index_remove(idx, "a*", 2, (void *)1));
    struct found f = match(idx, "abc");
    cr_assert(f.count == 1 && f.seen[2]);
    cr_assert(pattern_index_remove(idx, "ab*", 3, (void *)2));
    cr_assert_eq(pattern_index_size(idx), 0);
    cr_assert_eq(match(idx, "abc").count, 0);
    pattern_index_release(idx);
}

/* Random patterns over a small alphabet (so that they often match), random
 * removals, and every answer compared with glob_match over all live patterns. */
Test(pattern_index, agrees_with_glob_match_under_random_changes)
{
    static const char alphabet[] = "ab:*?[]^-\\";
    srand(7);
    struct pattern_index *idx = pattern_index_create();
    char pats[64][12];
    bool live[64] = {0};
    for (int round = 0; round < 4000; round++) {
        int slot = rand() % 64;
        if (live[slot]) {
            cr_assert(pattern_index_remove(idx, pats[slot], strlen(pats[slot]), (void *)(long)slot));
            live[slot] = false;
        } else {
            int len = rand() % 8;
            for (int i = 0; i < len; i++) pats[slot][i] = alphabet[rand() % (sizeof(alphabet) - 1)];
            pats[slot][len] = 0;
            pattern_index_add(idx, pats[slot], (size_t)len, (void *)(long)slot);
            live[slot] = true;
        }
        char name[10];
        int nlen = rand() % 9;
        for (int i = 0; i < nlen; i++) name[i] = "ab:*[]"[rand() % 6];
        name[nlen] = 0;
        struct found f = match(idx, name);
        int want = 0;
        for (int s = 0; s < 64; s++) {
            if (!live[s]) continue;
            bool m = glob_match(pats[s], strlen(pats[s]), name, (size_t)nlen, false);
            want += m;
            cr_assert_eq(f.seen[s], m, "pattern '%s' against '%s': index says %d", pats[s], name, f.seen[s]);
        }
        cr_assert_eq(f.count, want);
    }
    for (int s = 0; s < 64; s++)
        if (live[s]) cr_assert(pattern_index_remove(idx, pats[s], strlen(pats[s]), (void *)(long)s));
    cr_assert_eq(pattern_index_size(idx), 0);
    pattern_index_release(idx);
}
