/* HTTP with libmicrohttpd in thread-per-connection mode (at most 64
 * connections): a broker call (up to its timeout) or an open event stream
 * blocks only its own connection. */
#include "http.h"
#include "queuectl/job.h"
#include "queuectl/log.h"
#include "queuectl/protocol.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_MAX_BODY_BYTES (1024 * 1024) /* request bodies (a job is at most 64 KiB) */
#define S_MAX_FILE_BYTES (4 * 1024 * 1024)
#define S_MAX_CONNECTIONS 64
#define S_KEEPALIVE_MS 15000 /* SSE comment line on an idle stream */

struct _qc_http_t {
    qc_http_config_t config;
    qc_api_t *api;
    qc_hub_t *hub;
    struct MHD_Daemon *daemon;
};

int qc_http_read_token(const char *path, qc_http_config_t *config, char *err, size_t errlen)
{
    FILE *file = fopen(path, "r");
    if (!file) {
        snprintf(err, errlen, "--token-file \"%s\": %s", path, strerror(errno));
        return -1;
    }
    char buf[QC_HTTP_TOKEN_MAX + 2];
    size_t n = fread(buf, 1, sizeof buf - 1, file);
    struct stat st;
    if (fstat(fileno(file), &st) == 0 && (st.st_mode & 077))
        fprintf(stderr,
                "queuectl-dashboard: warning: --token-file \"%s\" is readable by others "
                "(chmod 600 it)\n",
                path);
    fclose(file);
    buf[n] = '\0';
    while (n > 0 &&
           (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
        buf[--n] = '\0';
    if (n < QC_HTTP_TOKEN_MIN || n > QC_HTTP_TOKEN_MAX) {
        snprintf(err, errlen,
                 "--token-file \"%s\": the token must be %d to %d characters (e.g. openssl rand "
                 "-hex 32)",
                 path, QC_HTTP_TOKEN_MIN, QC_HTTP_TOKEN_MAX);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/=",
                    buf[i])) {
            snprintf(
                err, errlen,
                "--token-file \"%s\": the token may hold only letters, digits and -._~+/=", path);
            return -1;
        }
    memcpy(config->token, buf, n + 1);
    config->token_len = n;
    return 0;
}

typedef struct {
    char *data;
    size_t len, cap;
    int too_large;
} s_upload_t;

static void s_common_headers(struct MHD_Response *response)
{
    MHD_add_response_header(response, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(response, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(response, "X-Frame-Options", "DENY");
    MHD_add_response_header(response, "Cache-Control", "no-store");
}

static enum MHD_Result s_queue(struct MHD_Connection *conn, qc_reply_t *reply,
                               const char *extra_name, const char *extra_value)
{
    struct MHD_Response *response =
        reply->body
            ? MHD_create_response_from_buffer(reply->len, reply->body, MHD_RESPMEM_MUST_FREE)
            : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!response) {
        free(reply->body);
        reply->body = NULL;
        return MHD_NO;
    }
    reply->body = NULL; /* the response owns it now */
    s_common_headers(response);
    if (reply->content_type)
        MHD_add_response_header(response, "Content-Type", reply->content_type);
    if (reply->allow)
        MHD_add_response_header(response, "Allow", reply->allow);
    if (extra_name)
        MHD_add_response_header(response, extra_name, extra_value);
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)reply->status, response);
    MHD_destroy_response(response);
    return rc;
}

/* Answers text (copied) with status. */
static enum MHD_Result s_queue_text(struct MHD_Connection *conn, int status,
                                    const char *content_type, const char *text)
{
    qc_reply_t reply = {status, strdup(text), strlen(text), content_type, NULL};
    if (!reply.body)
        return MHD_NO;
    return s_queue(conn, &reply, NULL, NULL);
}

static const char *s_query(void *cls, const char *key)
{
    return MHD_lookup_connection_value(cls, MHD_GET_ARGUMENT_KIND, key);
}

