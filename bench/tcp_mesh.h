/*
 * Three ranks over TCP, for the socket baselines (raw_tcp_bench.c,
 * tls_bench.c): rank 0 binds three listeners on 127.0.0.1 port 0 (so the
 * kernel picks free ports) and forks ranks 1 and 2, or each rank is
 * started on its own (BENCH_RANK, BENCH_PEERS: one per network namespace
 * of the wide-area emulator); every pair connects once with TCP_NODELAY.  The program supplies its transfer (`xfer`);
 * the barrier and the batches that run in a thread while the caller
 * computes (xfer_start/xfer_wait) are built on it here.  Rank 0 collects
 * the children's exit statuses.
 *
 * Include after common.h and wan.h.
 */
#ifndef TERNION_BENCH_TCP_MESH_H
#define TERNION_BENCH_TCP_MESH_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t mesh_child_pid[PARTIES];

typedef void mesh_xfer_fn(void *ctx, const struct xfer_op *ops, int nops);

/* A party of the mesh: the first member of each program's context, so the
 * transport's context pointer points at it too. */
struct mesh_party {
    int rank;
    int fd[PARTIES]; /* fd[rank] is unused (-1) */
    mesh_xfer_fn *xfer;
    unsigned barrier_gen;
    /* xfer_start/xfer_wait: one batch at a time, run by a thread. */
    pthread_t worker;
    struct xfer_op pending[XFER_MAX_OPS];
    int npending;
    bool running;
};

/* Every party sends one byte to and receives one byte from each other
 * party; nobody leaves before everybody has arrived.  The byte carries
 * the barrier generation, which catches any stream desynchronisation. */
static void mesh_barrier(void *vctx)
{
    struct mesh_party *m = vctx;
    unsigned char out = (unsigned char)m->barrier_gen++, in[PARTIES] = {0};
    struct xfer_op ops[XFER_MAX_OPS];
    int n = 0;
    for (int p = 0; p < PARTIES; p++) {
        if (p == m->rank)
            continue;
        ops[n++] = (struct xfer_op){p, XFER_RECV, &in[p], 1};
        ops[n++] = (struct xfer_op){p, XFER_SEND, &out, 1};
    }
    m->xfer(vctx, ops, n);
    for (int p = 0; p < PARTIES; p++)
        if (p != m->rank && in[p] != out)
            bench_die(2, "barrier out of step with rank %d (%u != %u)", p, in[p], out);
}

static void *mesh_worker(void *vctx)
{
    struct mesh_party *m = vctx;
    m->xfer(vctx, m->pending, m->npending);
    return NULL;
}

static void mesh_xfer_start(void *vctx, const struct xfer_op *ops, int nops)
{
    struct mesh_party *m = vctx;
    if (m->running)
        bench_die(1, "xfer_start while a batch is running");
    if (nops > XFER_MAX_OPS)
        bench_die(1, "too many operations (%d)", nops);
    memcpy(m->pending, ops, (size_t)nops * sizeof *ops);
    m->npending = nops;
    int rc = pthread_create(&m->worker, NULL, mesh_worker, vctx);
    if (rc != 0)
        bench_die(1, "pthread_create: %s", strerror(rc));
    m->running = true;
}

static void mesh_xfer_wait(void *vctx)
{
    struct mesh_party *m = vctx;
    if (!m->running)
        return;
    int rc = pthread_join(m->worker, NULL);
    if (rc != 0)
        bench_die(1, "pthread_join: %s", strerror(rc));
    m->running = false;
}

/* For bench_abort_hook: rank 0 takes its children down with it. */
static void mesh_abort(int code)
{
    if (bench_rank == 0)
        for (int r = 1; r < PARTIES; r++)
            if (mesh_child_pid[r] > 0)
                kill(mesh_child_pid[r], SIGKILL);
    _exit(code);
}

static void set_nodelay(int fd)
{
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
        bench_die(1, "TCP_NODELAY: %s", strerror(errno));
}

