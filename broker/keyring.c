#include "keyring.h"
#include "queuectl/clock.h"
#include "queuectl/log.h"

#include <string.h>
#include <sys/stat.h>

struct _qc_keyring_t {
    char *dir;
    zhashx_t *keys; /* Z85 public key -> (void *)1 */
    struct timespec mtime;
    int loaded;
    int64_t checked_mono_ms;
};

qc_keyring_t *qc_keyring_new(const char *dir)
{
    qc_keyring_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->dir = strdup(dir);
    self->keys = zhashx_new();
    if (!self->dir || !self->keys) {
        qc_keyring_destroy(&self);
        return NULL;
    }
    return self;
}

void qc_keyring_destroy(qc_keyring_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    qc_keyring_t *self = *self_p;
    zhashx_destroy(&self->keys);
    free(self->dir);
    free(self);
    *self_p = NULL;
}

/* Reads every certificate file in the directory (czmq parses them). */
static void s_reload(qc_keyring_t *self)
{
    zhashx_purge(self->keys);
    zdir_t *dir = zdir_new(self->dir, NULL);
    if (!dir)
        return;
    zlist_t *files = zdir_list(dir);
    for (zfile_t *file = zlist_first(files); file; file = zlist_next(files)) {
        zcert_t *cert = zcert_load(zfile_filename(file, NULL));
        if (cert) {
            zhashx_insert(self->keys, zcert_public_txt(cert), (void *)1);
            zcert_destroy(&cert);
        }
    }
    zlist_destroy(&files);
    zdir_destroy(&dir);
}

int qc_keyring_has(qc_keyring_t *self, const char *key)
{
    int64_t now = qc_clock_mono_ms();
    if (!self->loaded || now - self->checked_mono_ms >= QC_KEYRING_RECHECK_MS) {
        self->checked_mono_ms = now;
        struct stat st;
        struct timespec mtime = {0, 0};
        if (stat(self->dir, &st) == 0)
            mtime = st.st_mtim;
        if (!self->loaded || mtime.tv_sec != self->mtime.tv_sec ||
            mtime.tv_nsec != self->mtime.tv_nsec) {
            s_reload(self);
            self->mtime = mtime;
            self->loaded = 1;
        }
    }
    return key && zhashx_lookup(self->keys, key) != NULL;
}

size_t qc_keyring_size(qc_keyring_t *self)
{
    return zhashx_size(self->keys);
}

/* Answers one ZAP request (RFC 27): 200 with the key as user id if the key
 * is in the keyring of the request's domain, 400 otherwise. */
static void s_zap_answer(zsock_t *handler, qc_keyring_t *workers, qc_keyring_t *clients)
{
    zmsg_t *request = zmsg_recv(handler);
    if (!request)
        return;
    char *version = zmsg_popstr(request);
    char *sequence = zmsg_popstr(request);
    char *domain = zmsg_popstr(request);
    char *address = zmsg_popstr(request);
    char *identity = zmsg_popstr(request);
    char *mechanism = zmsg_popstr(request);
    zframe_t *credentials = zmsg_pop(request);
    char key[41] = "";
    if (credentials && zframe_size(credentials) == 32)
        zmq_z85_encode(key, zframe_data(credentials), 32);
    qc_keyring_t *ring = NULL;
    if (domain && strcmp(domain, QC_ZAP_DOMAIN_WORKERS) == 0)
        ring = workers;
    else if (domain && strcmp(domain, QC_ZAP_DOMAIN_CLIENTS) == 0)
        ring = clients;
    int ok = version && strcmp(version, "1.0") == 0 && mechanism &&
             strcmp(mechanism, "CURVE") == 0 && ring && key[0] && qc_keyring_has(ring, key);
    if (!ok)
        qc_warn("refused a connection from %s: key %s is not authorized for %s",
                address ? address : "?", key[0] ? key : "(none)", domain ? domain : "?");
    zmsg_t *reply = zmsg_new();
    zmsg_addstr(reply, "1.0");
    zmsg_addstr(reply, sequence ? sequence : "");
    zmsg_addstr(reply, ok ? "200" : "400");
    zmsg_addstr(reply, ok ? "OK" : "key not authorized for this role");
    zmsg_addstr(reply, ok ? key : "");
    zmsg_addmem(reply, NULL, 0); /* no metadata */
    zmsg_send(&reply, handler);
    zframe_destroy(&credentials);
    zstr_free(&version);
    zstr_free(&sequence);
    zstr_free(&domain);
    zstr_free(&address);
    zstr_free(&identity);
    zstr_free(&mechanism);
    zmsg_destroy(&request);
}

void qc_keyring_zap_actor(zsock_t *pipe, void *args)
{
    const char *authorized = args;
    char path[4200];
    snprintf(path, sizeof path, "%s/workers", authorized);
    qc_keyring_t *workers = qc_keyring_new(path);
    snprintf(path, sizeof path, "%s/clients", authorized);
    qc_keyring_t *clients = qc_keyring_new(path);
    zsock_t *handler = zsock_new_rep("inproc://zeromq.zap.01");
    zsock_signal(pipe, handler && workers && clients ? 0 : 1);
    zpoller_t *poller = handler ? zpoller_new(pipe, handler, NULL) : NULL;
    while (poller) {
        zsock_t *which = zpoller_wait(poller, -1);
        if (which == handler) {
            s_zap_answer(handler, workers, clients);
            continue;
        }
        /* The pipe: $TERM (or anything else, or an interrupt) ends the actor. */
        if (which == pipe) {
            char *command = zstr_recv(pipe);
            int term = !command || strcmp(command, "$TERM") == 0;
            zstr_free(&command);
            if (term)
                break;
        } else {
            break;
        }
    }
    zpoller_destroy(&poller);
    zsock_destroy(&handler);
    qc_keyring_destroy(&workers);
    qc_keyring_destroy(&clients);
}

int qc_keyring_allowed(qc_keyring_t *keys, zmsg_t *msg, const char *role)
{
    if (!keys)
        return 1;
    zframe_t *last = zmsg_last(msg);
    const char *key = last ? zframe_meta(last, "User-Id") : NULL;
    if (key && qc_keyring_has(keys, key))
        return 1;
    const char *address = last ? zframe_meta(last, "Peer-Address") : NULL;
    qc_warn("refused a message from %s: key %s is not authorized as a %s",
            address ? address : "an unknown address", key ? key : "(none)", role);
    return 0;
}
