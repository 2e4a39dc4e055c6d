/* The broker's loop: one thread, one poll(2) over the sockets with the earliest
 * deadline as its timeout. Each pass drains every ready message, applies them
 * in one transaction, dispatches due jobs, commits once, and only then sends
 * the replies and jobs (persist before acknowledge). */
#include "server.h"
#include "broker.h"
#include "ctlcmd.h"
#include "enroll.h"
#include "invites.h"
#include "events.h"
#include "keyring.h"
#include "schedule.h"
#include "timers.h"
#include "wrkcmd.h"
#include "queuectl/clock.h"
#include "queuectl/curve.h"
#include "queuectl/log.h"
#include "queuectl/paths.h"
#include "queuectl/proto.h"
#include "queuectl/protocol.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Most messages and time spent draining in one pass before committing:
 * bounds the latency of the first reply under a flood, and keeps a burst of
 * big requests from starving heartbeats and results. */
#define S_MAX_PASS_MESSAGES 4096
#define S_MAX_PASS_DRAIN_MS 50
/* Replies queued per client connection (each at most QC_MAX_REPLY_BYTES). */
#define S_CLIENT_SNDHWM 16

/* The loop's wait. zmq_poll asks every socket for its ZMQ_EVENTS twice a
 * call, and the pass asked again per message: each ask is a poll(2) and a
 * getpid(2) inside libzmq, about 30 system calls for a one-request pass.
 * Instead each socket remembers whether it may hold a message (ready) or was
 * used since its events were read (stale); only those are asked, and the
 * loop sleeps in one poll(2) on the sockets' ZMQ_FDs, which become readable
 * whenever a socket has something new to say. */
enum { S_SOCKETS = QC_OUT_TO_LOCAL + 1 };
typedef struct {
    zsock_t *sock; /* NULL: not in use */
    int fd;        /* its ZMQ_FD */
    int stale;     /* sent on or received from since its events were read */
    int ready;     /* its events said a message is waiting */
} s_watch_t;

/* What the loop owns beside the broker: the sockets and the keyrings that
 * guard them. The broker object (broker.h) has no socket: handlers queue in
 * its outbox and s_flush sends. */
typedef struct {
    qc_broker_t *broker;
    zsock_t *client_sock;
    zsock_t *local_sock; /* ipc in the home when client_sock is on the network, or NULL */
    zsock_t *worker_sock;
    zsock_t *events_sock; /* XPUB: state changes and live output, or NULL */
    /* Keys allowed per role on CURVE sockets; NULL where a socket has no CURVE. */
    qc_keyring_t *worker_keys;
    qc_keyring_t *client_keys;
    qc_invites_t *invites;      /* the invite book, with CURVE */
    s_watch_t watch[S_SOCKETS]; /* indexed by qc_out_to_t */
} s_server_t;

static volatile sig_atomic_t s_stop_signal = 0;

static void s_on_signal(int signo)
{
    s_stop_signal = signo;
}

/* Sends everything queued. committed = 0 after a failed commit: replies
 * become storage errors and jobs/acks are dropped; -1 after a commit in
 * doubt: the same with in_doubt errors. */
static void s_flush(s_server_t *server, int committed)
{
    unsigned sent_on;
    qc_broker_t *broker = server->broker;
    /* The fence: once the lease may have passed to another broker, nothing
     * this one queued goes out (no JOB, no ACK, no reply). */
    if (!qc_store_lease_valid(broker->store)) {
        if (!broker->stepped_down)
            qc_warn("the lease may have passed to another broker: %zu queued message(s) "
                    "dropped, stepping down",
                    qc_outbox_size(broker->outbox));
        qc_outbox_purge(broker->outbox);
        broker->stepped_down = 1;
        return;
    }
    sent_on = qc_outbox_flush(broker->outbox, server->client_sock, server->worker_sock,
                              server->events_sock, server->local_sock, committed);
    for (int i = 0; i < S_SOCKETS; i++)
        if (sent_on & (1u << i))
            server->watch[i].stale = 1; /* a send may have taken in its commands */
}

