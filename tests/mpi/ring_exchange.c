/*
 * ring_exchange: Secrecy's share exchange for every datatype of the subset.
 *
 * Each party sends to its predecessor and receives from its successor:
 *   1. as Secrecy writes it: a blocking MPI_Send BEFORE the MPI_Recv (all
 *      three parties send first, so the implementation must not make a
 *      blocking send wait for the matching receive, at any size);
 *   2. with MPI_Sendrecv.
 * Counts 1 (a single value), 1000 and 1,000,000 elements.
 */
#include "mpi_test.h"

enum { VARIANT_SEND_THEN_RECV = 0, VARIANT_SENDRECV = 1 };
#define RING_STREAM 0x52494e47ULL /* "RING" */

static const char *variant_name(int variant)
{
    return variant == VARIANT_SEND_THEN_RECV ? "send_then_recv" : "sendrecv";
}

static void exchange_one(const test_ctx *t, int variant, int type_index,
                         const datatype_desc *d, int count, unsigned char *send,
                         unsigned char *recv, unsigned char *expected)
{
    MPI_Comm comm = MPI_COMM_WORLD;
    const int pred = pred_of(t->rank), succ = succ_of(t->rank);
    const int tag = variant * DATATYPE_COUNT + type_index; /* 0 .. 41 */
    const size_t bytes = (size_t)count * d->size;

    fill_stream(d, send, (size_t)count,
                stream_id(RING_STREAM, (uint64_t)variant, (uint64_t)type_index,
                          (uint64_t)t->rank));
    fill_stream(d, expected, (size_t)count,
                stream_id(RING_STREAM, (uint64_t)variant, (uint64_t)type_index,
                          (uint64_t)succ));
    poison_against(recv, expected, bytes);

    MPI_Status st = fresh_status();
    if (variant == VARIANT_SEND_THEN_RECV) {
        CHECK_MPI(t, MPI_Send(send, count, d->type, pred, tag, comm));
        CHECK_MPI(t, MPI_Recv(recv, count, d->type, succ, tag, comm, &st));
    } else {
        CHECK_MPI(t, MPI_Sendrecv(send, count, d->type, pred, tag, recv, count,
                                  d->type, succ, tag, comm, &st));
    }

    char what[128];
    snprintf(what, sizeof what, "%s %s count %d", variant_name(variant), d->name, count);
    check_recv_status(t, what, &st, d->type, succ, tag, count);
    check_status_error_untouched(t, what, &st);
    size_t diff = first_difference(recv, expected, bytes);
    CHECK(t, diff == bytes,
          "%s: received data differs from the successor's at byte %zu (element %zu)",
          what, diff, diff / d->size);

    test_out(t, "%s %s count=%d from=%d checksum=%016llx", variant_name(variant),
             d->name, count, st.MPI_SOURCE,
             (unsigned long long)checksum_bytes(recv, bytes));
}

int main(int argc, char **argv)
{
    test_ctx t = test_begin("ring_exchange", &argc, &argv);
    datatype_desc types[DATATYPE_COUNT];
    datatypes_of_subset(types);

    static const int counts[] = {1, 1000, 1000000};
    const int max_count = counts[sizeof counts / sizeof counts[0] - 1];
    size_t max_bytes = 0;
    for (int i = 0; i < DATATYPE_COUNT; i++)
        if (types[i].size * (size_t)max_count > max_bytes)
            max_bytes = types[i].size * (size_t)max_count;
    unsigned char *send = xmalloc(&t, max_bytes);
    unsigned char *recv = xmalloc(&t, max_bytes);
    unsigned char *expected = xmalloc(&t, max_bytes);

    for (int variant = VARIANT_SEND_THEN_RECV; variant <= VARIANT_SENDRECV; variant++)
        for (int ti = 0; ti < DATATYPE_COUNT; ti++)
            for (size_t ci = 0; ci < sizeof counts / sizeof counts[0]; ci++)
                exchange_one(&t, variant, ti, &types[ti], counts[ci], send, recv,
                             expected);

    free(send);
    free(recv);
    free(expected);
    return test_end(&t);
}
