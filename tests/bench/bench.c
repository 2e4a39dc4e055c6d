/* bench: the measuring half of scripts/bench.sh.
 *
 * Every subcommand measures one thing, repeats it --runs times and prints one
 * line "median min max" (or two such triples for latencies: p50 then p99).
 * Processes and sockets are the script's business except where a measurement
 * needs its own (the echo server, client processes, beanstalkd workers, the
 * restarted broker): those are started here, by pid, and killed here.
 *
 * Every wait has a deadline; every loop has a count. On any error the
 * program says what failed on stderr and exits 1.
 *
 *   ping          --ep EP [--timeout S]                 wait for a broker to answer
 *   wait-workers  --ep EP --count N [--timeout S]       wait for N registered workers
 *   echo          --dir D [--n N --secs S --runs R --clients C]   bare REQ/REP rate
 *   enqueue       --ep EP [--n N --secs S --runs R --batch B --clients C]  jobs/s
 *   e2e           --ep EP [--n N --batch B --runs R --timeout S --poll-ms MS]  jobs/s, workers
 *                 running (status is polled every MS, 5 by default; scripts/profile.sh
 *                 polls rarely so its instruction counts are the jobs', not the polls')
 *   chain         --ep EP [--n N --runs R --timeout S]  completions/s of N jobs, each
 *                 waiting for the one before (enqueue "after"), one atomic batch
 *   drain         --ep EP --n N [--timeout S]           completions/s over the next N
 *   spawn-rate    [--n N --par P --runs R]              posix_spawn of sh -c true, P at a time
 *   (e2e, spawn-rate: --command CMD runs CMD instead of true; --cpu 1 appends the
 *   CPU microseconds per job over all runs: e2e its own (the driver: enqueue and
 *   polling), spawn-rate its children's (the shells) and then its own)
 *   pickup        --ep EP --fifo PATH [--n N --runs R]  us, p50 and p99
 *   spawn-latency --fifo PATH [--n N --runs R]          us, p50 and p99
 *   fill          --ep EP --n N [--batch B]             enqueue N jobs, print seconds and jobs/s
 *   (enqueue, fill: --job JSON adds fields to every job, e.g. '{"delay_s":86400}')
 *   req-latency   --ep EP --request JSON [--runs R]     ms per request
 *   restart       --ep EP [--runs R] -- BROKER ARGS...  ms from spawn to first ping
 *   bs-enqueue    --addr H:P [--n N --secs S --runs R --batch B --clients C]
 *   bs-e2e        --addr H:P [--n N --batch B --workers W --runs R --timeout S]
 *   freeport                                            prints a free TCP port
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_RUNS 50
#define MAX_CLIENTS 64
#define MAX_SAMPLES 100000
#define RCV_TIMEOUT_MS 30000

/* ---------------------------------------------------------------- basics */

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    fprintf(stderr, "bench: ");
    vfprintf(stderr, fmt, args);
    fprintf(stderr, "\n");
    va_end(args);
    exit(1);
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static double secs_since(int64_t t0)
{
    return (double)(now_ns() - t0) / 1e9;
}

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* CPU time (user + system) of this process or of its reaped children, us. */
static double cpu_us(int who)
{
    struct rusage ru;
    if (getrusage(who, &ru) != 0)
        die("getrusage: %s", strerror(errno));
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Nearest-rank percentile of a sorted array. */
static double percentile(const double *sorted, int n, double p)
{
    int rank = (int)ceil(p / 100.0 * n);
    if (rank < 1)
        rank = 1;
    return sorted[rank - 1];
}

/* "median min max" of the runs. */
static void print_triple(double *v, int n)
{
    double m = median(v, n); /* sorts */
    printf("%.6g %.6g %.6g", m, v[0], v[n - 1]);
}

/* ---------------------------------------------------------------- options */

/* Extra fields for every job (--job '{"delay_s":86400}'), or NULL. */
static const char *s_job_extra = NULL;

typedef struct {
    const char *ep, *dir, *addr, *fifo, *request, *command;
    long n, runs, batch, clients, par, workers, count, poll_ms, cpu;
    double secs, timeout;
    char **rest; /* after "--" */
} opts_t;

/* Every option takes a value: a string, a whole number or a real one,
 * stored at its offset in opts_t (--job sets s_job_extra). */
typedef enum { OPT_STR, OPT_LONG, OPT_DOUBLE } opt_kind_t;
static const struct {
    const char *name;
    opt_kind_t kind;
    size_t offset;
} s_opts[] = {
    {"--ep", OPT_STR, offsetof(opts_t, ep)},
    {"--dir", OPT_STR, offsetof(opts_t, dir)},
    {"--addr", OPT_STR, offsetof(opts_t, addr)},
    {"--fifo", OPT_STR, offsetof(opts_t, fifo)},
    {"--request", OPT_STR, offsetof(opts_t, request)},
    {"--command", OPT_STR, offsetof(opts_t, command)},
    {"--n", OPT_LONG, offsetof(opts_t, n)},
    {"--runs", OPT_LONG, offsetof(opts_t, runs)},
    {"--batch", OPT_LONG, offsetof(opts_t, batch)},
    {"--clients", OPT_LONG, offsetof(opts_t, clients)},
    {"--par", OPT_LONG, offsetof(opts_t, par)},
    {"--workers", OPT_LONG, offsetof(opts_t, workers)},
    {"--count", OPT_LONG, offsetof(opts_t, count)},
    {"--poll-ms", OPT_LONG, offsetof(opts_t, poll_ms)},
    {"--cpu", OPT_LONG, offsetof(opts_t, cpu)},
    {"--secs", OPT_DOUBLE, offsetof(opts_t, secs)},
    {"--timeout", OPT_DOUBLE, offsetof(opts_t, timeout)},
};

static void parse_opts(int argc, char **argv, opts_t *o)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            o->rest = argv + i + 1;
            return;
        }
        if (i + 1 >= argc)
            die("option %s needs a value", a);
        const char *v = argv[++i];
        if (strcmp(a, "--job") == 0) {
            s_job_extra = v;
            continue;
        }
        size_t k = 0;
        while (k < sizeof s_opts / sizeof s_opts[0] && strcmp(a, s_opts[k].name) != 0)
            k++;
        if (k == sizeof s_opts / sizeof s_opts[0])
            die("unknown option %s", a);
        char *field = (char *)o + s_opts[k].offset;
        if (s_opts[k].kind == OPT_STR)
            *(const char **)field = v;
        else if (s_opts[k].kind == OPT_LONG)
            *(long *)field = atol(v);
        else
            *(double *)field = atof(v);
    }
    if (o->runs < 1 || o->runs > MAX_RUNS)
        die("--runs must be 1..%d", MAX_RUNS);
    if (o->clients < 1 || o->clients > MAX_CLIENTS)
        die("--clients must be 1..%d", MAX_CLIENTS);
    if (o->batch < 1 || o->batch > 10000)
        die("--batch must be 1..10000");
    if (o->n < 1)
        die("--n must be positive");
    if (o->poll_ms < 1 || o->poll_ms > 10000)
        die("--poll-ms must be 1..10000");
}

