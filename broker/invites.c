/* The invite book (invites.h). Secrets are hashed with libsodium's SHA-256:
 * libsodium is what libzmq's CURVE runs on, so it is already loaded. */
#include "invites.h"
#include "queuectl/proto.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    char id[QC_INVITE_ID_HEX + 1];
    char role[8];
    char sha256[2 * crypto_hash_sha256_BYTES + 1]; /* of the secret's hex text */
    int64_t created_at_ms;
    int64_t expires_at_ms;
    int64_t used_up_at_ms; /* 0 while uses are left */
    int uses;
    int used;
    int failures;
} s_invite_t;

struct _qc_invites_t {
    char *path;
    s_invite_t *list;
    int count;
    int cap;
    struct timespec mtime; /* of the file as last read or written */
    off_t size;
    int loaded;
    double fail_tokens; /* rate limit of wrong secrets */
    int64_t fail_refill_mono_ms;
    char errmsg[256];
};

qc_invites_t *qc_invites_new(const char *path)
{
    if (sodium_init() < 0)
        return NULL;
    qc_invites_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->path = strdup(path);
    self->fail_tokens = QC_INVITE_FAIL_BURST;
    self->fail_refill_mono_ms = -1;
    if (!self->path) {
        qc_invites_destroy(&self);
        return NULL;
    }
    return self;
}

void qc_invites_destroy(qc_invites_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    qc_invites_t *self = *self_p;
    free(self->list);
    free(self->path);
    free(self);
    *self_p = NULL;
}

const char *qc_invites_errmsg(qc_invites_t *self)
{
    return self->errmsg;
}

static void s_hash(const char *secret, char *out)
{
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, (const unsigned char *)secret, strlen(secret));
    sodium_bin2hex(out, 2 * crypto_hash_sha256_BYTES + 1, digest, sizeof digest);
}

static s_invite_t *s_add(qc_invites_t *self)
{
    if (self->count == self->cap) {
        int cap = self->cap ? self->cap * 2 : 16;
        s_invite_t *list = realloc(self->list, (size_t)cap * sizeof *list);
        if (!list)
            return NULL;
        self->list = list;
        self->cap = cap;
    }
    s_invite_t *invite = &self->list[self->count++];
    memset(invite, 0, sizeof *invite);
    return invite;
}

static int s_copy(const cJSON *obj, const char *key, char *out, size_t size)
{
    const char *value = qc_json_string(obj, key);
    if (!value || strlen(value) >= size)
        return -1;
    memcpy(out, value, strlen(value) + 1);
    return 0;
}

/* Reads the file if it changed since we last read or wrote it. */
static void s_refresh(qc_invites_t *self)
{
    struct stat st;
    if (stat(self->path, &st) != 0) {
        if (!self->loaded || self->size != -1)
            self->count = 0; /* no book: no invites */
        self->size = -1;
        self->loaded = 1;
        return;
    }
    if (self->loaded && st.st_size == self->size && st.st_mtim.tv_sec == self->mtime.tv_sec &&
        st.st_mtim.tv_nsec == self->mtime.tv_nsec)
        return;
    self->loaded = 1;
    self->mtime = st.st_mtim;
    self->size = st.st_size;
    self->count = 0;
    FILE *f = fopen(self->path, "r");
    if (!f)
        return;
    char *text = st.st_size > 0 && st.st_size < 4 * 1024 * 1024 ? malloc((size_t)st.st_size) : NULL;
    size_t got = text ? fread(text, 1, (size_t)st.st_size, f) : 0;
    fclose(f);
    char err[128];
    cJSON *book = text ? qc_json_parse_object(text, got, err, sizeof err) : NULL;
    free(text);
    const cJSON *invites = cJSON_GetObjectItemCaseSensitive(book, "invites");
    const cJSON *item;
    cJSON_ArrayForEach(item, invites)
    {
        s_invite_t *invite = s_add(self);
        int64_t n[6];
        if (!invite)
            break;
        if (s_copy(item, "id", invite->id, sizeof invite->id) != 0 ||
            s_copy(item, "role", invite->role, sizeof invite->role) != 0 ||
            s_copy(item, "sha256", invite->sha256, sizeof invite->sha256) != 0 ||
            qc_json_int(item, "created_at_ms", &n[0]) != 0 ||
            qc_json_int(item, "expires_at_ms", &n[1]) != 0 ||
            qc_json_int(item, "used_up_at_ms", &n[2]) != 0 ||
            qc_json_int(item, "uses", &n[3]) != 0 || qc_json_int(item, "used", &n[4]) != 0 ||
            qc_json_int(item, "failures", &n[5]) != 0) {
            self->count--; /* skip a damaged entry */
            continue;
        }
        invite->created_at_ms = n[0];
        invite->expires_at_ms = n[1];
        invite->used_up_at_ms = n[2];
        invite->uses = (int)n[3];
        invite->used = (int)n[4];
        invite->failures = (int)n[5];
    }
    cJSON_Delete(book);
}

