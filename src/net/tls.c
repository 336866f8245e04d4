/* tls: TLS connections over OpenSSL, non-blocking inside the event loop.
 *
 * Reads go through a socket BIO. Writes go through a BIO of our own that
 * hands ciphertext straight to the socket and keeps what the socket did not
 * take, so SSL_write never reports WANT_WRITE: OpenSSL would then demand the
 * same plaintext again, while the caller's queue may have changed. At most
 * one writev's budget of ciphertext waits; the next writev sends it first
 * and reports EAGAIN while it still waits. */
#include "net/tls.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/conn.h"
#include "net/event_loop.h"
#include "util/log.h"
#include "util/mem.h"

#define TLS_RECORD_MAX 16384          /* the most plaintext one record carries */
#define TLS_WRITE_BUDGET (64 * 1024)  /* plaintext one writev encrypts at most */

static SSL_CTX *server_ctx, *client_ctx;
static long long handshake_timeout_ms = 10000;
static BIO_METHOD *sink_method;

struct tls_conn {
    struct net_conn conn;
    SSL *ssl;
    char *wbuf; /* ciphertext the socket did not take: [woff, wlen) */
    size_t wlen, woff, wcap;
    int write_errno; /* the socket refused a write: the connection is broken */
    struct event_timer *timer; /* handshake deadline */
    bool no_client_cert;       /* accepted without asking for a client certificate */
    /* in a list of connections with decrypted bytes waiting */
    struct tls_conn **list, *prev, *next;
};

static struct tls_conn *pending_head;

/* ---- the write BIO ---- */

static void queue_append(struct tls_conn *t, const char *data, size_t len)
{
    if (t->woff > 0 && t->woff == t->wlen) t->woff = t->wlen = 0;
    if (t->wlen + len > t->wcap) {
        t->wcap = (t->wlen + len) * 2;
        t->wbuf = mem_realloc(t->wbuf, t->wcap);
    }
    memcpy(t->wbuf + t->wlen, data, len);
    t->wlen += len;
}

