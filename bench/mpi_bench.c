/*
 * OpenMPI baseline for the ternion benchmarks.
 *
 *   mpicc -O2 -Wall -Wextra -o mpi_bench bench/mpi_bench.c
 *   mpirun -np 3 ./mpi_bench [--quick] [--wan]
 *
 * Each exchange is MPI_Irecv from succ + MPI_Isend to pred + MPI_Waitall;
 * the exchange-pattern workload also runs MPI_Send + MPI_Recv and
 * MPI_Irecv + MPI_Isend + MPI_Wait (send) + MPI_Wait (receive), Secrecy's
 * own pattern.  The workloads themselves live in common.h (wan.h for
 * --wan).  Rank 0 prints one JSON
 * object on stdout.
 */
#include <mpi.h>
#include <stdlib.h>

#include "common.h"
#include "wan.h"

struct mpi_ctx {
    MPI_Request req[XFER_MAX_OPS];
    int nreq;
};

static void mpi_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }

static void mpi_check(int rc, const char *what)
{
    if (rc != MPI_SUCCESS)
        bench_die(1, "%s failed (MPI error %d)", what, rc);
}

static void mpi_barrier(void *ctx)
{
    (void)ctx;
    mpi_check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
}

static void mpi_xfer_start(void *vctx, const struct xfer_op *ops, int nops)
{
    struct mpi_ctx *ctx = vctx;
    if (nops > XFER_MAX_OPS)
        bench_die(1, "too many operations (%d)", nops);
    for (int i = 0; i < nops; i++) {
        if (ops[i].len > (size_t)INT32_MAX)
            bench_die(1, "message of %zu bytes exceeds an MPI int count", ops[i].len);
        int count = (int)ops[i].len;
        if (ops[i].kind == XFER_RECV)
            mpi_check(MPI_Irecv(ops[i].buf, count, MPI_BYTE, ops[i].peer, 0, MPI_COMM_WORLD,
                                &ctx->req[i]),
                      "MPI_Irecv");
        else
            mpi_check(MPI_Isend(ops[i].buf, count, MPI_BYTE, ops[i].peer, 0, MPI_COMM_WORLD,
                                &ctx->req[i]),
                      "MPI_Isend");
    }
    ctx->nreq = nops;
}

static void mpi_xfer_wait(void *vctx)
{
    struct mpi_ctx *ctx = vctx;
    mpi_check(MPI_Waitall(ctx->nreq, ctx->req, MPI_STATUSES_IGNORE), "MPI_Waitall");
    ctx->nreq = 0;
}

static void mpi_xfer_wait_each(void *vctx)
{
    struct mpi_ctx *ctx = vctx;
    for (int i = ctx->nreq - 1; i >= 0; i--)
        mpi_check(MPI_Wait(&ctx->req[i], MPI_STATUS_IGNORE), "MPI_Wait");
    ctx->nreq = 0;
}

static void mpi_send_then_recv(void *vctx, const struct xfer_op *send, const struct xfer_op *recv)
{
    (void)vctx;
    mpi_check(MPI_Send(send->buf, (int)send->len, MPI_BYTE, send->peer, 0, MPI_COMM_WORLD),
              "MPI_Send");
    mpi_check(MPI_Recv(recv->buf, (int)recv->len, MPI_BYTE, recv->peer, 0, MPI_COMM_WORLD,
                       MPI_STATUS_IGNORE),
              "MPI_Recv");
}

static void mpi_xfer(void *ctx, const struct xfer_op *ops, int nops)
{
    mpi_xfer_start(ctx, ops, nops);
    mpi_xfer_wait(ctx);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    bench_abort_hook = mpi_abort;

    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    bench_rank = rank;
    if (size != PARTIES)
        bench_die(64, "needs exactly %d ranks (mpirun -np %d), got %d", PARTIES, PARTIES, size);

    struct bench_args args = bench_parse_args(argc, argv, "mpirun -np 3 mpi_bench [--quick] [--wan]");

    struct mpi_ctx ctx = {.nreq = 0};
    struct transport t = {
        /* The same source runs on OpenMPI and, rebuilt with ternion-mpicc,
         * on ternion's MPI drop-in: the runner names which. */
        .system = getenv("BENCH_SYSTEM") ? getenv("BENCH_SYSTEM") : "openmpi_tcp",
        .rank = rank,
        .ctx = &ctx,
        .barrier = mpi_barrier,
        .xfer = mpi_xfer,
        .xfer_start = mpi_xfer_start,
        .xfer_wait = mpi_xfer_wait,
        .send_then_recv = mpi_send_then_recv,
        .xfer_wait_each = mpi_xfer_wait_each,
    };
    if (args.wan) {
        struct wan_config cfg = wan_config_for(args.quick);
        struct wan_results res;
        wan_run(&t, &cfg, &res);
        if (rank == 0)
            wan_print_json(stdout, t.system, &cfg, &res);
    } else {
        struct bench_config cfg = bench_config_for(args.quick);
        struct bench_results res;
        bench_run(&t, &cfg, &res);
        if (rank == 0)
            bench_print_json(stdout, t.system, &cfg, &res);
    }
    MPI_Finalize();
    return 0;
}
