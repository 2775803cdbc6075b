/*
 * share_inputs: rank 0 (the data owner) secret-shares its inputs.
 *
 *   distribute   rank 0 splits input columns into replicated boolean shares
 *                s0^s1^s2 = x and sends (s1, s2) to rank 1 and (s2, s0) to
 *                rank 2 with two tags; the receivers take the second tag
 *                first, so matching must go by tag, not by arrival
 *   any_source   rank 0 receives from ranks 1 and 2 with MPI_ANY_SOURCE and
 *                MPI_ANY_TAG (also one wildcard at a time, and with
 *                MPI_Irecv): status.MPI_SOURCE / MPI_TAG and MPI_Get_count
 *                identify each message (also counted in bytes); a receive
 *                buffer longer than the message keeps its tail
 *   bcast        MPI_Bcast of public parameters and arrays from each root
 */
#include "mpi_test.h"

#define SHARE_STREAM 0x53484152ULL /* "SHAR" */

enum { TAG_FIRST_SHARE = 1, TAG_SECOND_SHARE = 2 };

static void column(unsigned long long *out, size_t n, uint64_t what, uint64_t which)
{
    for (size_t i = 0; i < n; i++)
        out[i] = stream_at(stream_id(SHARE_STREAM, what, which, n), i);
}

/* Share `party` of input column `col` (x = s0 ^ s1 ^ s2). */
static void input_share(unsigned long long *out, size_t n, int col, int party)
{
    if (party < 2) {
        column(out, n, 2, (uint64_t)col * 4 + (uint64_t)party);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned long long x = stream_at(stream_id(SHARE_STREAM, 1, (uint64_t)col, n), i);
        unsigned long long s0 =
            stream_at(stream_id(SHARE_STREAM, 2, (uint64_t)col * 4 + 0, n), i);
        unsigned long long s1 =
            stream_at(stream_id(SHARE_STREAM, 2, (uint64_t)col * 4 + 1, n), i);
        out[i] = x ^ s0 ^ s1;
    }
}

static void distribute(const test_ctx *t, int count)
{
    MPI_Comm comm = MPI_COMM_WORLD;
    const int rank = t->rank;
    const size_t n = (size_t)count, bytes = n * sizeof(unsigned long long);
    enum { COLUMNS = 3 };
    unsigned long long *first = xmalloc(t, bytes), *second = xmalloc(t, bytes),
                       *expected = xmalloc(t, bytes), *tmp = xmalloc(t, bytes),
                       *opened = xmalloc(t, bytes);
    char what[96];

    for (int col = 0; col < COLUMNS; col++) {
        const int tag_base = 10 * col;
        if (rank == 0) {
            /* Send (s_p, s_{p+1}) to party p, first share first. */
            for (int p = 1; p < PARTIES; p++) {
                input_share(tmp, n, col, p);
                CHECK_MPI(t, MPI_Send(tmp, count, MPI_UNSIGNED_LONG_LONG, p,
                                      tag_base + TAG_FIRST_SHARE, comm));
                input_share(tmp, n, col, succ_of(p));
                CHECK_MPI(t, MPI_Send(tmp, count, MPI_UNSIGNED_LONG_LONG, p,
                                      tag_base + TAG_SECOND_SHARE, comm));
            }
            input_share(first, n, col, 0);
            input_share(second, n, col, 1);
        } else {
            /* Receive the second share before the first. */
            unsigned long long *dest[2] = {second, first};
            const int tags[2] = {tag_base + TAG_SECOND_SHARE, tag_base + TAG_FIRST_SHARE};
            const int parties[2] = {succ_of(rank), rank};
            for (int k = 0; k < 2; k++) {
                input_share(expected, n, col, parties[k]);
                poison_against(dest[k], expected, bytes);
                MPI_Status st = fresh_status();
                CHECK_MPI(t, MPI_Recv(dest[k], count, MPI_UNSIGNED_LONG_LONG, 0, tags[k], comm,
                                      &st));
                snprintf(what, sizeof what, "distribute column %d count %d tag %d", col,
                         count, tags[k]);
                check_recv_status(t, what, &st, MPI_UNSIGNED_LONG_LONG, 0, tags[k], count);
                check_status_error_untouched(t, what, &st);
                size_t diff = first_difference(dest[k], expected, bytes);
                CHECK(t, diff == bytes,
                      "%s: share differs at element %zu (a message matched by arrival "
                      "instead of by tag?)",
                      what, diff / sizeof(unsigned long long));
            }
        }
        /* Everyone can now open the column: XOR of the first shares. */
        for (size_t i = 0; i < n; i++)
            expected[i] = stream_at(stream_id(SHARE_STREAM, 1, (uint64_t)col, n), i);
        poison_against(opened, expected, bytes);
        CHECK_MPI(t, MPI_Allreduce(first, opened, count, MPI_UNSIGNED_LONG_LONG, MPI_BXOR, comm));
        snprintf(what, sizeof what, "distribute column %d count %d open", col, count);
        size_t diff = first_difference(opened, expected, bytes);
        CHECK(t, diff == bytes, "%s: opened input differs at element %zu", what,
              diff / sizeof(unsigned long long));
        test_out(t, "distribute column=%d count=%d first=%016llx second=%016llx opened=%016llx",
                 col, count, (unsigned long long)checksum_bytes(first, bytes),
                 (unsigned long long)checksum_bytes(second, bytes),
                 (unsigned long long)checksum_bytes(opened, bytes));
    }
    free(first);
    free(second);
    free(expected);
    free(tmp);
    free(opened);
}

