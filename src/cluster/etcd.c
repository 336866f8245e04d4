#include "cluster/etcd.h"

#include <curl/curl.h>
#include <json-c/json.h>
#include <string.h>

#include "net/event_loop.h"
#include "server/server.h"
#include "util/base64.h"
#include "util/log.h"
#include "util/mem.h"

#define MAX_ENDPOINTS 8
#define DEFAULT_TIMEOUT_MS 2000
#define MAX_REPLY_BYTES (16 * 1024 * 1024)

struct etcd_request {
    struct etcd_request *next_to_add;
    CURL *easy;
    struct curl_slist *headers;
    str body;   /* the reply so far */
    str post;   /* the request body: libcurl reads it while sending */
    etcd_done_fn *done;
    etcd_message_fn *on_message; /* streams only */
    json_tokener *tok;
    void *ctx;
};


static struct {
    CURLM *multi;
    char *endpoints[MAX_ENDPOINTS];
    int count;
    int current;
    struct event_timer *timer;
    int in_curl;                       /* inside curl_multi_socket_action */
    struct etcd_request *to_add;       /* requests made meanwhile, added after it returns */
} etcd;

const char *etcd_endpoint(void)
{
    return etcd.count ? etcd.endpoints[etcd.current] : "";
}

/* ---- encoding ---- */

str etcd_b64(const char *bytes, size_t len)
{
    str b = base64_encode(bytes, len);
    str q = str_append_printf(str_empty(str_len(b) + 3), "\"%s\"", b);
    str_free(b);
    return q;
}

str etcd_prefix_range(const char *prefix)
{
    str end_raw = str_new(prefix, strlen(prefix));
    end_raw[str_len(end_raw) - 1]++; /* the first key past every key with the prefix */
    str key = etcd_b64(prefix, strlen(prefix)), end = etcd_b64(end_raw, str_len(end_raw));
    str fields = str_append_printf(str_empty(128), "\"key\":%s,\"range_end\":%s", key, end);
    str_free(end_raw);
    str_free(key);
    str_free(end);
    return fields;
}

/* ---- finishing requests ---- */

static void request_free(struct etcd_request *r)
{
    if (r->easy) {
        curl_multi_remove_handle(etcd.multi, r->easy);
        curl_easy_cleanup(r->easy);
    }
    curl_slist_free_all(r->headers);
    if (r->tok) json_tokener_free(r->tok);
    str_free(r->body);
    str_free(r->post);
    mem_free(r);
}

static void rotate_endpoint(void)
{
    if (etcd.count < 2) return;
    etcd.current = (etcd.current + 1) % etcd.count;
    log_warning("etcd: switching to endpoint %s", etcd.endpoints[etcd.current]);
}

/* Reports every request libcurl has finished. */
static void collect_finished(void)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(etcd.multi, &left))) {
        if (msg->msg != CURLMSG_DONE) continue;
        struct etcd_request *r;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        long status = -1;
        if (msg->data.result == CURLE_OK) curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
        else if (!r->on_message || msg->data.result != CURLE_OPERATION_TIMEDOUT) rotate_endpoint();
        /* detached before the callback, which may start the next request */
        curl_multi_remove_handle(etcd.multi, r->easy);
        curl_easy_cleanup(r->easy);
        r->easy = NULL;
        if (r->done) r->done(r->ctx, (int)status, r->body ? r->body : "", r->body ? str_len(r->body) : 0);
        request_free(r);
    }
}

/* ---- libcurl's sockets and timer on the event loop ---- */

/* libcurl refuses new handles from inside its callbacks (a watch message
 * that leads to a read): those wait here until it returns. */
static void add_handle(struct etcd_request *r)
{
    if (etcd.in_curl) {
        r->next_to_add = etcd.to_add;
        etcd.to_add = r;
        return;
    }
    CURLMcode rc = curl_multi_add_handle(etcd.multi, r->easy);
    if (rc != CURLM_OK) log_warning("etcd: can't start a request: %s", curl_multi_strerror(rc));
}

static void socket_action(curl_socket_t fd, int flags)
{
    int running;
    etcd.in_curl++;
    curl_multi_socket_action(etcd.multi, fd, flags, &running);
    etcd.in_curl--;
    collect_finished();
    while (etcd.to_add && !etcd.in_curl) {
        struct etcd_request *r = etcd.to_add;
        etcd.to_add = r->next_to_add;
        add_handle(r);
    }
}

