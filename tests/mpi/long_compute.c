/*
 * long_compute: a party that computes for longer than the peer timeout
 * without calling MPI, as Secrecy's local phases do, then exchanges.
 *
 * Rank 1 computes for COMPUTE_SECONDS (beyond ternion's default 5 s peer
 * timeout) while the other two wait in a ring exchange; then all exchange
 * again. The link
 * must stay alive meanwhile: on Linux the communication thread runs beside
 * the computation; in the kernel that needs a preemptible kernel, or the
 * computing thread starves it and the peers declare the rank dead.
 */
#include "mpi_test.h"

#define COMPUTE_SECONDS 7.0
#define LONG_COMPUTE_STREAM 0x4c4f4e47ULL /* "LONG" */

/* A computation that makes no MPI call, for at least `seconds`. */
static uint64_t compute_for(double seconds)
{
    uint64_t acc = 1;
    const double start = MPI_Wtime();
    while (MPI_Wtime() - start < seconds) {
        for (int i = 0; i < 100000; i++)
            acc = mix64(acc + (uint64_t)i);
    }
    return acc;
}

int main(int argc, char **argv)
{
    test_ctx t = test_begin("long_compute", &argc, &argv);
    const int pred = pred_of(t.rank), succ = succ_of(t.rank);
    enum { BUSY_RANK = 1 };
    for (int round = 0; round < 2; round++) {
        if (round == 0 && t.rank == BUSY_RANK)
            (void)compute_for(COMPUTE_SECONDS);
        uint64_t mine = stream_at(stream_id(LONG_COMPUTE_STREAM, (uint64_t)round, (uint64_t)t.rank, 0), 0);
        uint64_t want = stream_at(stream_id(LONG_COMPUTE_STREAM, (uint64_t)round, (uint64_t)succ, 0), 0);
        uint64_t got = 0;
        MPI_Status st = fresh_status();
        CHECK_MPI(&t, MPI_Sendrecv(&mine, 1, MPI_UINT64_T, pred, round, &got, 1, MPI_UINT64_T,
                                   succ, round, MPI_COMM_WORLD, &st));
        CHECK(&t, got == want, "round %d: got %llx, expected %llx", round,
              (unsigned long long)got, (unsigned long long)want);
        test_out(&t, "round %d%s: received %016llx", round,
                 round == 0 ? " (rank 1 computed 7 s without MPI calls first)" : "",
                 (unsigned long long)got);
    }
    return test_end(&t);
}