/* Sends what is queued; 0 (maybe some left), or -1 with t->write_errno. */
static int queue_flush(struct tls_conn *t)
{
    while (t->woff < t->wlen) {
        ssize_t n = send(t->conn.fd, t->wbuf + t->woff, t->wlen - t->woff, MSG_NOSIGNAL);
        if (n > 0) {
            t->woff += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
        t->write_errno = n < 0 ? errno : EPIPE;
        return -1;
    }
    t->woff = t->wlen = 0;
    return 0;
}

static bool queue_waiting(const struct tls_conn *t)
{
    return t->woff < t->wlen;
}

static int sink_write(BIO *b, const char *data, int len)
{
    struct tls_conn *t = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (t->write_errno) return -1;
    size_t off = 0;
    while (!queue_waiting(t) && off < (size_t)len) {
        ssize_t n = send(t->conn.fd, data + off, (size_t)len - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        t->write_errno = n < 0 ? errno : EPIPE;
        return -1;
    }
    if (off < (size_t)len) queue_append(t, data + off, (size_t)len - off);
    return len;
}

static long sink_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b, (void)num, (void)ptr;
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int sink_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static BIO_METHOD *sink_get_method(void)
{
    if (sink_method) return sink_method;
    sink_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "runnel-socket-writer");
    BIO_meth_set_write(sink_method, sink_write);
    BIO_meth_set_ctrl(sink_method, sink_ctrl);
    BIO_meth_set_create(sink_method, sink_create);
    return sink_method;
}

/* ---- connections with decrypted bytes waiting ---- */

static void pending_remove(struct tls_conn *t)
{
    if (!t->list) return;
    if (t->prev) t->prev->next = t->next;
    else *t->list = t->next;
    if (t->next) t->next->prev = t->prev;
    t->list = NULL;
    t->prev = t->next = NULL;
}

static void pending_add(struct tls_conn *t, struct tls_conn **list)
{
    pending_remove(t);
    t->list = list;
    t->prev = NULL;
    t->next = *list;
    if (*list) (*list)->prev = t;
    *list = t;
}

/* Listed while its user reads and OpenSSL holds bytes the socket won't show. */
static void pending_check(struct tls_conn *t)
{
    if (t->conn.on_read && !t->conn.closing && t->conn.state == NET_CONN_OPEN && SSL_pending(t->ssl) > 0)
        pending_add(t, &pending_head);
    else pending_remove(t);
}

void net_tls_process_pending(void)
{
    /* handlers may close any connection: take them one at a time off a list
     * of our own, from which closing removes them too */
    struct tls_conn *todo = pending_head;
    pending_head = NULL;
    for (struct tls_conn *t = todo; t; t = t->next) t->list = &todo;
    while (todo) {
        struct tls_conn *t = todo;
        pending_remove(t);
        net_conn_enter(&t->conn);
        if (t->conn.on_read) t->conn.on_read(&t->conn);
        if (!t->conn.closing) pending_check(t);
        net_conn_leave(&t->conn);
    }
}

/* ---- the connection type ---- */

static void tls_on_event(struct event_loop *loop, int fd, void *data, int mask);

static const char *tls_error_text(int ssl_error)
{
    static char buf[256];
    unsigned long e = ERR_peek_last_error();
    if (e) ERR_error_string_n(e, buf, sizeof(buf));
    else if (ssl_error == SSL_ERROR_SYSCALL) snprintf(buf, sizeof(buf), "%s", errno ? strerror(errno) : "connection closed");
    else snprintf(buf, sizeof(buf), "TLS error %d", ssl_error);
    return buf;
}

static int tls_update_events(struct net_conn *c)
{
    struct tls_conn *t = (struct tls_conn *)c;
    int mask = 0;
    if (c->state == NET_CONN_CONNECTING) mask = EV_WRITE;
    else if (c->state == NET_CONN_HANDSHAKE) mask = EV_READ | (queue_waiting(t) ? EV_WRITE : 0);
    else if (c->state == NET_CONN_OPEN)
        mask = (c->on_read ? EV_READ : 0) | ((c->on_write || queue_waiting(t)) ? EV_WRITE : 0);
    return net_conn_watch_mask(c, mask, tls_on_event);
}

/* The handshake ended (state OPEN or FAILED): the user decides what next. */
static void tls_handshake_done(struct tls_conn *t, int state, const char *error)
{
    if (t->timer) event_timer_cancel(t->conn.loop, t->timer);
    t->timer = NULL;
    t->conn.state = state;
    t->conn.error = error;
    tls_update_events(&t->conn);
    if (t->conn.on_open) t->conn.on_open(&t->conn);
}

static void tls_handshake_step(struct tls_conn *t)
{
    ERR_clear_error();
    int rc = SSL_do_handshake(t->ssl);
    if (rc == 1) {
        tls_handshake_done(t, NET_CONN_OPEN, NULL);
        return;
    }
    int e = SSL_get_error(t->ssl, rc);
    if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) && !t->write_errno) {
        if (tls_update_events(&t->conn) < 0) tls_handshake_done(t, NET_CONN_FAILED, "too many open descriptors");
        return;
    }
    tls_handshake_done(t, NET_CONN_FAILED, tls_error_text(e));
}

static void tls_on_timeout(struct event_loop *loop, void *data)
{
    (void)loop;
    struct tls_conn *t = data;
    t->timer = NULL;
    net_conn_enter(&t->conn);
    tls_handshake_done(t, NET_CONN_FAILED, "TLS handshake timed out");
    net_conn_leave(&t->conn);
}