/* Reads w's events: whether a message is waiting. */
static int s_readable(s_watch_t *w)
{
    w->stale = 0;
    w->ready = (zsock_events(w->sock) & ZMQ_POLLIN) != 0;
    return w->ready;
}

/* Waits at most timeout ms (0: not at all) for a socket to be ready; returns
 * how many are, or -1 if poll(2) failed for another reason than a signal. */
static int s_wait(s_server_t *server, long timeout)
{
    struct pollfd fds[S_SOCKETS];
    s_watch_t *watched[S_SOCKETS];
    int ready = 0, n = 0;
    for (int i = 0; i < S_SOCKETS; i++) {
        s_watch_t *w = &server->watch[i];
        if (!w->sock)
            continue;
        if (w->stale)
            s_readable(w);
        ready += w->ready;
        fds[n] = (struct pollfd){.fd = w->fd, .events = POLLIN};
        watched[n++] = w;
    }
    if (ready)
        return ready;
    int rc = poll(fds, (nfds_t)n, timeout > INT_MAX ? INT_MAX : (int)timeout);
    if (rc < 0)
        return errno == EINTR ? 0 : -1;
    for (int i = 0; i < n; i++)
        if (fds[i].revents)
            ready += s_readable(watched[i]);
    return ready;
}

/* Who sent msg (its last frame's metadata): on a CURVE socket (keys not
 * NULL) the key and whether it is in the role's keyring. */
static void s_peer(qc_keyring_t *keys, zmsg_t *msg, qc_peer_t *peer)
{
    zframe_t *last = zmsg_last(msg);
    peer->key = keys && last ? zframe_meta(last, "User-Id") : NULL;
    peer->address = last ? zframe_meta(last, "Peer-Address") : NULL;
    if (keys && peer->key && !*peer->key)
        peer->key = NULL;
    peer->enrolled = !keys || (peer->key && qc_keyring_has(keys, peer->key));
}

/* One request from sock: the client socket, or the local one (ipc in the
 * home, no CURVE: its peers are the home's owner). */
static void s_client_message(s_server_t *server, zsock_t *sock, int writable)
{
    qc_broker_t *broker = server->broker;
    int local = sock != server->client_sock;
    qc_keyring_t *keys = local ? NULL : server->client_keys;
    zmsg_t *msg = zmsg_recv(sock);
    if (!msg)
        return;
    /* A REQ envelope is: routing id, empty delimiter, then our one frame. */
    zframe_t *routing_id = zmsg_pop(msg);
    zframe_t *delimiter = zmsg_pop(msg);
    if (!routing_id || !delimiter || zframe_size(delimiter) != 0) {
        qc_warn("client socket: message without a REQ envelope dropped");
        zframe_destroy(&routing_id);
        zframe_destroy(&delimiter);
        zmsg_destroy(&msg);
        return;
    }
    zmsg_t *envelope = zmsg_new();
    zmsg_append(envelope, &routing_id);
    zmsg_append(envelope, &delimiter);
    cJSON *reply;
    qc_peer_t peer;
    s_peer(keys, msg, &peer);
    if (keys && !peer.key) {
        reply = qc_broker_error(QC_E_FORBIDDEN, "this key is not authorized as a client");
    } else if (zmsg_size(msg) != 1) {
        reply = qc_broker_error(QC_E_BAD_REQUEST, "a request is exactly one frame, not %zu",
                                zmsg_size(msg));
    } else {
        zframe_t *frame = zmsg_first(msg);
        int in_savepoint = writable && qc_store_savepoint(broker->store) == 0;
        size_t queued = qc_outbox_size(broker->outbox);
        reply = qc_ctlcmd_handle(broker, (const char *)zframe_data(frame), zframe_size(frame),
                                 in_savepoint, &peer);
        if (in_savepoint) {
            if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok"))) {
                qc_store_release(broker->store);
            } else {
                qc_store_rollback_savepoint(broker->store);
                /* What it queued (events of a half-done batch) never happened. */
                qc_outbox_truncate(broker->outbox, queued);
            }
        }
    }
    zmsg_destroy(&msg);
    qc_outbox_reply_to(broker->outbox, local ? QC_OUT_TO_LOCAL : QC_OUT_TO_CLIENT, &envelope,
                       &reply);
}

