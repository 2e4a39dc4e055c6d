/* The worker's session with the broker: see session.h and PROTOCOL.md 3.
 *
 * One thread, one poll(2) over the signalfd, the sockets' ZMQ_FDs and the jobs'
 * pipes; its timeout is the nearest of the next heartbeat, the liveness
 * deadline, a job's timeout or grace, and the end of the ACK wait when
 * stopping. The heartbeat/liveness/reconnect logic follows zguide's
 * mdwrkapi.c: any message counts as a heartbeat, and a silent broker gets a
 * fresh socket, so nothing queued for a dead connection is delivered late. */
#include "session.h"
#include "queuectl/clock.h"
#include "queuectl/curve.h"
#include "queuectl/job.h"
#include "queuectl/log.h"
#include "queuectl/parse.h"
#include "queuectl/proto.h"

#include <czmq.h>
#include <errno.h>
#include <poll.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define QC_BACKOFF_MIN_MS 250
#define QC_BACKOFF_MAX_MS 4000
/* After a second signal, wait at most this long for ACKs of killed jobs. */
#define QC_FORCED_ACK_WAIT_MS 1000
/* Linger for the last messages (results, BYE) when leaving. */
#define QC_EXIT_LINGER_MS 500
/* Messages handled per wake-up, so jobs' output and timers are not starved. */
#define QC_RECV_BURST 256

/* A result waiting for its ACK. */
typedef struct s_pending_t {
    qc_result_t result;
    int64_t sent_ms;
    struct s_pending_t *next;
} s_pending_t;

typedef enum { S_RUNNING = 0, S_STOPPING, S_FORCED } s_stop_t;

struct _qc_session_t {
    char *endpoint;
    char worker_id[QC_MAX_ID_BYTES + 1];
    char queues[QC_QUEUE_LIST_BYTES];   /* "a,b", "" for every queue */
    char instance[QC_INSTANCE_HEX + 1]; /* secret: proves it is us on a reconnect */
    char host[256];
    qc_runner_t *runner; /* not owned */
    qc_guard_t *guard;   /* not owned, may be NULL */
    zsock_t *sock;       /* NULL while waiting to reconnect */
    int sigfd;
    int heartbeat_ms;
    int liveness_ms;
    int64_t last_sent_ms;
    int64_t last_heard_ms;
    int64_t reconnect_at_ms;
    int backoff_ms;
    s_pending_t *unacked; /* oldest first */
    s_pending_t *unacked_tail;
    int unacked_count;
    s_stop_t stop;
    int signals;          /* SIGTERM/SIGINT received */
    int64_t jobs_done_ms; /* when stopping: all jobs ended at; -1 before */
    int finished;
    int exit_code;
    struct pollfd *items; /* the signalfd, the two sockets' ZMQ_FDs, the jobs' pipes */
    int monitor_stale;    /* the monitor socket was read since its events were */
    int items_cap;
    qc_session_security_t security;
    zsock_t *monitor; /* handshake events of sock, to tell a refused key */
    int monitor_seq;
};

int qc_session_prepare_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
        return -1;
    /* Writes to a dead guard must fail with EPIPE, not kill the worker. */
    struct sigaction ignore = {.sa_handler = SIG_IGN};
    return sigaction(SIGPIPE, &ignore, NULL);
}

static int s_id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == ':' || c == '@' || c == '-';
}

/* "<host>-<pid>-<4 hex>", the host reduced to the id character set. */
static void s_default_worker_id(char *buf, size_t len, const char *host)
{
    char clean[64];
    size_t n = 0;
    for (const char *p = host; *p && n < sizeof clean - 1; p++)
        clean[n++] = s_id_char(*p) ? *p : '_';
    clean[n] = '\0';
    if (n == 0 || clean[0] == '-')
        snprintf(clean, sizeof clean, "worker");
    unsigned short rnd;
    if (getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd)
        rnd = (unsigned short)(qc_clock_mono_ms() ^ getpid());
    snprintf(buf, len, "%s-%d-%04x", clean, (int)getpid(), rnd);
}

/* Sends one message; an unsent message is not retried here (results stay in
 * the unacked list and go again after the next HELLO). */
