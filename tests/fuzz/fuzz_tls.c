/* libFuzzer target for the server side of a TLS connection (src/net/tls.c),
 * accepted exactly as the server accepts one (net_conn_create,
 * net_conn_accept) over one end of a socket pair and driven by the same
 * event loop. The input's first byte picks the mode:
 *
 * - even: the rest is what a client sends, handshake included (garbage,
 *   truncated or altered ClientHellos). The connection must end — its
 *   handshake fails or, once open, its reads reach the end — within a
 *   bounded number of turns, and be freed exactly once.
 * - odd: a real client (OpenSSL, TLSv1.3 or TLSv1.2) completes a handshake,
 *   then sends the second half of the input in pieces whose sizes the
 *   payload picks, while the server reads with sizes the first half picks
 *   (often smaller than a record, so OpenSSL holds decrypted bytes that
 *   only net_conn_process_pending hands over) and echoes everything back
 *   through its write queue. The server must receive exactly the payload,
 *   in order, and the client must get exactly it back.
 *
 * The server's key and certificate are made at start-up with OpenSSL's
 * API; the sanitizers catch the rest. */
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/conn.h"
#include "net/event_loop.h"
#include "net/tls.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_INPUT (64 * 1024)

static struct event_loop *loop;
static int done;

static void write_key_and_cert(const char *key_path, const char *cert_path)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"fuzz", -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509_sign(x, key, EVP_sha256());
    FILE *f = fopen(key_path, "w");
    PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    f = fopen(cert_path, "w");
    PEM_write_X509(f, x);
    fclose(f);
    X509_free(x);
    EVP_PKEY_free(key);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    char dir[] = "/tmp/runnel-fuzz-tls-XXXXXX";
    if (!mkdtemp(dir)) abort();
    char key[64], cert[64];
    snprintf(key, sizeof(key), "%s/key.pem", dir);
    snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
    write_key_and_cert(key, cert);
    struct net_tls_config conf = {
        .cert_file = cert,
        .key_file = key,
        .auth_clients = NET_TLS_AUTH_OPTIONAL,
        .session_caching = true,
        .session_cache_size = 100,
        .session_cache_timeout = 60,
    };
    const char *err;
    /* a CA so that client certificates are checked too: our own certificate */
    conf.ca_cert_file = cert;
    if (net_tls_configure(&conf, &err) != 0) {
        fprintf(stderr, "fuzz_tls: %s\n", err);
        abort();
    }
    unlink(key);
    unlink(cert);
    rmdir(dir);
    loop = event_loop_create(1024);
    return 0;
}

/* ---- mode 0: the input is what a client sends, handshake included ---- */

static void raw_on_read(struct net_conn *conn)
{
    char buf[4096];
    for (;;) {
        ssize_t n = net_conn_read(conn, buf, sizeof(buf));
        if (n > 0) {
            if (net_conn_write(conn, buf, (size_t)n) < 0) break;
            continue;
        }
        if (n < 0 && errno == EAGAIN) return;
        break;
    }
    done = 1;
    net_conn_close(conn);
}

static void raw_on_open(struct net_conn *conn)
{
    if (conn->state != NET_CONN_OPEN) {
        done = 1;
        net_conn_close(conn);
        return;
    }
    net_conn_set_read_handler(conn, raw_on_read);
}

static void drain(int fd)
{
    char sink[65536];
    while (read(fd, sink, sizeof(sink)) > 0) {
    }
}

static void run_raw(const uint8_t *data, size_t size)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) abort();
    int sndbuf = 4 * FUZZ_MAX_INPUT;
    setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
    size_t off = 0;
    while (off < size) {
        ssize_t n = write(sv[1], data + off, size - off);
        if (n <= 0) break;
        off += (size_t)n;
    }
    shutdown(sv[1], SHUT_WR);
    done = 0;
    struct net_conn *conn = net_conn_create(loop, sv[0], true);
    net_conn_accept(conn, raw_on_open);
    /* everything the client will ever send is already there: the
     * connection must finish within a few turns */
    for (int turn = 0; !done; turn++) {
        if (turn == 1000) abort();
        net_conn_process_pending();
        event_loop_poll_events(loop);
        drain(sv[1]); /* so that the server's writes never wait */
    }
    close(sv[1]);
}

/* ---- mode 1: a real client; the input shapes its writes and the server's reads ---- */

