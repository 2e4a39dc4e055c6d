/* Remote access (enroll.h): invites, enrollment and the enrolled keys. */
#include "enroll.h"
#include "invites.h"
#include "keyring.h"
#include "wrkcmd.h"
#include "queuectl/clock.h"
#include "queuectl/job.h"
#include "queuectl/join.h"
#include "queuectl/log.h"
#include "queuectl/proto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_MAX_NAME 64

static cJSON *s_ok(void)
{
    cJSON *reply = cJSON_CreateObject();
    cJSON_AddBoolToObject(reply, "ok", 1);
    return reply;
}

static int s_role_valid(const char *role)
{
    return role && (strcmp(role, "worker") == 0 || strcmp(role, "client") == 0);
}

static void s_role_dir(qc_broker_t *broker, const char *role, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%ss", broker->authorized_dir, role);
}

static qc_keyring_t *s_keyring(qc_broker_t *broker, const char *role)
{
    return strcmp(role, "worker") == 0 ? broker->worker_keys : broker->client_keys;
}

/* The host part of a wildcard bind replaced by address, else by this
 * machine's first non-loopback IPv4 address, else its host name. */
static void s_public_endpoint(const char *bound, const char *address, char *out, size_t len)
{
    const char *port = strrchr(bound, ':');
    const char *host = bound + 6; /* after tcp:// */
    size_t host_len = port ? (size_t)(port - host) : 0;
    int wildcard = (host_len == 1 && host[0] == '*') ||
                   (host_len == 7 && strncmp(host, "0.0.0.0", 7) == 0) ||
                   (host_len == 4 && strncmp(host, "[::]", 4) == 0);
    if (!port || (!address && !wildcard)) {
        snprintf(out, len, "%s", bound);
        return;
    }
    char guess[256] = "";
    if (!address) {
        struct ifaddrs *list = NULL;
        if (getifaddrs(&list) == 0) {
            for (struct ifaddrs *a = list; a && !guess[0]; a = a->ifa_next) {
                if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET)
                    continue;
                const struct sockaddr_in *in = (const struct sockaddr_in *)a->ifa_addr;
                if ((ntohl(in->sin_addr.s_addr) >> 24) == 127)
                    continue;
                inet_ntop(AF_INET, &in->sin_addr, guess, sizeof guess);
            }
            freeifaddrs(list);
        }
        if (!guess[0] && gethostname(guess, sizeof guess - 1) != 0)
            snprintf(guess, sizeof guess, "localhost");
        address = guess;
    }
    snprintf(out, len, "tcp://%s%s", address, port);
}

static int s_address_valid(const char *address)
{
    size_t n = strlen(address);
    if (n < 1 || n > 253)
        return 0;
    for (const char *p = address; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr(".-:[]", *p)))
            return 0;
    return 1;
}