/* When the invite stopped being usable, or 0 if it still is. */
static int64_t s_ended_at(const s_invite_t *invite, int64_t now_ms)
{
    if (invite->failures >= QC_INVITE_MAX_FAILURES || invite->used >= invite->uses)
        return invite->used_up_at_ms ? invite->used_up_at_ms : invite->created_at_ms;
    if (now_ms >= invite->expires_at_ms)
        return invite->expires_at_ms;
    return 0;
}

/* Writes the book (dropping invites that ended over QC_INVITE_KEEP_MS ago):
 * temporary file, fsync, rename. 0 or -1. */
static int s_write(qc_invites_t *self, int64_t now_ms)
{
    cJSON *book = cJSON_CreateObject();
    cJSON_AddNumberToObject(book, "version", 1);
    cJSON *invites = cJSON_AddArrayToObject(book, "invites");
    int kept = 0;
    for (int i = 0; i < self->count; i++) {
        const s_invite_t *invite = &self->list[i];
        int64_t ended = s_ended_at(invite, now_ms);
        if (ended && now_ms - ended > QC_INVITE_KEEP_MS)
            continue;
        self->list[kept++] = *invite;
        cJSON *obj = cJSON_CreateObject();
        cJSON_AddStringToObject(obj, "id", invite->id);
        cJSON_AddStringToObject(obj, "role", invite->role);
        cJSON_AddStringToObject(obj, "sha256", invite->sha256);
        cJSON_AddNumberToObject(obj, "created_at_ms", (double)invite->created_at_ms);
        cJSON_AddNumberToObject(obj, "expires_at_ms", (double)invite->expires_at_ms);
        cJSON_AddNumberToObject(obj, "used_up_at_ms", (double)invite->used_up_at_ms);
        cJSON_AddNumberToObject(obj, "uses", invite->uses);
        cJSON_AddNumberToObject(obj, "used", invite->used);
        cJSON_AddNumberToObject(obj, "failures", invite->failures);
        cJSON_AddItemToArray(invites, obj);
    }
    self->count = kept;
    char *text = cJSON_Print(book);
    cJSON_Delete(book);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", self->path);
    int fd = text ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
    size_t len = text ? strlen(text) : 0;
    int ok = fd >= 0 && write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
    int saved_errno = errno;
    if (fd >= 0 && close(fd) != 0)
        ok = 0;
    cJSON_free(text);
    if (ok && rename(tmp, self->path) != 0) {
        saved_errno = errno;
        ok = 0;
    }
    if (!ok) {
        snprintf(self->errmsg, sizeof self->errmsg, "cannot write %s: %s", self->path,
                 strerror(saved_errno));
        unlink(tmp);
        self->loaded = 0; /* read the file again: memory may be ahead of it */
        return -1;
    }
    struct stat st;
    if (stat(self->path, &st) == 0) {
        self->mtime = st.st_mtim;
        self->size = st.st_size;
    }
    return 0;
}