/* Queues a worker-protocol message, sent whatever the commit. */
static void s_send_worker(qc_broker_t *broker, zframe_t *routing_id, const qc_wmsg_t *msg)
{
    zmsg_t *frames = qc_wmsg_encode(msg);
    if (frames)
        qc_outbox_send_worker(broker->outbox, routing_id, &frames, QC_OUT_ALWAYS);
}

/* ENROLL from anyone, or any message from a key not enrolled as a worker (a
 * guest admitted while an invite is open, or a key revoked since it
 * connected): ENROLL is answered ENROLLED or DENIED; anything else DENIED,
 * and nothing of it is done. */
static void s_worker_guest(qc_broker_t *broker, zframe_t *routing_id, const qc_peer_t *peer,
                           zmsg_t *frames)
{
    qc_wmsg_t msg;
    char err[128];
    if (qc_wmsg_decode(frames, &msg, err, sizeof err) == 0 && msg.type == QC_WMSG_ENROLL) {
        cJSON *empty = cJSON_CreateObject();
        cJSON *reply = qc_enroll_handle(broker, "worker", peer, msg.body ? msg.body : empty);
        cJSON_Delete(empty);
        qc_wmsg_t answer = {.type = QC_WMSG_DENIED};
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok"))) {
            answer.type = QC_WMSG_ENROLLED;
            answer.enrolled.name = qc_json_string(reply, "name");
            answer.enrolled.role = qc_json_string(reply, "role");
            answer.enrolled.key = qc_json_string(reply, "key");
            answer.enrolled.already =
                cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "already"));
        } else {
            const cJSON *error = cJSON_GetObjectItemCaseSensitive(reply, "error");
            answer.denied.code = qc_json_string(error, "code");
            answer.denied.message = qc_json_string(error, "message");
        }
        s_send_worker(broker, routing_id, &answer);
        cJSON_Delete(reply);
        qc_wmsg_clear(&msg);
        return;
    }
    qc_wmsg_clear(&msg);
    qc_warn("refused a message from %s: key %s is not authorized as a worker",
            peer->address ? peer->address : "an unknown address", peer->key ? peer->key : "(none)");
    qc_wmsg_t denied = {.type = QC_WMSG_DENIED,
                        .denied = {QC_E_FORBIDDEN,
                                   "this key is not authorized as a worker (revoked, or never "
                                   "enrolled: join with a token from 'queuectl invite')"}};
    s_send_worker(broker, routing_id, &denied);
}

static void s_worker_message(s_server_t *server, int writable)
{
    qc_broker_t *broker = server->broker;
    zmsg_t *msg = zmsg_recv(server->worker_sock);
    if (!msg)
        return;
    qc_peer_t peer;
    s_peer(server->worker_keys, msg, &peer);
    zframe_t *routing_id = zmsg_pop(msg);
    int enroll = 0; /* ENROLL (join) is answered whoever sends it */
    if (zmsg_size(msg) >= 2) {
        zmsg_first(msg);
        enroll = zframe_streq(zmsg_next(msg), QC_W_ENROLL);
    }
    if (routing_id && (!peer.enrolled || enroll)) {
        s_worker_guest(broker, routing_id, &peer, msg);
        /* What a revoked key still has registered goes now. */
        if (!peer.enrolled && peer.key && qc_dispatch_find(broker->dispatch, routing_id))
            qc_wrkcmd_drop_key(broker, peer.key);
    } else if (routing_id && writable) {
        qc_wrkcmd_handle(broker, routing_id, server->worker_keys ? peer.key : NULL, msg);
    } else if (routing_id) {
        qc_wrkcmd_touch(broker, routing_id); /* still a sign of life */
    }
    zframe_destroy(&routing_id);
    zmsg_destroy(&msg);
}

/* Reads what the events socket (XPUB) says about subscriptions: which topic
 * prefixes anyone listens to, so no event is built for nobody. */