/* Rank r (1 or 2) sends 3 + r ints with tag 20 + r. */
static int wildcard_count(int sender) { return 3 + sender; }
static int wildcard_tag(int sender, int round) { return 20 + 4 * round + sender; }

static void wildcard_payload(int *out, int sender, int round)
{
    for (int i = 0; i < wildcard_count(sender); i++)
        out[i] = (int)(stream_at(stream_id(SHARE_STREAM, 5, (uint64_t)round, (uint64_t)sender),
                                 (uint64_t)i) >> 33);
}

enum {
    WILD_BOTH = 0,    /* MPI_ANY_SOURCE + MPI_ANY_TAG with MPI_Recv */
    WILD_SOURCE = 1,  /* MPI_ANY_SOURCE, tag given */
    WILD_TAG = 2,     /* source given, MPI_ANY_TAG */
    WILD_IRECV = 3,   /* MPI_ANY_SOURCE + MPI_ANY_TAG with MPI_Irecv/MPI_Wait */
    WILD_ROUNDS = 4,
};

static void any_source(const test_ctx *t)
{
    MPI_Comm comm = MPI_COMM_WORLD;
    enum { BUF = 16 };
    for (int round = 0; round < WILD_ROUNDS; round++) {
        if (t->rank != 0) {
            int payload[BUF];
            wildcard_payload(payload, t->rank, round);
            CHECK_MPI(t, MPI_Send(payload, wildcard_count(t->rank), MPI_INT, 0,
                                  wildcard_tag(t->rank, round), comm));
            /* The next round's messages must not meet this round's wildcards. */
            CHECK_MPI(t, MPI_Barrier(comm));
            continue;
        }
        bool seen[PARTIES] = {false, false, false};
        unsigned long long checksum[PARTIES] = {0, 0, 0};
        for (int k = 0; k < 2; k++) {
            int buf[BUF];
            memset(buf, 0x5a, sizeof buf);
            MPI_Status st = fresh_status();
            const int fixed_source = 1 + k; /* for WILD_TAG: receive from 1 then 2 */
            switch (round) {
            case WILD_BOTH:
                CHECK_MPI(t, MPI_Recv(buf, BUF, MPI_INT, MPI_ANY_SOURCE, MPI_ANY_TAG, comm, &st));
                break;
            case WILD_SOURCE:
                /* Ask for rank 2's tag first, whatever arrives first. */
                CHECK_MPI(t, MPI_Recv(buf, BUF, MPI_INT, MPI_ANY_SOURCE,
                                      wildcard_tag(2 - k, round), comm, &st));
                break;
            case WILD_TAG:
                CHECK_MPI(t, MPI_Recv(buf, BUF, MPI_INT, fixed_source, MPI_ANY_TAG, comm, &st));
                break;
            case WILD_IRECV: {
                MPI_Request req;
                CHECK_MPI(t, MPI_Irecv(buf, BUF, MPI_INT, MPI_ANY_SOURCE, MPI_ANY_TAG, comm,
                                       &req));
                CHECK_MPI(t, MPI_Wait(&req, &st));
                break;
            }
            default:
                test_fail(t, "unknown wildcard round %d", round);
            }
            const int src = st.MPI_SOURCE;
            char what[64];
            snprintf(what, sizeof what, "wildcard round %d receive %d", round, k);
            CHECK(t, src == 1 || src == 2, "%s: status.MPI_SOURCE %d is not 1 or 2", what, src);
            CHECK(t, !seen[src], "%s: two messages reported source %d", what, src);
            seen[src] = true;
            if (round == WILD_SOURCE)
                CHECK(t, src == 2 - k, "%s: asked for the tag of rank %d, got source %d", what,
                      2 - k, src);
            if (round == WILD_TAG)
                CHECK(t, src == fixed_source, "%s: asked for source %d, got %d", what,
                      fixed_source, src);
            check_recv_status(t, what, &st, MPI_INT, src, wildcard_tag(src, round),
                              wildcard_count(src));
            check_status_error_untouched(t, what, &st);
            int bytes = -1;
            CHECK_MPI(t, MPI_Get_count(&st, MPI_BYTE, &bytes));
            CHECK(t, bytes == wildcard_count(src) * (int)sizeof(int),
                  "%s: MPI_Get_count in MPI_BYTE gave %d, expected %d", what, bytes,
                  wildcard_count(src) * (int)sizeof(int));
            int expected[BUF];
            wildcard_payload(expected, src, round);
            CHECK(t, memcmp(buf, expected, (size_t)wildcard_count(src) * sizeof(int)) == 0,
                  "%s: payload from %d is wrong", what, src);
            unsigned char untouched[sizeof buf];
            memset(untouched, 0x5a, sizeof untouched);
            const size_t used = (size_t)wildcard_count(src) * sizeof(int);
            CHECK(t, memcmp((unsigned char *)buf + used, untouched, sizeof buf - used) == 0,
                  "%s: the receive wrote past the %d-element message", what,
                  wildcard_count(src));
            checksum[src] = checksum_bytes(buf, used);
        }
        /* Arrival order is not deterministic: report by source. */
        for (int src = 1; src < PARTIES; src++)
            test_out(t, "wildcard round=%d source=%d tag=%d count=%d checksum=%016llx", round, src,
                     wildcard_tag(src, round), wildcard_count(src), checksum[src]);
        CHECK_MPI(t, MPI_Barrier(comm));
    }
}