/* Compares in time that depends only on the token's length. */
static int s_token_equal(const qc_http_config_t *dash, const char *given)
{
    if (!given)
        return 0;
    size_t given_len = strnlen(given, QC_HTTP_TOKEN_MAX + 1);
    unsigned char diff = given_len != dash->token_len;
    for (size_t i = 0; i < dash->token_len; i++)
        diff |= (unsigned char)(dash->token[i] ^ (i < given_len ? given[i] : 0));
    return diff == 0;
}

static int s_authorized(const qc_http_config_t *dash, struct MHD_Connection *conn)
{
    if (!dash->token_len)
        return 1;
    const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    if (auth && strncasecmp(auth, "Bearer ", 7) == 0)
        return s_token_equal(dash, auth + 7);
    return s_token_equal(dash, MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, "qc_token"));
}

/* Host without its port: "[::1]:8080" -> "::1", "localhost:8080" -> "localhost". */
static void s_host_name(const char *host, char *buf, size_t len)
{
    if (host[0] == '[') {
        const char *end = strchr(host, ']');
        snprintf(buf, len, "%.*s", end ? (int)(end - host - 1) : 0, host + 1);
        return;
    }
    const char *colon = strrchr(host, ':');
    snprintf(buf, len, "%.*s", colon ? (int)(colon - host) : (int)strlen(host), host);
}

/* Loopback only: the Host header must name this machine (DNS rebinding). */
static int s_host_ok(const qc_http_config_t *dash, struct MHD_Connection *conn)
{
    if (!dash->loopback)
        return 1;
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
    if (!host)
        return 0;
    char name[256];
    s_host_name(host, name, sizeof name);
    struct in_addr v4;
    return strcasecmp(name, "localhost") == 0 || strcmp(name, "::1") == 0 ||
           strcmp(name, dash->listen_host) == 0 ||
           (inet_pton(AF_INET, name, &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127);
}

/* CSRF: a state-changing request must be JSON and, when the browser says where
 * it comes from, come from this origin. Returns 0 or the HTTP status. */
static int s_csrf_check(struct MHD_Connection *conn, const char **why)
{
    const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
    const char *site = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-Fetch-Site");
    if (origin) {
        char expected[512];
        snprintf(expected, sizeof expected, "http://%s", host ? host : "");
        if (strcasecmp(origin, expected) != 0) {
            *why = "cross-origin request refused (the Origin header does not match the Host)";
            return 403;
        }
    }
    if (site && strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0) {
        *why = "cross-site request refused (Sec-Fetch-Site)";
        return 403;
    }
    const char *type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    size_t n = strlen("application/json");
    if (!type || strncasecmp(type, "application/json", n) != 0 ||
        (type[n] != '\0' && type[n] != ';' && type[n] != ' ')) {
        *why = "state-changing requests need Content-Type: application/json";
        return 415;
    }
    return 0;
}

/* Serves one of the page's files from the web directory. */
static enum MHD_Result s_static(const qc_http_config_t *dash, struct MHD_Connection *conn,
                                const char *url)
{
    static const struct {
        const char *url, *file, *type;
    } files[] = {
        {"/", "index.html", "text/html; charset=utf-8"},
        {"/index.html", "index.html", "text/html; charset=utf-8"},
        {"/app.js", "app.js", "text/javascript; charset=utf-8"},
        {"/style.css", "style.css", "text/css; charset=utf-8"},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        if (strcmp(url, files[i].url) != 0)
            continue;
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dash->web_dir, files[i].file);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
            st.st_size > S_MAX_FILE_BYTES) {
            if (fd >= 0)
                close(fd);
            return s_queue_text(conn, 500, "text/plain; charset=utf-8",
                                "the dashboard's web files are missing\n");
        }
        qc_reply_t reply = {200, malloc((size_t)st.st_size + 1), 0, files[i].type, NULL};
        ssize_t got = reply.body ? read(fd, reply.body, (size_t)st.st_size) : -1;
        close(fd);
        if (got < 0) {
            free(reply.body);
            return MHD_NO;
        }
        reply.len = (size_t)got;
        return s_queue(conn, &reply, "Content-Security-Policy",
                       "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' "
                       "data:; connect-src 'self'; base-uri 'none'; form-action 'self'; "
                       "frame-ancestors 'none'");
    }
    return s_queue_text(conn, 404, "text/plain; charset=utf-8", "not found\n");
}