static void s_subscriptions(s_server_t *server)
{
    void *xpub = zsock_resolve(server->events_sock);
    for (int n = 0; n < S_MAX_PASS_MESSAGES; n++) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, xpub, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&msg);
            break;
        }
        qc_events_subs_apply(server->broker->event_subs, zmq_msg_data(&msg), zmq_msg_size(&msg));
        zmq_msg_close(&msg);
    }
}

/* One pass: drain, apply, dispatch, commit, send. */
static void s_pass(s_server_t *server, int64_t *sweep_at_mono)
{
    qc_broker_t *broker = server->broker;
    static int was_writable = 1;
    int begun = qc_store_begin(broker->store);
    if (begun == QC_STORE_LEASE_LOST) { /* another broker took over */
        qc_outbox_purge(broker->outbox);
        broker->stepped_down = 1;
        return;
    }
    int writable = begun == 0;
    if (writable && qc_store_take_reconnected(broker->store)) {
        /* A new database session: the server may have lost our last unflushed
         * commits, or be a promoted standby. Rebuild from it, as after a
         * failed commit: running jobs re-read, workers asked to re-register. */
        qc_warn("database connection renewed: re-reading running jobs, workers re-register");
        qc_wrkcmd_resync(broker);
    }
    if (writable != was_writable) {
        if (writable)
            qc_info("database writable again");
        else
            qc_warn("database not writable (%s): serving reads only, refusing writes",
                    qc_store_errmsg(broker->store));
        was_writable = writable;
    }
    int64_t drain_until = qc_broker_mono_ms(broker) + S_MAX_PASS_DRAIN_MS;
    for (int n = 0; n < S_MAX_PASS_MESSAGES && qc_broker_mono_ms(broker) < drain_until; n++) {
        s_watch_t *client = &server->watch[QC_OUT_TO_CLIENT];
        s_watch_t *local = &server->watch[QC_OUT_TO_LOCAL];
        s_watch_t *worker = &server->watch[QC_OUT_TO_WORKER];
        int got = 0;
        if (client->ready) {
            s_client_message(server, server->client_sock, writable);
            got += 1 + s_readable(client);
        }
        if (local->sock && local->ready) {
            s_client_message(server, server->local_sock, writable);
            got += 1 + s_readable(local);
        }
        if (worker->ready) {
            s_worker_message(server, writable);
            got += 1 + s_readable(worker);
        }
        if (!got)
            break;
    }
    if (!writable) {
        s_flush(server, 1); /* only read replies and error replies are queued */
        /* Don't spin on a past deadline while the store refuses writes. */
        int64_t retry_at = qc_broker_mono_ms(broker) + 250;
        if (*sweep_at_mono >= 0 && *sweep_at_mono < retry_at)
            *sweep_at_mono = retry_at;
        broker->dispatch_after_mono_ms = retry_at;
        return;
    }
    qc_timers_pass(broker, sweep_at_mono);
    qc_wrkcmd_dispatch(broker, qc_broker_wall_ms(broker));
    int committed = qc_store_commit(broker->store);
    if (committed == 0) {
        broker->storage_backoff_ms = 0;
        qc_wrkcmd_dispatch_committed(broker); /* the JOBs of a claim sent with the commit */
        s_flush(server, 1);
    } else {
        broker->storage_backoff_ms =
            broker->storage_backoff_ms ? broker->storage_backoff_ms * 2 : 100;
        if (broker->storage_backoff_ms > 2000)
            broker->storage_backoff_ms = 2000;
        broker->dispatch_after_mono_ms = qc_broker_mono_ms(broker) + broker->storage_backoff_ms;
        if (committed == QC_STORE_IN_DOUBT)
            qc_error("commit in doubt (%s): the connection broke after COMMIT was sent; clients "
                     "told it may or may not be stored",
                     qc_store_errmsg(broker->store));
        else
            qc_error("commit failed (%s): rolled back, clients told to retry",
                     qc_store_errmsg(broker->store));
        qc_store_rollback(broker->store);
        qc_schedule_forget(broker);
        /* Config set in this pass was rolled back too: memory follows the store. */
        qc_config_defaults(&broker->config);
        qc_store_config_load(broker->store, &broker->config);
        s_flush(server, committed == QC_STORE_IN_DOUBT ? -1 : 0);
        qc_wrkcmd_resync(broker);
        s_flush(server, 1);
    }
    /* A new worker or a lease adds a deadline; recompute cheaply. */
    int64_t sweep = qc_timers_deadline(broker);
    if (sweep >= 0 && (*sweep_at_mono < 0 || sweep < *sweep_at_mono))
        *sweep_at_mono = sweep;
}

