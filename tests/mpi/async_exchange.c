/*
 * async_exchange: Secrecy's asynchronous share exchange.
 *
 *   wait       MPI_Irecv from the successor + MPI_Isend to the predecessor,
 *              each completed by MPI_Wait (1, 1000, 1,000,000 elements)
 *   waitall    the same pair completed by one MPI_Waitall, statuses checked
 *   test       MPI_Test loops (a receive nobody has sent to yet must report
 *              "not complete")
 *   testall    MPI_Testall loops over three receives with distinct tags
 *   fifo_*     5000 outstanding one-element MPI_Irecv and 5000 MPI_Isend on
 *              the same (peer, tag), completed by one MPI_Waitall: message k
 *              must land in receive k (first-in first-out), whether the
 *              receives are posted first, the sends are posted first, or the
 *              sends are blocking; one variant also varies the message length
 */
#include "mpi_test.h"

#define ASYNC_STREAM 0x4153594eULL /* "ASYN" */
#define FIFO_DEPTH 5000
#define TEST_LOOP_SECONDS 60.0

enum {
    PART_WAIT = 1,
    PART_WAITALL,
    PART_TEST,
    PART_TESTALL,
    PART_FIFO_RECVS_FIRST,
    PART_FIFO_SENDS_FIRST,
    PART_FIFO_BLOCKING_SENDS,
    PART_FIFO_LENGTHS,
};

static uint64_t part_stream(int part, uint64_t variant, int rank)
{
    return stream_id(ASYNC_STREAM, (uint64_t)part, variant, (uint64_t)rank);
}

static void fill_u64(unsigned long long *buf, size_t n, uint64_t stream)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = stream_at(stream, i);
}

static void check_same(const test_ctx *t, const char *what, const void *got,
                       const void *expected, size_t bytes)
{
    size_t diff = first_difference(got, expected, bytes);
    CHECK(t, diff == bytes, "%s: received data differs from the expected at byte %zu",
          what, diff);
}

/* Isend/Irecv completed by MPI_Wait, the way Secrecy's exchange does it. */
static void part_wait(const test_ctx *t, int count)
{
    MPI_Comm comm = MPI_COMM_WORLD;
    const int pred = pred_of(t->rank), succ = succ_of(t->rank), tag = PART_WAIT;
    unsigned long long *send = xmalloc(t, (size_t)count * sizeof *send);
    unsigned long long *recv = xmalloc(t, (size_t)count * sizeof *recv);
    unsigned long long *expected = xmalloc(t, (size_t)count * sizeof *expected);
    fill_u64(send, (size_t)count, part_stream(PART_WAIT, (uint64_t)count, t->rank));
    fill_u64(expected, (size_t)count, part_stream(PART_WAIT, (uint64_t)count, succ));
    poison_against(recv, expected, (size_t)count * sizeof *recv);

    MPI_Request recv_req, send_req;
    CHECK_MPI(t, MPI_Irecv(recv, count, MPI_UNSIGNED_LONG_LONG, succ, tag, comm, &recv_req));
    CHECK_MPI(t, MPI_Isend(send, count, MPI_UNSIGNED_LONG_LONG, pred, tag, comm, &send_req));
    MPI_Status st = fresh_status();
    CHECK_MPI(t, MPI_Wait(&recv_req, &st));
    CHECK_MPI(t, MPI_Wait(&send_req, MPI_STATUS_IGNORE));

    char what[64];
    snprintf(what, sizeof what, "wait count %d", count);
    check_recv_status(t, what, &st, MPI_UNSIGNED_LONG_LONG, succ, tag, count);
    check_status_error_untouched(t, what, &st);
    check_same(t, what, recv, expected, (size_t)count * sizeof *recv);
    test_out(t, "wait count=%d checksum=%016llx", count,
             (unsigned long long)checksum_bytes(recv, (size_t)count * sizeof *recv));
    free(send);
    free(recv);
    free(expected);
}