static void fd_write_full(int fd, const void *buf, size_t len)
{
    for (size_t done = 0; done < len;) {
        ssize_t n = send(fd, (const char *)buf + done, len - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            bench_die(1, "send during set-up: %s", n < 0 ? strerror(errno) : "no progress");
        done += (size_t)n;
    }
}

static void fd_read_full(int fd, void *buf, size_t len)
{
    for (size_t done = 0; done < len;) {
        ssize_t n = recv(fd, (char *)buf + done, len - done, MSG_WAITALL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            bench_die(1, "recv during set-up: %s", n < 0 ? strerror(errno) : "peer closed");
        done += (size_t)n;
    }
}

/* A listener on `sa` (port 0: the kernel picks one, written back). */
static int open_listener(struct sockaddr_in *sa)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        bench_die(1, "socket: %s", strerror(errno));
    int one = 1;
    socklen_t len = sizeof *sa;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)sa, sizeof *sa) < 0 || listen(fd, PARTIES) < 0 ||
        getsockname(fd, (struct sockaddr *)sa, &len) < 0)
        bench_die(1, "listen on %s:%u: %s", inet_ntoa(sa->sin_addr), ntohs(sa->sin_port),
                  strerror(errno));
    return fd;
}

/* Connects to `sa`, trying again while nothing listens there yet (a rank
 * started on its own may come up after the ranks that dial it), for up to
 * a minute. */
static int dial(int peer, const struct sockaddr_in *sa)
{
    double deadline = now_s() + 60;
    for (;;) {
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0)
            bench_die(1, "socket: %s", strerror(errno));
        if (connect(s, (const struct sockaddr *)sa, sizeof *sa) == 0)
            return s;
        int e = errno;
        close(s);
        if ((e != ECONNREFUSED && e != EINTR) || now_s() > deadline)
            bench_die(1, "connect to rank %d (%s:%u): %s", peer, inet_ntoa(sa->sin_addr),
                      ntohs(sa->sin_port), strerror(e));
        usleep(50 * 1000);
    }
}

/* A rank started on its own: BENCH_RANK is its rank and BENCH_PEERS where
 * every rank listens, "a.b.c.d:port,a.b.c.d:port,a.b.c.d:port", rank 0
 * first.  Returns false when BENCH_RANK is not set. */
static bool mesh_rank_from_env(int *me, struct sockaddr_in addr[PARTIES])
{
    const char *rank = getenv("BENCH_RANK"), *peers = getenv("BENCH_PEERS");
    if (!rank)
        return false;
    char *end;
    long r = strtol(rank, &end, 10);
    if (*rank == '\0' || *end != '\0' || r < 0 || r >= PARTIES)
        bench_die(64, "BENCH_RANK must be 0, 1 or 2, not '%s'", rank);
    *me = (int)r;
    bench_rank = *me;
    if (!peers)
        bench_die(64, "BENCH_RANK is set but BENCH_PEERS is not");
    const char *p = peers;
    for (int i = 0; i < PARTIES; i++) {
        char host[64];
        unsigned port;
        int used = 0;
        if (sscanf(p, "%63[0-9.]:%u%n", host, &port, &used) != 2 || port > 65535 ||
            (p[used] != (i == PARTIES - 1 ? '\0' : ',')))
            bench_die(64, "BENCH_PEERS must be three a.b.c.d:port entries, not '%s'", peers);
        addr[i] = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        if (inet_pton(AF_INET, host, &addr[i].sin_addr) != 1)
            bench_die(64, "BENCH_PEERS: '%s' is not an IPv4 address", host);
        p += used + 1;
    }
    return true;
}

/* Forks ranks 1 and 2 on this machine (each rank listening on 127.0.0.1,
 * at a port the kernel picks), or, when BENCH_RANK is set, is the one
 * rank it names (mesh_rank_from_env), as on three hosts.  Then connects
 * the mesh: m->fd[p] is the connection to rank p, m->rank this process's
 * rank, and `xfer` moves its bytes.  Each rank connects to every lower
 * rank (announcing its rank) and accepts every higher one. */
