/*
 * misc: the environment around the exchanges.
 *
 *   MPI_Initialized / MPI_Finalized before MPI_Init, between, after
 *   MPI_Finalize; MPI_Comm_size == 3 and distinct ranks 0..2; MPI_Wtime never
 *   goes back and measures a sleep; MPI_Barrier really waits for the last
 *   party (and survives many rounds); MPI_Error_string gives distinct,
 *   non-empty, NUL-terminated texts for MPI_SUCCESS and MPI_ERR_TRUNCATE;
 *   zero-count messages (MPI_Send/MPI_Recv, MPI_Isend/MPI_Irecv,
 *   MPI_Sendrecv, a NULL buffer) keep their source, tag and count 0 and
 *   write nothing.
 */
#define _POSIX_C_SOURCE 200809L
#include "mpi_test.h"

#include <time.h>

#define MISC_STREAM 0x4d495343ULL /* "MISC" */
#define BARRIER_DELAY_SECONDS 0.3
#define SLEEP_SECONDS 0.05

static void sleep_seconds(double s)
{
    struct timespec ts;
    ts.tv_sec = (time_t)s;
    ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static void check_flags(const test_ctx *t, const char *when, int want_initialized,
                        int want_finalized, bool may_abort)
{
    int initialized = -1, finalized = -1;
    int rc1 = MPI_Initialized(&initialized);
    int rc2 = MPI_Finalized(&finalized);
    if (rc1 == MPI_SUCCESS && rc2 == MPI_SUCCESS && initialized == want_initialized &&
        finalized == want_finalized)
        return;
    if (may_abort)
        test_fail(t, "%s: MPI_Initialized -> rc %d flag %d (want %d), MPI_Finalized -> rc %d "
                     "flag %d (want %d)",
                  when, rc1, initialized, want_initialized, rc2, finalized, want_finalized);
    /* Before MPI_Init or after MPI_Finalize, MPI_Abort is not available. */
    fprintf(stderr, "misc: FAIL: %s: MPI_Initialized -> rc %d flag %d (want %d), "
                    "MPI_Finalized -> rc %d flag %d (want %d)\n",
            when, rc1, initialized, want_initialized, rc2, finalized, want_finalized);
    exit(TEST_FAILURE_CODE);
}

static void check_ranks(const test_ctx *t)
{
    MPI_Comm comm = MPI_COMM_WORLD;
    int size = -1;
    CHECK_MPI(t, MPI_Comm_size(comm, &size));
    CHECK(t, size == PARTIES, "MPI_Comm_size %d", size);
    /* Distinct ranks: the bits 1 << rank cover 0b111 exactly once each. */
    int bit = 1 << t->rank, all_bits = 0, rank_sum = 0;
    CHECK_MPI(t, MPI_Allreduce(&bit, &all_bits, 1, MPI_INT, MPI_BOR, comm));
    CHECK_MPI(t, MPI_Allreduce(&t->rank, &rank_sum, 1, MPI_INT, MPI_SUM, comm));
    CHECK(t, all_bits == (1 << PARTIES) - 1 && rank_sum == PARTIES * (PARTIES - 1) / 2,
          "ranks are not 0..%d once each (bits %#x, sum %d)", PARTIES - 1, all_bits, rank_sum);
    test_out(t, "size=%d rank=%d rank_bits=%#x", size, t->rank, all_bits);
}

static void check_wtime(const test_ctx *t)
{
    double previous = MPI_Wtime();
    for (int i = 0; i < 100000; i++) {
        double now = MPI_Wtime();
        CHECK(t, now >= previous, "MPI_Wtime went back from %.9f to %.9f", previous, now);
        previous = now;
    }
    const double before = MPI_Wtime();
    sleep_seconds(SLEEP_SECONDS);
    const double slept = MPI_Wtime() - before;
    CHECK(t, slept >= SLEEP_SECONDS * 0.9 && slept < SLEEP_SECONDS + 5.0,
          "MPI_Wtime measured a %.3f s sleep as %.6f s", SLEEP_SECONDS, slept);
    test_out(t, "wtime monotonic, measures a sleep");
}

/*
 * After a first barrier, rank 1 sleeps before the second one; the others must
 * wait in the second barrier for (nearly) that long.
 */
static void check_barrier(const test_ctx *t)
{
    MPI_Comm comm = MPI_COMM_WORLD;
    for (int i = 0; i < 200; i++)
        CHECK_MPI(t, MPI_Barrier(comm));
    CHECK_MPI(t, MPI_Barrier(comm));
    const double start = MPI_Wtime();
    if (t->rank == 1)
        sleep_seconds(BARRIER_DELAY_SECONDS);
    CHECK_MPI(t, MPI_Barrier(comm));
    const double waited = MPI_Wtime() - start;
    /* Leave room for the ranks leaving the first barrier at different times. */
    CHECK(t, waited >= BARRIER_DELAY_SECONDS / 2,
          "MPI_Barrier returned after %.3f s although rank 1 arrived %.1f s late", waited,
          BARRIER_DELAY_SECONDS);
    test_out(t, "barrier waits for the last party");
}

static void check_error_strings(const test_ctx *t)
{
    CHECK(t, MPI_ERR_TRUNCATE != MPI_SUCCESS, "MPI_ERR_TRUNCATE equals MPI_SUCCESS");
    const int codes[2] = {MPI_SUCCESS, MPI_ERR_TRUNCATE};
    const char *names[2] = {"MPI_SUCCESS", "MPI_ERR_TRUNCATE"};
    char text[2][MPI_MAX_ERROR_STRING + 1];
    for (int k = 0; k < 2; k++) {
        memset(text[k], 'X', sizeof text[k]);
        int len = -1;
        CHECK_MPI(t, MPI_Error_string(codes[k], text[k], &len));
        CHECK(t, len > 0 && len < MPI_MAX_ERROR_STRING,
              "MPI_Error_string(%s) length %d (MPI_MAX_ERROR_STRING %d)", names[k], len,
              MPI_MAX_ERROR_STRING);
        CHECK(t, memchr(text[k], '\0', (size_t)len + 1) == text[k] + len,
              "MPI_Error_string(%s): the text is not NUL-terminated at its length %d", names[k],
              len);
    }
    CHECK(t, strcmp(text[0], text[1]) != 0,
          "MPI_Error_string gives the same text for MPI_SUCCESS and MPI_ERR_TRUNCATE: %s",
          text[0]);
    /* The texts differ between implementations, so they stay out of the rank file. */
    test_out(t, "error strings non-empty and distinct");
}

static void check_zero_count(const test_ctx *t)
{
    MPI_Comm comm = MPI_COMM_WORLD;
    const int pred = pred_of(t->rank), succ = succ_of(t->rank);
    enum { TAG_SEND = 5, TAG_ISEND = 6, TAG_SENDRECV = 7, TAG_NULL = 8 };
    unsigned long long sendbuf[4], recvbuf[4], untouched[4];
    for (int i = 0; i < 4; i++)
        sendbuf[i] = stream_at(stream_id(MISC_STREAM, 1, (uint64_t)t->rank, 0), (uint64_t)i);
    for (int i = 0; i < 4; i++)
        untouched[i] = stream_at(stream_id(MISC_STREAM, 2, (uint64_t)t->rank, 0), (uint64_t)i);

    /* Blocking, Secrecy order; the receive offers room for 4 elements. */
    memcpy(recvbuf, untouched, sizeof recvbuf);
    MPI_Status st = fresh_status();
    CHECK_MPI(t, MPI_Send(sendbuf, 0, MPI_UNSIGNED_LONG_LONG, pred, TAG_SEND, comm));
    CHECK_MPI(t, MPI_Recv(recvbuf, 4, MPI_UNSIGNED_LONG_LONG, succ, TAG_SEND, comm, &st));
    check_recv_status(t, "zero-count send/recv", &st, MPI_UNSIGNED_LONG_LONG, succ, TAG_SEND, 0);
    check_status_error_untouched(t, "zero-count send/recv", &st);
    CHECK(t, memcmp(recvbuf, untouched, sizeof recvbuf) == 0,
          "zero-count send/recv wrote into the receive buffer");

    /* Nonblocking. */
    MPI_Request reqs[2];
    MPI_Status sts[2] = {fresh_status(), fresh_status()};
    CHECK_MPI(t, MPI_Irecv(recvbuf, 4, MPI_INT, succ, TAG_ISEND, comm, &reqs[0]));
    CHECK_MPI(t, MPI_Isend(sendbuf, 0, MPI_INT, pred, TAG_ISEND, comm, &reqs[1]));
    CHECK_MPI(t, MPI_Waitall(2, reqs, sts));
    check_recv_status(t, "zero-count isend/irecv", &sts[0], MPI_INT, succ, TAG_ISEND, 0);
    CHECK(t, memcmp(recvbuf, untouched, sizeof recvbuf) == 0,
          "zero-count isend/irecv wrote into the receive buffer");

    /* Sendrecv with a zero-count receive of a zero-count message. */
    st = fresh_status();
    CHECK_MPI(t, MPI_Sendrecv(sendbuf, 0, MPI_BYTE, pred, TAG_SENDRECV, recvbuf, 0, MPI_BYTE,
                              succ, TAG_SENDRECV, comm, &st));
    check_recv_status(t, "zero-count sendrecv", &st, MPI_BYTE, succ, TAG_SENDRECV, 0);
    CHECK(t, memcmp(recvbuf, untouched, sizeof recvbuf) == 0,
          "zero-count sendrecv wrote into the receive buffer");

    /* A NULL buffer is valid with count 0. */
    st = fresh_status();
    CHECK_MPI(t, MPI_Send(NULL, 0, MPI_CHAR, pred, TAG_NULL, comm));
    CHECK_MPI(t, MPI_Recv(NULL, 0, MPI_CHAR, succ, TAG_NULL, comm, &st));
    check_recv_status(t, "zero-count NULL buffer", &st, MPI_CHAR, succ, TAG_NULL, 0);

    /* A message after the empty ones still arrives intact. */
    memcpy(recvbuf, untouched, sizeof recvbuf);
    st = fresh_status();
    CHECK_MPI(t, MPI_Sendrecv(sendbuf, 4, MPI_UNSIGNED_LONG_LONG, pred, TAG_SEND, recvbuf, 4,
                              MPI_UNSIGNED_LONG_LONG, succ, TAG_SEND, comm, &st));
    check_recv_status(t, "after zero-count", &st, MPI_UNSIGNED_LONG_LONG, succ, TAG_SEND, 4);
    for (int i = 0; i < 4; i++) {
        unsigned long long want =
            stream_at(stream_id(MISC_STREAM, 1, (uint64_t)succ, 0), (uint64_t)i);
        CHECK(t, recvbuf[i] == want, "after zero-count: element %d is %llx, expected %llx", i,
              recvbuf[i], want);
    }
    test_out(t, "zero-count messages: count 0, source %d, buffers untouched; next message %016llx",
             succ, (unsigned long long)checksum_bytes(recvbuf, sizeof recvbuf));
}

int main(int argc, char **argv)
{
    test_ctx t = {"misc", -1, NULL};
    check_flags(&t, "before MPI_Init", 0, 0, false);
    if (MPI_Init(&argc, &argv) != MPI_SUCCESS) {
        fprintf(stderr, "misc: FAIL: MPI_Init failed\n");
        return TEST_FAILURE_CODE;
    }
    CHECK_MPI(&t, MPI_Comm_rank(MPI_COMM_WORLD, &t.rank));
    check_flags(&t, "after MPI_Init", 1, 0, true);
    test_open_output(&t, argc, argv);
    test_out(&t, "initialized before init=0 after init=1");

    check_ranks(&t);
    check_wtime(&t);
    check_barrier(&t);
    check_error_strings(&t);
    check_zero_count(&t);

    CHECK_MPI(&t, MPI_Finalize());
    check_flags(&t, "after MPI_Finalize", 1, 1, false);
    test_out(&t, "finalized before finalize=0 after finalize=1");
    if (fclose(t.out) != 0) {
        fprintf(stderr, "misc rank %d: FAIL: closing the output file failed\n", t.rank);
        return TEST_FAILURE_CODE;
    }
    return 0;
}
