/*
 * open_reveal: opening replicated secret shares, as Secrecy does.
 *
 * A secret x is split into three shares s0, s1, s2 (boolean: x = s0^s1^s2;
 * arithmetic: x = s0+s1+s2 mod 2^64).  Party r holds (s_r, s_{r+1}); it
 * computes s_r and gets s_{r+1} from its successor by the ring exchange.
 *   open_*     rank 0 learns x: MPI_Reduce (MPI_BXOR on MPI_LONG_LONG /
 *              MPI_SUM on MPI_UNSIGNED_LONG_LONG) and manual sends of the
 *              missing share s2 from ranks 1 and 2 (which must agree)
 *   reveal_*   every rank learns x: MPI_Allreduce, and manual all-to-all
 *              sends of first shares
 *   reduce / allreduce   every op of the subset (SUM, BXOR, BAND, BOR, MAX,
 *              MIN) on every integer datatype (signed values include
 *              negatives, so MAX/MIN must compare with the right
 *              signedness; unsigned SUM wraps), plus the bitwise ops on
 *              MPI_BYTE; MPI_Reduce's root rotates over 0, 1, 2
 */
#include "mpi_test.h"

#define OPEN_STREAM 0x4f50454eULL /* "OPEN" */

/* ---- shares ----------------------------------------------------------- */

typedef enum { SHARING_BOOLEAN, SHARING_ARITHMETIC } sharing;

static const char *sharing_name(sharing s)
{
    return s == SHARING_BOOLEAN ? "boolean" : "arithmetic";
}

static void secret_values(unsigned long long *x, size_t n, sharing s)
{
    for (size_t i = 0; i < n; i++)
        x[i] = stream_at(stream_id(OPEN_STREAM, 1, (uint64_t)s, n), i);
}

/* Share s_party of the secret (what any rank can recompute). */
static void share_values(const test_ctx *t, unsigned long long *out, size_t n, sharing s,
                         int party)
{
    if (party < 2) {
        for (size_t i = 0; i < n; i++)
            out[i] = stream_at(stream_id(OPEN_STREAM, 2, (uint64_t)s * 8 + (uint64_t)party, n), i);
        return;
    }
    unsigned long long *x = xmalloc(t, n * sizeof *x);
    secret_values(x, n, s);
    for (size_t i = 0; i < n; i++) {
        unsigned long long s0 = stream_at(stream_id(OPEN_STREAM, 2, (uint64_t)s * 8 + 0, n), i);
        unsigned long long s1 = stream_at(stream_id(OPEN_STREAM, 2, (uint64_t)s * 8 + 1, n), i);
        out[i] = s == SHARING_BOOLEAN ? x[i] ^ s0 ^ s1 : x[i] - s0 - s1;
    }
    free(x);
}

static unsigned long long combine_shares(sharing s, unsigned long long a, unsigned long long b)
{
    return s == SHARING_BOOLEAN ? a ^ b : a + b;
}

static void check_secret(const test_ctx *t, const char *what, const unsigned long long *got,
                         const unsigned long long *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        CHECK(t, got[i] == x[i], "%s: element %zu is %016llx, the secret is %016llx", what, i,
              got[i], x[i]);
}

