/*
 * Raw TCP baseline for the ternion benchmarks: no MPI, no framing, no
 * security; what plain sockets can do on this machine.
 *
 *   cc -O2 -pthread -Wall -Wextra -o raw_tcp_bench bench/raw_tcp_bench.c
 *   ./raw_tcp_bench [--quick]
 *
 * The program binds three listeners on 127.0.0.1 port 0 (so the kernel
 * picks free ports), forks ranks 1 and 2, and connects every pair once
 * with TCP_NODELAY.  Transfers go straight between the caller's buffers
 * and the socket in as few calls as the kernel allows: concurrent
 * operations are attempted with MSG_DONTWAIT and multiplexed with poll();
 * once a single operation is left it finishes with one blocking call
 * (MSG_WAITALL for receives).  The overlap workload runs the exchange in
 * a pthread while the main thread computes.  Rank 0 prints one JSON
 * object on stdout; the exit status is non-zero if any rank failed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

struct tcp_ctx {
    int rank;
    int fd[PARTIES]; /* fd[rank] is unused (-1) */
    unsigned barrier_gen;
    /* xfer_start/xfer_wait: one batch at a time, run by a thread. */
    pthread_t worker;
    struct xfer_op pending[XFER_MAX_OPS];
    int npending;
    bool running;
};

static pid_t child_pid[PARTIES];

static void tcp_abort(int code)
{
    if (bench_rank == 0)
        for (int r = 1; r < PARTIES; r++)
            if (child_pid[r] > 0)
                kill(child_pid[r], SIGKILL);
    _exit(code);
}

/* One non-blocking or blocking attempt; returns bytes moved, 0 if the
 * call would block. */
static size_t tcp_io(struct tcp_ctx *ctx, const struct xfer_op *op, size_t done, int flags)
{
    int fd = ctx->fd[op->peer];
    char *p = (char *)op->buf + done;
    size_t left = op->len - done;
    for (;;) {
        ssize_t n = op->kind == XFER_SEND ? send(fd, p, left, flags | MSG_NOSIGNAL)
                                          : recv(fd, p, left, flags);
        if (n > 0)
            return (size_t)n;
        if (n == 0 && op->kind == XFER_RECV)
            bench_die(1, "rank %d closed its connection", op->peer);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && (flags & MSG_DONTWAIT))
            return 0;
        bench_die(1, "%s rank %d: %s", op->kind == XFER_SEND ? "send to" : "recv from",
                  op->peer, n < 0 ? strerror(errno) : "no progress");
    }
}

static void tcp_xfer(void *vctx, const struct xfer_op *ops, int nops)
{
    struct tcp_ctx *ctx = vctx;
    size_t done[XFER_MAX_OPS] = {0};
    int left = 0;
    if (nops > XFER_MAX_OPS)
        bench_die(1, "too many operations (%d)", nops);
    for (int i = 0; i < nops; i++)
        left += ops[i].len > 0;

    while (left > 0) {
        if (left == 1) {
            /* Nothing else to multiplex: finish with blocking calls. */
            for (int i = 0; i < nops; i++)
                while (done[i] < ops[i].len)
                    done[i] += tcp_io(ctx, &ops[i], done[i],
                                      ops[i].kind == XFER_RECV ? MSG_WAITALL : 0);
            return;
        }
        bool progress = false;
        for (int i = 0; i < nops && left > 1; i++) {
            if (done[i] == ops[i].len)
                continue;
            size_t n = tcp_io(ctx, &ops[i], done[i], MSG_DONTWAIT);
            done[i] += n;
            progress |= n > 0;
            left -= done[i] == ops[i].len;
        }
        if (progress || left <= 1)
            continue;
        struct pollfd pfd[XFER_MAX_OPS];
        int np = 0;
        for (int i = 0; i < nops; i++)
            if (done[i] < ops[i].len)
                pfd[np++] = (struct pollfd){
                    .fd = ctx->fd[ops[i].peer],
                    .events = ops[i].kind == XFER_SEND ? POLLOUT : POLLIN,
                };
        if (poll(pfd, (nfds_t)np, -1) < 0 && errno != EINTR)
            bench_die(1, "poll: %s", strerror(errno));
    }
}

/* Every party sends one byte to and receives one byte from each other
 * party; nobody leaves before everybody has arrived.  The byte carries
 * the barrier generation, which catches any stream desynchronisation. */
static void tcp_barrier(void *vctx)
{
    struct tcp_ctx *ctx = vctx;
    unsigned char out = (unsigned char)ctx->barrier_gen++, in[PARTIES] = {0};
    struct xfer_op ops[XFER_MAX_OPS];
    int n = 0;
    for (int p = 0; p < PARTIES; p++) {
        if (p == ctx->rank)
            continue;
        ops[n++] = (struct xfer_op){p, XFER_RECV, &in[p], 1};
        ops[n++] = (struct xfer_op){p, XFER_SEND, &out, 1};
    }
    tcp_xfer(ctx, ops, n);
    for (int p = 0; p < PARTIES; p++)
        if (p != ctx->rank && in[p] != out)
            bench_die(2, "barrier out of step with rank %d (%u != %u)", p, in[p], out);
}

