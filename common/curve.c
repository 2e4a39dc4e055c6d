#include "queuectl/curve.h"
#include "queuectl/paths.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int qc_endpoint_is_network(const char *endpoint)
{
    return strncmp(endpoint, "ipc://", 6) != 0 && strncmp(endpoint, "inproc://", 9) != 0;
}

int qc_endpoint_connect(zsock_t *sock, const char *endpoints)
{
    if (strchr(endpoints, ',')) {
        zsock_set_immediate(sock, 1);
        zsock_set_heartbeat_ivl(sock, 1000);
        zsock_set_heartbeat_timeout(sock, 3000);
    }
    char one[1024];
    for (const char *p = endpoints; *p;) {
        size_t n = strcspn(p, ",");
        if (n == 0 || n >= sizeof one)
            return -1;
        memcpy(one, p, n);
        one[n] = '\0';
        if (zsock_connect(sock, "%s", one) != 0)
            return -1;
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

static int s_ensure_dir(const char *path, char *err, size_t errlen)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int qc_curve_keygen(const char *dir, const char *name, const char *role, char *err, size_t errlen)
{
    if (s_ensure_dir(dir, err, errlen) != 0)
        return -1;
    char path[4096], secret[4200];
    snprintf(path, sizeof path, "%s/%s.cert", dir, name);
    snprintf(secret, sizeof secret, "%s_secret", path);
    if (access(path, F_OK) == 0 || access(secret, F_OK) == 0) {
        snprintf(err, errlen, "%s already exists: not overwriting a key", path);
        return -1;
    }
    zcert_t *cert = zcert_new();
    if (!cert) {
        snprintf(err, errlen, "cannot create a keypair (libzmq built without CURVE?)");
        return -1;
    }
    zcert_set_meta(cert, "name", "%s", name);
    zcert_set_meta(cert, "role", "%s", role);
    /* The secret file must never be readable by others. */
    mode_t old = umask(077);
    int rc = zcert_save(cert, path);
    umask(old);
    if (rc == 0)
        chmod(path, 0644);
    zcert_destroy(&cert);
    if (rc != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

zcert_t *qc_curve_broker_cert(char *err, size_t errlen)
{
    char dir[4096], path[4200];
    if (qc_home_path(dir, sizeof dir, "keys") != 0 || s_ensure_dir(dir, err, errlen) != 0) {
        if (!err[0])
            snprintf(err, errlen, "QUEUECTL_HOME is unusable");
        return NULL;
    }
    snprintf(path, sizeof path, "%s/broker.cert_secret", dir);
    if (access(path, F_OK) != 0 && qc_curve_keygen(dir, "broker", "broker", err, errlen) != 0)
        return NULL;
    zcert_t *cert = zcert_load(path);
    if (!cert)
        snprintf(err, errlen, "cannot load the broker's key %s", path);
    return cert;
}

/* A Z85 public key (40 characters) or the path of a cert file holding one. */
static int s_server_public(const char *given, char *out, size_t len, char *err, size_t errlen)
{
    if (strlen(given) == 40 && access(given, F_OK) != 0) {
        snprintf(out, len, "%s", given);
        return 0;
    }
    zcert_t *cert = zcert_load(given);
    if (!cert) {
        snprintf(err, errlen,
                 "cannot read the broker's public key from %s (copy the broker's "
                 "keys/broker.cert there, or pass --server-key)",
                 given);
        return -1;
    }
    snprintf(out, len, "%s", zcert_public_txt(cert));
    zcert_destroy(&cert);
    return 0;
}

int qc_curve_client_apply(zsock_t *sock, const char *endpoint, const char *key_path,
                          const char *server_key, const char *default_name, int insecure, char *err,
                          size_t errlen)
{
    if (!qc_endpoint_is_network(endpoint) || insecure)
        return 0;
    char default_key[4200], default_server[4200];
    const char *env_key = getenv("QUEUECTL_CURVE_KEY");
    const char *env_server = getenv("QUEUECTL_SERVER_KEY");
    if (!key_path && env_key && *env_key)
        key_path = env_key;
    if (!key_path) {
        char dir[4096];
        if (qc_home_path(dir, sizeof dir, "keys") != 0)
            return -1;
        snprintf(default_key, sizeof default_key, "%s/%s.cert_secret", dir, default_name);
        key_path = default_key;
    }
    if (!server_key && env_server && *env_server)
        server_key = env_server;
    if (!server_key) {
        if (qc_home_path(default_server, sizeof default_server, "keys/broker.cert") != 0)
            return -1;
        server_key = default_server;
    }
    zcert_t *own = zcert_load(key_path);
    if (!own) {
        snprintf(err, errlen,
                 "%s needs a CURVE key and %s is missing: create one with 'queuectl keygen "
                 "%s --role %s', add its .cert to the broker's authorized/%ss/, or pass "
                 "--curve-key",
                 endpoint, key_path, default_name, default_name, default_name);
        return -1;
    }
    char server_public[64];
    if (s_server_public(server_key, server_public, sizeof server_public, err, errlen) != 0) {
        zcert_destroy(&own);
        return -1;
    }
    zcert_apply(own, sock);
    zsock_set_curve_serverkey(sock, server_public);
    zcert_destroy(&own);
    return 0;
}
