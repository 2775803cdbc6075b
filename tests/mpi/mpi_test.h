/*
 * Shared helpers for the MPI conformance programs in tests/mpi/.
 *
 * Every program takes one argument OUTDIR and writes its deterministic
 * results to OUTDIR/rank<N>.txt.  Every check derives the expected value
 * locally (from the same generators the peers used), and a failed check
 * prints what went wrong and calls MPI_Abort(MPI_COMM_WORLD, TEST_FAILURE_CODE).
 */
#ifndef TERNION_TESTS_MPI_TEST_H
#define TERNION_TESTS_MPI_TEST_H

#include <mpi.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The suite always runs with exactly three parties. */
#define PARTIES 3
/* Exit code of a failed self-check (the runner tells it apart from the
 * codes that abort.c and truncate.c expect). */
#define TEST_FAILURE_CODE 2
/* Sentinel written into status.MPI_ERROR before a receive, to see whether
 * the implementation touched the field. */
#define STATUS_ERROR_SENTINEL (-7777)

typedef struct {
    const char *program;
    int rank;
    FILE *out;
} test_ctx;

/* Secrecy's ring: a party sends to its predecessor and receives from its
 * successor. */
static inline int pred_of(int rank) { return (rank + PARTIES - 1) % PARTIES; }
static inline int succ_of(int rank) { return (rank + 1) % PARTIES; }

__attribute__((format(printf, 2, 3), noreturn)) static inline void
test_fail(const test_ctx *t, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s rank %d: FAIL: ", t->program, t->rank);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, TEST_FAILURE_CODE);
    exit(TEST_FAILURE_CODE); /* MPI_Abort must not return; be sure anyway. */
}

