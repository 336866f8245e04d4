/* libFuzzer target for the server side of a TLS connection (src/net/tls.c).
 *
 * Each input is what a client sends: it is written into one end of a socket
 * pair, whose other end becomes a TLS connection accepted exactly as the
 * server accepts one (net_conn_create, net_conn_accept), driven by the same
 * event loop until the handshake fails, or, once open, until its reads reach
 * the end or an error; what it reads is written back, so the write path
 * runs too. The connection must end (no turn of the loop may be left with a
 * connection that neither progresses nor closes) and be freed exactly once;
 * the sanitizers catch the rest. The server's key and certificate are made
 * at start-up with OpenSSL's API. Random bytes rarely make a valid
 * handshake, so this mostly covers the handshake's error paths, the
 * deadline-free state machine and closing from inside handlers. */
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
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

#define MAX_INPUT (64 * 1024)

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

static void on_read(struct net_conn *conn)
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

static void on_open(struct net_conn *conn)
{
    if (conn->state != NET_CONN_OPEN) {
        done = 1;
        net_conn_close(conn);
        return;
    }
    net_conn_set_read_handler(conn, on_read);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT) size = MAX_INPUT;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) abort();
    int sndbuf = 4 * MAX_INPUT;
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
    net_conn_accept(conn, on_open);
    /* everything the client will ever send is already there: the
     * connection must finish within a few turns */
    for (int turn = 0; !done; turn++) {
        if (turn == 1000) abort();
        net_conn_process_pending();
        event_loop_poll_events(loop);
        /* drain what the server wrote, so that its writes never block */
        char sink[65536];
        while (read(sv[1], sink, sizeof(sink)) > 0) {
        }
    }
    close(sv[1]);
    return 0;
}