static void open_and_reveal(const test_ctx *t, sharing s, int count)
{
    MPI_Comm comm = MPI_COMM_WORLD;
    const int rank = t->rank, pred = pred_of(rank), succ = succ_of(rank);
    const size_t n = (size_t)count, bytes = n * sizeof(unsigned long long);
    /* BShare is a long long in Secrecy (opened with MPI_BXOR on MPI_LONG_LONG);
     * AShare is opened as unsigned long long so that the sum wraps. */
    MPI_Datatype type = s == SHARING_BOOLEAN ? MPI_LONG_LONG : MPI_UNSIGNED_LONG_LONG;
    MPI_Op op = s == SHARING_BOOLEAN ? MPI_BXOR : MPI_SUM;
    const int tag = 10 * (int)s;
    unsigned long long *x = xmalloc(t, bytes), *first = xmalloc(t, bytes),
                       *second = xmalloc(t, bytes), *expected_second = xmalloc(t, bytes),
                       *result = xmalloc(t, bytes), *other = xmalloc(t, bytes),
                       *other2 = xmalloc(t, bytes);
    secret_values(x, n, s);
    share_values(t, first, n, s, rank);
    share_values(t, expected_second, n, s, succ);
    char what[96];

    /* Ring exchange: send s_rank to the predecessor, receive s_{rank+1}. */
    poison_against(second, expected_second, bytes);
    MPI_Status st = fresh_status();
    CHECK_MPI(t, MPI_Send(first, count, type, pred, tag, comm));
    CHECK_MPI(t, MPI_Recv(second, count, type, succ, tag, comm, &st));
    snprintf(what, sizeof what, "%s share exchange count %d", sharing_name(s), count);
    check_recv_status(t, what, &st, type, succ, tag, count);
    CHECK(t, memcmp(second, expected_second, bytes) == 0,
          "%s: the successor's share is not what it should have computed", what);

    /* Open to rank 0 with MPI_Reduce. */
    if (rank == 0)
        poison_against(result, x, bytes);
    CHECK_MPI(t, MPI_Reduce(first, result, count, type, op, 0, comm));
    if (rank == 0) {
        snprintf(what, sizeof what, "open_reduce %s count %d", sharing_name(s), count);
        check_secret(t, what, result, x, n);
        test_out(t, "open_reduce %s count=%d checksum=%016llx", sharing_name(s), count,
                 (unsigned long long)checksum_bytes(result, bytes));
    }

    /* Open to rank 0 by hand: rank 0 holds (s0, s1) and needs s2, which rank 1
     * holds as its second share and rank 2 as its first.  Both send it. */
    if (rank == 0) {
        poison_against(other, x, bytes);
        poison_against(other2, x, bytes);
        st = fresh_status();
        CHECK_MPI(t, MPI_Recv(other, count, type, 1, tag + 1, comm, &st));
        snprintf(what, sizeof what, "open_manual %s count %d from 1", sharing_name(s), count);
        check_recv_status(t, what, &st, type, 1, tag + 1, count);
        st = fresh_status();
        CHECK_MPI(t, MPI_Recv(other2, count, type, 2, tag + 1, comm, &st));
        snprintf(what, sizeof what, "open_manual %s count %d from 2", sharing_name(s), count);
        check_recv_status(t, what, &st, type, 2, tag + 1, count);
        CHECK(t, memcmp(other, other2, bytes) == 0,
              "%s: ranks 1 and 2 sent different copies of s2", what);
        for (size_t i = 0; i < n; i++)
            result[i] = combine_shares(s, combine_shares(s, first[i], second[i]), other[i]);
        check_secret(t, what, result, x, n);
        test_out(t, "open_manual %s count=%d checksum=%016llx", sharing_name(s), count,
                 (unsigned long long)checksum_bytes(result, bytes));
    } else {
        const unsigned long long *s2 = rank == 1 ? second : first;
        CHECK_MPI(t, MPI_Send(s2, count, type, 0, tag + 1, comm));
    }

    /* Reveal to all with MPI_Allreduce. */
    poison_against(result, x, bytes);
    CHECK_MPI(t, MPI_Allreduce(first, result, count, type, op, comm));
    snprintf(what, sizeof what, "reveal_allreduce %s count %d", sharing_name(s), count);
    check_secret(t, what, result, x, n);
    test_out(t, "reveal_allreduce %s count=%d checksum=%016llx", sharing_name(s), count,
             (unsigned long long)checksum_bytes(result, bytes));

    /* Reveal to all by hand: everyone sends its first share to both others
     * (both blocking sends before both receives) and combines all three. */
    const int others[2] = {succ, pred};
    for (int k = 0; k < 2; k++)
        CHECK_MPI(t, MPI_Send(first, count, type, others[k], tag + 2, comm));
    unsigned long long *got[2] = {other, other2};
    for (int k = 0; k < 2; k++) {
        poison_against(got[k], x, bytes);
        st = fresh_status();
        CHECK_MPI(t, MPI_Recv(got[k], count, type, others[k], tag + 2, comm, &st));
        snprintf(what, sizeof what, "reveal_manual %s count %d from %d", sharing_name(s),
                 count, others[k]);
        check_recv_status(t, what, &st, type, others[k], tag + 2, count);
    }
    for (size_t i = 0; i < n; i++)
        result[i] = combine_shares(s, combine_shares(s, first[i], other[i]), other2[i]);
    check_secret(t, what, result, x, n);
    /* The successor's first share is the second share this rank already holds. */
    CHECK(t, memcmp(other, second, bytes) == 0,
          "%s: the successor's first share differs from the exchanged one", what);
    test_out(t, "reveal_manual %s count=%d checksum=%016llx", sharing_name(s), count,
             (unsigned long long)checksum_bytes(result, bytes));

    free(x);
    free(first);
    free(second);
    free(expected_second);
    free(result);
    free(other);
    free(other2);
}