/* Binds a socket; with cert, as a CURVE server whose every peer must pass
 * the ZAP handler for the socket's role (domain, keyring.h). */
static zsock_t *s_bind(int type, const char *endpoint, zcert_t *cert, const char *domain,
                       int sndhwm)
{
    zsock_t *sock = zsock_new(type);
    if (!sock)
        return NULL;
    zsock_set_linger(sock, 0);
    zsock_set_maxmsgsize(sock, QC_MAX_MESSAGE_BYTES);
    zsock_set_sndhwm(sock, sndhwm);
    zsock_set_rcvhwm(sock, 100000);
    if (cert) {
        zcert_apply(cert, sock);
        zsock_set_curve_server(sock, 1);
        zsock_set_zap_domain(sock, domain);
        /* Fail closed if no ZAP handler answers (libzmq's ZMQ_ZAP_ENFORCE_DOMAIN,
         * a draft option czmq doesn't wrap in this build). */
        int enforce = 1;
        zmq_setsockopt(zsock_resolve(sock), 93, &enforce, sizeof enforce);
    }
    if (zsock_bind(sock, "%s", endpoint) < 0) {
        qc_error("cannot bind %s: %s", endpoint, zmq_strerror(zmq_errno()));
        zsock_destroy(&sock);
    }
    return sock;
}

static int s_failure_exit(int failure)
{
    switch (failure) {
    case QC_STORE_FAIL_UNREACHABLE:
        return QC_EXIT_DB_UNREACHABLE;
    case QC_STORE_FAIL_AUTH:
        return QC_EXIT_DB_AUTH;
    case QC_STORE_FAIL_NO_DATABASE:
        return QC_EXIT_DB_MISSING;
    case QC_STORE_FAIL_BAD_URI:
        return QC_EXIT_DB_URI;
    default:
        return QC_EXIT_DATABASE;
    }
}

/* Passive: binds nothing and waits until the lease is free (the active
 * broker died, stopped or was cut off), then takes it. 0, or -1 if stopped. */
static int s_wait_for_lease(qc_broker_t *broker)
{
    int said = 0;
    while (!s_stop_signal) {
        int rc = qc_store_lease_acquire(broker->store);
        if (rc == 1)
            return 0;
        if (!said || rc < 0)
            qc_info("passive: %s; waiting for the lease",
                    rc < 0 ? qc_store_errmsg(broker->store) : "another broker is active");
        said = 1;
        usleep(rc < 0 ? 1000 * 1000 : 250 * 1000);
    }
    return -1;
}

static int s_lock(const char *db_path, int *fd_out)
{
    char path[4096 + 8];
    snprintf(path, sizeof path, "%s.lock", db_path);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        qc_error("cannot open lock file %s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        qc_error("another broker is already using %s (lock %s is held)", db_path, path);
        close(fd);
        return -1;
    }
    *fd_out = fd;
    return 0;
}

