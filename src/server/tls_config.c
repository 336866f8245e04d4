#include "server/tls_config.h"

#include <stdbool.h>

#include "net/tls.h"
#include "server/config.h"
#include "server/connection.h"
#include "util/log.h"

static bool tls_in_use(void)
{
    return cfg.tls_port > 0 || cfg.tls_replication || cfg.tls_cluster;
}

/* Builds the contexts from cfg; -1 with Redis's reason. */
static int tls_config_apply(const char **err)
{
    if (!tls_in_use()) return 0;
    struct net_tls_config conf = {
        .cert_file = cfg.tls_cert_file,
        .key_file = cfg.tls_key_file,
        .key_file_pass = cfg.tls_key_file_pass,
        .client_cert_file = cfg.tls_client_cert_file,
        .client_key_file = cfg.tls_client_key_file,
        .client_key_file_pass = cfg.tls_client_key_file_pass,
        .ca_cert_file = cfg.tls_ca_cert_file,
        .ca_cert_dir = cfg.tls_ca_cert_dir,
        .dh_params_file = cfg.tls_dh_params_file,
        .protocols = cfg.tls_protocols,
        .ciphers = cfg.tls_ciphers,
        .ciphersuites = cfg.tls_ciphersuites,
        .auth_clients = cfg.tls_auth_clients,
        .prefer_server_ciphers = cfg.tls_prefer_server_ciphers,
        .session_caching = cfg.tls_session_caching,
        .session_cache_size = cfg.tls_session_cache_size,
        .session_cache_timeout = cfg.tls_session_cache_timeout,
        .need_ca = cfg.tls_replication || cfg.tls_cluster || cfg.tls_auth_clients != NET_TLS_AUTH_NO,
        .handshake_timeout_ms = cfg.tls_handshake_timeout,
    };
    const char *why;
    if (net_tls_configure(&conf, &why) == 0) return 0;
    *err = "Unable to update TLS configuration. Check server logs.";
    return -1;
}

/* tls-port binds its listeners once TLS is configured for it. */
static int tls_port_hook(const char **err)
{
    if (tls_config_apply(err) < 0) return -1;
    return listeners_port_hook(err);
}

int tls_config_init(void)
{
    static const char *const names[] = {
        "tls-cert-file", "tls-key-file", "tls-key-file-pass", "tls-client-cert-file", "tls-client-key-file",
        "tls-client-key-file-pass", "tls-ca-cert-file", "tls-ca-cert-dir", "tls-dh-params-file", "tls-protocols", "tls-ciphers",
        "tls-ciphersuites", "tls-auth-clients", "tls-prefer-server-ciphers", "tls-session-caching",
        "tls-session-cache-size", "tls-session-cache-timeout", "tls-replication", "tls-cluster",
        "tls-handshake-timeout"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) config_set_apply_hook(names[i], tls_config_apply);
    config_set_apply_hook("tls-port", tls_port_hook);
    const char *err;
    if (tls_config_apply(&err) == 0) return 0;
    log_warning("Failed to configure TLS. Check logs for more info.");
    return -1;
}
