/* api_access: see api_access.h. */
#include "http/api_access.h"

#include <string.h>

#include "http/console_exec.h"
#include "http/http_request.h"
#include "util/str.h"

/* A document and the command that stands for it: words, where "$key" and
 * "$group" are the request's parameters (an absent one is left empty: the
 * document then answers its own "missing parameter" error). */
static const struct {
    const char *path;
    const char *argv[5];
} documents[] = {
    {"/metrics", {"INFO"}},
    {"/api/overview", {"INFO"}},
    {"/api/history", {"INFO"}},
    {"/api/topology", {"INFO", "replication"}},
    {"/api/streams", {"SCAN", "0"}},
    {"/api/queues", {"SCAN", "0"}},
    {"/api/stream", {"XINFO", "STREAM", "$key"}},
    {"/api/stream/entries", {"XRANGE", "$key", "-", "+"}},
    {"/api/stream/pending", {"XPENDING", "$key", "$group"}},
    {"/api/clients", {"CLIENT", "LIST"}},
    {"/api/pubsub", {"PUBSUB", "CHANNELS"}},
    {"/api/slowlog", {"SLOWLOG", "GET"}},
};

const char *api_access_refusal(const char *path, size_t len, const char *query, size_t query_len, char *buf,
                               size_t size)
{
    for (size_t i = 0; i < sizeof(documents) / sizeof(documents[0]); i++) {
        if (strlen(documents[i].path) != len || memcmp(documents[i].path, path, len) != 0) continue;
        const char *argv[5];
        str params[5] = {0};
        int argc = 0;
        for (; argc < 5 && documents[i].argv[argc]; argc++) {
            const char *w = documents[i].argv[argc];
            if (w[0] == '$') {
                params[argc] = query ? http_query_param(query, query_len, w + 1) : NULL;
                w = params[argc] ? params[argc] : "";
            }
            argv[argc] = w;
        }
        const char *refusal = console_exec_refusal(argc, argv, buf, size);
        for (int k = 0; k < argc; k++) str_free(params[k]);
        return refusal;
    }
    return NULL;
}