/* ---------------------------------------------------------------- ZeroMQ REQ */

static zsock_t *req_connect(const char *ep, int reconnect_ivl_ms)
{
    zsock_t *s = zsock_new(ZMQ_REQ);
    if (!s)
        die("cannot create a REQ socket");
    zsock_set_linger(s, 0);
    zsock_set_rcvtimeo(s, RCV_TIMEOUT_MS);
    zsock_set_sndtimeo(s, RCV_TIMEOUT_MS);
    if (reconnect_ivl_ms > 0)
        zsock_set_reconnect_ivl(s, reconnect_ivl_ms);
    if (zsock_connect(s, "%s", ep) != 0)
        die("cannot connect to %s", ep);
    return s;
}

/* One round trip; returns the parsed reply (caller deletes) or NULL on a
 * timeout. The same code serves the echo baseline and the broker. */
static cJSON *req_call(zsock_t *s, const char *text, size_t len)
{
    void *raw = zsock_resolve(s);
    if (zmq_send(raw, text, len, 0) != (int)len)
        return NULL;
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    if (zmq_msg_recv(&msg, raw, 0) < 0) {
        zmq_msg_close(&msg);
        return NULL;
    }
    cJSON *reply = cJSON_ParseWithLength(zmq_msg_data(&msg), zmq_msg_size(&msg));
    zmq_msg_close(&msg);
    return reply;
}

static int reply_ok(const cJSON *reply)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok"));
}

/* A request the broker must answer with ok:true; dies otherwise. */
static cJSON *req_ok(zsock_t *s, const char *text)
{
    cJSON *reply = req_call(s, text, strlen(text));
    if (!reply)
        die("no reply within %d ms to %.80s", RCV_TIMEOUT_MS, text);
    if (!reply_ok(reply)) {
        char *t = cJSON_PrintUnformatted(reply);
        die("refused: %.80s -> %.300s", text, t ? t : "?");
    }
    return reply;
}

static long json_long(const cJSON *obj, const char *a, const char *b)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, a);
    if (b)
        item = cJSON_GetObjectItemCaseSensitive(item, b);
    return cJSON_IsNumber(item) ? (long)item->valuedouble : -1;
}

static cJSON *job_object(const char *command)
{
    cJSON *job = s_job_extra ? cJSON_Parse(s_job_extra) : cJSON_CreateObject();
    if (!cJSON_IsObject(job))
        die("--job must be a JSON object");
    cJSON_AddStringToObject(job, "command", command);
    return job;
}

/* {"op":"enqueue","jobs":[{"command":CMD} x batch]} or "job" when batch is 1. */
static char *enqueue_request(long batch, const char *command)
{
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "op", "enqueue");
    if (batch == 1) {
        cJSON_AddItemToObject(req, "job", job_object(command));
    } else {
        cJSON *jobs = cJSON_AddArrayToObject(req, "jobs");
        for (long i = 0; i < batch; i++)
            cJSON_AddItemToArray(jobs, job_object(command));
    }
    char *text = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    return text;
}

/* ---------------------------------------------------------------- beanstalkd client */

typedef struct {
    int fd;
    char buf[65536];
    size_t len, pos;
} bs_conn_t;

