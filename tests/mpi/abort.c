/*
 * abort: MPI_Abort ends the whole job with the given error code.
 *
 * Every rank records that it started, then all meet in a barrier.  Rank 1
 * calls MPI_Abort(MPI_COMM_WORLD, 7) while ranks 0 and 2 block in an MPI_Recv
 * from rank 1 that nothing will ever satisfy.  The launcher must end all
 * three processes and exit with 7 (what Open MPI's mpirun returns); the
 * runner checks that.  Any rank that gets past its blocking call fails the
 * test with a different exit code.
 */
#include "mpi_test.h"

#define ABORT_CODE 7
#define TAG_NEVER_SENT 99

int main(int argc, char **argv)
{
    test_ctx t = test_begin("abort", &argc, &argv);
    test_out(&t, "rank %d started; rank 1 will call MPI_Abort(MPI_COMM_WORLD, %d)", t.rank,
             ABORT_CODE);
    /* The file is complete before anyone can abort. */
    test_close_output(&t);
    CHECK_MPI(&t, MPI_Barrier(MPI_COMM_WORLD));

    if (t.rank == 1) {
        MPI_Abort(MPI_COMM_WORLD, ABORT_CODE);
        fprintf(stderr, "abort rank 1: FAIL: MPI_Abort returned\n");
        return TEST_FAILURE_CODE + 1;
    }
    int never = 0;
    MPI_Status st = fresh_status();
    CHECK_MPI(&t, MPI_Recv(&never, 1, MPI_INT, 1, TAG_NEVER_SENT, MPI_COMM_WORLD, &st));
    test_fail(&t, "MPI_Recv from rank 1 returned (source %d, tag %d) although rank 1 never "
                  "sent and aborted the job",
              st.MPI_SOURCE, st.MPI_TAG);
}