static int tls_attach(struct tls_conn *t, SSL_CTX *ctx)
{
    if (!ctx || !(t->ssl = SSL_new(ctx))) return -1;
    BIO *rbio = BIO_new_socket(t->conn.fd, BIO_NOCLOSE);
    BIO *wbio = BIO_new(sink_get_method());
    BIO_set_data(wbio, t);
    SSL_set_bio(t->ssl, rbio, wbio);
    SSL_set_mode(t->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (handshake_timeout_ms > 0)
        t->timer = event_timer_at(t->conn.loop, event_now_ms() + handshake_timeout_ms, tls_on_timeout, t);
    return 0;
}

static void tls_accept(struct net_conn *c)
{
    struct tls_conn *t = (struct tls_conn *)c;
    net_conn_enter(c);
    if (tls_attach(t, server_ctx) < 0) {
        c->state = NET_CONN_FAILED;
        c->error = "TLS is not configured";
        if (c->on_open) c->on_open(c);
    } else {
        if (t->no_client_cert) SSL_set_verify(t->ssl, SSL_VERIFY_NONE, NULL);
        SSL_set_accept_state(t->ssl);
        c->state = NET_CONN_HANDSHAKE;
        tls_handshake_step(t);
    }
    net_conn_leave(c);
}

static int tls_connect(struct net_conn *c, const char *host, int port)
{
    struct tls_conn *t = (struct tls_conn *)c;
    if (!client_ctx) {
        c->error = "TLS is not configured";
        return -1;
    }
    if (net_tcp_start_connect(c, host, port) < 0) return -1;
    if (tls_attach(t, client_ctx) < 0) {
        c->error = "can't create a TLS connection";
        return -1;
    }
    SSL_set_connect_state(t->ssl);
    if (tls_update_events(c) == 0) return 0;
    c->error = "too many open descriptors";
    return -1;
}

static void tls_on_event(struct event_loop *loop, int fd, void *data, int mask)
{
    (void)loop, (void)fd;
    struct tls_conn *t = data;
    struct net_conn *c = &t->conn;
    net_conn_enter(c);
    if ((mask & EV_WRITE) && c->state != NET_CONN_CONNECTING && queue_waiting(t)) queue_flush(t);
    if (c->state == NET_CONN_CONNECTING) {
        if (net_tcp_finish_connect(c) < 0) {
            tls_handshake_done(t, NET_CONN_FAILED, c->error);
        } else {
            c->state = NET_CONN_HANDSHAKE;
            tls_handshake_step(t);
        }
    } else if (c->state == NET_CONN_HANDSHAKE) {
        if (t->write_errno) tls_handshake_done(t, NET_CONN_FAILED, strerror(t->write_errno));
        else tls_handshake_step(t);
    } else if (c->state == NET_CONN_OPEN) {
        /* a broken socket surfaces through the user's next read or write */
        if ((mask & EV_WRITE) && c->on_write && (!queue_waiting(t) || t->write_errno)) c->on_write(c);
        if ((mask & EV_READ) && c->on_read && !c->closing) c->on_read(c);
        if (!c->closing) {
            pending_check(t);
            tls_update_events(c);
        }
    }
    net_conn_leave(c);
}

/* Reads one record, and what OpenSSL already decrypted of it if the first
 * call did not take it all. Without read-ahead OpenSSL takes one record at
 * a time off the socket, so the next one still shows as readable; asking
 * for it here would cost a read that finds nothing when the client sent
 * one command. What a caller's too-small buffer leaves decrypted is
 * served by net_tls_process_pending. */
static ssize_t tls_read(struct net_conn *c, void *buf, size_t len)
{
    struct tls_conn *t = (struct tls_conn *)c;
    size_t total = 0;
    while (total < len) {
        size_t room = len - total;
        if (total > 0 && SSL_pending(t->ssl) == 0) break;
        ERR_clear_error();
        int n = SSL_read(t->ssl, (char *)buf + total, room > (size_t)INT32_MAX ? INT32_MAX : (int)room);
        if (n > 0) {
            total += (size_t)n;
            continue;
        }
        int e = SSL_get_error(t->ssl, n);
        if (total > 0) break; /* the end or the error shows at the next call */
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            errno = EAGAIN;
            return -1;
        }
        if (e == SSL_ERROR_ZERO_RETURN) return 0;
        if (e == SSL_ERROR_SYSCALL && errno == 0 && ERR_peek_error() == 0) return 0;
        c->error = tls_error_text(e);
        if (e != SSL_ERROR_SYSCALL || errno == 0) errno = EPROTO;
        return -1;
    }
    return (ssize_t)total;
}

static ssize_t tls_writev(struct net_conn *c, const struct iovec *iov, int iovcnt)
{
    struct tls_conn *t = (struct tls_conn *)c;
    if (queue_waiting(t)) queue_flush(t);
    if (t->write_errno) {
        errno = t->write_errno;
        return -1;
    }
    if (queue_waiting(t)) {
        errno = EAGAIN;
        return -1;
    }
    /* gathered into one record at a time: small replies share a record */
    char chunk[TLS_RECORD_MAX];
    size_t total = 0, off = 0;
    int i = 0;
    while (total < TLS_WRITE_BUDGET && !queue_waiting(t)) {
        size_t n = 0;
        while (i < iovcnt && n < sizeof(chunk)) {
            size_t take = iov[i].iov_len - off;
            if (take > sizeof(chunk) - n) take = sizeof(chunk) - n;
            memcpy(chunk + n, (const char *)iov[i].iov_base + off, take);
            n += take;
            off += take;
            if (off == iov[i].iov_len) i++, off = 0;
        }
        if (n == 0) break;
        ERR_clear_error();
        int rc = SSL_write(t->ssl, chunk, (int)n);
        if (rc <= 0) {
            c->error = tls_error_text(SSL_get_error(t->ssl, rc));
            errno = t->write_errno ? t->write_errno : EPROTO;
            return -1;
        }
        total += (size_t)rc;
    }
    if (queue_waiting(t)) tls_update_events(c);
    return (ssize_t)total;
}