/* Isend/Irecv of several datatypes, completed by one MPI_Waitall. */
static void part_waitall(const test_ctx *t)
{
    MPI_Comm comm = MPI_COMM_WORLD;
    const int pred = pred_of(t->rank), succ = succ_of(t->rank), tag = PART_WAITALL;
    const int count = 4096;
    datatype_desc types[DATATYPE_COUNT];
    datatypes_of_subset(types);
    for (int ti = 0; ti < DATATYPE_COUNT; ti++) {
        const datatype_desc *d = &types[ti];
        const size_t bytes = (size_t)count * d->size;
        unsigned char *send = xmalloc(t, bytes), *recv = xmalloc(t, bytes),
                      *expected = xmalloc(t, bytes);
        fill_stream(d, send, (size_t)count, part_stream(PART_WAITALL, (uint64_t)ti, t->rank));
        fill_stream(d, expected, (size_t)count, part_stream(PART_WAITALL, (uint64_t)ti, succ));
        poison_against(recv, expected, bytes);

        MPI_Request reqs[2];
        MPI_Status sts[2] = {fresh_status(), fresh_status()};
        CHECK_MPI(t, MPI_Irecv(recv, count, d->type, succ, tag, comm, &reqs[0]));
        CHECK_MPI(t, MPI_Isend(send, count, d->type, pred, tag, comm, &reqs[1]));
        CHECK_MPI(t, MPI_Waitall(2, reqs, sts));

        char what[96];
        snprintf(what, sizeof what, "waitall %s", d->name);
        check_recv_status(t, what, &sts[0], d->type, succ, tag, count);
        check_status_error_ok(t, what, &sts[0]);
        check_status_error_ok(t, what, &sts[1]);
        check_same(t, what, recv, expected, bytes);
        test_out(t, "waitall %s count=%d checksum=%016llx", d->name, count,
                 (unsigned long long)checksum_bytes(recv, bytes));
        free(send);
        free(recv);
        free(expected);
    }
}

/* Polls one request with MPI_Test until it completes. */
static void test_until_complete(const test_ctx *t, const char *what, MPI_Request *req,
                                MPI_Status *st)
{
    const double start = MPI_Wtime();
    int done = 0;
    while (!done) {
        CHECK_MPI(t, MPI_Test(req, &done, st));
        CHECK(t, done == 0 || done == 1, "%s: MPI_Test flag %d", what, done);
        CHECK(t, done || MPI_Wtime() - start < TEST_LOOP_SECONDS,
              "%s: MPI_Test did not complete within %.0f s", what, TEST_LOOP_SECONDS);
    }
}

/*
 * The receive is posted and tested before the barrier; the successor only
 * sends after the barrier, so that first MPI_Test must say "not complete".
 */
static void part_test(const test_ctx *t, int count)
{
    MPI_Comm comm = MPI_COMM_WORLD;
    const int pred = pred_of(t->rank), succ = succ_of(t->rank), tag = PART_TEST;
    const size_t bytes = (size_t)count * sizeof(int);
    datatype_desc int_type = {"MPI_INT", MPI_INT, sizeof(int), integer_repr(sizeof(int))};
    int *send = xmalloc(t, bytes), *recv = xmalloc(t, bytes), *expected = xmalloc(t, bytes);
    fill_stream(&int_type, send, (size_t)count, part_stream(PART_TEST, (uint64_t)count, t->rank));
    fill_stream(&int_type, expected, (size_t)count, part_stream(PART_TEST, (uint64_t)count, succ));
    poison_against(recv, expected, bytes);

    MPI_Request recv_req, send_req;
    CHECK_MPI(t, MPI_Irecv(recv, count, MPI_INT, succ, tag, comm, &recv_req));
    int done = -1;
    MPI_Status st = fresh_status();
    CHECK_MPI(t, MPI_Test(&recv_req, &done, &st));
    CHECK(t, done == 0, "test count %d: MPI_Test reported a receive complete before "
                        "anything was sent (flag %d)", count, done);
    CHECK_MPI(t, MPI_Barrier(comm));

    CHECK_MPI(t, MPI_Isend(send, count, MPI_INT, pred, tag, comm, &send_req));
    char what[64];
    snprintf(what, sizeof what, "test count %d", count);
    st = fresh_status();
    test_until_complete(t, what, &recv_req, &st);
    MPI_Status send_st = fresh_status();
    test_until_complete(t, what, &send_req, &send_st);

    check_recv_status(t, what, &st, MPI_INT, succ, tag, count);
    check_status_error_untouched(t, what, &st);
    check_same(t, what, recv, expected, bytes);
    test_out(t, "test count=%d checksum=%016llx", count,
             (unsigned long long)checksum_bytes(recv, bytes));
    free(send);
    free(recv);
    free(expected);
}