static int s_send(qc_session_t *self, const qc_wmsg_t *msg)
{
    if (!self->sock)
        return -1;
    /* Counted as sent even if it failed, so a full queue (EAGAIN) does not
     * turn the heartbeat timer into a busy loop. */
    self->last_sent_ms = qc_clock_mono_ms();
    if (qc_wmsg_send(zsock_resolve(self->sock), msg) != 0) {
        qc_debug("cannot send %s to the broker: %s", qc_wmsg_command(msg->type),
                 zmq_strerror(errno));
        return -1;
    }
    return 0;
}

/* HELLO names every run the broker must not give up: those running, and
 * those finished whose result is not yet acknowledged (their RESULTs follow
 * on the same connection, so the broker keeps them for it). */
static void s_send_hello(qc_session_t *self)
{
    qc_wmsg_run_t running[QC_MAX_SLOTS];
    qc_wmsg_run_t *finished = malloc(QC_MAX_UNACKED * sizeof *finished);
    int finished_count = 0;
    for (s_pending_t *p = self->unacked; finished && p && finished_count < QC_MAX_UNACKED;
         p = p->next)
        finished[finished_count++] = (qc_wmsg_run_t){p->result.id, p->result.attempt};
    qc_wmsg_t hello = {
        .type = QC_WMSG_HELLO,
        .hello = {.worker_id = self->worker_id,
                  .instance = self->instance,
                  .host = self->host,
                  .version = QC_VERSION,
                  .pid = (int)getpid(),
                  .slots = qc_runner_slots(self->runner),
                  .stopping = self->stop != S_RUNNING,
                  .running = running,
                  .running_count = qc_runner_running(self->runner, running, QC_MAX_SLOTS),
                  .finished = finished,
                  .finished_count = finished_count,
                  .queues = self->queues[0] ? self->queues : NULL}};
    s_send(self, &hello);
    free(finished);
}

static void s_send_result(qc_session_t *self, const qc_result_t *result)
{
    s_send(self, &(qc_wmsg_t){.type = QC_WMSG_RESULT, .result = *result});
}

/* The shell of a job runs: from now on the broker counts the attempt. */
static void s_send_started(qc_session_t *self, const char *id, int attempt, int64_t started_at_ms)
{
    s_send(self,
           &(qc_wmsg_t){.type = QC_WMSG_STARTED, .run = {id, attempt}, .started = {started_at_ms}});
}

/* Live output of a running job (PROTOCOL.md 4): best effort, never queued. */
static void s_send_output(void *arg, const char *id, int attempt, const char *stream,
                          const char *data)
{
    qc_session_t *self = arg;
    if (!self->sock)
        return;
    s_send(self, &(qc_wmsg_t){.type = QC_WMSG_OUTPUT,
                              .run = {id, attempt},
                              .output = {.stream = stream, .data = data}});
}

/* HELLO, then every result the broker has not acknowledged (3.4). */
static void s_register(qc_session_t *self)
{
    s_send_hello(self);
    for (s_pending_t *p = self->unacked; p; p = p->next)
        s_send_result(self, &p->result);
}

/* Watches the socket's handshakes: after a ZAP refusal libzmq gives up on the
 * endpoint for good, so the session must notice and start over. */
static void s_monitor_start(qc_session_t *self)
{
    char address[64];
    snprintf(address, sizeof address, "inproc://qc-worker-monitor-%d", ++self->monitor_seq);
    if (zmq_socket_monitor(zsock_resolve(self->sock), address,
                           ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) != 0)
        return;
    self->monitor = zsock_new(ZMQ_PAIR);
    self->monitor_stale = 1;
    if (self->monitor && zsock_connect(self->monitor, "%s", address) != 0)
        zsock_destroy(&self->monitor);
}

static void s_disconnect(qc_session_t *self)
{
    if (self->sock)
        zmq_socket_monitor(zsock_resolve(self->sock), NULL, 0);
    zsock_destroy(&self->monitor);
    zsock_destroy(&self->sock);
}

static int s_connect(qc_session_t *self)
{
    self->sock = zsock_new_dealer(NULL);
    if (!self->sock)
        return -1;
    zsock_set_linger(self->sock, 0);
    /* Never block the loop on a full queue: what matters is resent anyway. */
    zsock_set_sndtimeo(self->sock, 0);
    zsock_set_maxmsgsize(self->sock, QC_MAX_MESSAGE_BYTES);
    char err[512];
    if (qc_curve_client_apply(self->sock, self->endpoint, self->security.key_path,
                              self->security.server_key, "worker", self->security.insecure, err,
                              sizeof err) != 0) {
        qc_error("%s", err);
        zsock_destroy(&self->sock);
        return -2;
    }
    if (qc_endpoint_is_network(self->endpoint))
        s_monitor_start(self);
    if (qc_endpoint_connect(self->sock, self->endpoint) != 0) {
        qc_error("cannot connect to %s: %s", self->endpoint, zmq_strerror(errno));
        s_disconnect(self);
        return -1;
    }
    self->last_heard_ms = qc_clock_mono_ms(); /* the liveness window starts now */
    s_register(self);
    return 0;
}