/* The content reader of a stream, on its connection's thread. */
static ssize_t s_stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    ssize_t n = qc_hub_stream_read(cls, buf, max, S_KEEPALIVE_MS);
    return n < 0 ? MHD_CONTENT_READER_END_OF_STREAM : n;
}

static void s_stream_free(void *cls)
{
    qc_hub_stream_t *stream = cls;
    qc_hub_stream_close(&stream);
}

/* GET /api/events[?output=ID]: a Server-Sent Events stream. */
static enum MHD_Result s_events(qc_http_t *self, struct MHD_Connection *conn)
{
    const char *output = s_query(conn, "output");
    if (output && !qc_job_id_valid(output)) {
        qc_reply_t reply = {0};
        qc_reply_error(&reply, 400, QC_E_BAD_REQUEST, "output must be a job id");
        return s_queue(conn, &reply, NULL, NULL);
    }
    qc_hub_stream_t *stream = qc_hub_stream_open(self->hub, output);
    if (!stream) {
        qc_reply_t reply = {0};
        qc_reply_error(&reply, 503, "unavailable", "too many event streams are open");
        return s_queue(conn, &reply, NULL, NULL);
    }
    struct MHD_Response *response = MHD_create_response_from_callback(
        MHD_SIZE_UNKNOWN, 16384, s_stream_read, stream, s_stream_free);
    if (!response) {
        qc_hub_stream_close(&stream);
        return MHD_NO;
    }
    s_common_headers(response);
    MHD_add_response_header(response, "Content-Type", "text/event-stream; charset=utf-8");
    MHD_add_response_header(response, "X-Accel-Buffering", "no");
    enum MHD_Result rc = MHD_queue_response(conn, MHD_HTTP_OK, response);
    MHD_destroy_response(response);
    return rc;
}

static enum MHD_Result s_unauthorized(struct MHD_Connection *conn, int api)
{
    qc_reply_t reply = {0};
    if (api) {
        qc_reply_error(&reply, 401, "unauthorized",
                       "a bearer token is required (Authorization: Bearer TOKEN)");
    } else {
        static const char page[] =
            "<!doctype html><title>queuectl: token required</title><p>This dashboard needs its "
            "token: open <code>/?token=TOKEN</code> once (it is then kept in a cookie), or send "
            "<code>Authorization: Bearer TOKEN</code>.</p>\n";
        reply = (qc_reply_t){401, strdup(page), sizeof page - 1, "text/html; charset=utf-8", NULL};
    }
    return s_queue(conn, &reply, "WWW-Authenticate", "Bearer realm=\"queuectl\"");
}

/* GET /?token=T with the right token: keep it in a cookie and go to /. */
static enum MHD_Result s_login(const qc_http_config_t *dash, struct MHD_Connection *conn)
{
    char cookie[QC_HTTP_TOKEN_MAX + 96];
    snprintf(cookie, sizeof cookie, "qc_token=%s; Path=/; HttpOnly; SameSite=Strict", dash->token);
    struct MHD_Response *response =
        MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!response)
        return MHD_NO;
    s_common_headers(response);
    MHD_add_response_header(response, "Set-Cookie", cookie);
    MHD_add_response_header(response, "Location", "/");
    enum MHD_Result rc = MHD_queue_response(conn, MHD_HTTP_SEE_OTHER, response);
    MHD_destroy_response(response);
    return rc;
}