/* Three receives with distinct tags, sent in the opposite order, polled with
 * MPI_Testall (which must report "not complete" before anything is sent). */
static void part_testall(const test_ctx *t)
{
    MPI_Comm comm = MPI_COMM_WORLD;
    const int pred = pred_of(t->rank), succ = succ_of(t->rank);
    enum { N = 3, COUNT = 777 };
    double send[N][COUNT], recv[N][COUNT], expected[N][COUNT];
    datatype_desc dbl = {"MPI_DOUBLE", MPI_DOUBLE, sizeof(double), REPR_DOUBLE};
    MPI_Request reqs[2 * N];
    MPI_Status sts[2 * N];
    for (int k = 0; k < N; k++) {
        fill_stream(&dbl, send[k], COUNT, part_stream(PART_TESTALL, (uint64_t)k, t->rank));
        fill_stream(&dbl, expected[k], COUNT, part_stream(PART_TESTALL, (uint64_t)k, succ));
        poison_against(recv[k], expected[k], sizeof recv[k]);
        CHECK_MPI(t, MPI_Irecv(recv[k], COUNT, MPI_DOUBLE, succ, PART_TESTALL * 10 + k,
                               comm, &reqs[k]));
    }
    int done = -1;
    for (int k = 0; k < 2 * N; k++)
        sts[k] = fresh_status();
    CHECK_MPI(t, MPI_Testall(N, reqs, &done, sts));
    CHECK(t, done == 0, "testall: MPI_Testall reported receives complete before "
                        "anything was sent (flag %d)", done);
    CHECK_MPI(t, MPI_Barrier(comm));

    for (int k = N - 1; k >= 0; k--)
        CHECK_MPI(t, MPI_Isend(send[k], COUNT, MPI_DOUBLE, pred, PART_TESTALL * 10 + k,
                               comm, &reqs[N + (N - 1 - k)]));
    const double start = MPI_Wtime();
    done = 0;
    while (!done) {
        CHECK_MPI(t, MPI_Testall(2 * N, reqs, &done, sts));
        CHECK(t, done == 0 || done == 1, "testall: flag %d", done);
        CHECK(t, done || MPI_Wtime() - start < TEST_LOOP_SECONDS,
              "testall: MPI_Testall did not complete within %.0f s", TEST_LOOP_SECONDS);
    }
    for (int k = 0; k < N; k++) {
        char what[64];
        snprintf(what, sizeof what, "testall receive %d", k);
        check_recv_status(t, what, &sts[k], MPI_DOUBLE, succ, PART_TESTALL * 10 + k, COUNT);
        check_status_error_ok(t, what, &sts[k]);
        check_same(t, what, recv[k], expected[k], sizeof recv[k]);
        test_out(t, "testall tag=%d checksum=%016llx", PART_TESTALL * 10 + k,
                 (unsigned long long)checksum_bytes(recv[k], sizeof recv[k]));
    }
}

