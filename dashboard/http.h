/* The dashboard's HTTP side (libmicrohttpd, one thread per connection):
 * the bearer token and its cookie, the Host check on loopback, CSRF checks
 * on state changes, the page's static files, Server-Sent Events streams
 * (drained from the hub), and hand-off of /api and /metrics to the API. */
#ifndef QC_HTTP_H
#define QC_HTTP_H

#include "api.h"
#include "hub.h"

#include <stddef.h>
#include <sys/socket.h>

#define QC_HTTP_TOKEN_MIN 16
#define QC_HTTP_TOKEN_MAX 1024

typedef struct {
    struct sockaddr_storage addr; /* where to listen */
    socklen_t addr_len;
    int loopback;                      /* addr is loopback: check Host */
    char listen_host[256];             /* the host as given, for the Host check */
    char token[QC_HTTP_TOKEN_MAX + 1]; /* "" for none */
    size_t token_len;
    char web_dir[4096]; /* the page's files */
} qc_http_config_t;

typedef struct _qc_http_t qc_http_t;

/* Reads the token in path into config (16-1024 of A-Z a-z 0-9 - . _ ~ + /
 * =, trailing white space ignored); warns on stderr when others may read
 * the file. 0, or -1 with the reason in err. */
int qc_http_read_token(const char *path, qc_http_config_t *config, char *err, size_t errlen);

/* Starts serving. config is copied; api and hub are not owned and must
 * outlive the server. NULL on failure (errno set when the system said why). */
qc_http_t *qc_http_new(const qc_http_config_t *config, qc_api_t *api, qc_hub_t *hub);

/* The port bound (useful with port 0). */
int qc_http_port(qc_http_t *self);

/* Stops the daemon: connections close and their threads end. Stop the hub
 * first so open event streams end. Accepts NULL; nulls *self_p. */
void qc_http_destroy(qc_http_t **self_p);

#endif