qc_session_t *qc_session_new(const qc_session_config_t *config)
{
    const char *endpoint = config->endpoint, *name = config->name;
    qc_runner_t *runner = config->runner;
    qc_guard_t *guard = config->guard;
    const qc_session_security_t *security = config->security;
    qc_session_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    if (config->queues)
        snprintf(self->queues, sizeof self->queues, "%s", config->queues);
    if (security)
        self->security = *security;
    self->sigfd = -1;
    self->endpoint = strdup(endpoint);
    self->runner = runner;
    self->guard = guard;
    self->heartbeat_ms = QC_HEARTBEAT_MS;
    self->liveness_ms = QC_LIVENESS_MS;
    self->backoff_ms = QC_BACKOFF_MIN_MS;
    self->jobs_done_ms = -1;
    if (gethostname(self->host, sizeof self->host - 1) != 0)
        snprintf(self->host, sizeof self->host, "unknown");
    qc_utf8_sanitize(self->host, strlen(self->host));
    if (name)
        snprintf(self->worker_id, sizeof self->worker_id, "%s", name);
    else
        s_default_worker_id(self->worker_id, sizeof self->worker_id, self->host);
    unsigned char secret[QC_INSTANCE_HEX / 2];
    if (getrandom(secret, sizeof secret, 0) != (ssize_t)sizeof secret) {
        qc_error("cannot make the worker's instance secret: %s", strerror(errno));
        free(self->endpoint);
        free(self);
        return NULL;
    }
    for (size_t i = 0; i < sizeof secret; i++)
        snprintf(self->instance + 2 * i, 3, "%02x", secret[i]);
    qc_runner_set_output(runner, s_send_output, self);
    /* Pollitems: the signalfd, the socket, its monitor, two per slot. */
    self->items_cap = 3 + qc_runner_poll_max(runner);
    self->items = calloc((size_t)self->items_cap, sizeof *self->items);

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    self->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (!self->endpoint || !self->items || self->sigfd < 0) {
        qc_error("cannot set up the session: %s", strerror(errno));
        qc_session_destroy(&self);
        return NULL;
    }
    /* Signals come through the signalfd; czmq must not install handlers. */
    zsys_handler_set(NULL);
    qc_info("worker %s connecting to %s (slots %d, pid %d)", self->worker_id, self->endpoint,
            qc_runner_slots(runner), (int)getpid());
    if (s_connect(self) != 0) {
        qc_session_destroy(&self);
        return NULL;
    }
    return self;
}

void qc_session_destroy(qc_session_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    qc_session_t *self = *self_p;
    s_disconnect(self);
    while (self->unacked) {
        s_pending_t *next = self->unacked->next;
        qc_result_clear(&self->unacked->result);
        free(self->unacked);
        self->unacked = next;
    }
    if (self->sigfd >= 0)
        close(self->sigfd);
    free(self->items);
    free(self->endpoint);
    free(self);
    *self_p = NULL;
}

const char *qc_session_worker_id(qc_session_t *self)
{
    return self->worker_id;
}

static s_pending_t *s_unacked_find(qc_session_t *self, const char *id, int attempt,
                                   s_pending_t **prev_p)
{
    s_pending_t *prev = NULL;
    for (s_pending_t *p = self->unacked; p; prev = p, p = p->next) {
        if (p->result.attempt == attempt && strcmp(p->result.id, id) == 0) {
            if (prev_p)
                *prev_p = prev;
            return p;
        }
    }
    return NULL;
}