/* FIFO_DEPTH one-element messages on one (peer, tag); one MPI_Waitall. */
static void part_fifo(const test_ctx *t, int part)
{
    MPI_Comm comm = MPI_COMM_WORLD;
    const int pred = pred_of(t->rank), succ = succ_of(t->rank), tag = part;
    unsigned long long *send = xmalloc(t, FIFO_DEPTH * sizeof *send);
    unsigned long long *recv = xmalloc(t, FIFO_DEPTH * sizeof *recv);
    unsigned long long *expected = xmalloc(t, FIFO_DEPTH * sizeof *expected);
    MPI_Request *reqs = xmalloc(t, 2 * FIFO_DEPTH * sizeof *reqs);
    MPI_Status *sts = xmalloc(t, 2 * FIFO_DEPTH * sizeof *sts);
    fill_u64(send, FIFO_DEPTH, part_stream(part, 0, t->rank));
    fill_u64(expected, FIFO_DEPTH, part_stream(part, 0, succ));
    poison_against(recv, expected, FIFO_DEPTH * sizeof *recv);

    const char *name = "";
    int nreqs = 2 * FIFO_DEPTH;
    switch (part) {
    case PART_FIFO_RECVS_FIRST:
        name = "fifo_recvs_first";
        for (int i = 0; i < FIFO_DEPTH; i++)
            CHECK_MPI(t, MPI_Irecv(&recv[i], 1, MPI_UNSIGNED_LONG_LONG, succ, tag, comm,
                                   &reqs[i]));
        for (int i = 0; i < FIFO_DEPTH; i++)
            CHECK_MPI(t, MPI_Isend(&send[i], 1, MPI_UNSIGNED_LONG_LONG, pred, tag, comm,
                                   &reqs[FIFO_DEPTH + i]));
        break;
    case PART_FIFO_SENDS_FIRST:
        /* The barrier lets the messages arrive before any receive exists. */
        name = "fifo_sends_first";
        for (int i = 0; i < FIFO_DEPTH; i++)
            CHECK_MPI(t, MPI_Isend(&send[i], 1, MPI_UNSIGNED_LONG_LONG, pred, tag, comm,
                                   &reqs[FIFO_DEPTH + i]));
        CHECK_MPI(t, MPI_Barrier(comm));
        for (int i = 0; i < FIFO_DEPTH; i++)
            CHECK_MPI(t, MPI_Irecv(&recv[i], 1, MPI_UNSIGNED_LONG_LONG, succ, tag, comm,
                                   &reqs[i]));
        break;
    case PART_FIFO_BLOCKING_SENDS:
        name = "fifo_blocking_sends";
        for (int i = 0; i < FIFO_DEPTH; i++)
            CHECK_MPI(t, MPI_Irecv(&recv[i], 1, MPI_UNSIGNED_LONG_LONG, succ, tag, comm,
                                   &reqs[i]));
        for (int i = 0; i < FIFO_DEPTH; i++)
            CHECK_MPI(t, MPI_Send(&send[i], 1, MPI_UNSIGNED_LONG_LONG, pred, tag, comm));
        nreqs = FIFO_DEPTH;
        break;
    default:
        test_fail(t, "unknown fifo part %d", part);
    }
    if (part == PART_FIFO_SENDS_FIRST) {
        for (int i = 0; i < nreqs; i++)
            sts[i] = fresh_status();
        CHECK_MPI(t, MPI_Waitall(nreqs, reqs, sts));
        for (int i = 0; i < FIFO_DEPTH; i++) {
            char what[64];
            snprintf(what, sizeof what, "%s receive %d", name, i);
            check_recv_status(t, what, &sts[i], MPI_UNSIGNED_LONG_LONG, succ, tag, 1);
            check_status_error_ok(t, what, &sts[i]);
        }
    } else {
        CHECK_MPI(t, MPI_Waitall(nreqs, reqs, MPI_STATUSES_IGNORE));
    }
    for (int i = 0; i < FIFO_DEPTH; i++) {
        if (recv[i] == expected[i])
            continue;
        int found_at = -1;
        for (int j = 0; j < FIFO_DEPTH && found_at < 0; j++)
            if (recv[i] == expected[j])
                found_at = j;
        test_fail(t, "%s: receive %d got the successor's message %d (-1: none of them); "
                     "messages on one (peer, tag) must match in order",
                  name, i, found_at);
    }
    test_out(t, "%s depth=%d checksum=%016llx", name, FIFO_DEPTH,
             (unsigned long long)checksum_bytes(recv, FIFO_DEPTH * sizeof *recv));
    free(send);
    free(recv);
    free(expected);
    free(reqs);
    free(sts);
}

