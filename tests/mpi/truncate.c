/*
 * truncate: a message longer than the receive buffer is an error, and with
 * the default error handler (MPI_ERRORS_ARE_FATAL) it ends the job.
 *
 * Rank 1 sends 10 ints to rank 0, which receives into room for 5.  The job
 * must end with a non-zero exit code and an error message that mentions the
 * truncation and the rank that hit it (the runner checks both).  Ranks 1 and
 * 2 then wait in a barrier rank 0 never reaches.  If rank 0's MPI_Recv
 * returns at all, the test fails with the self-check code.
 */
#include "mpi_test.h"

#define SENT_COUNT 10
#define ROOM_COUNT 5
#define TAG_LONG_MESSAGE 3

int main(int argc, char **argv)
{
    test_ctx t = test_begin("truncate", &argc, &argv);
    test_out(&t, "rank %d started; rank 1 sends %d ints, rank 0 has room for %d", t.rank,
             SENT_COUNT, ROOM_COUNT);
    test_close_output(&t);
    CHECK_MPI(&t, MPI_Barrier(MPI_COMM_WORLD));

    if (t.rank == 0) {
        int room[ROOM_COUNT + 1];
        memset(room, 0, sizeof room);
        MPI_Status st = fresh_status();
        int rc = MPI_Recv(room, ROOM_COUNT, MPI_INT, 1, TAG_LONG_MESSAGE, MPI_COMM_WORLD, &st);
        test_fail(&t, "MPI_Recv of %d ints into room for %d returned %d instead of ending the "
                      "job (default error handler is MPI_ERRORS_ARE_FATAL)",
                  SENT_COUNT, ROOM_COUNT, rc);
    }
    if (t.rank == 1) {
        int message[SENT_COUNT];
        for (int i = 0; i < SENT_COUNT; i++)
            message[i] = i;
        CHECK_MPI(&t, MPI_Send(message, SENT_COUNT, MPI_INT, 0, TAG_LONG_MESSAGE,
                               MPI_COMM_WORLD));
    }
    CHECK_MPI(&t, MPI_Barrier(MPI_COMM_WORLD));
    test_fail(&t, "the barrier completed although rank 0 should have ended the job");
}