static void tls_free(struct net_conn *c)
{
    struct tls_conn *t = (struct tls_conn *)c;
    pending_remove(t);
    if (t->timer) event_timer_cancel(c->loop, t->timer);
    if (t->ssl) {
        if (c->state == NET_CONN_OPEN && !t->write_errno) {
            SSL_shutdown(t->ssl); /* close_notify, best effort */
            queue_flush(t);
        }
        SSL_free(t->ssl);
    }
    if (c->fd >= 0) {
        event_loop_unwatch(c->loop, c->fd, EV_READ | EV_WRITE);
        close(c->fd);
    }
    mem_free(t->wbuf);
    mem_free(t);
}

static const struct net_conn_type tls_type = {
    .name = "tls",
    .accept = tls_accept,
    .connect = tls_connect,
    .read = tls_read,
    .writev = tls_writev,
    .update_events = tls_update_events,
    .free = tls_free,
};

struct net_conn *net_tls_conn_create(struct event_loop *loop, int fd)
{
    struct tls_conn *t = mem_calloc(sizeof(*t));
    t->conn.type = &tls_type;
    t->conn.loop = loop;
    t->conn.fd = fd;
    return &t->conn;
}

bool net_tls_conn_flushed(struct net_conn *c)
{
    if (c->type != &tls_type) return true;
    struct tls_conn *t = (struct tls_conn *)c;
    if (queue_waiting(t)) queue_flush(t);
    return !queue_waiting(t) || t->write_errno;
}

void net_tls_conn_skip_client_cert(struct net_conn *c)
{
    if (c->type == &tls_type) ((struct tls_conn *)c)->no_client_cert = true;
}

/* ---- contexts ---- */

static const char *loading_pass; /* the key's passphrase while a key loads */

static int pass_callback(char *buf, int size, int rwflag, void *u)
{
    (void)rwflag, (void)u;
    if (!loading_pass) return 0;
    int n = (int)strlen(loading_pass);
    if (n > size) n = size;
    memcpy(buf, loading_pass, (size_t)n);
    return n;
}

static bool set(const char *s)
{
    return s && s[0];
}

static void log_ssl_errors(const char *what)
{
    unsigned long e;
    char buf[256];
    bool any = false;
    while ((e = ERR_get_error()) != 0) {
        ERR_error_string_n(e, buf, sizeof(buf));
        log_warning("%s: %s", what, buf);
        any = true;
    }
    if (!any) log_warning("%s", what);
}

/* The SSL_OP_NO_* options that leave exactly the listed protocols; -1 if a
 * name is unknown or none is left. */
static long protocol_options(const char *list)
{
    static const struct {
        const char *name;
        long flag;
    } protos[] = {{"TLSv1", SSL_OP_NO_TLSv1}, {"TLSv1.1", SSL_OP_NO_TLSv1_1},
                  {"TLSv1.2", SSL_OP_NO_TLSv1_2}, {"TLSv1.3", SSL_OP_NO_TLSv1_3}};
    if (!set(list)) list = "TLSv1.2 TLSv1.3";
    long keep = 0;
    const char *p = list;
    while (*p) {
        while (*p == ' ') p++;
        size_t len = strcspn(p, " ");
        if (len == 0) break;
        bool known = false;
        for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
            if (strlen(protos[i].name) == len && strncasecmp(p, protos[i].name, len) == 0) {
                keep |= protos[i].flag;
                known = true;
            }
        }
        if (!known) return -1;
        p += len;
    }
    if (!keep) return -1;
    return (SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 | SSL_OP_NO_TLSv1_2 | SSL_OP_NO_TLSv1_3) & ~keep;
}

static int ctx_load_pair(SSL_CTX *ctx, const char *cert, const char *key, const char *pass)
{
    loading_pass = pass;
    int ok = SSL_CTX_use_certificate_chain_file(ctx, cert) == 1 &&
             SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) == 1 && SSL_CTX_check_private_key(ctx) == 1;
    loading_pass = NULL;
    return ok ? 0 : -1;
}

/* The DHE parameters from a PEM file, or OpenSSL's own sized to the
 * certificate's key when none is given. */
