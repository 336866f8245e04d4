/* tls: the TLS connection type (OpenSSL) and the contexts it draws from —
 * one for connections the server accepts, one for those it opens
 * (replication, cluster links). Configuring builds both anew; connections
 * already open keep the context they started with, new ones get the new
 * certificates. */
#ifndef RUNNEL_NET_TLS_H
#define RUNNEL_NET_TLS_H

#include <stdbool.h>

struct event_loop;
struct net_conn;

enum net_tls_auth { NET_TLS_AUTH_NO, NET_TLS_AUTH_YES, NET_TLS_AUTH_OPTIONAL };

/* Empty strings (or NULL) mean "not set". */
struct net_tls_config {
    const char *cert_file, *key_file, *key_file_pass;
    const char *client_cert_file, *client_key_file, *client_key_file_pass; /* default: cert_file, key_file */
    const char *ca_cert_file, *ca_cert_dir;
    const char *dh_params_file; /* DH parameters (PEM) for DHE ciphers; OpenSSL's built-in ones when unset */
    const char *protocols;    /* "TLSv1.2 TLSv1.3" (the default when empty) */
    const char *ciphers;      /* TLSv1.2 and below, OpenSSL's cipher-list syntax */
    const char *ciphersuites; /* TLSv1.3 */
    int auth_clients;         /* enum net_tls_auth */
    bool prefer_server_ciphers;
    bool session_caching;
    long session_cache_size;
    long session_cache_timeout; /* seconds */
    bool need_ca;               /* peers are verified (replication, cluster or client auth): a CA is required */
    long long handshake_timeout_ms; /* an accepted connection's handshake must end within it */
};

/* Builds new contexts from conf; on success they replace the old ones. -1
 * with *err (static text; the details are logged) when a file can't be read
 * or a value is refused, leaving the old contexts in place. */
int net_tls_configure(const struct net_tls_config *conf, const char **err);
/* Whether a configuration succeeded (TLS connections can be made). */
bool net_tls_configured(void);
/* Frees the contexts (at exit). */
void net_tls_cleanup(void);

/* A TLS connection over fd (an accepted socket), or over a socket
 * net_conn_connect will open when fd is -1. */
struct net_conn *net_tls_conn_create(struct event_loop *loop, int fd);
/* Before net_conn_accept: the handshake asks no client certificate,
 * whatever tls-auth-clients says (the HTTP endpoint: browsers have none;
 * its users log in with a password). Nothing for a plain connection. */
void net_tls_conn_skip_client_cert(struct net_conn *c);
/* Whether every byte written has reached the socket (a TLS connection
 * may hold ciphertext the socket did not take yet; it sends it when the
 * socket is writable): to close only after an answer is all out. True for
 * a plain connection, and for a broken one. */
bool net_tls_conn_flushed(struct net_conn *c);
/* Runs the read handler of TLS connections holding decrypted bytes. */
void net_tls_process_pending(void);

#endif