/* ---- every op on every integer datatype -------------------------------- */

typedef enum { OP_SUM, OP_BXOR, OP_BAND, OP_BOR, OP_MAX, OP_MIN, OP_COUNT } op_kind;

static const char *op_name(op_kind op)
{
    static const char *names[OP_COUNT] = {"MPI_SUM", "MPI_BXOR", "MPI_BAND",
                                          "MPI_BOR", "MPI_MAX",  "MPI_MIN"};
    return names[op];
}

static MPI_Op mpi_op(op_kind op)
{
    switch (op) {
    case OP_SUM: return MPI_SUM;
    case OP_BXOR: return MPI_BXOR;
    case OP_BAND: return MPI_BAND;
    case OP_BOR: return MPI_BOR;
    case OP_MAX: return MPI_MAX;
    case OP_MIN: return MPI_MIN;
    default: return MPI_SUM;
    }
}

/*
 * Per C type: fill (signed values lie in [-2^(bits-3), 2^(bits-3)) so that a
 * sum of three cannot overflow; unsigned values use the full range so that
 * the sum wraps) and combine (the reference result, computed in C).
 */
#define INTEGER_TYPE_OPS(NAME, CTYPE, IS_SIGNED)                                 \
    static void fill_##NAME(void *buf, size_t n, uint64_t stream)               \
    {                                                                            \
        CTYPE *b = buf;                                                          \
        const unsigned bits = 8 * sizeof(CTYPE);                                 \
        for (size_t i = 0; i < n; i++) {                                         \
            uint64_t v = stream_at(stream, i);                                   \
            if (IS_SIGNED) {                                                     \
                const unsigned span = bits - 2;                                  \
                int64_t r = (int64_t)(v >> (64 - span)) - (INT64_C(1) << (span - 1)); \
                b[i] = (CTYPE)r;                                                 \
            } else {                                                             \
                b[i] = (CTYPE)v;                                                 \
            }                                                                    \
        }                                                                        \
    }                                                                            \
    static void combine_##NAME(op_kind op, const void *a_, const void *b_,      \
                               void *out_, size_t n)                             \
    {                                                                            \
        const CTYPE *a = a_, *b = b_;                                            \
        CTYPE *o = out_;                                                         \
        for (size_t i = 0; i < n; i++) {                                         \
            switch (op) {                                                        \
            case OP_SUM: o[i] = (CTYPE)(a[i] + b[i]); break;                     \
            case OP_BXOR: o[i] = (CTYPE)(a[i] ^ b[i]); break;                    \
            case OP_BAND: o[i] = (CTYPE)(a[i] & b[i]); break;                    \
            case OP_BOR: o[i] = (CTYPE)(a[i] | b[i]); break;                     \
            case OP_MAX: o[i] = a[i] > b[i] ? a[i] : b[i]; break;                \
            case OP_MIN: o[i] = a[i] < b[i] ? a[i] : b[i]; break;                \
            default: break;                                                      \
            }                                                                    \
        }                                                                        \
    }