static int ctx_load_dh_params(SSL_CTX *ctx, const char *path)
{
    if (!set(path)) return SSL_CTX_set_dh_auto(ctx, 1) == 1 ? 0 : -1;
    BIO *bio = BIO_new_file(path, "r");
    if (!bio) return -1;
    EVP_PKEY *params = PEM_read_bio_Parameters(bio, NULL);
    BIO_free(bio);
    if (!params) return -1;
    if (SSL_CTX_set0_tmp_dh_pkey(ctx, params) != 1) {
        EVP_PKEY_free(params);
        return -1;
    }
    return 0;
}

/* One context, for accepting (server) or connecting; NULL with *err. */
static SSL_CTX *ctx_build(const struct net_tls_config *conf, bool server, const char **err)
{
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (!ctx) {
        *err = "can't create a TLS context";
        return NULL;
    }
    long no_protos = protocol_options(conf->protocols);
    if (no_protos < 0) {
        *err = "invalid tls-protocols";
        goto fail;
    }
    SSL_CTX_set_options(ctx, (uint64_t)no_protos | SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_IGNORE_UNEXPECTED_EOF);
    if (conf->prefer_server_ciphers) SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_default_passwd_cb(ctx, pass_callback);
    if (set(conf->ciphers) && !SSL_CTX_set_cipher_list(ctx, conf->ciphers)) {
        *err = "invalid tls-ciphers";
        goto fail;
    }
    if (set(conf->ciphersuites) && !SSL_CTX_set_ciphersuites(ctx, conf->ciphersuites)) {
        *err = "invalid tls-ciphersuites";
        goto fail;
    }
    const char *cert = conf->cert_file, *key = conf->key_file, *pass = conf->key_file_pass;
    if (!server && set(conf->client_cert_file)) {
        cert = conf->client_cert_file;
        key = conf->client_key_file;
        pass = conf->client_key_file_pass;
    }
    if (set(cert) || server) {
        if (!set(cert) || !set(key)) {
            *err = "tls-cert-file and tls-key-file must be set";
            goto fail;
        }
        if (ctx_load_pair(ctx, cert, key, pass) < 0) {
            *err = "can't load the certificate or its key";
            goto fail;
        }
    }
    if ((set(conf->ca_cert_file) || set(conf->ca_cert_dir)) &&
        SSL_CTX_load_verify_locations(ctx, set(conf->ca_cert_file) ? conf->ca_cert_file : NULL,
                                      set(conf->ca_cert_dir) ? conf->ca_cert_dir : NULL) != 1) {
        *err = "can't load the CA certificates";
        goto fail;
    }
    if (server && ctx_load_dh_params(ctx, conf->dh_params_file) < 0) {
        *err = "can't load tls-dh-params-file";
        goto fail;
    }
    if (server) {
        int mode = conf->auth_clients == NET_TLS_AUTH_YES        ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
                   : conf->auth_clients == NET_TLS_AUTH_OPTIONAL ? SSL_VERIFY_PEER
                                                                 : SSL_VERIFY_NONE;
        SSL_CTX_set_verify(ctx, mode, NULL);
        if (conf->session_caching) {
            SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
            SSL_CTX_sess_set_cache_size(ctx, conf->session_cache_size);
            SSL_CTX_set_timeout(ctx, conf->session_cache_timeout);
            SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"runnel", 6);
        } else {
            SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
            SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
        }
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    }
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

int net_tls_configure(const struct net_tls_config *conf, const char **err)
{
    *err = NULL;
    if (conf->need_ca && !set(conf->ca_cert_file) && !set(conf->ca_cert_dir)) {
        *err = "Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, tls-replication or "
               "tls-auth-clients are enabled!";
        log_warning("%s", *err);
        return -1;
    }
    ERR_clear_error();
    SSL_CTX *s = ctx_build(conf, true, err);
    SSL_CTX *c = s ? ctx_build(conf, false, err) : NULL;
    if (!c) {
        log_ssl_errors(*err);
        if (s) SSL_CTX_free(s);
        return -1;
    }
    if (server_ctx) SSL_CTX_free(server_ctx); /* connections hold their own reference */
    if (client_ctx) SSL_CTX_free(client_ctx);
    server_ctx = s;
    client_ctx = c;
    handshake_timeout_ms = conf->handshake_timeout_ms;
    return 0;
}

bool net_tls_configured(void)
{
    return server_ctx != NULL;
}

void net_tls_cleanup(void)
{
    if (server_ctx) SSL_CTX_free(server_ctx);
    if (client_ctx) SSL_CTX_free(client_ctx);
    server_ctx = client_ctx = NULL;
    if (sink_method) BIO_meth_free(sink_method);
    sink_method = NULL;
}