static void on_socket(struct event_loop *loop, int fd, void *data, int mask)
{
    (void)loop, (void)data;
    socket_action(fd, (mask & EV_READ ? CURL_CSELECT_IN : 0) | (mask & EV_WRITE ? CURL_CSELECT_OUT : 0));
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy, (void)userp, (void)socketp;
    event_loop_unwatch(server.loop, fd, EV_READ | EV_WRITE);
    if (what == CURL_POLL_REMOVE) return 0;
    int mask = (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0);
    event_loop_watch(server.loop, fd, mask, on_socket, NULL);
    return 0;
}

static void on_timer(struct event_loop *loop, void *data)
{
    (void)loop, (void)data;
    etcd.timer = NULL;
    socket_action(CURL_SOCKET_TIMEOUT, 0);
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi, (void)userp;
    if (etcd.timer) event_timer_cancel(server.loop, etcd.timer);
    etcd.timer = NULL;
    if (timeout_ms >= 0) etcd.timer = event_timer_at(server.loop, event_now_ms() + timeout_ms, on_timer, NULL);
    return 0;
}

/* ---- reading replies ---- */

static void deliver_messages(struct etcd_request *r)
{
    while (str_len(r->body) > 0) {
        json_tokener_reset(r->tok);
        json_object *obj = json_tokener_parse_ex(r->tok, r->body, (int)str_len(r->body));
        if (!obj) return; /* incomplete (or garbage, which the next message will not fix) */
        size_t used = json_tokener_get_parse_end(r->tok);
        const char *text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);
        r->on_message(r->ctx, text, strlen(text));
        json_object_put(obj);
        while (used < str_len(r->body) && (r->body[used] == '\n' || r->body[used] == '\r' || r->body[used] == ' '))
            used++;
        memmove(r->body, r->body + used, str_len(r->body) - used);
        str_set_len(r->body, str_len(r->body) - used);
    }
}

static size_t write_cb(char *data, size_t size, size_t n, void *userp)
{
    struct etcd_request *r = userp;
    size_t len = size * n;
    if (str_len(r->body) + len > MAX_REPLY_BYTES) return 0; /* refuse a runaway reply */
    r->body = str_append(r->body, data, len);
    if (r->on_message) deliver_messages(r);
    return len;
}

/* ---- issuing requests ---- */

static struct etcd_request *request_new(const char *path, const char *json, long timeout_ms)
{
    struct etcd_request *r = mem_calloc(sizeof(*r));
    r->easy = curl_easy_init();
    r->body = str_empty(256);
    r->post = str_new(json, strlen(json));
    char url[512];
    snprintf(url, sizeof(url), "%s%s", etcd_endpoint(), path);
    r->headers = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(r->easy, CURLOPT_URL, url);
    curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->headers);
    curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, r->post);
    curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE, (long)str_len(r->post));
    curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
    curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
    curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
    /* one connection per request: the control plane is quiet, and reused
     * connections lost their readiness events on this loop (seen in tests) */
    curl_easy_setopt(r->easy, CURLOPT_FORBID_REUSE, 1L);
    if (timeout_ms > 0) curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
    return r;
}

void etcd_post(const char *path, const char *json, long timeout_ms, etcd_done_fn *done, void *ctx)
{
    struct etcd_request *r = request_new(path, json, timeout_ms ? timeout_ms : DEFAULT_TIMEOUT_MS);
    r->done = done;
    r->ctx = ctx;
    add_handle(r);
}

struct etcd_stream *etcd_stream_open(const char *path, const char *json, etcd_message_fn *on_message,
                                     etcd_done_fn *ended, void *ctx)
{
    struct etcd_request *r = request_new(path, json, 0);
    r->done = ended;
    r->on_message = on_message;
    r->ctx = ctx;
    r->tok = json_tokener_new();
    /* a watch is quiet for long stretches: only a dead connection ends it */
    curl_easy_setopt(r->easy, CURLOPT_TCP_KEEPALIVE, 1L);
    add_handle(r);
    return (struct etcd_stream *)r;
}

void etcd_stream_cancel(struct etcd_stream *s)
{
    if (s) request_free((struct etcd_request *)s);
}

bool etcd_init(const char *endpoints)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    etcd.multi = curl_multi_init();
    curl_multi_setopt(etcd.multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(etcd.multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    char *list = mem_strdup(endpoints);
    for (char *save = NULL, *tok = strtok_r(list, ", ", &save); tok && etcd.count < MAX_ENDPOINTS;
         tok = strtok_r(NULL, ", ", &save)) {
        size_t n = strlen(tok);
        while (n > 0 && tok[n - 1] == '/') tok[--n] = '\0';
        etcd.endpoints[etcd.count++] = mem_strdup(tok);
    }
    mem_free(list);
    return etcd.count > 0;
}