INTEGER_TYPE_OPS(int, int, 1)
INTEGER_TYPE_OPS(long, long, 1)
INTEGER_TYPE_OPS(long_long, long long, 1)
INTEGER_TYPE_OPS(short, short, 1)
INTEGER_TYPE_OPS(unsigned, unsigned, 0)
INTEGER_TYPE_OPS(unsigned_long, unsigned long, 0)
INTEGER_TYPE_OPS(unsigned_long_long, unsigned long long, 0)
INTEGER_TYPE_OPS(unsigned_char, unsigned char, 0)
INTEGER_TYPE_OPS(int8, int8_t, 1)
INTEGER_TYPE_OPS(int16, int16_t, 1)
INTEGER_TYPE_OPS(int32, int32_t, 1)
INTEGER_TYPE_OPS(int64, int64_t, 1)
INTEGER_TYPE_OPS(uint8, uint8_t, 0)
INTEGER_TYPE_OPS(uint16, uint16_t, 0)
INTEGER_TYPE_OPS(uint32, uint32_t, 0)
INTEGER_TYPE_OPS(uint64, uint64_t, 0)

typedef struct {
    const char *name;
    MPI_Datatype type;
    size_t size;
    bool bitwise_only; /* MPI_BYTE: only BAND, BOR, BXOR are defined */
    /* Open MPI 4.1.2-4.1.4 (the reference here) compares MPI_UNSIGNED_LONG as
     * signed long in MPI_MAX/MPI_MIN (open-mpi/ompi#10525, fixed in 4.1.5).
     * For that pair only, values keep their top bit clear; unsigned 64-bit
     * MAX/MIN over the full range stays covered by MPI_UNSIGNED_LONG_LONG and
     * MPI_UINT64_T. */
    bool reference_signed_minmax_bug;
    void (*fill)(void *, size_t, uint64_t);
    void (*combine)(op_kind, const void *, const void *, void *, size_t);
} reduce_type;