/* Every MPI call in the suite is checked for MPI_SUCCESS. */
#define CHECK_MPI(t, call)                                                     \
    do {                                                                       \
        int check_mpi_rc_ = (call);                                            \
        if (check_mpi_rc_ != MPI_SUCCESS)                                      \
            test_fail((t), "%s returned %d", #call, check_mpi_rc_);            \
    } while (0)

#define CHECK(t, cond, ...)                                                    \
    do {                                                                       \
        if (!(cond))                                                           \
            test_fail((t), __VA_ARGS__);                                       \
    } while (0)

/* Opens OUTDIR/rank<N>.txt for this rank's results. */
static inline void test_open_output(test_ctx *t, int argc, char **argv)
{
    if (argc != 2)
        test_fail(t, "usage: %s OUTDIR", argc > 0 ? argv[0] : t->program);
    char path[4096];
    int len = snprintf(path, sizeof path, "%s/rank%d.txt", argv[1], t->rank);
    CHECK(t, len > 0 && (size_t)len < sizeof path, "output path too long");
    t->out = fopen(path, "w");
    CHECK(t, t->out != NULL, "cannot open %s for writing", path);
}

/* MPI_Init, the three-party check and the output file. */
static inline test_ctx test_begin(const char *program, int *argc, char ***argv)
{
    test_ctx t = {program, -1, NULL};
    if (MPI_Init(argc, argv) != MPI_SUCCESS) {
        fprintf(stderr, "%s: FAIL: MPI_Init failed\n", program);
        exit(TEST_FAILURE_CODE);
    }
    CHECK_MPI(&t, MPI_Comm_rank(MPI_COMM_WORLD, &t.rank));
    int size = -1;
    CHECK_MPI(&t, MPI_Comm_size(MPI_COMM_WORLD, &size));
    CHECK(&t, size == PARTIES, "MPI_Comm_size gave %d, the suite needs %d",
          size, PARTIES);
    CHECK(&t, t.rank >= 0 && t.rank < size, "rank %d outside [0, %d)", t.rank,
          size);
    test_open_output(&t, *argc, *argv);
    return t;
}

__attribute__((format(printf, 2, 3))) static inline void
test_out(const test_ctx *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(t->out, fmt, ap);
    va_end(ap);
    fputc('\n', t->out);
}

static inline void test_close_output(test_ctx *t)
{
    CHECK(t, fclose(t->out) == 0, "closing the output file failed");
    t->out = NULL;
}

/* Closes the output and finalizes; the program then returns 0. */
static inline int test_end(test_ctx *t)
{
    test_close_output(t);
    CHECK_MPI(t, MPI_Finalize());
    return 0;
}

/* ---- deterministic data ------------------------------------------------ */

static inline uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A stream names one sequence of values, e.g. (what, rank, datatype). Every
 * rank can compute every other rank's stream, which is how expected values
 * are derived locally. */
static inline uint64_t stream_id(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
    return mix64(mix64(mix64(mix64(a) ^ b) ^ c) ^ d);
}

/* Element i of a stream (splitmix64). */
static inline uint64_t stream_at(uint64_t stream, uint64_t i)
{
    return mix64(stream + (i + 1) * 0x9e3779b97f4a7c15ULL);
}

/* FNV-1a over bytes: the checksum written to the rank files. */
static inline uint64_t checksum_bytes(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* Index of the first differing byte, or len when equal. */
static inline size_t first_difference(const void *a, const void *b, size_t len)
{
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < len; i++)
        if (x[i] != y[i])
            return i;
    return len;
}

/* Fills a receive buffer with the bitwise complement of what is expected, so
 * that a receive that writes nothing (or too little) can never pass. */
static inline void poison_against(void *buf, const void *expected, size_t len)
{
    unsigned char *b = buf;
    const unsigned char *e = expected;
    for (size_t i = 0; i < len; i++)
        b[i] = (unsigned char)~e[i];
}

static inline void *xmalloc(const test_ctx *t, size_t len)
{
    void *p = malloc(len ? len : 1);
    CHECK(t, p != NULL, "out of memory (%zu bytes)", len);
    return p;
}

/* ---- the datatypes of the subset -------------------------------------- */

typedef enum {
    REPR_U8,     /* any one-byte integer type, MPI_BYTE, MPI_CHAR */
    REPR_BOOL,   /* C bool: 0 or 1 */
    REPR_U16,
    REPR_U32,
    REPR_U64,
    REPR_FLOAT,  /* exactly representable floats */
    REPR_DOUBLE, /* exactly representable doubles */
} value_repr;

typedef struct {
    const char *name;
    MPI_Datatype type;
    size_t size;
    value_repr repr;
} datatype_desc;

static inline value_repr integer_repr(size_t size)
{
    return size == 1 ? REPR_U8 : size == 2 ? REPR_U16 : size == 4 ? REPR_U32 : REPR_U64;
}

#define DATATYPE_COUNT 21

/* All datatypes of the subset (built at run time: MPI_Datatype handles need
 * not be compile-time constants). */
static inline void datatypes_of_subset(datatype_desc out[DATATYPE_COUNT])
{
    const datatype_desc all[DATATYPE_COUNT] = {
        {"MPI_LONG_LONG", MPI_LONG_LONG, sizeof(long long), integer_repr(sizeof(long long))},
        {"MPI_UNSIGNED_LONG_LONG", MPI_UNSIGNED_LONG_LONG, sizeof(unsigned long long),
         integer_repr(sizeof(unsigned long long))},
        {"MPI_INT", MPI_INT, sizeof(int), integer_repr(sizeof(int))},
        {"MPI_CHAR", MPI_CHAR, sizeof(char), REPR_U8},
        {"MPI_C_BOOL", MPI_C_BOOL, sizeof(bool), REPR_BOOL},
        {"MPI_BYTE", MPI_BYTE, 1, REPR_U8},
        {"MPI_UNSIGNED_CHAR", MPI_UNSIGNED_CHAR, sizeof(unsigned char), REPR_U8},
        {"MPI_SHORT", MPI_SHORT, sizeof(short), integer_repr(sizeof(short))},
        {"MPI_UNSIGNED", MPI_UNSIGNED, sizeof(unsigned), integer_repr(sizeof(unsigned))},
        {"MPI_LONG", MPI_LONG, sizeof(long), integer_repr(sizeof(long))},
        {"MPI_UNSIGNED_LONG", MPI_UNSIGNED_LONG, sizeof(unsigned long),
         integer_repr(sizeof(unsigned long))},
        {"MPI_FLOAT", MPI_FLOAT, sizeof(float), REPR_FLOAT},
        {"MPI_DOUBLE", MPI_DOUBLE, sizeof(double), REPR_DOUBLE},
        {"MPI_INT8_T", MPI_INT8_T, 1, REPR_U8},
        {"MPI_INT16_T", MPI_INT16_T, 2, REPR_U16},
        {"MPI_INT32_T", MPI_INT32_T, 4, REPR_U32},
        {"MPI_INT64_T", MPI_INT64_T, 8, REPR_U64},
        {"MPI_UINT8_T", MPI_UINT8_T, 1, REPR_U8},
        {"MPI_UINT16_T", MPI_UINT16_T, 2, REPR_U16},
        {"MPI_UINT32_T", MPI_UINT32_T, 4, REPR_U32},
        {"MPI_UINT64_T", MPI_UINT64_T, 8, REPR_U64},
    };
    memcpy(out, all, sizeof all);
}

/* Writes element i of stream into buf as a value of the given representation. */
static inline void store_value(value_repr repr, void *buf, size_t i, uint64_t v)
{
    unsigned char *b = buf;
    switch (repr) {
    case REPR_U8: {
        uint8_t x = (uint8_t)v;
        memcpy(b + i, &x, 1);
        break;
    }
    case REPR_BOOL: {
        bool x = (v & 1) != 0;
        memcpy(b + i * sizeof x, &x, sizeof x);
        break;
    }
    case REPR_U16: {
        uint16_t x = (uint16_t)v;
        memcpy(b + i * 2, &x, 2);
        break;
    }
    case REPR_U32: {
        uint32_t x = (uint32_t)v;
        memcpy(b + i * 4, &x, 4);
        break;
    }
    case REPR_U64:
        memcpy(b + i * 8, &v, 8);
        break;
    case REPR_FLOAT: {
        /* a 24-bit signed integer divided by 8: exact in a float */
        float x = (float)((int64_t)(v >> 40) - (INT64_C(1) << 23)) / 8.0f;
        memcpy(b + i * sizeof x, &x, sizeof x);
        break;
    }
    case REPR_DOUBLE: {
        /* a 53-bit signed integer divided by 1024: exact in a double */
        double x = (double)((int64_t)(v >> 11) - (INT64_C(1) << 52)) / 1024.0;
        memcpy(b + i * sizeof x, &x, sizeof x);
        break;
    }
    }
}

static inline void fill_stream(const datatype_desc *d, void *buf, size_t count,
                               uint64_t stream)
{
    for (size_t i = 0; i < count; i++)
        store_value(d->repr, buf, i, stream_at(stream, i));
}

/* Checks the status of a completed receive: source, tag, element count, and
 * (for single-completion calls) that MPI_ERROR was left alone, as the MPI
 * standard requires of calls that return one status. */
static inline void check_recv_status(const test_ctx *t, const char *what,
                                     const MPI_Status *st, MPI_Datatype type,
                                     int source, int tag, int count)
{
    CHECK(t, st->MPI_SOURCE == source, "%s: status.MPI_SOURCE %d, expected %d", what,
          st->MPI_SOURCE, source);
    CHECK(t, st->MPI_TAG == tag, "%s: status.MPI_TAG %d, expected %d", what,
          st->MPI_TAG, tag);
    int got = -1;
    CHECK_MPI(t, MPI_Get_count(st, type, &got));
    CHECK(t, got == count, "%s: MPI_Get_count %d, expected %d", what, got, count);
}

static inline void check_status_error_untouched(const test_ctx *t, const char *what,
                                                const MPI_Status *st)
{
    CHECK(t, st->MPI_ERROR == STATUS_ERROR_SENTINEL,
          "%s: a single-completion call changed status.MPI_ERROR to %d", what,
          st->MPI_ERROR);
}

/* Multiple-completion calls that succeed may set MPI_ERROR to MPI_SUCCESS
 * or leave it alone; anything else is wrong. */
static inline void check_status_error_ok(const test_ctx *t, const char *what,
                                         const MPI_Status *st)
{
    CHECK(t, st->MPI_ERROR == STATUS_ERROR_SENTINEL || st->MPI_ERROR == MPI_SUCCESS,
          "%s: status.MPI_ERROR is %d after a successful completion", what,
          st->MPI_ERROR);
}

static inline MPI_Status fresh_status(void)
{
    MPI_Status st;
    memset(&st, 0, sizeof st);
    st.MPI_SOURCE = -1;
    st.MPI_TAG = -1;
    st.MPI_ERROR = STATUS_ERROR_SENTINEL;
    return st;
}

#endif