int qc_invites_create(qc_invites_t *self, const char *role, int64_t ttl_ms, int uses,
                      int64_t now_ms, char *id, char *secret, char *err, size_t errlen)
{
    s_refresh(self);
    int live = 0;
    for (int i = 0; i < self->count; i++)
        live += s_ended_at(&self->list[i], now_ms) == 0;
    if (live >= QC_INVITE_MAX_OPEN) {
        snprintf(err, errlen, "%d invites are open already: let some expire first",
                 QC_INVITE_MAX_OPEN);
        return -1;
    }
    unsigned char id_bytes[QC_INVITE_ID_HEX / 2], secret_bytes[QC_INVITE_SECRET_HEX / 2];
    randombytes_buf(id_bytes, sizeof id_bytes);
    randombytes_buf(secret_bytes, sizeof secret_bytes);
    sodium_bin2hex(id, QC_INVITE_ID_HEX + 1, id_bytes, sizeof id_bytes);
    sodium_bin2hex(secret, QC_INVITE_SECRET_HEX + 1, secret_bytes, sizeof secret_bytes);
    sodium_memzero(secret_bytes, sizeof secret_bytes);
    s_invite_t *invite = s_add(self);
    if (!invite) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(invite->id, sizeof invite->id, "%s", id);
    snprintf(invite->role, sizeof invite->role, "%s", role);
    s_hash(secret, invite->sha256);
    invite->created_at_ms = now_ms;
    invite->expires_at_ms = now_ms + ttl_ms;
    invite->uses = uses;
    if (s_write(self, now_ms) != 0) {
        snprintf(err, errlen, "%s", self->errmsg);
        return -1;
    }
    return 0;
}

static s_invite_t *s_find(qc_invites_t *self, const char *id)
{
    for (int i = 0; id && i < self->count; i++)
        if (strcmp(self->list[i].id, id) == 0)
            return &self->list[i];
    return NULL;
}

/* Takes one token of the wrong-secret budget; 0 if none is left. */
static int s_fail_budget(qc_invites_t *self, int64_t now_mono_ms, int take)
{
    if (self->fail_refill_mono_ms < 0)
        self->fail_refill_mono_ms = now_mono_ms;
    double refill = (double)(now_mono_ms - self->fail_refill_mono_ms) / QC_INVITE_FAIL_REFILL_MS;
    if (refill > 0) {
        self->fail_tokens += refill;
        if (self->fail_tokens > QC_INVITE_FAIL_BURST)
            self->fail_tokens = QC_INVITE_FAIL_BURST;
        self->fail_refill_mono_ms = now_mono_ms;
    }
    if (self->fail_tokens < 1)
        return 0;
    if (take)
        self->fail_tokens -= 1;
    return 1;
}

qc_invite_verdict_t qc_invites_redeem(qc_invites_t *self, const char *role, const char *id,
                                      const char *secret, int64_t now_ms, int64_t now_mono_ms)
{
    if (!s_fail_budget(self, now_mono_ms, 0))
        return QC_INVITE_LIMITED;
    s_refresh(self);
    s_invite_t *invite = s_find(self, id);
    char presented[sizeof invite->sha256];
    s_hash(secret ? secret : "", presented);
    /* Constant time over the hashes: nothing to learn from timing. */
    int right = invite && strcmp(invite->role, role) == 0 &&
                sodium_memcmp(presented, invite->sha256, sizeof presented - 1) == 0 &&
                invite->failures < QC_INVITE_MAX_FAILURES;
    if (!right) {
        s_fail_budget(self, now_mono_ms, 1);
        if (invite && invite->failures < QC_INVITE_MAX_FAILURES) {
            invite->failures++;
            if (invite->failures >= QC_INVITE_MAX_FAILURES)
                invite->used_up_at_ms = now_ms;
            s_write(self, now_ms); /* best effort: the refusal stands either way */
        }
        return QC_INVITE_INVALID;
    }
    if (now_ms >= invite->expires_at_ms)
        return QC_INVITE_EXPIRED;
    if (invite->used >= invite->uses)
        return QC_INVITE_USED;
    invite->used++;
    if (invite->used >= invite->uses)
        invite->used_up_at_ms = now_ms;
    if (s_write(self, now_ms) != 0)
        return QC_INVITE_STORAGE;
    return QC_INVITE_OK;
}

void qc_invites_refund(qc_invites_t *self, const char *id, int64_t now_ms)
{
    s_refresh(self);
    s_invite_t *invite = s_find(self, id);
    if (!invite || invite->used <= 0)
        return;
    invite->used--;
    invite->used_up_at_ms = 0;
    s_write(self, now_ms);
}

int qc_invites_open_for(qc_invites_t *self, const char *role, int64_t now_ms)
{
    s_refresh(self);
    for (int i = 0; i < self->count; i++) {
        const s_invite_t *invite = &self->list[i];
        if (strcmp(invite->role, role) != 0)
            continue;
        int64_t ended = s_ended_at(invite, now_ms);
        if (!ended || now_ms - ended <= QC_INVITE_KEEP_MS)
            return 1;
    }
    return 0;
}