#define REDUCE_TYPE(MPI_NAME, NAME, CTYPE) \
    {#MPI_NAME, MPI_NAME, sizeof(CTYPE), false, false, fill_##NAME, combine_##NAME}

static void clear_top_bits(void *buf, size_t n, size_t size)
{
    unsigned char *b = buf;
    for (size_t i = 0; i < n; i++) {
        uint64_t v = 0;
        memcpy(&v, b + i * size, size);
        v &= ~(UINT64_C(1) << (8 * size - 1));
        memcpy(b + i * size, &v, size);
    }
}

static void reduce_every_op(const test_ctx *t)
{
    MPI_Comm comm = MPI_COMM_WORLD;
    const reduce_type types[] = {
        REDUCE_TYPE(MPI_INT, int, int),
        REDUCE_TYPE(MPI_LONG, long, long),
        REDUCE_TYPE(MPI_LONG_LONG, long_long, long long),
        REDUCE_TYPE(MPI_SHORT, short, short),
        REDUCE_TYPE(MPI_UNSIGNED, unsigned, unsigned),
        {"MPI_UNSIGNED_LONG", MPI_UNSIGNED_LONG, sizeof(unsigned long), false, true,
         fill_unsigned_long, combine_unsigned_long},
        REDUCE_TYPE(MPI_UNSIGNED_LONG_LONG, unsigned_long_long, unsigned long long),
        REDUCE_TYPE(MPI_UNSIGNED_CHAR, unsigned_char, unsigned char),
        REDUCE_TYPE(MPI_INT8_T, int8, int8_t),
        REDUCE_TYPE(MPI_INT16_T, int16, int16_t),
        REDUCE_TYPE(MPI_INT32_T, int32, int32_t),
        REDUCE_TYPE(MPI_INT64_T, int64, int64_t),
        REDUCE_TYPE(MPI_UINT8_T, uint8, uint8_t),
        REDUCE_TYPE(MPI_UINT16_T, uint16, uint16_t),
        REDUCE_TYPE(MPI_UINT32_T, uint32, uint32_t),
        REDUCE_TYPE(MPI_UINT64_T, uint64, uint64_t),
        {"MPI_BYTE", MPI_BYTE, 1, true, false, fill_uint8, combine_uint8},
    };
    static const int counts[] = {1, 1000, 100003};
    const size_t max_bytes = 8 * 100003;
    unsigned char *in[PARTIES], *expected = xmalloc(t, max_bytes),
                                *result = xmalloc(t, max_bytes);
    for (int p = 0; p < PARTIES; p++)
        in[p] = xmalloc(t, max_bytes);

    int round = 0;
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        const reduce_type *d = &types[ti];
        for (op_kind op = OP_SUM; op < OP_COUNT; op++) {
            if (d->bitwise_only && op != OP_BXOR && op != OP_BAND && op != OP_BOR)
                continue;
            for (size_t ci = 0; ci < sizeof counts / sizeof counts[0]; ci++) {
                const int count = counts[ci];
                const size_t n = (size_t)count, bytes = n * d->size;
                for (int p = 0; p < PARTIES; p++)
                    d->fill(in[p], n, stream_id(OPEN_STREAM, 3, ti * 16 + op, (uint64_t)p));
                if (d->reference_signed_minmax_bug && (op == OP_MAX || op == OP_MIN))
                    for (int p = 0; p < PARTIES; p++)
                        clear_top_bits(in[p], n, d->size);
                d->combine(op, in[0], in[1], expected, n);
                d->combine(op, expected, in[2], expected, n);
                const int root = round++ % PARTIES;
                char what[128];

                if (t->rank == root)
                    poison_against(result, expected, bytes);
                CHECK_MPI(t, MPI_Reduce(in[t->rank], result, count, d->type, mpi_op(op), root,
                                        comm));
                if (t->rank == root) {
                    snprintf(what, sizeof what, "reduce %s %s count %d root %d", d->name,
                             op_name(op), count, root);
                    size_t diff = first_difference(result, expected, bytes);
                    CHECK(t, diff == bytes, "%s: wrong result at element %zu", what,
                          diff / d->size);
                    test_out(t, "reduce %s %s count=%d root=%d checksum=%016llx", d->name,
                             op_name(op), count, root,
                             (unsigned long long)checksum_bytes(result, bytes));
                }

                poison_against(result, expected, bytes);
                CHECK_MPI(t, MPI_Allreduce(in[t->rank], result, count, d->type, mpi_op(op),
                                           comm));
                snprintf(what, sizeof what, "allreduce %s %s count %d", d->name, op_name(op),
                         count);
                size_t diff = first_difference(result, expected, bytes);
                CHECK(t, diff == bytes, "%s: wrong result at element %zu", what,
                      diff / d->size);
                test_out(t, "allreduce %s %s count=%d checksum=%016llx", d->name, op_name(op),
                         count, (unsigned long long)checksum_bytes(result, bytes));
            }
        }
    }
    for (int p = 0; p < PARTIES; p++)
        free(in[p]);
    free(expected);
    free(result);
}

int main(int argc, char **argv)
{
    test_ctx t = test_begin("open_reveal", &argc, &argv);
    static const int counts[] = {1, 1000, 1000000};
    for (int s = SHARING_BOOLEAN; s <= SHARING_ARITHMETIC; s++)
        for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
            open_and_reveal(&t, (sharing)s, counts[i]);
    reduce_every_op(&t);
    return test_end(&t);
}