cJSON *qc_enroll_op_invite(qc_broker_t *broker, const cJSON *request)
{
    const char *role = qc_json_string(request, "role");
    if (!s_role_valid(role))
        return qc_broker_error(QC_E_BAD_REQUEST, "invite needs \"role\": \"worker\" or \"client\"");
    int64_t ttl_s = 3600, uses = 1;
    if (cJSON_GetObjectItemCaseSensitive(request, "ttl_s") &&
        (qc_json_int(request, "ttl_s", &ttl_s) != 0 || ttl_s < 1 || ttl_s > QC_INVITE_MAX_TTL_S))
        return qc_broker_error(QC_E_BAD_REQUEST, "ttl_s must be a whole number of seconds, 1-%d",
                               QC_INVITE_MAX_TTL_S);
    if (cJSON_GetObjectItemCaseSensitive(request, "uses") &&
        (qc_json_int(request, "uses", &uses) != 0 || uses < 1 || uses > QC_INVITE_MAX_USES))
        return qc_broker_error(QC_E_BAD_REQUEST, "uses must be a whole number, 1-%d",
                               QC_INVITE_MAX_USES);
    const char *address = qc_json_string(request, "address");
    if (cJSON_GetObjectItemCaseSensitive(request, "address") &&
        (!address || !s_address_valid(address)))
        return qc_broker_error(QC_E_BAD_REQUEST, "address must be a host name or IP address");
    const char *bound =
        strcmp(role, "worker") == 0 ? broker->worker_endpoint : broker->client_endpoint;
    if (!broker->public_key[0] || !s_keyring(broker, role) || !bound ||
        strncmp(bound, "tcp://", 6) != 0)
        return qc_broker_error(
            QC_E_CONFLICT,
            "the broker has no tcp endpoint for %ss (%s %s): an invite is for another machine; "
            "start the broker with --%s-endpoint tcp://0.0.0.0:%s%s",
            role, strcmp(role, "worker") == 0 ? "workers on" : "clients on", bound ? bound : "?",
            role, strcmp(role, "worker") == 0 ? "5556" : "5555",
            broker->public_key[0] ? "" : " and without --insecure (invites need CURVE)");
    if (!broker->invites)
        return qc_broker_error(QC_E_STORAGE, "the invite book is not open");
    qc_token_t token;
    memset(&token, 0, sizeof token);
    snprintf(token.role, sizeof token.role, "%s", role);
    s_public_endpoint(bound, address, token.endpoint, sizeof token.endpoint);
    snprintf(token.key, sizeof token.key, "%s", broker->public_key);
    char err[256];
    int64_t now_ms = qc_broker_wall_ms(broker);
    if (qc_invites_create(broker->invites, role, ttl_s * 1000, (int)uses, now_ms, token.invite,
                          token.secret, err, sizeof err) != 0)
        return qc_broker_error(QC_E_STORAGE, "%s", err);
    char *text = qc_token_encode(&token);
    memset(token.secret, 0, sizeof token.secret);
    if (!text)
        return qc_broker_error(QC_E_STORAGE, "out of memory");
    char expires[40];
    qc_clock_format_iso(now_ms + ttl_s * 1000, expires, sizeof expires);
    qc_info("invite %s for %s%s created: %lld use%s, expires %s, endpoint %s", token.invite, role,
            "s", (long long)uses, uses == 1 ? "" : "s", expires, token.endpoint);
    cJSON *reply = s_ok();
    cJSON_AddStringToObject(reply, "token", text);
    cJSON_AddStringToObject(reply, "invite", token.invite);
    cJSON_AddStringToObject(reply, "role", role);
    cJSON_AddStringToObject(reply, "endpoint", token.endpoint);
    cJSON_AddStringToObject(reply, "expires_at", expires);
    cJSON_AddNumberToObject(reply, "uses", (double)uses);
    free(text);
    return reply;
}

/* Calls fn for every certificate in dir; stops when fn returns non-zero. */
static int s_each_cert(const char *dir,
                       int (*fn)(void *arg, const char *path, const char *name, zcert_t *cert),
                       void *arg)
{
    zdir_t *zdir = zdir_new(dir, NULL);
    if (!zdir)
        return 0;
    zlist_t *files = zdir_list(zdir);
    int stop = 0;
    for (zfile_t *file = zlist_first(files); file && !stop; file = zlist_next(files)) {
        const char *path = zfile_filename(file, NULL);
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        size_t n = strlen(base);
        if (n <= 5 || strcmp(base + n - 5, ".cert") != 0)
            continue;
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(n - 5), base);
        zcert_t *cert = zcert_load(path);
        if (cert) {
            stop = fn(arg, path, name, cert);
            zcert_destroy(&cert);
        }
    }
    zlist_destroy(&files);
    zdir_destroy(&zdir);
    return stop;
}

typedef struct {
    const char *key;
    char name[256];
} s_find_t;

static int s_find_key(void *arg, const char *path, const char *name, zcert_t *cert)
{
    (void)path;
    s_find_t *find = arg;
    if (strcmp(zcert_public_txt(cert), find->key) != 0)
        return 0;
    snprintf(find->name, sizeof find->name, "%s", name);
    return 1;
}