static SSL_CTX *client_ctx;
static const uint8_t *shape;    /* read sizes, drawn from the input */
static size_t shape_len, shape_pos;
static uint8_t *received;        /* what the server read, in order */
static size_t received_len;
static struct net_conn *session;

static size_t next_read_size(void)
{
    size_t v = shape_len ? shape[shape_pos++ % shape_len] : 255;
    return v == 0 ? 1 : (v << 4) + v; /* 1..4335: often smaller than a record */
}

static size_t echoed; /* of received[], what the server wrote back */

/* Writes back what it read and has not echoed yet; waits for the write
 * handler while the connection is full. */
static void session_echo(struct net_conn *conn)
{
    while (echoed < received_len) {
        ssize_t w = net_conn_write(conn, received + echoed, received_len - echoed);
        if (w < 0 && errno == EAGAIN) break;
        if (w <= 0) abort(); /* the peer is a good one */
        echoed += (size_t)w;
    }
    net_conn_set_write_handler(conn, echoed < received_len ? session_echo : NULL);
}

/* Reads once with a size the input picks; what is left decrypted must come
 * back through net_conn_process_pending. */
static void session_on_read(struct net_conn *conn)
{
    uint8_t buf[4400];
    ssize_t n = net_conn_read(conn, buf, next_read_size());
    if (n > 0) {
        memcpy(received + received_len, buf, (size_t)n);
        received_len += (size_t)n;
        session_echo(conn);
        return;
    }
    if (n < 0 && errno == EAGAIN) return;
    done = 1;
    net_conn_close(conn);
    session = NULL;
}

static void session_on_open(struct net_conn *conn)
{
    if (conn->state != NET_CONN_OPEN) abort(); /* a good client's handshake must succeed */
    net_conn_set_read_handler(conn, session_on_read);
}

static void turn(void)
{
    net_conn_process_pending();
    event_loop_poll_events(loop);
}

static void run_session(const uint8_t *data, size_t size)
{
    if (!client_ctx) {
        client_ctx = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_verify(client_ctx, SSL_VERIFY_NONE, NULL);
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) abort();
    SSL *ssl = SSL_new(client_ctx);
    SSL_set_fd(ssl, sv[1]);
    SSL_set_connect_state(ssl);
    if (size > 0 && (data[0] & 2)) SSL_set_max_proto_version(ssl, TLS1_2_VERSION);
    /* the first half shapes the server's reads, the rest is the payload,
     * written in pieces whose sizes the payload's bytes pick */
    size_t half = size / 2;
    shape = data;
    shape_len = half;
    shape_pos = 0;
    const uint8_t *payload = data + half;
    size_t payload_len = size - half;
    received = malloc(payload_len + 1);
    received_len = echoed = 0;
    done = 0;
    session = net_conn_create(loop, sv[0], true);
    net_conn_accept(session, session_on_open);
    int hs = 0;
    for (int i = 0; i < 200 && hs != 1; i++) {
        hs = SSL_do_handshake(ssl);
        turn();
    }
    if (hs != 1) abort();
    uint8_t *echo = malloc(payload_len + 1);
    size_t echo_len = 0, sent = 0;
    for (int i = 0; (sent < payload_len || received_len < payload_len || echo_len < payload_len); i++) {
        if (i == 100000) abort(); /* stuck: bytes the server holds and never hands over */
        if (sent < payload_len) {
            size_t piece = 1 + (size_t)payload[sent] * 64;
            if (piece > payload_len - sent) piece = payload_len - sent;
            int w = SSL_write(ssl, payload + sent, (int)piece);
            if (w > 0) sent += (size_t)w;
        }
        turn();
        int r;
        while ((r = SSL_read(ssl, echo + echo_len, (int)(payload_len - echo_len + 1))) > 0) echo_len += (size_t)r;
    }
    if (received_len != payload_len || memcmp(received, payload, payload_len) != 0) abort();
    if (echo_len != payload_len || memcmp(echo, payload, payload_len) != 0) abort();
    SSL_free(ssl);
    close(sv[1]);
    /* the server sees the end and closes */
    for (int i = 0; i < 1000 && !done; i++) turn();
    if (!done) abort();
    free(echo);
    free(received);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT) size = FUZZ_MAX_INPUT;
    if (size > 0 && (data[0] & 1)) run_session(data + 1, size - 1);
    else run_raw(size ? data + 1 : data, size ? size - 1 : 0);
    return 0;
}