int qc_server_run(const qc_server_options_t *options)
{
    int exit_code = QC_EXIT_OK;
    int lock_fd = -1;
    qc_store_t *store = NULL;
    qc_broker_t *broker = NULL;
    s_server_t server = {0};

    int curve = !options->insecure &&
                (qc_endpoint_is_network(options->worker_endpoint) ||
                 qc_endpoint_is_network(options->client_endpoint) ||
                 (options->events_endpoint[0] && qc_endpoint_is_network(options->events_endpoint)));
    zcert_t *cert = NULL;
    zactor_t *auth = NULL;
    char invites_path[4200];
    snprintf(invites_path, sizeof invites_path, "%s/invites.json", options->authorized_dir);
    qc_zap_config_t zap = {options->authorized_dir, invites_path};
    /* Whatever the umask: the database, its WAL and the sockets are the
     * owner's alone (they hold every command and its output). */
    umask(077);
    /* SQLite: the data directory's lock is the fence. PostgreSQL: the lease. */
    int postgres = qc_store_is_postgres(options->db_path);
    if (!postgres && s_lock(options->db_path, &lock_fd) != 0)
        return QC_EXIT_LOCKED;

    char err[512], db_name[sizeof options->db_path];
    qc_store_display_name(options->db_path, db_name, sizeof db_name);
    int failure = 0;
    for (;;) {
        store = qc_store_connect(options->db_path, options->synchronous_full, options->liveness_ms,
                                 &failure, err, sizeof err);
        /* After stepping down, a database that is away is waited for. */
        if (store || !options->keep_trying || failure != QC_STORE_FAIL_UNREACHABLE || s_stop_signal)
            break;
        qc_warn("%s: %s; trying again", db_name, err);
        usleep(1000 * 1000);
    }
    if (!store) {
        qc_error("%s: %s", db_name, err);
        exit_code = s_failure_exit(failure);
        goto done;
    }
    broker = qc_broker_new(store, NULL);
    if (!broker) {
        qc_error("out of memory");
        exit_code = QC_EXIT_RUNTIME;
        goto done;
    }
    server.broker = broker;
    broker->heartbeat_ms = options->heartbeat_ms;
    broker->liveness_ms = options->liveness_ms;
    broker->worker_endpoint = options->worker_endpoint;
    broker->client_endpoint = options->client_endpoint;
    broker->authorized_dir = options->authorized_dir;
    broker->events_endpoint = options->events_endpoint[0] ? options->events_endpoint : NULL;
    if (qc_store_config_load(broker->store, &broker->config) != 0) {
        qc_error("cannot read config: %s", qc_store_errmsg(broker->store));
        exit_code = QC_EXIT_DATABASE;
        goto done;
    }

    /* Our own handlers, without SA_RESTART, so the poll wakes on a signal. */
    zsys_handler_set(NULL);
    struct sigaction action = {0};
    action.sa_handler = s_on_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (postgres) {
        if (s_wait_for_lease(broker) != 0)
            goto done;                       /* stopped while passive */
        qc_config_defaults(&broker->config); /* it may have changed while we waited */
        qc_store_config_load(broker->store, &broker->config);
    }

    if (curve) {
        /* One ZAP handler for the process, started before any CURVE bind: it
         * admits a key at the handshake only into its role's socket. Each
         * message is checked again against a cached keyring, so a key removed
         * from authorized/ stops working within a second. */
        char dir[4200];
        err[0] = '\0';
        cert = qc_curve_broker_cert(err, sizeof err);
        if (!cert) {
            qc_error("%s", err);
            exit_code = QC_EXIT_USAGE;
            goto done;
        }
        for (int i = 0; i < 2; i++) {
            snprintf(dir, sizeof dir, "%s/%s", options->authorized_dir, i ? "clients" : "workers");
            zsys_dir_create("%s", dir);
        }
        snprintf(broker->public_key, sizeof broker->public_key, "%s", zcert_public_txt(cert));
        server.invites = qc_invites_new(invites_path);
        broker->invites = server.invites;
        auth = zactor_new(qc_keyring_zap_actor, &zap);
        if (qc_endpoint_is_network(options->worker_endpoint)) {
            snprintf(dir, sizeof dir, "%s/workers", options->authorized_dir);
            server.worker_keys = qc_keyring_new(dir);
        }
        if (qc_endpoint_is_network(options->client_endpoint)) {
            snprintf(dir, sizeof dir, "%s/clients", options->authorized_dir);
            server.client_keys = qc_keyring_new(dir);
        }
        broker->worker_keys = server.worker_keys; /* enroll.c reloads them */
        broker->client_keys = server.client_keys;
        qc_info("CURVE on: broker public key %s; authorized keys in %s/{workers,clients}",
                zcert_public_txt(cert), options->authorized_dir);
    }
    /* High-water marks count messages per peer: a client that pipelines
     * requests and never reads has at most S_CLIENT_SNDHWM replies of at most
     * QC_MAX_REPLY_BYTES queued (64 MiB); more are dropped. */
    server.worker_sock = s_bind(ZMQ_ROUTER, options->worker_endpoint,
                                server.worker_keys ? cert : NULL, QC_ZAP_DOMAIN_WORKERS, 100000);
    server.client_sock =
        s_bind(ZMQ_ROUTER, options->client_endpoint, server.client_keys ? cert : NULL,
               QC_ZAP_DOMAIN_CLIENTS, S_CLIENT_SNDHWM);
    if (!server.worker_sock || !server.client_sock) {
        exit_code = QC_EXIT_BIND;
        goto done;
    }
    /* A client endpoint on the network: the broker's own machine keeps its
     * local socket (ipc in the home, owner only), so its CLI needs no key
     * (queuectl invite, keys). Not fatal if it can't be bound. */
    char local_endpoint[1024];
    if (qc_endpoint_is_network(options->client_endpoint) &&
        qc_default_client_endpoint(local_endpoint, sizeof local_endpoint) == 0) {
        server.local_sock = s_bind(ZMQ_ROUTER, local_endpoint, NULL, NULL, S_CLIENT_SNDHWM);
        if (!server.local_sock)
            qc_warn("no local client socket: the CLI on this machine needs a client key");
    }
    if (options->events_endpoint[0]) {
        int events_curve = curve && qc_endpoint_is_network(options->events_endpoint);
        if (events_curve && !auth) {
            qc_error("a tcp events endpoint needs a tcp worker or client endpoint (for CURVE)");
            exit_code = QC_EXIT_USAGE;
            goto done;
        }
        /* XPUB, not PUB: its subscriptions tell whether anyone listens. */
        server.events_sock = s_bind(ZMQ_XPUB, options->events_endpoint, events_curve ? cert : NULL,
                                    QC_ZAP_DOMAIN_EVENTS, 100000);
        broker->event_subs = qc_events_subs_new();
        if (!server.events_sock || !broker->event_subs) {
            exit_code = QC_EXIT_BIND;
            goto done;
        }
        broker->publishing = 1;
    }
    for (int i = 0; i < 3 && options->insecure; i++) {
        const char *endpoint = i == 2   ? options->events_endpoint
                               : i == 1 ? options->client_endpoint
                                        : options->worker_endpoint;
        if (qc_endpoint_is_network(endpoint))
            qc_warn("INSECURE: %s accepts unauthenticated peers; anyone who reaches it can run "
                    "commands on your workers",
                    endpoint);
    }
    if (qc_timers_load_orphans(broker, qc_broker_mono_ms(broker)) != 0) {
        qc_error("cannot read running jobs: %s", qc_store_errmsg(broker->store));
        exit_code = QC_EXIT_DATABASE;
        goto done;
    }
    if (options->pid_path[0]) {
        FILE *pid_file = fopen(options->pid_path, "w");
        if (pid_file) {
            fprintf(pid_file, "%d\n", (int)getpid());
            fclose(pid_file);
        }
    }
    qc_info("broker %s ready: workers on %s, clients on %s%s%s, events on %s, database %s "
            "(synchronous=%s)",
            QC_VERSION, options->worker_endpoint, options->client_endpoint,
            server.local_sock ? " and locally on " : "", server.local_sock ? local_endpoint : "",
            options->events_endpoint[0] ? options->events_endpoint : "(none)", db_name,
            options->synchronous_full ? "FULL" : "NORMAL");

    zsock_t *sockets[S_SOCKETS] = {[QC_OUT_TO_CLIENT] = server.client_sock,
                                   [QC_OUT_TO_WORKER] = server.worker_sock,
                                   [QC_OUT_TO_EVENTS] = server.events_sock,
                                   [QC_OUT_TO_LOCAL] = server.local_sock};
    for (int i = 0; i < S_SOCKETS; i++)
        if (sockets[i])
            server.watch[i] =
                (s_watch_t){.sock = sockets[i], .fd = zsock_fd(sockets[i]), .stale = 1};
    int64_t heartbeat_at = qc_broker_mono_ms(broker) + broker->heartbeat_ms;
    int64_t sweep_at = qc_timers_deadline(broker);
    while (!s_stop_signal) {
        int64_t now_mono = qc_broker_mono_ms(broker);
        int64_t wake = heartbeat_at;
        if (sweep_at >= 0 && sweep_at < wake)
            wake = sweep_at;
        if (broker->next_due_ms >= 0) {
            int64_t due_mono = now_mono + (broker->next_due_ms - qc_broker_wall_ms(broker));
            if (due_mono < wake)
                wake = due_mono;
        }
        if (broker->maybe_due && now_mono >= broker->dispatch_after_mono_ms)
            wake = now_mono;
        else if (broker->maybe_due && broker->dispatch_after_mono_ms < wake)
            wake = broker->dispatch_after_mono_ms;
        long timeout = wake > now_mono ? (long)(wake - now_mono) : 0;
        int rc = s_wait(&server, timeout);
        int64_t woke = qc_broker_mono_ms(broker);
        if (rc < 0) {
            qc_error("poll failed: %s", strerror(errno));
            exit_code = QC_EXIT_RUNTIME;
            break;
        }
        if (s_stop_signal)
            break;
        /* Asleep far past the timeout (SIGSTOP, a starved machine): workers
         * could not be heard meanwhile, so none is blamed for the silence. */
        if (woke - now_mono > timeout + broker->heartbeat_ms) {
            qc_warn("the broker was stalled for %lld ms: every worker gets a fresh liveness window",
                    (long long)(woke - now_mono - timeout));
            broker->awake_since_mono_ms = woke;
        }
        if (server.watch[QC_OUT_TO_EVENTS].ready) {
            s_subscriptions(&server); /* before the pass builds its events */
            server.watch[QC_OUT_TO_EVENTS].stale = 1;
            server.watch[QC_OUT_TO_EVENTS].ready = 0;
        }
        s_pass(&server, &sweep_at);
        if (qc_broker_mono_ms(broker) - woke > broker->heartbeat_ms)
            broker->awake_since_mono_ms =
                qc_broker_mono_ms(broker); /* a pass longer than a heartbeat */
        if (qc_broker_mono_ms(broker) >= heartbeat_at) {
            qc_wrkcmd_heartbeat(broker);
            s_flush(&server, 1);
            heartbeat_at = qc_broker_mono_ms(broker) + broker->heartbeat_ms;
        }
        if (broker->stepped_down) {
            qc_warn("stepped down: another broker holds the lease; closing sockets");
            exit_code = QC_EXIT_STEPPED_DOWN;
            break;
        }
    }
    if (s_stop_signal)
        qc_info("received %s: shutting down", strsignal(s_stop_signal));

done:
    /* Reverse order of creation; the store rolls back anything still open. */
    zsock_destroy(&server.client_sock);
    zsock_destroy(&server.local_sock);
    zsock_destroy(&server.worker_sock);
    zsock_destroy(&server.events_sock);
    if (broker)
        qc_events_subs_destroy(&broker->event_subs);
    zactor_destroy(&auth); /* after the sockets it authenticates */
    qc_keyring_destroy(&server.worker_keys);
    qc_keyring_destroy(&server.client_keys);
    qc_invites_destroy(&server.invites);
    zcert_destroy(&cert);
    qc_broker_destroy(&broker); /* its outbox and registry */
    qc_store_destroy(&store);
    if (options->pid_path[0] && exit_code != QC_EXIT_LOCKED && exit_code != QC_EXIT_STEPPED_DOWN)
        unlink(options->pid_path);
    if (lock_fd >= 0)
        close(lock_fd);
    if (exit_code == QC_EXIT_OK)
        qc_info("broker stopped cleanly");
    return exit_code;
}