/* Writes dir/<name>.cert for key, choosing name, name-2, ... Returns 0. */
static int s_write_cert(const char *dir, const char *role, const char *key, const char *wanted,
                        const char *invite, const char *host, int64_t now_ms, char *name_out,
                        size_t len, char *err, size_t errlen)
{
    byte public_key[32], secret_key[32] = {0};
    if (!zmq_z85_decode(public_key, key)) {
        snprintf(err, errlen, "not a Z85 key");
        return -1;
    }
    zsys_dir_create("%s", dir);
    char path[4600];
    for (int i = 1; i <= 1000; i++) {
        if (i == 1)
            snprintf(name_out, len, "%s", wanted);
        else
            snprintf(name_out, len, "%s-%d", wanted, i);
        snprintf(path, sizeof path, "%s/%s.cert", dir, name_out);
        if (access(path, F_OK) != 0)
            break;
        path[0] = '\0';
    }
    if (!path[0]) {
        snprintf(err, errlen, "no free name for %s", wanted);
        return -1;
    }
    zcert_t *cert = zcert_new_from(public_key, secret_key);
    if (!cert) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char when[40];
    zcert_set_meta(cert, "name", "%s", name_out);
    zcert_set_meta(cert, "role", "%s", role);
    zcert_set_meta(cert, "enrolled-at", "%s", qc_clock_format_iso(now_ms, when, sizeof when));
    zcert_set_meta(cert, "invite", "%s", invite);
    if (host && *host)
        zcert_set_meta(cert, "host", "%s", host);
    /* Written under another name and renamed: the keyrings never read half a file. */
    char tmp[4700];
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name_out);
    int rc = zcert_save_public(cert, tmp);
    zcert_destroy(&cert);
    if (rc != 0 || rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* A name of the id character set, at most S_MAX_NAME bytes. */
static void s_clean_name(const char *given, const char *fallback, char *out, size_t len)
{
    size_t n = 0;
    for (const char *p = given ? given : ""; *p && n + 1 < len && n < S_MAX_NAME; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 strchr("._:@-", c);
        if (ok && !(n == 0 && c == '-'))
            out[n++] = c;
    }
    out[n] = '\0';
    if (!n)
        snprintf(out, len, "%s", fallback);
}

cJSON *qc_enroll_handle(qc_broker_t *broker, const char *role, const qc_peer_t *peer,
                        const cJSON *request)
{
    const char *address = peer->address ? peer->address : "?";
    if (!peer->key)
        return qc_broker_error(QC_E_BAD_REQUEST,
                               "enrollment happens on the broker's tcp endpoints (with CURVE); on "
                               "this machine's ipc sockets no key is needed");
    char dir[4200];
    s_role_dir(broker, role, dir, sizeof dir);
    if (peer->enrolled) {
        s_find_t find = {.key = peer->key};
        s_each_cert(dir, s_find_key, &find);
        cJSON *reply = s_ok();
        cJSON_AddStringToObject(reply, "name", find.name[0] ? find.name : "?");
        cJSON_AddStringToObject(reply, "role", role);
        cJSON_AddStringToObject(reply, "key", peer->key);
        cJSON_AddBoolToObject(reply, "already", 1);
        return reply;
    }
    const char *invite = qc_json_string(request, "invite");
    const char *secret = qc_json_string(request, "secret");
    if (!invite || !secret || !broker->invites)
        return qc_broker_error(QC_E_BAD_REQUEST, "enroll needs \"invite\" and \"secret\"");
    char name[S_MAX_NAME + 1];
    s_clean_name(qc_json_string(request, "name"), role, name, sizeof name);
    const char *host = qc_json_string(request, "host");
    char host_text[256] = "";
    if (host)
        s_clean_name(host, "", host_text, sizeof host_text);
    int64_t now_ms = qc_broker_wall_ms(broker);
    qc_invite_verdict_t verdict =
        qc_invites_redeem(broker->invites, role, invite, secret, now_ms, qc_broker_mono_ms(broker));
    const char *code = NULL;
    char message[300];
    switch (verdict) {
    case QC_INVITE_OK:
        break;
    case QC_INVITE_INVALID:
        code = QC_E_INVITE_INVALID;
        snprintf(message, sizeof message,
                 "the token's secret is wrong, or its invite is unknown here (for %ss): ask for "
                 "a new token ('queuectl invite --role %s' on the broker's machine)",
                 role, role);
        break;
    case QC_INVITE_EXPIRED:
        code = QC_E_INVITE_EXPIRED;
        snprintf(message, sizeof message,
                 "the token has expired: ask for a new one ('queuectl invite --role %s' on the "
                 "broker's machine)",
                 role);
        break;
    case QC_INVITE_USED:
        code = QC_E_INVITE_USED;
        snprintf(message, sizeof message,
                 "the token has been used up: ask for a new one ('queuectl invite --role %s "
                 "--uses N' on the broker's machine)",
                 role);
        break;
    case QC_INVITE_LIMITED:
        code = QC_E_RATE_LIMITED;
        snprintf(message, sizeof message,
                 "too many wrong secrets lately: the broker takes one more every %d s",
                 QC_INVITE_FAIL_REFILL_MS / 1000);
        break;
    case QC_INVITE_STORAGE:
        qc_error("enrollment of %s: %s", address, qc_invites_errmsg(broker->invites));
        return qc_broker_error(QC_E_STORAGE, "the broker could not write its invite book");
    }
    if (code) {
        int printable = strspn(invite, "0123456789abcdef") == strlen(invite) &&
                        strlen(invite) == QC_INVITE_ID_HEX;
        qc_warn("enrollment refused: key %s from %s as a %s (invite %s): %s", peer->key, address,
                role, printable ? invite : "malformed", code);
        return qc_broker_error(code, "%s", message);
    }
    char enrolled[S_MAX_NAME + 8], err[300];
    if (s_write_cert(dir, role, peer->key, name, invite, host_text, now_ms, enrolled,
                     sizeof enrolled, err, sizeof err) != 0) {
        qc_invites_refund(broker->invites, invite, now_ms);
        qc_error("enrollment of key %s from %s: %s", peer->key, address, err);
        return qc_broker_error(QC_E_STORAGE, "the broker could not store the key: %s", err);
    }
    qc_keyring_reload(s_keyring(broker, role));
    qc_info("enrolled key %s from %s as %s %s (invite %s)", peer->key, address, role, enrolled,
            invite);
    cJSON *reply = s_ok();
    cJSON_AddStringToObject(reply, "name", enrolled);
    cJSON_AddStringToObject(reply, "role", role);
    cJSON_AddStringToObject(reply, "key", peer->key);
    return reply;
}

typedef struct {
    cJSON *keys;
    const char *role;
} s_list_t;

static int s_list_one(void *arg, const char *path, const char *name, zcert_t *cert)
{
    s_list_t *list = arg;
    cJSON *entry = cJSON_CreateObject();
    cJSON_AddStringToObject(entry, "role", list->role);
    cJSON_AddStringToObject(entry, "name", name);
    cJSON_AddStringToObject(entry, "key", zcert_public_txt(cert));
    const char *when = zcert_meta(cert, "enrolled-at");
    char mtime[40];
    struct stat st;
    if (!when && stat(path, &st) == 0)
        when = qc_clock_format_iso((int64_t)st.st_mtime * 1000, mtime, sizeof mtime);
    cJSON_AddStringToObject(entry, "enrolled_at", when ? when : "");
    const char *invite = zcert_meta(cert, "invite");
    if (invite)
        cJSON_AddStringToObject(entry, "invite", invite);
    else
        cJSON_AddNullToObject(entry, "invite"); /* copied in by hand */
    const char *host = zcert_meta(cert, "host");
    if (host)
        cJSON_AddStringToObject(entry, "host", host);
    cJSON_AddItemToArray(list->keys, entry);
    return 0;
}

cJSON *qc_enroll_op_keys_list(qc_broker_t *broker, const cJSON *request)
{
    (void)request;
    cJSON *reply = s_ok();
    cJSON *keys = cJSON_AddArrayToObject(reply, "keys");
    const char *roles[] = {"worker", "client"};
    for (int i = 0; i < 2; i++) {
        char dir[4200];
        s_role_dir(broker, roles[i], dir, sizeof dir);
        s_list_t list = {keys, roles[i]};
        s_each_cert(dir, s_list_one, &list);
    }
    return reply;
}

typedef struct {
    const char *key;
    int removed;
} s_remove_t;

static int s_remove_key(void *arg, const char *path, const char *name, zcert_t *cert)
{
    (void)name;
    s_remove_t *remove = arg;
    if (strcmp(zcert_public_txt(cert), remove->key) == 0 && unlink(path) == 0)
        remove->removed++;
    return 0;
}

cJSON *qc_enroll_op_keys_revoke(qc_broker_t *broker, const cJSON *request)
{
    const char *name = qc_json_string(request, "name");
    const char *role = qc_json_string(request, "role");
    if (!name || !*name || strchr(name, '/') || strlen(name) > 200)
        return qc_broker_error(QC_E_BAD_REQUEST, "keys.revoke needs a \"name\" (see keys list)");
    if (role && !s_role_valid(role))
        return qc_broker_error(QC_E_BAD_REQUEST, "role must be \"worker\" or \"client\"");
    const char *roles[] = {"worker", "client"};
    const char *found_role = NULL;
    zcert_t *found = NULL;
    for (int i = 0; i < 2; i++) {
        if (role && strcmp(role, roles[i]) != 0)
            continue;
        char path[4600];
        snprintf(path, sizeof path, "%s/%ss/%s.cert", broker->authorized_dir, roles[i], name);
        zcert_t *cert = access(path, F_OK) == 0 ? zcert_load(path) : NULL;
        if (!cert)
            continue;
        if (found) {
            zcert_destroy(&cert);
            zcert_destroy(&found);
            return qc_broker_error(
                QC_E_CONFLICT, "%s names a worker key and a client key: say which (role)", name);
        }
        found = cert;
        found_role = roles[i];
    }
    if (!found)
        return qc_broker_error(QC_E_NOT_FOUND, "no enrolled key named \"%s\" (see keys list)",
                               name);
    char key[41];
    snprintf(key, sizeof key, "%s", zcert_public_txt(found));
    zcert_destroy(&found);
    /* Every file of that role holding the key goes: a copy under another
     * name would keep it alive. */
    char dir[4200];
    s_role_dir(broker, found_role, dir, sizeof dir);
    s_remove_t remove = {.key = key};
    s_each_cert(dir, s_remove_key, &remove);
    if (!remove.removed)
        return qc_broker_error(QC_E_STORAGE, "cannot remove %s/%s.cert: %s", dir, name,
                               strerror(errno));
    qc_keyring_reload(s_keyring(broker, found_role));
    int dropped = strcmp(found_role, "worker") == 0 ? qc_wrkcmd_drop_key(broker, key) : 0;
    qc_warn("key %s (%s %s) revoked: %d file%s removed, %d worker%s dropped", key, found_role, name,
            remove.removed, remove.removed == 1 ? "" : "s", dropped, dropped == 1 ? "" : "s");
    cJSON *reply = s_ok();
    cJSON_AddStringToObject(reply, "name", name);
    cJSON_AddStringToObject(reply, "role", found_role);
    cJSON_AddStringToObject(reply, "key", key);
    cJSON_AddNumberToObject(reply, "files_removed", remove.removed);
    cJSON_AddNumberToObject(reply, "workers_dropped", dropped);
    return reply;
}