static enum MHD_Result s_handle(void *cls, struct MHD_Connection *conn, const char *url,
                                const char *method, const char *version, const char *upload_data,
                                size_t *upload_data_size, void **con_cls)
{
    (void)version;
    qc_http_t *self = cls;
    const qc_http_config_t *dash = &self->config;
    s_upload_t *upload = *con_cls;
    if (!upload) {
        upload = calloc(1, sizeof *upload);
        *con_cls = upload;
        return upload ? MHD_YES : MHD_NO;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (upload->too_large || upload->len + n > S_MAX_BODY_BYTES) {
            upload->too_large = 1;
            return MHD_YES;
        }
        if (upload->len + n + 1 > upload->cap) {
            size_t cap = upload->cap ? upload->cap : 4096;
            while (cap < upload->len + n + 1)
                cap *= 2;
            char *grown = realloc(upload->data, cap);
            if (!grown)
                return MHD_NO;
            upload->data = grown;
            upload->cap = cap;
        }
        memcpy(upload->data + upload->len, upload_data, n);
        upload->len += n;
        upload->data[upload->len] = '\0';
        return MHD_YES;
    }

    int api = strncmp(url, "/api/", 5) == 0 || strcmp(url, "/metrics") == 0;
    int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    if (!s_host_ok(dash, conn))
        return s_queue_text(conn, 403, "text/plain; charset=utf-8",
                            "this Host is not served here (the dashboard listens on loopback)\n");
    if (dash->token_len && get && strcmp(url, "/") == 0 && s_query(conn, "token")) {
        if (s_token_equal(dash, s_query(conn, "token")))
            return s_login(dash, conn);
        return s_unauthorized(conn, 0);
    }
    if (!s_authorized(dash, conn))
        return s_unauthorized(conn, api);
    if (!get) {
        const char *why = NULL;
        int status = s_csrf_check(conn, &why);
        if (status) {
            qc_reply_t reply = {0};
            qc_reply_error(&reply, status, status == 403 ? "forbidden" : "bad_request", "%s", why);
            return s_queue(conn, &reply, NULL, NULL);
        }
    }
    if (upload->too_large) {
        qc_reply_t reply = {0};
        qc_reply_error(&reply, 413, QC_E_TOO_LARGE, "the body is larger than %d bytes",
                       S_MAX_BODY_BYTES);
        return s_queue(conn, &reply, NULL, NULL);
    }
    if (strcmp(url, "/api/events") == 0) {
        if (get)
            return s_events(self, conn);
        qc_reply_t reply = {0};
        qc_reply_error(&reply, 405, "method_not_allowed", "use GET");
        reply.allow = "GET";
        return s_queue(conn, &reply, NULL, NULL);
    }
    if (api) {
        qc_reply_t reply = {0};
        qc_api_request_t request = {method, url, s_query, conn, upload->data, upload->len};
        qc_api_handle(self->api, &request, &reply);
        return s_queue(conn, &reply, NULL, NULL);
    }
    if (!get)
        return s_queue_text(conn, 405, "text/plain; charset=utf-8", "method not allowed\n");
    return s_static(dash, conn, url);
}

static void s_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                        enum MHD_RequestTerminationCode code)
{
    (void)cls, (void)conn, (void)code;
    s_upload_t *upload = *con_cls;
    if (upload) {
        free(upload->data);
        free(upload);
    }
    *con_cls = NULL;
}

static void s_mhd_log(void *cls, const char *fmt, va_list args)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, args);
    line[strcspn(line, "\n")] = '\0';
    qc_warn("dashboard: http: %s", line);
}

qc_http_t *qc_http_new(const qc_http_config_t *config, qc_api_t *api, qc_hub_t *hub)
{
    qc_http_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->config = *config;
    self->api = api;
    self->hub = hub;
    unsigned flags =
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG;
    if (config->addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    errno = 0;
    self->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, s_handle, self, MHD_OPTION_EXTERNAL_LOGGER, s_mhd_log, self,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&self->config.addr, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)S_MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
        MHD_OPTION_NOTIFY_COMPLETED, s_completed, self, MHD_OPTION_END);
    if (!self->daemon) {
        int saved = errno;
        free(self);
        errno = saved;
        return NULL;
    }
    return self;
}

int qc_http_port(qc_http_t *self)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(self->daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info ? info->port : 0;
}

void qc_http_destroy(qc_http_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    qc_http_t *self = *self_p;
    MHD_stop_daemon(self->daemon);
    free(self);
    *self_p = NULL;
}