static void bs_connect(bs_conn_t *c, const char *addr)
{
    char host[64];
    const char *colon = strrchr(addr, ':');
    if (!colon || (size_t)(colon - addr) >= sizeof host)
        die("--addr must be HOST:PORT");
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        die("bad address %s", addr);
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = {RCV_TIMEOUT_MS / 1000, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        die("cannot connect to beanstalkd at %s: %s", addr, strerror(errno));
    c->len = c->pos = 0;
}

static void bs_write(bs_conn_t *c, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(c->fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            die("beanstalkd write: %s", strerror(errno));
        data += n;
        len -= (size_t)n;
    }
}

/* Reads one "\r\n"-terminated line (without it) into line. */
static void bs_line(bs_conn_t *c, char *line, size_t cap)
{
    size_t out = 0;
    for (int guard = 0; guard < 1000000; guard++) {
        if (c->pos == c->len) {
            ssize_t n = read(c->fd, c->buf, sizeof c->buf);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                die("beanstalkd read: %s", n == 0 ? "connection closed" : strerror(errno));
            c->len = (size_t)n;
            c->pos = 0;
        }
        char ch = c->buf[c->pos++];
        if (ch == '\n') {
            if (out > 0 && line[out - 1] == '\r')
                out--;
            line[out] = '\0';
            return;
        }
        if (out + 1 < cap)
            line[out++] = ch;
    }
    die("beanstalkd: line too long");
}

static void bs_read_exact(bs_conn_t *c, char *dst, size_t len)
{
    for (size_t got = 0; got < len;) {
        if (c->pos == c->len) {
            ssize_t n = read(c->fd, c->buf, sizeof c->buf);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                die("beanstalkd read: %s", n == 0 ? "connection closed" : strerror(errno));
            c->len = (size_t)n;
            c->pos = 0;
        }
        size_t take = c->len - c->pos < len - got ? c->len - c->pos : len - got;
        memcpy(dst + got, c->buf + c->pos, take);
        c->pos += take;
        got += take;
    }
}

/* Puts `count` jobs in one write, then reads the `count` replies. */
static void bs_put(bs_conn_t *c, long count, const char *body)
{
    static char *text = NULL;
    static size_t text_len = 0;
    static long text_count = 0;
    if (text_count != count) {
        char one[256];
        int len = snprintf(one, sizeof one, "put 0 0 60 %zu\r\n%s\r\n", strlen(body), body);
        free(text);
        text = malloc((size_t)len * (size_t)count);
        for (long i = 0; i < count; i++)
            memcpy(text + (size_t)i * (size_t)len, one, (size_t)len);
        text_len = (size_t)len * (size_t)count;
        text_count = count;
    }
    bs_write(c, text, text_len);
    char line[256];
    for (long i = 0; i < count; i++) {
        bs_line(c, line, sizeof line);
        if (strncmp(line, "INSERTED ", 9) != 0)
            die("beanstalkd put: %s", line);
    }
}

/* ---------------------------------------------------------------- client processes */

typedef enum { K_ECHO, K_QC, K_BS } kind_t;

typedef struct {
    long jobs;
    int64_t end_ns;
    int failed;
} child_result_t;

/* One client process: connect, warm up, say ready, wait for go, work until
 * `quota` jobs or the deadline, report. Never returns. */
static void __attribute__((noreturn)) client_child(kind_t kind, const opts_t *o, const char *ep,
                                                   long quota, int ready_w, int go_r, int result_w)
{
    child_result_t res = {0, 0, 0};
    zsock_t *s = NULL;
    bs_conn_t *bs = NULL;
    char *request = NULL;
    if (kind == K_BS) {
        bs = calloc(1, sizeof *bs);
        bs_connect(bs, ep);
        bs_put(bs, 1, "true"); /* warm-up (and the connection is up) */
    } else {
        s = req_connect(ep, 0);
        request = enqueue_request(o->batch, "true");
        const char *warm = kind == K_QC ? "{\"op\":\"ping\"}" : request;
        cJSON *r = req_call(s, warm, strlen(warm));
        if (!r)
            die("client: no answer from %s", ep);
        cJSON_Delete(r);
    }
    size_t request_len = request ? strlen(request) : 0;
    char byte = 'r';
    if (write(ready_w, &byte, 1) != 1)
        _exit(1);
    (void)!read(go_r, &byte, 1); /* EOF when the parent says go */
    int64_t deadline = now_ns() + (int64_t)(o->secs * 1e9);
    /* The clock is read every op: cheap next to a round trip. */
    while (res.jobs < quota && now_ns() < deadline) {
        if (kind == K_BS) {
            bs_put(bs, o->batch, "true");
        } else {
            cJSON *reply = req_call(s, request, request_len);
            if (!reply || (kind == K_QC && !reply_ok(reply))) {
                res.failed = 1;
                cJSON_Delete(reply);
                break;
            }
            cJSON_Delete(reply);
        }
        res.jobs += o->batch;
    }
    res.end_ns = now_ns();
    if (write(result_w, &res, sizeof res) != (ssize_t)sizeof res)
        _exit(1);
    zsock_destroy(&s);
    free(request);
    _exit(0);
}

static int read_timeout(int fd, void *buf, size_t len, int timeout_ms)
{
    struct pollfd p = {fd, POLLIN, 0};
    int rc;
    while ((rc = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
        ;
    if (rc <= 0)
        return -1;
    ssize_t n;
    while ((n = read(fd, buf, len)) < 0 && errno == EINTR)
        ;
    return n == (ssize_t)len ? 0 : -1;
}

/* One run with o->clients processes; returns jobs/s. */
static double client_run(kind_t kind, const opts_t *o, const char *ep)
{
    int ready[2], go[2], result[2];
    if (pipe(ready) || pipe(go) || pipe(result))
        die("pipe: %s", strerror(errno));
    pid_t pids[MAX_CLIENTS];
    long quota = (o->n + o->clients - 1) / o->clients;
    fflush(stdout);
    for (long i = 0; i < o->clients; i++) {
        pids[i] = fork();
        if (pids[i] < 0)
            die("fork: %s", strerror(errno));
        if (pids[i] == 0) {
            close(ready[0]);
            close(go[1]);
            close(result[0]);
            client_child(kind, o, ep, quota, ready[1], go[0], result[1]);
        }
    }
    close(ready[1]);
    close(go[0]);
    close(result[1]);
    for (long i = 0; i < o->clients; i++) {
        char byte;
        if (read_timeout(ready[0], &byte, 1, RCV_TIMEOUT_MS) != 0)
            die("a client did not get ready (see its error above)");
    }
    int64_t t0 = now_ns();
    close(go[1]); /* go */
    long jobs = 0;
    int64_t end = t0;
    int failed = 0;
    for (long i = 0; i < o->clients; i++) {
        child_result_t res;
        int wait_ms = (o->secs > 3600 ? 3600000 : (int)(o->secs * 1000)) + RCV_TIMEOUT_MS;
        if (read_timeout(result[0], &res, sizeof res, wait_ms) != 0)
            die("a client did not report");
        jobs += res.jobs;
        failed |= res.failed;
        if (res.end_ns > end)
            end = res.end_ns;
    }
    for (long i = 0; i < o->clients; i++) {
        int status;
        waitpid(pids[i], &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            failed = 1;
    }
    close(ready[0]);
    close(result[0]);
    if (failed)
        die("a client failed (a request timed out or was refused)");
    return (double)jobs / ((double)(end - t0) / 1e9);
}

static void throughput(kind_t kind, const opts_t *o, const char *ep)
{
    double rates[MAX_RUNS];
    for (long r = 0; r < o->runs; r++)
        rates[r] = client_run(kind, o, ep);
    print_triple(rates, (int)o->runs);
    printf("\n");
}

/* ---------------------------------------------------------------- subcommands */

static int cmd_ping(const opts_t *o)
{
    double timeout = o->timeout > 0 ? o->timeout : 10;
    int64_t t0 = now_ns();
    while (secs_since(t0) < timeout) {
        zsock_t *s = req_connect(o->ep, 10);
        zsock_set_rcvtimeo(s, 200);
        cJSON *r = req_call(s, "{\"op\":\"ping\"}", 13);
        zsock_destroy(&s);
        if (r && reply_ok(r)) {
            cJSON_Delete(r);
            return 0;
        }
        cJSON_Delete(r);
        sleep_us(20000);
    }
    fprintf(stderr, "bench: no broker answered on %s within %.0f s\n", o->ep, timeout);
    return 1;
}

static int cmd_wait_workers(const opts_t *o)
{
    double timeout = o->timeout > 0 ? o->timeout : 10;
    zsock_t *s = req_connect(o->ep, 0);
    int64_t t0 = now_ns();
    long seen = -1;
    while (secs_since(t0) < timeout) {
        cJSON *r = req_ok(s, "{\"op\":\"status\"}");
        seen = json_long(r, "workers", NULL);
        cJSON_Delete(r);
        if (seen == o->count) {
            zsock_destroy(&s);
            return 0;
        }
        sleep_us(20000);
    }
    fprintf(stderr, "bench: %ld workers registered, expected %ld\n", seen, o->count);
    return 1;
}

static int cmd_echo(const opts_t *o)
{
    if (!o->dir)
        die("echo needs --dir");
    char ep[256];
    snprintf(ep, sizeof ep, "ipc://%s/echo.sock", o->dir);
    fflush(stdout);
    pid_t server = fork();
    if (server < 0)
        die("fork: %s", strerror(errno));
    if (server == 0) {
        /* A trivial REP echo server: what ZeroMQ costs, with nothing else. */
        zsock_t *rep = zsock_new(ZMQ_REP);
        zsock_set_linger(rep, 0);
        zsock_set_rcvtimeo(rep, 500);
        if (zsock_bind(rep, "%s", ep) < 0)
            die("cannot bind %s", ep);
        void *raw = zsock_resolve(rep);
        pid_t parent = getppid();
        int64_t t0 = now_ns();
        while (getppid() == parent && secs_since(t0) < 600) {
            zmq_msg_t msg;
            zmq_msg_init(&msg);
            if (zmq_msg_recv(&msg, raw, 0) >= 0)
                zmq_msg_send(&msg, raw, 0);
            zmq_msg_close(&msg);
        }
        zsock_destroy(&rep);
        _exit(0);
    }
    throughput(K_ECHO, o, ep);
    kill(server, SIGTERM);
    waitpid(server, NULL, 0);
    return 0;
}

static int cmd_enqueue(const opts_t *o)
{
    throughput(K_QC, o, o->ep);
    return 0;
}

/* Counts by state from status. */
static void qc_counts(zsock_t *s, long *completed, long *pending, long *processing, long *failed,
                      long *dead)
{
    cJSON *r = req_ok(s, "{\"op\":\"status\"}");
    *completed = json_long(r, "counts", "completed");
    *pending = json_long(r, "counts", "pending");
    *processing = json_long(r, "counts", "processing");
    *failed = json_long(r, "counts", "failed");
    *dead = json_long(r, "counts", "dead");
    cJSON_Delete(r);
}

/* Workers are running: time from the first enqueue to every job completed. */
static int cmd_e2e(const opts_t *o)
{
    double timeout = o->timeout > 0 ? o->timeout : 120;
    zsock_t *s = req_connect(o->ep, 0);
    char *request = enqueue_request(o->batch, o->command ? o->command : "true");
    double rates[MAX_RUNS];
    double cpu0 = cpu_us(RUSAGE_SELF);
    long jobs = 0;
    for (long r = 0; r < o->runs; r++) {
        long c0, c1 = 0, p, pr, f, d;
        qc_counts(s, &c0, &p, &pr, &f, &d);
        if (p != 0 || pr != 0 || f != 0 || d != 0)
            die("e2e: the queue is not idle (pending %ld, processing %ld, failed %ld, dead %ld)", p,
                pr, f, d);
        int64_t t0 = now_ns();
        for (long done = 0; done < o->n; done += o->batch)
            cJSON_Delete(req_ok(s, request));
        /* Done when nothing is pending, running or waiting for a retry.
         * status reads counts kept by the store: one request every 5 ms costs
         * the broker about 1% of a core. */
        int64_t t1 = 0;
        while (secs_since(t0) < timeout) {
            qc_counts(s, &c1, &p, &pr, &f, &d);
            if (p == 0 && pr == 0 && f == 0) {
                t1 = now_ns();
                break;
            }
            sleep_us(o->poll_ms * 1000);
        }
        if (!t1)
            die("e2e: jobs not done within %.0f s", timeout);
        if (c1 - c0 != (o->n + o->batch - 1) / o->batch * o->batch)
            die("e2e: %ld jobs completed, expected %ld (failed %ld, dead %ld)", c1 - c0, o->n, f,
                d);
        rates[r] = (double)(c1 - c0) / ((double)(t1 - t0) / 1e9);
        jobs += c1 - c0;
    }
    print_triple(rates, (int)o->runs);
    if (o->cpu)
        printf(" %.1f", (cpu_us(RUSAGE_SELF) - cpu0) / (double)jobs);
    printf("\n");
    free(request);
    zsock_destroy(&s);
    return 0;
}

/* A chain of n `true` jobs, each after the one before, enqueued as one
 * batch: completions per second from the enqueue to the last one done.
 * Each completion releases the next job through the dependents index, so
 * at most one job is ever due: this measures the release path's latency. */
static int cmd_chain(const opts_t *o)
{
    double timeout = o->timeout > 0 ? o->timeout : 120;
    zsock_t *s = req_connect(o->ep, 0);
    double rates[MAX_RUNS];
    for (long r = 0; r < o->runs; r++) {
        cJSON *req = cJSON_CreateObject();
        cJSON_AddStringToObject(req, "op", "enqueue");
        cJSON *jobs = cJSON_AddArrayToObject(req, "jobs");
        char id[64], prev[64] = "";
        for (long i = 0; i < o->n; i++) {
            snprintf(id, sizeof id, "chain-%d-%ld-%ld", (int)getpid(), r, i);
            cJSON *job = job_object("true");
            cJSON_AddStringToObject(job, "id", id);
            if (prev[0]) {
                cJSON *after = cJSON_AddArrayToObject(job, "after");
                cJSON_AddItemToArray(after, cJSON_CreateString(prev));
            }
            cJSON_AddItemToArray(jobs, job);
            snprintf(prev, sizeof prev, "%s", id);
        }
        char *text = cJSON_PrintUnformatted(req);
        cJSON_Delete(req);
        long c0, c1 = 0, p, pr, f, d;
        qc_counts(s, &c0, &p, &pr, &f, &d);
        int64_t t0 = now_ns();
        cJSON_Delete(req_ok(s, text));
        free(text);
        char state_req[160];
        snprintf(state_req, sizeof state_req, "{\"op\":\"states\",\"ids\":[\"%s\"]}", prev);
        int64_t t1 = 0;
        while (secs_since(t0) < timeout) {
            cJSON *reply = req_ok(s, state_req);
            const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItem(reply, "jobs"), 0);
            const cJSON *state = cJSON_GetObjectItem(first, "state");
            int done = cJSON_IsString(state) && strcmp(state->valuestring, "completed") == 0;
            int bad = cJSON_IsString(state) && (strcmp(state->valuestring, "dead") == 0 ||
                                                strcmp(state->valuestring, "canceled") == 0);
            cJSON_Delete(reply);
            if (bad)
                die("chain: the last job ended dead or canceled");
            if (done) {
                t1 = now_ns();
                break;
            }
            sleep_us(5000);
        }
        if (!t1)
            die("chain: not done within %.0f s", timeout);
        qc_counts(s, &c1, &p, &pr, &f, &d);
        if (c1 - c0 != o->n)
            die("chain: %ld jobs completed, expected %ld", c1 - c0, o->n);
        rates[r] = (double)o->n / ((double)(t1 - t0) / 1e9);
    }
    print_triple(rates, (int)o->runs);
    printf("\n");
    zsock_destroy(&s);
    return 0;
}

/* Mixed lengths: --count long jobs (sleep --secs) go in first, then n short
 * ones (sleep 0.01) in one batch; prints the time until n jobs completed
 * (the short ones, if nothing holds them behind the long ones). */
static int cmd_mixed(const opts_t *o)
{
    double timeout = o->timeout > 0 ? o->timeout : 120;
    zsock_t *s = req_connect(o->ep, 0);
    char long_cmd[64];
    snprintf(long_cmd, sizeof long_cmd, "sleep %g", o->secs);
    char *long_req = enqueue_request(1, long_cmd);
    char *short_req = enqueue_request(o->n, "sleep 0.01");
    double took[MAX_RUNS];
    for (long r = 0; r < o->runs; r++) {
        long c0, c1 = 0, p, pr, f, d;
        qc_counts(s, &c0, &p, &pr, &f, &d);
        if (p != 0 || pr != 0)
            die("mixed: the queue is not idle (pending %ld, processing %ld)", p, pr);
        for (long i = 0; i < o->count; i++)
            cJSON_Delete(req_ok(s, long_req));
        int64_t t0 = now_ns();
        cJSON_Delete(req_ok(s, short_req));
        int64_t t1 = 0;
        while (secs_since(t0) < timeout) {
            qc_counts(s, &c1, &p, &pr, &f, &d);
            if (c1 - c0 >= o->n) {
                t1 = now_ns();
                break;
            }
            sleep_us(5000);
        }
        if (!t1)
            die("mixed: %ld jobs not done within %.0f s", o->n, timeout);
        took[r] = (double)(t1 - t0) / 1e9;
        /* Let the long jobs end before the next run. */
        while (secs_since(t0) < timeout) {
            qc_counts(s, &c1, &p, &pr, &f, &d);
            if (p == 0 && pr == 0)
                break;
            sleep_us(20000);
        }
    }
    print_triple(took, (int)o->runs);
    printf("\n");
    free(long_req);
    free(short_req);
    zsock_destroy(&s);
    return 0;
}

/* Workers are running on a full queue: completions per second over the next
 * n completions (the dispatch rate at that queue size). */
static int cmd_drain(const opts_t *o)
{
    double timeout = o->timeout > 0 ? o->timeout : 60;
    zsock_t *s = req_connect(o->ep, 0);
    long c0, c1, p, pr, f, d;
    qc_counts(s, &c0, &p, &pr, &f, &d);
    int64_t t0 = now_ns();
    for (;;) {
        qc_counts(s, &c1, &p, &pr, &f, &d);
        if (c1 - c0 >= o->n || secs_since(t0) >= timeout)
            break;
        sleep_us(20000);
    }
    double secs = secs_since(t0);
    /* At the timeout: the rate so far, still a rate. */
    printf("%.6g %ld %.3f\n", (double)(c1 - c0) / secs, c1 - c0, secs);
    zsock_destroy(&s);
    return 0;
}

static pid_t spawn_sh(const char *command)
{
    char *argv[] = {"sh", "-c", (char *)command, NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ);
    if (rc != 0)
        die("posix_spawn /bin/sh: %s", strerror(rc));
    return pid;
}

static void wait_child(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            die("waitpid: %s", strerror(errno));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        die("child %d failed (status %d)", (int)pid, status);
}

/* posix_spawn of /bin/sh -c true (or --command), `par` at a time. */
static int cmd_spawn_rate(const opts_t *o)
{
    long par = o->par > 0 ? o->par : 2;
    const char *command = o->command ? o->command : "true";
    double rates[MAX_RUNS];
    double self0 = cpu_us(RUSAGE_SELF), kids0 = cpu_us(RUSAGE_CHILDREN);
    for (long r = 0; r < o->runs; r++) {
        int64_t t0 = now_ns();
        long started = 0, running = 0;
        while (started < o->n || running > 0) {
            while (running < par && started < o->n) {
                spawn_sh(command);
                started++;
                running++;
            }
            int status;
            pid_t pid = waitpid(-1, &status, 0);
            if (pid < 0 && errno == EINTR)
                continue;
            if (pid < 0)
                die("waitpid: %s", strerror(errno));
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                die("sh -c %s failed", command);
            running--;
        }
        rates[r] = (double)o->n / secs_since(t0);
    }
    print_triple(rates, (int)o->runs);
    if (o->cpu) {
        double jobs = (double)o->n * (double)o->runs;
        printf(" %.1f %.1f", (cpu_us(RUSAGE_CHILDREN) - kids0) / jobs,
               (cpu_us(RUSAGE_SELF) - self0) / jobs);
    }
    printf("\n");
    return 0;
}

/* The FIFO each job writes one line to; kept open for writing here too so
 * that reads never see EOF between jobs. */
typedef struct {
    int rfd, wfd;
    char buf[4096];
    size_t len;
} linefifo_t;

static void fifo_open(linefifo_t *f, const char *path)
{
    unlink(path);
    if (mkfifo(path, 0600) != 0)
        die("mkfifo %s: %s", path, strerror(errno));
    f->rfd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    f->wfd = open(path, O_WRONLY | O_CLOEXEC);
    if (f->rfd < 0 || f->wfd < 0)
        die("open %s: %s", path, strerror(errno));
    f->len = 0;
}

/* Waits (at most timeout_ms) for the next line a job wrote, and returns
 * when it arrived. The job writes with the shell's builtin echo, so nothing
 * but /bin/sh itself is exec'd; the same holds for the bare spawn. */
static int64_t fifo_next(linefifo_t *f, int timeout_ms)
{
    int64_t deadline = now_ns() + (int64_t)timeout_ms * 1000000;
    for (;;) {
        int64_t t = now_ns();
        char *nl = memchr(f->buf, '\n', f->len);
        if (nl) {
            size_t used = (size_t)(nl - f->buf) + 1;
            memmove(f->buf, nl + 1, f->len - used);
            f->len -= used;
            return t;
        }
        int left = (int)((deadline - t) / 1000000);
        if (left <= 0)
            die("nothing from the job within %d ms", timeout_ms);
        struct pollfd p = {f->rfd, POLLIN, 0};
        if (poll(&p, 1, left) > 0) {
            ssize_t n = read(f->rfd, f->buf + f->len, sizeof f->buf - f->len - 1);
            if (n > 0)
                f->len += (size_t)n;
        }
    }
}

static void print_latencies(double p50[], double p99[], int runs)
{
    print_triple(p50, runs);
    printf(" ");
    print_triple(p99, runs);
    printf("\n");
}

#define WARMUP 10
#define SETTLE_US 5000 /* between jobs: the previous one is over, load stays low */

/* From the enqueue's acknowledgement to the job's process running. */
static int cmd_pickup(const opts_t *o)
{
    if (!o->fifo || o->n > MAX_SAMPLES)
        die("pickup needs --fifo and --n <= %d", MAX_SAMPLES);
    linefifo_t fifo;
    fifo_open(&fifo, o->fifo);
    char command[600];
    snprintf(command, sizeof command, "echo s > %s", o->fifo);
    char *request = enqueue_request(1, command);
    zsock_t *s = req_connect(o->ep, 0);
    static double lat[MAX_SAMPLES];
    double p50[MAX_RUNS], p99[MAX_RUNS];
    for (long r = 0; r < o->runs; r++) {
        for (long i = -WARMUP; i < o->n; i++) {
            cJSON_Delete(req_ok(s, request));
            int64_t acked = now_ns();
            int64_t started = fifo_next(&fifo, 10000);
            if (i >= 0)
                lat[i] = (double)(started - acked) / 1000.0;
            sleep_us(SETTLE_US);
        }
        qsort(lat, (size_t)o->n, sizeof *lat, cmp_double);
        p50[r] = percentile(lat, (int)o->n, 50);
        p99[r] = percentile(lat, (int)o->n, 99);
    }
    print_latencies(p50, p99, (int)o->runs);
    free(request);
    zsock_destroy(&s);
    unlink(o->fifo);
    return 0;
}

/* The same, for a bare posix_spawn: from the call to the process running. */
static int cmd_spawn_latency(const opts_t *o)
{
    if (!o->fifo || o->n > MAX_SAMPLES)
        die("spawn-latency needs --fifo and --n <= %d", MAX_SAMPLES);
    linefifo_t fifo;
    fifo_open(&fifo, o->fifo);
    char command[600];
    snprintf(command, sizeof command, "echo s > %s", o->fifo);
    static double lat[MAX_SAMPLES];
    double p50[MAX_RUNS], p99[MAX_RUNS];
    for (long r = 0; r < o->runs; r++) {
        for (long i = -WARMUP; i < o->n; i++) {
            int64_t t0 = now_ns();
            pid_t pid = spawn_sh(command);
            int64_t started = fifo_next(&fifo, 10000);
            wait_child(pid);
            if (i >= 0)
                lat[i] = (double)(started - t0) / 1000.0;
            sleep_us(SETTLE_US);
        }
        qsort(lat, (size_t)o->n, sizeof *lat, cmp_double);
        p50[r] = percentile(lat, (int)o->n, 50);
        p99[r] = percentile(lat, (int)o->n, 99);
    }
    print_latencies(p50, p99, (int)o->runs);
    unlink(o->fifo);
    return 0;
}

static int cmd_fill(const opts_t *o)
{
    zsock_t *s = req_connect(o->ep, 0);
    char *request = enqueue_request(o->batch, "true");
    int64_t t0 = now_ns();
    for (long done = 0; done < o->n; done += o->batch)
        cJSON_Delete(req_ok(s, request));
    double secs = secs_since(t0);
    printf("%.3f %.0f\n", secs, (double)o->n / secs);
    free(request);
    zsock_destroy(&s);
    return 0;
}

static int cmd_req_latency(const opts_t *o)
{
    if (!o->request)
        die("req-latency needs --request");
    zsock_t *s = req_connect(o->ep, 0);
    cJSON_Delete(req_ok(s, o->request)); /* warm-up */
    double ms[MAX_RUNS];
    for (long r = 0; r < o->runs; r++) {
        int64_t t0 = now_ns();
        cJSON_Delete(req_ok(s, o->request));
        ms[r] = (double)(now_ns() - t0) / 1e6;
    }
    print_triple(ms, (int)o->runs);
    printf("\n");
    zsock_destroy(&s);
    return 0;
}

/* Spawns the broker, times its first ping answer, SIGKILLs it: each run is
 * a restart after SIGKILL. */
static int cmd_restart(const opts_t *o)
{
    if (!o->rest || !o->rest[0])
        die("restart needs -- BROKER ARGS...");
    double ms[MAX_RUNS];
    for (long r = 0; r < o->runs; r++) {
        int64_t t0 = now_ns();
        pid_t pid;
        int rc = posix_spawn(&pid, o->rest[0], NULL, NULL, o->rest, environ);
        if (rc != 0)
            die("cannot start %s: %s", o->rest[0], strerror(rc));
        /* Reconnect every 1 ms: ZeroMQ's default 100 ms would be measured. */
        zsock_t *s = req_connect(o->ep, 1);
        cJSON *reply = req_call(s, "{\"op\":\"ping\"}", 13);
        int64_t t1 = now_ns();
        zsock_destroy(&s);
        int ok = reply && reply_ok(reply);
        cJSON_Delete(reply);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        if (!ok)
            die("restarted broker did not answer a ping within %d ms", RCV_TIMEOUT_MS);
        ms[r] = (double)(t1 - t0) / 1e6;
    }
    print_triple(ms, (int)o->runs);
    printf("\n");
    return 0;
}

static int cmd_bs_enqueue(const opts_t *o)
{
    if (!o->addr)
        die("bs-enqueue needs --addr");
    throughput(K_BS, o, o->addr);
    return 0;
}

/* A minimal beanstalkd worker: reserve, /bin/sh -c the body, delete; one
 * byte on done_w per finished job. Runs until killed (or 10 minutes). */
static void __attribute__((noreturn)) bs_worker(const char *addr, int done_w)
{
    bs_conn_t *c = calloc(1, sizeof *c);
    bs_connect(c, addr);
    pid_t parent = getppid();
    int64_t t0 = now_ns();
    char line[256], body[65536 + 2], del[64];
    while (getppid() == parent && secs_since(t0) < 600) {
        bs_write(c, "reserve-with-timeout 1\r\n", 24);
        bs_line(c, line, sizeof line);
        if (strcmp(line, "TIMED_OUT") == 0)
            continue;
        unsigned long long id;
        size_t bytes;
        if (sscanf(line, "RESERVED %llu %zu", &id, &bytes) != 2 || bytes > 65536)
            die("beanstalkd reserve: %s", line);
        bs_read_exact(c, body, bytes + 2);
        body[bytes] = '\0';
        wait_child(spawn_sh(body));
        int len = snprintf(del, sizeof del, "delete %llu\r\n", id);
        bs_write(c, del, (size_t)len);
        bs_line(c, line, sizeof line);
        if (strcmp(line, "DELETED") != 0)
            die("beanstalkd delete: %s", line);
        char byte = 'd';
        if (write(done_w, &byte, 1) != 1)
            _exit(1);
    }
    _exit(0);
}

static int cmd_bs_e2e(const opts_t *o)
{
    if (!o->addr)
        die("bs-e2e needs --addr");
    double timeout = o->timeout > 0 ? o->timeout : 120;
    long nworkers = o->workers > 0 ? o->workers : 2;
    int done[2];
    if (pipe(done) != 0)
        die("pipe: %s", strerror(errno));
    pid_t pids[MAX_CLIENTS];
    fflush(stdout);
    for (long i = 0; i < nworkers && i < MAX_CLIENTS; i++) {
        pids[i] = fork();
        if (pids[i] < 0)
            die("fork: %s", strerror(errno));
        if (pids[i] == 0) {
            close(done[0]);
            bs_worker(o->addr, done[1]);
        }
    }
    close(done[1]);
    sleep_us(100000); /* the workers are connected and waiting in reserve */
    bs_conn_t *c = calloc(1, sizeof *c);
    bs_connect(c, o->addr);
    double rates[MAX_RUNS];
    static char sink[10000];
    for (long r = 0; r < o->runs; r++) {
        int64_t t0 = now_ns();
        long total = 0;
        for (long put = 0; put < o->n; put += o->batch) {
            bs_put(c, o->batch, "true");
            total += o->batch;
        }
        for (long got = 0; got < total;) {
            int left = (int)(timeout * 1000 - secs_since(t0) * 1000);
            struct pollfd p = {done[0], POLLIN, 0};
            if (left <= 0 || poll(&p, 1, left) <= 0)
                die("bs-e2e: %ld of %ld jobs done within %.0f s", got, total, timeout);
            ssize_t n =
                read(done[0], sink,
                     sizeof sink < (size_t)(total - got) ? sizeof sink : (size_t)(total - got));
            if (n <= 0)
                die("bs-e2e: a worker died");
            got += n;
        }
        rates[r] = (double)total / secs_since(t0);
    }
    for (long i = 0; i < nworkers; i++)
        kill(pids[i], SIGTERM);
    for (long i = 0; i < nworkers; i++)
        waitpid(pids[i], NULL, 0);
    print_triple(rates, (int)o->runs);
    printf("\n");
    return 0;
}

static int cmd_freeport(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
        die("freeport: %s", strerror(errno));
    printf("%d\n", ntohs(sa.sin_port));
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        die("usage: bench SUBCOMMAND [options] (see the comment at the top of bench.c)");
    signal(SIGPIPE, SIG_IGN);
    zsys_handler_set(NULL);
    opts_t o = {
        .n = 1000, .runs = 3, .batch = 1, .clients = 1, .secs = 1e9, .count = 1, .poll_ms = 5};
    const char *cmd = argv[1];
    if (strcmp(cmd, "freeport") == 0)
        return cmd_freeport();
    parse_opts(argc - 2, argv + 2, &o);
    if (strcmp(cmd, "ping") == 0)
        return cmd_ping(&o);
    if (strcmp(cmd, "wait-workers") == 0)
        return cmd_wait_workers(&o);
    if (strcmp(cmd, "echo") == 0)
        return cmd_echo(&o);
    if (strcmp(cmd, "enqueue") == 0)
        return cmd_enqueue(&o);
    if (strcmp(cmd, "e2e") == 0)
        return cmd_e2e(&o);
    if (strcmp(cmd, "chain") == 0)
        return cmd_chain(&o);
    if (strcmp(cmd, "drain") == 0)
        return cmd_drain(&o);
    if (strcmp(cmd, "mixed") == 0)
        return cmd_mixed(&o);
    if (strcmp(cmd, "spawn-rate") == 0)
        return cmd_spawn_rate(&o);
    if (strcmp(cmd, "pickup") == 0)
        return cmd_pickup(&o);
    if (strcmp(cmd, "spawn-latency") == 0)
        return cmd_spawn_latency(&o);
    if (strcmp(cmd, "fill") == 0)
        return cmd_fill(&o);
    if (strcmp(cmd, "req-latency") == 0)
        return cmd_req_latency(&o);
    if (strcmp(cmd, "restart") == 0)
        return cmd_restart(&o);
    if (strcmp(cmd, "bs-enqueue") == 0)
        return cmd_bs_enqueue(&o);
    if (strcmp(cmd, "bs-e2e") == 0)
        return cmd_bs_e2e(&o);
    die("unknown subcommand %s", cmd);
}