static void *tcp_worker(void *vctx)
{
    struct tcp_ctx *ctx = vctx;
    tcp_xfer(ctx, ctx->pending, ctx->npending);
    return NULL;
}

static void tcp_xfer_start(void *vctx, const struct xfer_op *ops, int nops)
{
    struct tcp_ctx *ctx = vctx;
    if (ctx->running)
        bench_die(1, "xfer_start while a batch is running");
    if (nops > XFER_MAX_OPS)
        bench_die(1, "too many operations (%d)", nops);
    memcpy(ctx->pending, ops, (size_t)nops * sizeof *ops);
    ctx->npending = nops;
    int rc = pthread_create(&ctx->worker, NULL, tcp_worker, ctx);
    if (rc != 0)
        bench_die(1, "pthread_create: %s", strerror(rc));
    ctx->running = true;
}

static void tcp_xfer_wait(void *vctx)
{
    struct tcp_ctx *ctx = vctx;
    if (!ctx->running)
        return;
    int rc = pthread_join(ctx->worker, NULL);
    if (rc != 0)
        bench_die(1, "pthread_join: %s", strerror(rc));
    ctx->running = false;
}

/* ------------------------------------------------------------------ */
/* Setup                                                              */
/* ------------------------------------------------------------------ */

static void set_nodelay(int fd)
{
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
        bench_die(1, "TCP_NODELAY: %s", strerror(errno));
}

static void write_full(int fd, const void *buf, size_t len)
{
    struct xfer_op op = {0, XFER_SEND, (void *)buf, len};
    struct tcp_ctx tmp = {.fd = {fd, -1, -1}};
    size_t done = 0;
    while (done < len)
        done += tcp_io(&tmp, &op, done, 0);
}

static void read_full(int fd, void *buf, size_t len)
{
    struct xfer_op op = {0, XFER_RECV, buf, len};
    struct tcp_ctx tmp = {.fd = {fd, -1, -1}};
    size_t done = 0;
    while (done < len)
        done += tcp_io(&tmp, &op, done, MSG_WAITALL);
}

/* Connects to every lower rank (announcing our rank) and accepts every
 * higher one.  The listeners exist before the fork, so connect() never
 * races the peer's accept(). */
static void connect_mesh(struct tcp_ctx *ctx, const int listen_fd[PARTIES],
                         const uint16_t port[PARTIES])
{
    int me = ctx->rank;
    for (int p = 0; p < PARTIES; p++)
        ctx->fd[p] = -1;
    for (int p = 0; p < me; p++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            bench_die(1, "socket: %s", strerror(errno));
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port[p])};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
            bench_die(1, "connect to rank %d (port %u): %s", p, port[p], strerror(errno));
        set_nodelay(fd);
        int32_t id = me;
        write_full(fd, &id, sizeof id);
        ctx->fd[p] = fd;
    }
    for (int k = me + 1; k < PARTIES; k++) {
        int fd = accept4(listen_fd[me], NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            bench_die(1, "accept: %s", strerror(errno));
        set_nodelay(fd);
        int32_t id;
        read_full(fd, &id, sizeof id);
        if (id <= me || id >= PARTIES || ctx->fd[id] >= 0)
            bench_die(1, "unexpected peer id %d", id);
        ctx->fd[id] = fd;
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

int main(int argc, char **argv)
{
    bool quick = bench_parse_args(argc, argv, "raw_tcp_bench [--quick]");
    struct bench_config cfg = bench_config_for(quick);
    bench_abort_hook = tcp_abort;
    bench_rank = 0;

    int listen_fd[PARTIES];
    uint16_t port[PARTIES];
    for (int r = 0; r < PARTIES; r++)
        listen_fd[r] = open_listener(&port[r]);

    fflush(NULL);
    int rank = 0;
    for (int r = 1; r < PARTIES; r++) {
        pid_t pid = fork();
        if (pid < 0)
            bench_die(1, "fork: %s", strerror(errno));
        if (pid == 0) {
            rank = r;
            bench_rank = r;
            memset(child_pid, 0, sizeof child_pid);
            /* Never outlive rank 0 (e.g. when a timeout kills it). */
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() == 1)
                _exit(1);
            break;
        }
        child_pid[r] = pid;
    }

    struct tcp_ctx ctx = {.rank = rank};
    connect_mesh(&ctx, listen_fd, port);
    for (int r = 0; r < PARTIES; r++)
        close(listen_fd[r]);

    struct transport t = {
        .system = "raw_tcp",
        .rank = rank,
        .ctx = &ctx,
        .barrier = tcp_barrier,
        .xfer = tcp_xfer,
        .xfer_start = tcp_xfer_start,
        .xfer_wait = tcp_xfer_wait,
    };
    struct bench_results res;
    bench_run(&t, &cfg, &res);

    if (rank != 0)
        _exit(0);

    int failed = 0;
    for (int r = 1; r < PARTIES; r++) {
        int status;
        if (waitpid(child_pid[r], &status, 0) < 0)
            bench_die(1, "waitpid: %s", strerror(errno));
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "rank %d failed (status %#x)\n", r, status);
            failed = 1;
        }
    }
    if (failed)
        return 1;
    bench_print_json(stdout, t.system, &cfg, &res);
    return 0;
}
