/* One long-lived REQ client per thread: kept in thread-specific data whose
 * destructor closes the socket when the thread (an HTTP connection's, in
 * libmicrohttpd's thread-per-connection mode) ends. */
#include "upstream.h"
#include "queuectl/log.h"

#include <pthread.h>
#include <stdlib.h>

struct _qc_upstream_t {
    qc_upstream_config_t config;
    pthread_key_t key; /* this thread's qc_client_t */
};

static void s_client_free(void *client)
{
    qc_client_t *doomed = client;
    qc_client_destroy(&doomed);
}

qc_upstream_t *qc_upstream_new(const qc_upstream_config_t *config)
{
    qc_upstream_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->config = *config;
    if (pthread_key_create(&self->key, s_client_free) != 0) {
        free(self);
        return NULL;
    }
    return self;
}

void qc_upstream_destroy(qc_upstream_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    qc_upstream_t *self = *self_p;
    s_client_free(pthread_getspecific(self->key));
    pthread_setspecific(self->key, NULL);
    pthread_key_delete(self->key);
    free(self);
    *self_p = NULL;
}

qc_client_t *qc_upstream_client_new(qc_upstream_t *self)
{
    qc_client_t *client = qc_client_new(self->config.endpoint, self->config.timeout_ms);
    char err[512];
    if (client && qc_client_set_security(client, self->config.curve_key, self->config.server_key,
                                         self->config.insecure, err, sizeof err) != 0) {
        qc_warn("dashboard: %s", err);
        qc_client_destroy(&client);
    }
    return client;
}

cJSON *qc_upstream_call(qc_upstream_t *self, const cJSON *request, int *no_answer)
{
    *no_answer = 1;
    qc_client_t *client = pthread_getspecific(self->key);
    if (!client) {
        client = qc_upstream_client_new(self);
        if (!client || pthread_setspecific(self->key, client) != 0) {
            qc_client_destroy(&client);
            return NULL;
        }
    }
    cJSON *reply = NULL;
    int rc = qc_client_call(client, request, &reply);
    *no_answer = rc == -1;
    return reply;
}

const qc_upstream_config_t *qc_upstream_config(qc_upstream_t *self)
{
    return &self->config;
}
