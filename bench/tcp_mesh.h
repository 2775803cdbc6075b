/*
 * Three local ranks over TCP, for the socket baselines (raw_tcp_bench.c,
 * tls_bench.c): rank 0 binds three listeners on 127.0.0.1 port 0 (so the
 * kernel picks free ports), forks ranks 1 and 2, and every pair connects
 * once with TCP_NODELAY.  The program supplies its transfer (`xfer`);
 * the barrier and the batches that run in a thread while the caller
 * computes (xfer_start/xfer_wait) are built on it here.  Rank 0 collects
 * the children's exit statuses.
 *
 * Include after common.h.
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

static int open_listener(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        bench_die(1, "socket: %s", strerror(errno));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, PARTIES) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
        bench_die(1, "listen on 127.0.0.1: %s", strerror(errno));
    *port = ntohs(sa.sin_port);
    return fd;
}

/* Forks ranks 1 and 2 and connects the mesh: m->fd[p] is the connection
 * to rank p, m->rank this process's rank, and `xfer` moves its bytes.
 * Each rank connects to every lower rank
 * (announcing its rank) and accepts every higher one; the listeners exist
 * before the fork, so connect() never races the peer's accept(). */
static void mesh_start(struct mesh_party *m, mesh_xfer_fn *xfer)
{
    int *fd = m->fd;
    int listen_fd[PARTIES];
    uint16_t port[PARTIES];
    bench_abort_hook = mesh_abort;
    bench_rank = 0;
    for (int r = 0; r < PARTIES; r++)
        listen_fd[r] = open_listener(&port[r]);

    fflush(NULL);
    int me = 0;
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

    for (int p = 0; p < PARTIES; p++)
        fd[p] = -1;
    for (int p = 0; p < me; p++) {
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0)
            bench_die(1, "socket: %s", strerror(errno));
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port[p])};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(s, (struct sockaddr *)&sa, sizeof sa) < 0)
            bench_die(1, "connect to rank %d (port %u): %s", p, port[p], strerror(errno));
        set_nodelay(s);
        int32_t id = me;
        fd_write_full(s, &id, sizeof id);
        fd[p] = s;
    }
    for (int k = me + 1; k < PARTIES; k++) {
        int s = accept4(listen_fd[me], NULL, NULL, SOCK_CLOEXEC);
        if (s < 0)
            bench_die(1, "accept: %s", strerror(errno));
        set_nodelay(s);
        int32_t id;
        fd_read_full(s, &id, sizeof id);
        if (id <= me || id >= PARTIES || fd[id] >= 0)
            bench_die(1, "unexpected peer id %d", id);
        fd[id] = s;
    }
    for (int r = 0; r < PARTIES; r++)
        close(listen_fd[r]);
    m->rank = me;
    m->xfer = xfer;
}

/* Rank 0: waits for ranks 1 and 2; true if both exited with status 0. */
static bool mesh_children_succeeded(void)
{
    bool ok = true;
    for (int r = 1; r < PARTIES; r++) {
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

#endif /* TERNION_BENCH_TCP_MESH_H */