static void bcast(const test_ctx *t)
{
    MPI_Comm comm = MPI_COMM_WORLD;
    /* Public parameters of a query, from the data owner. */
    int params[4];
    int expected_params[4] = {PARTIES, 1000, 1000000, 42};
    if (t->rank == 0)
        memcpy(params, expected_params, sizeof params);
    else
        memset(params, 0, sizeof params);
    CHECK_MPI(t, MPI_Bcast(params, 4, MPI_INT, 0, comm));
    CHECK(t, memcmp(params, expected_params, sizeof params) == 0,
          "bcast params: got %d %d %d %d", params[0], params[1], params[2], params[3]);
    test_out(t, "bcast params %d %d %d %d", params[0], params[1], params[2], params[3]);

    datatype_desc types[DATATYPE_COUNT];
    datatypes_of_subset(types);
    static const int counts[] = {1, 1000, 1000000};
    /* A few datatypes (MPI_LONG_LONG, MPI_UNSIGNED_LONG_LONG, MPI_INT, MPI_C_BOOL,
     * MPI_DOUBLE) at every size, from every root. */
    static const int type_picks[] = {0, 1, 2, 4, 12};
    unsigned char *buf = xmalloc(t, 8 * 1000000), *expected = xmalloc(t, 8 * 1000000);
    for (size_t pi = 0; pi < sizeof type_picks / sizeof type_picks[0]; pi++) {
        const datatype_desc *d = &types[type_picks[pi]];
        for (size_t ci = 0; ci < sizeof counts / sizeof counts[0]; ci++) {
            for (int root = 0; root < PARTIES; root++) {
                const int count = counts[ci];
                const size_t bytes = (size_t)count * d->size;
                fill_stream(d, expected, (size_t)count,
                            stream_id(SHARE_STREAM, 6, (uint64_t)type_picks[pi] * 8 + (uint64_t)root,
                                      (uint64_t)count));
                if (t->rank == root)
                    memcpy(buf, expected, bytes);
                else
                    poison_against(buf, expected, bytes);
                CHECK_MPI(t, MPI_Bcast(buf, count, d->type, root, comm));
                size_t diff = first_difference(buf, expected, bytes);
                CHECK(t, diff == bytes, "bcast %s count %d root %d: differs at element %zu%s",
                      d->name, count, root, diff / d->size,
                      t->rank == root ? " (the root's own buffer changed)" : "");
                test_out(t, "bcast %s count=%d root=%d checksum=%016llx", d->name, count, root,
                         (unsigned long long)checksum_bytes(buf, bytes));
            }
        }
    }
    free(buf);
    free(expected);
}

int main(int argc, char **argv)
{
    test_ctx t = test_begin("share_inputs", &argc, &argv);
    distribute(&t, 1);
    distribute(&t, 1000);
    distribute(&t, 1000000);
    any_source(&t);
    bcast(&t);
    return test_end(&t);
}