/* Moves every finished result from the runner to the unacked list and sends it. */
static void s_collect_results(qc_session_t *self)
{
    qc_result_t result;
    while (qc_runner_take_result(self->runner, &result) == 0) {
        s_pending_t *pending = malloc(sizeof *pending);
        if (!pending) {
            qc_error("job %s attempt %d: out of memory, result lost", result.id, result.attempt);
            qc_result_clear(&result);
            continue;
        }
        pending->result = result;
        pending->next = NULL;
        if (self->unacked_tail)
            self->unacked_tail->next = pending;
        else
            self->unacked = pending;
        self->unacked_tail = pending;
        self->unacked_count++;
        pending->sent_ms = qc_clock_mono_ms();
        s_send_result(self, &pending->result);
    }
}

static void s_begin_stop(qc_session_t *self, const char *why)
{
    if (self->stop != S_RUNNING)
        return;
    self->stop = S_STOPPING;
    qc_info("stopping (%s): taking no more jobs, waiting for %d running job(s)", why,
            qc_runner_busy(self->runner));
    /* Tell the broker at once, so it stops counting our free slots. */
    if (self->sock)
        s_send(self, &(qc_wmsg_t){.type = QC_WMSG_STOPPING});
}

/* The run a job-related message names. Returns 0, or -1 (logged) if its id
 * or attempt is missing or invalid. */
static int s_job_ref(const qc_wmsg_t *msg)
{
    if (msg->run.id)
        return 0;
    qc_warn("dropped %s from the broker: id or attempt missing or invalid",
            qc_wmsg_command(msg->type));
    return -1;
}

static void s_on_job(qc_session_t *self, const qc_wmsg_t *msg)
{
    if (s_job_ref(msg) != 0)
        return; /* without a valid id and attempt there is no one to answer */
    const char *id = msg->run.id;
    int attempt = msg->run.attempt;
    /* A repeat of a run we already have: its one result is on the way. */
    if (qc_runner_is_running(self->runner, id, attempt) ||
        s_unacked_find(self, id, attempt, NULL)) {
        qc_warn("job %s attempt %d: duplicate JOB ignored", id, attempt);
        return;
    }
    if (!msg->job.command) {
        qc_runner_reject(self->runner, id, attempt, "invalid JOB: bad command");
        return;
    }
    if (!msg->job.timeout_s) {
        qc_runner_reject(self->runner, id, attempt, "invalid JOB: bad timeout_s");
        return;
    }
    /* env, cwd, queue: the codec checked them (the broker is a peer too). */
    if (msg->job.refusal) {
        qc_runner_reject(self->runner, id, attempt, msg->job.refusal);
        return;
    }
    /* A JOB sent before the broker heard STOPPING is committed as an
     * attempt: run it (it is the last). Only a forced stop refuses it. */
    if (self->stop == S_FORCED) {
        qc_runner_refuse(self->runner, id, attempt, "worker shutting down");
        return;
    }
    qc_runner_job_t job = {.id = id,
                           .attempt = attempt,
                           .command = msg->job.command,
                           .timeout_s = (int)msg->job.timeout_s,
                           .env = msg->job.env,
                           .cwd = msg->job.cwd,
                           .queue = msg->job.queue,
                           .worker_id = self->worker_id};
    if (qc_runner_start(self->runner, &job) == 0)
        s_send_started(self, id, attempt, qc_clock_wall_ms());
}

static void s_on_ack(qc_session_t *self, const qc_wmsg_t *msg)
{
    if (s_job_ref(msg) != 0)
        return;
    const char *id = msg->run.id;
    int attempt = msg->run.attempt;
    s_pending_t *prev = NULL;
    s_pending_t *pending = s_unacked_find(self, id, attempt, &prev);
    if (!pending) {
        qc_debug("job %s attempt %d: ACK for no pending result", id, attempt);
        return;
    }
    qc_debug("job %s attempt %d: result acknowledged", id, attempt);
    if (prev)
        prev->next = pending->next;
    else
        self->unacked = pending->next;
    if (self->unacked_tail == pending)
        self->unacked_tail = prev;
    self->unacked_count--;
    qc_result_clear(&pending->result);
    free(pending);
}

static void s_on_cancel(qc_session_t *self, const qc_wmsg_t *msg)
{
    if (s_job_ref(msg) != 0)
        return;
    if (qc_runner_cancel(self->runner, msg->run.id, msg->run.attempt) != 0)
        qc_info("job %s attempt %d: CANCEL, but it is not running here", msg->run.id,
                msg->run.attempt);
}