static void mesh_start(struct mesh_party *m, mesh_xfer_fn *xfer)
{
    int *fd = m->fd;
    int listen_fd = -1, me = 0;
    struct sockaddr_in addr[PARTIES];
    bench_abort_hook = mesh_abort;
    bench_rank = 0;

    if (mesh_rank_from_env(&me, addr)) {
        listen_fd = open_listener(&addr[me]);
    } else {
        /* Every listener exists before the fork, so connect() never races
         * the peer's accept(). */
        int fds[PARTIES];
        for (int r = 0; r < PARTIES; r++) {
            addr[r] = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = 0};
            addr[r].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            fds[r] = open_listener(&addr[r]);
        }
        fflush(NULL);
        for (int r = 1; r < PARTIES; r++) {
            pid_t pid = fork();
            if (pid < 0)
                bench_die(1, "fork: %s", strerror(errno));
            if (pid == 0) {
                me = r;
                bench_rank = r;
                memset(mesh_child_pid, 0, sizeof mesh_child_pid);
                /* Never outlive rank 0 (e.g. when a timeout kills it). */
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() == 1)
                    _exit(1);
                break;
            }
            mesh_child_pid[r] = pid;
        }
        for (int r = 0; r < PARTIES; r++)
            if (r != me)
                close(fds[r]);
        listen_fd = fds[me];
    }

    for (int p = 0; p < PARTIES; p++)
        fd[p] = -1;
    for (int p = 0; p < me; p++) {
        int s = dial(p, &addr[p]);
        set_nodelay(s);
        int32_t id = me;
        fd_write_full(s, &id, sizeof id);
        fd[p] = s;
    }
    for (int k = me + 1; k < PARTIES; k++) {
        int s = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (s < 0)
            bench_die(1, "accept: %s", strerror(errno));
        set_nodelay(s);
        int32_t id;
        fd_read_full(s, &id, sizeof id);
        if (id <= me || id >= PARTIES || fd[id] >= 0)
            bench_die(1, "unexpected peer id %d", id);
        fd[id] = s;
    }
    close(listen_fd);
    m->rank = me;
    m->xfer = xfer;
}

/* Rank 0: waits for ranks 1 and 2 if it forked them; true if both exited
 * with status 0 (ranks started on their own report their own status). */
static bool mesh_children_succeeded(void)
{
    bool ok = true;
    for (int r = 1; r < PARTIES; r++) {
        if (mesh_child_pid[r] <= 0)
            continue;
        int status;
        if (waitpid(mesh_child_pid[r], &status, 0) < 0)
            bench_die(1, "waitpid: %s", strerror(errno));
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "rank %d failed (status %#x)\n", r, status);
            ok = false;
        }
    }
    return ok;
}

/* Runs the workloads `args` asks for (common.h's, or wan.h's with --wan)
 * and returns the program's exit status: rank 0 prints the JSON once its
 * children, if it forked them, have succeeded; the other ranks print
 * nothing. */
static int mesh_run(const struct transport *t, struct bench_args args)
{
    struct bench_config cfg = bench_config_for(args.quick);
    struct wan_config wan_cfg = wan_config_for(args.quick);
    struct bench_results res;
    struct wan_results wan_res;
    if (args.wan)
        wan_run(t, &wan_cfg, &wan_res);
    else
        bench_run(t, &cfg, &res);
    if (t->rank != 0)
        _exit(0);
    if (!mesh_children_succeeded())
        return 1;
    if (args.wan)
        wan_print_json(stdout, t->system, &wan_cfg, &wan_res);
    else
        bench_print_json(stdout, t->system, &cfg, &res);
    return 0;
}

#endif /* TERNION_BENCH_TCP_MESH_H */