/* Message k has 1 + k % 8 elements; receives are posted for 8, so each
 * status must report the length of the message that matched it in order. */
static void part_fifo_lengths(const test_ctx *t)
{
    MPI_Comm comm = MPI_COMM_WORLD;
    const int pred = pred_of(t->rank), succ = succ_of(t->rank), tag = PART_FIFO_LENGTHS;
    enum { MAXLEN = 8, DEPTH = 1000 };
    int *send = xmalloc(t, DEPTH * MAXLEN * sizeof *send);
    int *recv = xmalloc(t, DEPTH * MAXLEN * sizeof *recv);
    int *expected = xmalloc(t, DEPTH * MAXLEN * sizeof *expected);
    MPI_Request *reqs = xmalloc(t, 2 * DEPTH * sizeof *reqs);
    MPI_Status *sts = xmalloc(t, 2 * DEPTH * sizeof *sts);
    datatype_desc int_type = {"MPI_INT", MPI_INT, sizeof(int), integer_repr(sizeof(int))};
    fill_stream(&int_type, send, DEPTH * MAXLEN, part_stream(tag, 0, t->rank));
    fill_stream(&int_type, expected, DEPTH * MAXLEN, part_stream(tag, 0, succ));
    poison_against(recv, expected, DEPTH * MAXLEN * sizeof *recv);

    for (int k = 0; k < DEPTH; k++) {
        CHECK_MPI(t, MPI_Irecv(&recv[k * MAXLEN], MAXLEN, MPI_INT, succ, tag, comm, &reqs[k]));
        CHECK_MPI(t, MPI_Isend(&send[k * MAXLEN], 1 + k % MAXLEN, MPI_INT, pred, tag, comm,
                               &reqs[DEPTH + k]));
    }
    for (int i = 0; i < 2 * DEPTH; i++)
        sts[i] = fresh_status();
    CHECK_MPI(t, MPI_Waitall(2 * DEPTH, reqs, sts));
    uint64_t sum = 0;
    for (int k = 0; k < DEPTH; k++) {
        const int len = 1 + k % MAXLEN;
        char what[64];
        snprintf(what, sizeof what, "fifo_lengths receive %d", k);
        check_recv_status(t, what, &sts[k], MPI_INT, succ, tag, len);
        check_same(t, what, &recv[k * MAXLEN], &expected[k * MAXLEN], (size_t)len * sizeof(int));
        /* The tail of each receive buffer must be untouched. */
        unsigned char poison[MAXLEN * sizeof(int)];
        poison_against(poison, &expected[k * MAXLEN], sizeof poison);
        CHECK(t, memcmp((unsigned char *)&recv[k * MAXLEN] + len * sizeof(int),
                        poison + len * sizeof(int), (MAXLEN - len) * sizeof(int)) == 0,
              "%s: a %d-element message wrote past its length", what, len);
        sum += checksum_bytes(&recv[k * MAXLEN], (size_t)len * sizeof(int));
    }
    test_out(t, "fifo_lengths depth=%d checksum=%016llx", DEPTH, (unsigned long long)sum);
    free(send);
    free(recv);
    free(expected);
    free(reqs);
    free(sts);
}

int main(int argc, char **argv)
{
    test_ctx t = test_begin("async_exchange", &argc, &argv);
    static const int counts[] = {1, 1000, 1000000};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
        part_wait(&t, counts[i]);
    part_waitall(&t);
    part_test(&t, 1);
    part_test(&t, 100000);
    part_testall(&t);
    part_fifo(&t, PART_FIFO_RECVS_FIRST);
    part_fifo(&t, PART_FIFO_SENDS_FIRST);
    part_fifo(&t, PART_FIFO_BLOCKING_SENDS);
    part_fifo_lengths(&t);
    return test_end(&t);
}