static void s_on_welcome(qc_session_t *self, const qc_wmsg_t *msg)
{
    int64_t heartbeat_ms =
        msg->welcome.has_heartbeat_ms ? msg->welcome.heartbeat_ms : self->heartbeat_ms;
    int64_t liveness_ms =
        msg->welcome.has_liveness_ms ? msg->welcome.liveness_ms : self->liveness_ms;
    if (heartbeat_ms < 10 || heartbeat_ms > 600000 || liveness_ms <= heartbeat_ms ||
        liveness_ms > 3600000) {
        qc_warn("WELCOME has unusable timing (heartbeat %lld ms, liveness %lld ms): keeping "
                "%d/%d ms",
                (long long)heartbeat_ms, (long long)liveness_ms, self->heartbeat_ms,
                self->liveness_ms);
    } else {
        self->heartbeat_ms = (int)heartbeat_ms;
        self->liveness_ms = (int)liveness_ms;
    }
    /* Another live worker holds our name: the broker gave us our own. */
    const char *assigned = msg->welcome.worker_id;
    if (assigned && strcmp(assigned, self->worker_id) != 0) {
        qc_warn("the name %s is held by another live worker: registered as %s (give each "
                "worker a unique --name)",
                self->worker_id, assigned);
        snprintf(self->worker_id, sizeof self->worker_id, "%s", assigned);
    }
    qc_info("registered with %s as %s (heartbeat %d ms, liveness %d ms)", self->endpoint,
            self->worker_id, self->heartbeat_ms, self->liveness_ms);
}

static void s_schedule_reconnect(qc_session_t *self, int64_t now);

/* DENIED: the broker refuses this key (revoked, or never enrolled). Like a
 * refusal at the handshake: say so, drop the socket, try again later. */
static void s_on_denied(qc_session_t *self, const qc_wmsg_t *msg)
{
    qc_error("key refused by broker %s: %s (retrying in %d ms)", self->endpoint,
             msg->denied.message ? msg->denied.message : "this key is not authorized as a worker",
             self->backoff_ms);
    s_disconnect(self);
    s_schedule_reconnect(self, qc_clock_mono_ms());
}

static void s_on_message(qc_session_t *self, zmsg_t *frames)
{
    /* Anything at all from the broker proves it is alive. */
    self->last_heard_ms = qc_clock_mono_ms();
    qc_wmsg_t msg;
    char err[200];
    if (qc_wmsg_decode(frames, &msg, err, sizeof err) != 0) {
        qc_warn("dropped a malformed message from the broker: %s", err);
        qc_wmsg_clear(&msg);
        return;
    }
    if (msg.type == QC_WMSG_DENIED) { /* no backoff reset: this is a refusal */
        s_on_denied(self, &msg);
        qc_wmsg_clear(&msg);
        return;
    }
    self->backoff_ms = QC_BACKOFF_MIN_MS;
    switch (msg.type) {
    case QC_WMSG_JOB:
        s_on_job(self, &msg);
        break;
    case QC_WMSG_ACK:
        s_on_ack(self, &msg);
        break;
    case QC_WMSG_HEARTBEAT: /* already counted above */
        break;
    case QC_WMSG_CANCEL:
        s_on_cancel(self, &msg);
        break;
    case QC_WMSG_WELCOME:
        s_on_welcome(self, &msg);
        break;
    case QC_WMSG_STOP:
        s_begin_stop(self, "the broker sent STOP");
        break;
    case QC_WMSG_RESET:
        qc_info("the broker does not know this worker (RESET): registering again");
        s_register(self);
        break;
    default:
        qc_warn("dropped %s from the broker: not a broker command", qc_wmsg_command(msg.type));
        break;
    }
    qc_wmsg_clear(&msg);
}

static void s_on_socket(qc_session_t *self)
{
    for (int i = 0; i < QC_RECV_BURST && self->sock && (zsock_events(self->sock) & ZMQ_POLLIN);
         i++) {
        zmsg_t *msg = zmsg_recv(self->sock);
        if (!msg)
            break;
        s_on_message(self, msg);
        zmsg_destroy(&msg);
    }
}

static void s_schedule_reconnect(qc_session_t *self, int64_t now);

