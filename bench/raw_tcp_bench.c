/*
 * Raw TCP baseline for the ternion benchmarks: no MPI, no framing, no
 * security; what plain sockets can do on this machine.
 *
 *   cc -O2 -pthread -Wall -Wextra -o raw_tcp_bench bench/raw_tcp_bench.c
 *   ./raw_tcp_bench [--quick] [--wan]
 *
 * The three ranks and their connections come from tcp_mesh.h.  Transfers
 * go straight between the caller's buffers and the socket in as few calls
 * as the kernel allows: concurrent
 * operations are attempted with MSG_DONTWAIT and multiplexed with poll();
 * once a single operation is left it finishes with one blocking call
 * (MSG_WAITALL for receives).  The overlap workload runs the exchange in
 * a pthread while the main thread computes.  Rank 0 prints one JSON
 * object on stdout; the exit status is non-zero if any rank failed.
 */
#define _GNU_SOURCE
#include <poll.h>

#include "common.h"
#include "wan.h"
#include "tcp_mesh.h"

/* One non-blocking or blocking attempt; returns bytes moved, 0 if the
 * call would block. */
static size_t tcp_io(struct mesh_party *ctx, const struct xfer_op *op, size_t done, int flags)
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
    struct mesh_party *ctx = vctx;
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

int main(int argc, char **argv)
{
    struct bench_args args = bench_parse_args(argc, argv, "raw_tcp_bench [--quick] [--wan]");

    /* The mesh's sockets are all a raw TCP party needs. */
    struct mesh_party ctx = {0};
    mesh_start(&ctx, tcp_xfer);
    int rank = ctx.rank;

    struct transport t = {
        .system = "raw_tcp",
        .rank = rank,
        .ctx = &ctx,
        .barrier = mesh_barrier,
        .xfer = tcp_xfer,
        .xfer_start = mesh_xfer_start,
        .xfer_wait = mesh_xfer_wait,
    };
    return mesh_run(&t, args);
}
