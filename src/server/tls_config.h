/* tls_config: hands the tls-* directives to net/tls.c, at start-up and
 * whenever CONFIG SET changes one of them (new connections then get the new
 * certificates; open ones keep theirs). */
#ifndef RUNNEL_SERVER_TLS_CONFIG_H
#define RUNNEL_SERVER_TLS_CONFIG_H

/* Configures TLS if anything uses it (tls-port, tls-replication,
 * tls-cluster) and registers the CONFIG SET hooks; -1 (logged) if the
 * configuration is refused. */
int tls_config_init(void);

#endif