static void s_on_monitor(qc_session_t *self)
{
    zmsg_t *event = zmsg_recv(self->monitor);
    if (!event)
        return;
    zframe_t *head = zmsg_first(event);
    uint16_t code = 0;
    if (head && zframe_size(head) >= 2)
        memcpy(&code, zframe_data(head), sizeof code);
    zmsg_destroy(&event);
    if (self->security.insecure)
        qc_error("handshake with %s failed: the broker requires CURVE; drop --insecure and give "
                 "--curve-key/--server-key (retrying in %d ms)",
                 self->endpoint, self->backoff_ms);
    else if (code == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
        qc_error("key refused by broker %s: add this worker's .cert to the broker's "
                 "authorized/workers/ (retrying in %d ms)",
                 self->endpoint, self->backoff_ms);
    else
        qc_error("secure handshake with %s failed (wrong --server-key, or the broker is not "
                 "using CURVE?); retrying in %d ms",
                 self->endpoint, self->backoff_ms);
    s_disconnect(self);
    s_schedule_reconnect(self, qc_clock_mono_ms());
}

static void s_on_signals(qc_session_t *self)
{
    struct signalfd_siginfo info;
    int child = 0;
    while (read(self->sigfd, &info, sizeof info) == (ssize_t)sizeof info) {
        if (info.ssi_signo == SIGCHLD) {
            child = 1;
            continue;
        }
        const char *name = info.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM";
        self->signals++;
        if (self->signals == 1) {
            s_begin_stop(self, name);
        } else if (self->signals == 2) {
            self->stop = S_FORCED;
            int killed = qc_runner_kill_all(self->runner);
            qc_warn("second %s: killed %d running job(s), leaving", name, killed);
            if (killed > 0)
                self->exit_code = 1;
        } else {
            qc_warn("third %s: leaving now", name);
            self->exit_code = 1;
            self->finished = 1;
        }
    }
    if (child) {
        qc_runner_on_sigchld(self->runner);
        if (self->guard)
            qc_guard_alive(self->guard); /* logs if the guard died */
    }
}

/* The next try after the current backoff, which doubles up to the cap and
 * is reset by any message from the broker. */
static void s_schedule_reconnect(qc_session_t *self, int64_t now)
{
    self->reconnect_at_ms = now + self->backoff_ms;
    self->backoff_ms *= 2;
    if (self->backoff_ms > QC_BACKOFF_MAX_MS)
        self->backoff_ms = QC_BACKOFF_MAX_MS;
}

/* Heartbeats, liveness and reconnecting. */
static void s_tick(qc_session_t *self, int64_t now)
{
    qc_guard_tick(self->guard);
    if (self->sock) {
        if (now - self->last_heard_ms >= self->liveness_ms) {
            qc_warn("broker silent, reconnecting (nothing heard for %lld ms, next try in %d ms)",
                    (long long)(now - self->last_heard_ms), self->backoff_ms);
            s_disconnect(self);
            s_schedule_reconnect(self, now);
        } else if (now - self->last_sent_ms >= self->heartbeat_ms) {
            s_send(self, &(qc_wmsg_t){.type = QC_WMSG_HEARTBEAT});
        }
        /* PROTOCOL.md 3.5: a result unacknowledged for liveness_ms goes again. */
        for (s_pending_t *p = self->unacked; self->sock && p; p = p->next) {
            if (now - p->sent_ms >= self->liveness_ms) {
                p->sent_ms = now;
                s_send_result(self, &p->result);
            }
        }
    } else if (now >= self->reconnect_at_ms) {
        qc_info("reconnecting to %s (%d running job(s), %d unacknowledged result(s))",
                self->endpoint, qc_runner_busy(self->runner), self->unacked_count);
        if (s_connect(self) != 0)
            s_schedule_reconnect(self, now);
    }
}

static int s_ack_wait_ms(qc_session_t *self)
{
    return self->stop == S_FORCED && self->liveness_ms > QC_FORCED_ACK_WAIT_MS
               ? QC_FORCED_ACK_WAIT_MS
               : self->liveness_ms;
}

/* When stopping: once no job runs and every result is ACKed (or the wait is
 * over), say BYE and finish. */
static void s_check_stop(qc_session_t *self, int64_t now)
{
    if (self->stop == S_RUNNING || self->finished || qc_runner_busy(self->runner) > 0)
        return;
    if (self->jobs_done_ms < 0) {
        self->jobs_done_ms = now;
        if (self->unacked_count > 0)
            qc_info("all jobs ended; waiting up to %d ms for %d acknowledgement(s)",
                    s_ack_wait_ms(self), self->unacked_count);
    }
    if (self->unacked_count > 0 && now - self->jobs_done_ms < s_ack_wait_ms(self))
        return;
    if (self->unacked_count > 0)
        qc_warn("leaving with %d unacknowledged result(s)", self->unacked_count);
    if (self->sock) {
        /* Give BYE (and any result still queued) a moment to leave. */
        zsock_set_linger(self->sock, QC_EXIT_LINGER_MS);
        s_send(self, &(qc_wmsg_t){.type = QC_WMSG_BYE});
    }
    qc_info("stopped");
    self->finished = 1;
}

static long s_poll_timeout(qc_session_t *self, int64_t now)
{
    int64_t next;
    if (self->sock) {
        next = self->last_sent_ms + self->heartbeat_ms;
        if (self->last_heard_ms + self->liveness_ms < next)
            next = self->last_heard_ms + self->liveness_ms;
    } else {
        next = self->reconnect_at_ms;
    }
    int64_t job = qc_runner_next_deadline_ms(self->runner);
    if (job >= 0 && job < next)
        next = job;
    /* While jobs run, wake often enough to stream their output. */
    if (qc_runner_busy(self->runner) > 0 && now + QC_RUNNER_OUTPUT_MS < next)
        next = now + QC_RUNNER_OUTPUT_MS;
    if (self->stop != S_RUNNING && self->jobs_done_ms >= 0 &&
        self->jobs_done_ms + s_ack_wait_ms(self) < next)
        next = self->jobs_done_ms + s_ack_wait_ms(self);
    return next > now ? (long)(next - now) : 0;
}

int qc_session_run(qc_session_t *self)
{
    while (!self->finished) {
        /* One poll(2) on the sockets' ZMQ_FDs rather than zmq_poll, which
         * asks each socket's ZMQ_EVENTS twice a call (a poll(2) and a
         * getpid(2) each inside libzmq). A ZMQ_FD only signals what is new
         * since the socket's events were last read, so the DEALER (sent on
         * from everywhere) is asked first, every time. */
        int sock_ready = self->sock && (zsock_events(self->sock) & ZMQ_POLLIN);
        int monitor_ready = 0;
        if (self->monitor && self->monitor_stale) {
            monitor_ready = (zsock_events(self->monitor) & ZMQ_POLLIN) != 0;
            self->monitor_stale = 0;
        }
        int n = 0;
        self->items[n++] = (struct pollfd){.fd = self->sigfd, .events = POLLIN};
        int sock_item = -1;
        if (self->sock) {
            sock_item = n;
            self->items[n++] = (struct pollfd){.fd = zsock_fd(self->sock), .events = POLLIN};
        }
        int monitor_item = -1;
        if (self->monitor) {
            monitor_item = n;
            self->items[n++] = (struct pollfd){.fd = zsock_fd(self->monitor), .events = POLLIN};
        }
        int first_pipe = n;
        n += qc_runner_poll_items(self->runner, self->items + n, self->items_cap - n);

        long timeout = sock_ready || monitor_ready ? 0 : s_poll_timeout(self, qc_clock_mono_ms());
        if (poll(self->items, (nfds_t)n, timeout > INT_MAX ? INT_MAX : (int)timeout) < 0) {
            if (errno == EINTR)
                continue;
            qc_error("poll failed: %s", strerror(errno));
            self->exit_code = 1;
            break;
        }
        if (sock_item >= 0 && !sock_ready && self->items[sock_item].revents)
            sock_ready = (zsock_events(self->sock) & ZMQ_POLLIN) != 0;
        if (monitor_item >= 0 && !monitor_ready && self->items[monitor_item].revents)
            monitor_ready = (zsock_events(self->monitor) & ZMQ_POLLIN) != 0;
        /* Output first, so a job that just ended has all of it in its ring. */
        for (int i = first_pipe; i < n; i++)
            if (self->items[i].revents & (POLLIN | POLLERR | POLLHUP))
                qc_runner_on_readable(self->runner, self->items[i].fd);
        if (self->items[0].revents & POLLIN)
            s_on_signals(self);
        if (sock_ready)
            s_on_socket(self);
        if (monitor_ready && self->monitor) {
            s_on_monitor(self);
            self->monitor_stale = 1;
        }
        int64_t now = qc_clock_mono_ms();
        qc_runner_flush_output(self->runner, now);
        qc_runner_on_timer(self->runner, now);
        s_collect_results(self);
        s_tick(self, now);
        s_check_stop(self, now);
    }
    return self->exit_code;
}
