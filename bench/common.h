/*
 * Shared body of the baseline benchmarks (mpi_bench.c, raw_tcp_bench.c).
 *
 * The six workloads are defined here once, against a small transport
 * interface, so OpenMPI and raw TCP run exactly the same code and differ
 * only in how bytes move.  A program supplies a `struct transport`, calls
 * bench_run(), and rank 0 calls bench_print_json().
 *
 * Conventions (the ternion benchmark follows the same definitions):
 *   - ring: pred(r) = (r+2)%3, succ(r) = (r+1)%3; an exchange of S bytes
 *     sends S bytes to pred and receives S bytes from succ, concurrently;
 *   - times are taken on rank 0 with CLOCK_MONOTONIC; every timed run
 *     starts after a barrier;
 *   - all buffers are allocated and touched once before any timing, so
 *     no measurement pays for first-touch page faults;
 *   - median of an even count is the mean of the two middle values;
 *     percentiles are nearest-rank on the sorted samples;
 *   - every word received is checked against the sender's pattern
 *     (outside the timed region); a mismatch aborts with exit status 2;
 *   - CPU cost is the user + system time (getrusage, every thread) that
 *     all three parties spent inside the timed calls, per GiB that all
 *     three sent: the figure a shared machine disturbs least.
 *
 * Header-only: each program is a single translation unit.
 */
#ifndef TERNION_BENCH_COMMON_H
#define TERNION_BENCH_COMMON_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define PARTIES 3
#define KIB ((size_t)1 << 10)
#define MIB ((size_t)1 << 20)

static inline int pred_of(int r) { return (r + 2) % PARTIES; }
static inline int succ_of(int r) { return (r + 1) % PARTIES; }

/* ------------------------------------------------------------------ */
/* Failure                                                            */
/* ------------------------------------------------------------------ */

/* Set by the program: how to take the whole job down (MPI_Abort, exit). */
static void (*bench_abort_hook)(int code);
static int bench_rank = -1;

static void bench_die(int code, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 2, 3)));
static void bench_die(int code, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "rank %d: ", bench_rank);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    if (bench_abort_hook)
        bench_abort_hook(code);
    exit(code);
}

static void *bench_alloc(size_t bytes)
{
    void *p = NULL;
    if (posix_memalign(&p, 4096, bytes) != 0)
        bench_die(1, "cannot allocate %zu bytes", bytes);
    memset(p, 0, bytes); /* touch every page before any timing */
    return p;
}

/* ------------------------------------------------------------------ */
/* Timing and statistics                                              */
/* ------------------------------------------------------------------ */

static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time this process has used, every thread, user + system. */
static double cpu_now_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts v in place. */
static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Nearest-rank percentile of a sorted array. */
static double percentile_sorted(const double *v, size_t n, double p)
{
    double x = p / 100.0 * (double)n;
    size_t k = (size_t)x;
    if ((double)k < x)
        k++; /* ceil */
    if (k < 1)
        k = 1;
    if (k > n)
        k = n;
    return v[k - 1];
}

/* ------------------------------------------------------------------ */
/* Data patterns and verification                                     */
/* ------------------------------------------------------------------ */

/* A tag names one transfer: which workload, which sender, which run. */
static inline uint64_t pattern_seed(int sender, uint64_t workload, uint64_t a, uint64_t b)
{
    uint64_t z = ((uint64_t)sender + 1) * 0x9E3779B97F4A7C15ULL;
    z ^= workload * 0xBF58476D1CE4E5B9ULL;
    z ^= (a + 1) * 0x94D049BB133111EBULL;
    z ^= (b + 1) * 0xD6E8FEB86659FD93ULL;
    z ^= z >> 31;
    return z;
}

static inline uint64_t pattern_word(uint64_t seed, size_t i)
{
    return seed ^ ((uint64_t)i * 0x9E3779B97F4A7C15ULL);
}

static void pattern_fill(uint64_t *w, size_t nwords, uint64_t seed)
{
    for (size_t i = 0; i < nwords; i++)
        w[i] = pattern_word(seed, i);
}

/* Checks every word of `got` against expect(i) = pattern_word(seed, i) + add.
 * Runs outside the timed regions; a full check costs less than the
 * transfer it verifies and catches a single flipped byte anywhere. */
static void pattern_check(const char *what, const uint64_t *got, size_t nwords,
                          uint64_t seed, uint64_t add)
{
    uint64_t diff = 0;
    for (size_t i = 0; i < nwords; i++)
        diff |= got[i] ^ (pattern_word(seed, i) + add);
    if (diff == 0)
        return;
    for (size_t i = 0; i < nwords; i++) {
        uint64_t want = pattern_word(seed, i) + add;
        if (got[i] != want)
            bench_die(2, "%s: data mismatch at word %zu of %zu: got %016" PRIx64
                      ", want %016" PRIx64, what, i, nwords, got[i], want);
    }
}

/* ------------------------------------------------------------------ */
/* Compute kernel                                                     */
/* ------------------------------------------------------------------ */

static volatile uint64_t bench_sink;

/* `passes` LCG passes over x; the checksum goes to a volatile so the
 * compiler cannot drop the work. */
static void compute_kernel(uint64_t *x, size_t n, int passes)
{
    for (int p = 0; p < passes; p++)
        for (size_t i = 0; i < n; i++)
            x[i] = x[i] * 6364136223846793005ULL + 1442695040888963407ULL;
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i += 512)
        sum ^= x[i];
    bench_sink ^= sum;
}

/* ------------------------------------------------------------------ */
/* Transport interface                                                */
/* ------------------------------------------------------------------ */

enum xfer_kind { XFER_SEND, XFER_RECV };

struct xfer_op {
    int peer;
    enum xfer_kind kind;
    void *buf;
    size_t len;
};

/* At most four operations are ever in flight at once. */
#define XFER_MAX_OPS 4

struct transport {
    const char *system;
    int rank;
    void *ctx;
    /* All parties return only once all parties have entered. */
    void (*barrier)(void *ctx);
    /* Runs every op concurrently; returns when all are complete. */
    void (*xfer)(void *ctx, const struct xfer_op *ops, int nops);
    /* Starts the ops and returns; xfer_wait completes them.  One batch
     * at a time.  The ops array is copied. */
    void (*xfer_start)(void *ctx, const struct xfer_op *ops, int nops);
    void (*xfer_wait)(void *ctx);
    /* The request patterns of an MPI program (NULL where the system has no
     * requests: raw TCP runs the patterns as xfer calls).  send_then_recv
     * is a blocking send, then a blocking receive; xfer_wait_each waits for
     * the batch's requests one at a time, last posted first, as Secrecy
     * waits for its send before its receive. */
    void (*send_then_recv)(void *ctx, const struct xfer_op *send, const struct xfer_op *recv);
    void (*xfer_wait_each)(void *ctx);
};

static inline int exchange_ops(const struct transport *t, struct xfer_op ops[2],
                               void *send, void *recv, size_t bytes)
{
    ops[0] = (struct xfer_op){succ_of(t->rank), XFER_RECV, recv, bytes};
    ops[1] = (struct xfer_op){pred_of(t->rank), XFER_SEND, send, bytes};
    return 2;
}

static inline void exchange(const struct transport *t, void *send, void *recv, size_t bytes)
{
    struct xfer_op ops[2];
    t->xfer(t->ctx, ops, exchange_ops(t, ops, send, recv, bytes));
}

/* ------------------------------------------------------------------ */
/* Configuration and results                                          */
/* ------------------------------------------------------------------ */

#define N_SIZES 6
static const size_t throughput_sizes[N_SIZES] = {
    1 * KIB, 16 * KIB, 256 * KIB, 4 * MIB, 32 * MIB, 128 * MIB,
};
#define MAX_SIZE (128 * MIB)
#define VEC_ELEMS ((size_t)1 << 20) /* 1,048,576 u64 values = 8 MiB */

struct bench_config {
    bool quick;
    int latency_n, latency_warmup;
    int patterns_n;
    int rounds, rounds_reps;
    int open_reps;
    size_t overlap_bytes;
    int overlap_passes, overlap_reps;
};

static struct bench_config bench_config_for(bool quick)
{
    if (quick)
        return (struct bench_config){
            .quick = true,
            .latency_n = 2000, .latency_warmup = 100,
            .patterns_n = 2000,
            .rounds = 8, .rounds_reps = 1,
            .open_reps = 2,
            .overlap_bytes = 8 * MIB, .overlap_passes = 8, .overlap_reps = 1,
        };
    return (struct bench_config){
        .quick = false,
        .latency_n = 100000, .latency_warmup = 1000,
        .patterns_n = 20000,
        .rounds = 64, .rounds_reps = 3,
        .open_reps = 5,
        .overlap_bytes = 64 * MIB, .overlap_passes = 64, .overlap_reps = 3,
    };
}

static int throughput_reps(const struct bench_config *c, size_t bytes)
{
    if (c->quick)
        return 2;
    size_t r = (256 * MIB) / bytes;
    if (r > 1000)
        r = 1000;
    if (r < 3)
        r = 3;
    return (int)r;
}

/* The workloads whose CPU cost is reported, in JSON order. */
enum {
    COST_LATENCY,
    COST_THROUGHPUT, /* one per size, N_SIZES in all */
    COST_ROUNDS = COST_THROUGHPUT + N_SIZES,
    COST_OPEN,
    N_COSTS
};

/* One-element exchange patterns, as MPI programs write them. */
enum { PATTERN_SEND_RECV, PATTERN_WAITALL, PATTERN_WAIT_WAIT, N_PATTERNS };
static const char *const pattern_names[N_PATTERNS] = {
    "send_recv", "irecv_isend_waitall", "irecv_isend_wait_wait",
};

/* What the latency loop (measure_latency) found. */
struct latency_result {
    int n;
    double mean_us, p50_us, p99_us;
    double cpu_s, bytes; /* all exchanges, warm-up included; bytes of all parties */
};

struct bench_results {
    /* CPU seconds spent in each workload's timed calls (this party, then
     * summed over all three by bench_run) and the bytes all three sent. */
    double cost_cpu_s[N_COSTS], cost_bytes[N_COSTS];
    int patterns_n;
    double pattern_mean_us[N_PATTERNS];
    struct latency_result latency;
    struct {
        size_t bytes;
        int reps;
        double median_s, mib_per_s;
    } tp[N_SIZES];
    int rounds;
    double rounds_s;
    double open_s;
    size_t overlap_bytes;
    int overlap_passes;
    double compute_s, exchange_s, together_s, ratio;
};

/* Workload ids for pattern seeds. */
enum { W_LATENCY = 1, W_THROUGHPUT, W_ROUNDS, W_OPEN, W_OVERLAP, W_PATTERNS };

/* ------------------------------------------------------------------ */
/* Workloads                                                          */
/* ------------------------------------------------------------------ */

struct bench_buffers {
    uint64_t *send, *recv; /* MAX_SIZE bytes each */
    uint64_t *work;        /* VEC_ELEMS words: compute array */
    double *samples;       /* max(latency_n, 1000) */
};

/* One 8-byte ring exchange at a time, WARMUP + N of them, each checked
 * against the sender's pattern; the N after the warm-up are timed one by
 * one into b->samples. Both benchmarks' latency workloads. */
static struct latency_result measure_latency(const struct transport *t, int warmup, int n,
                                             int workload, struct bench_buffers *b)
{
    int me = t->rank, from = succ_of(me);
    int total = warmup + n;
    t->barrier(t->ctx);
    double cpu0 = cpu_now_s();
    for (int k = 0; k < total; k++) {
        b->send[0] = pattern_word(pattern_seed(me, workload, (uint64_t)k, 0), 0);
        double t0 = now_s();
        exchange(t, b->send, b->recv, 8);
        double t1 = now_s();
        if (b->recv[0] != pattern_word(pattern_seed(from, workload, (uint64_t)k, 0), 0))
            bench_die(2, "latency_8b: data mismatch in exchange %d", k);
        if (k >= warmup)
            b->samples[k - warmup] = t1 - t0;
    }
    struct latency_result r = {.n = n, .cpu_s = cpu_now_s() - cpu0,
                               .bytes = (double)total * 8 * PARTIES};
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += b->samples[i];
    qsort(b->samples, (size_t)n, sizeof *b->samples, cmp_double);
    r.mean_us = sum / (double)n * 1e6;
    r.p50_us = percentile_sorted(b->samples, (size_t)n, 50) * 1e6;
    r.p99_us = percentile_sorted(b->samples, (size_t)n, 99) * 1e6;
    return r;
}

static void run_latency(const struct transport *t, const struct bench_config *c,
                        struct bench_buffers *b, struct bench_results *res)
{
    struct latency_result r =
        measure_latency(t, c->latency_warmup, c->latency_n, W_LATENCY, b);
    res->latency = r;
    res->cost_cpu_s[COST_LATENCY] = r.cpu_s;
    res->cost_bytes[COST_LATENCY] = r.bytes;
}

/* REPS ring exchanges of BYTES each, one after a barrier at a time, each
 * timed and checked; adds their CPU time to *CPU_S and returns the median
 * time of one. Both benchmarks' single exchanges. */
static double timed_exchanges(const struct transport *t, size_t bytes, int reps, int workload,
                              struct bench_buffers *b, double *cpu_s)
{
    int me = t->rank, from = succ_of(me);
    size_t words = bytes / 8;
    for (int r = 0; r < reps; r++) {
        pattern_fill(b->send, words, pattern_seed(me, workload, bytes, (uint64_t)r));
        t->barrier(t->ctx);
        double cpu0 = cpu_now_s(), t0 = now_s();
        exchange(t, b->send, b->recv, bytes);
        b->samples[r] = now_s() - t0;
        *cpu_s += cpu_now_s() - cpu0;
        pattern_check("exchange", b->recv, words,
                      pattern_seed(from, workload, bytes, (uint64_t)r), 0);
    }
    return median(b->samples, (size_t)reps);
}

static void run_throughput(const struct transport *t, const struct bench_config *c,
                           struct bench_buffers *b, struct bench_results *res)
{
    for (int s = 0; s < N_SIZES; s++) {
        size_t bytes = throughput_sizes[s];
        int reps = throughput_reps(c, bytes);
        res->tp[s].median_s = timed_exchanges(t, bytes, reps, W_THROUGHPUT, b,
                                              &res->cost_cpu_s[COST_THROUGHPUT + s]);
        res->cost_bytes[COST_THROUGHPUT + s] = (double)bytes * reps * PARTIES;
        res->tp[s].bytes = bytes;
        res->tp[s].reps = reps;
        res->tp[s].mib_per_s = (double)bytes / (double)MIB / res->tp[s].median_s;
    }
}

/* ROUNDS dependent ring exchanges of BYTES each after one barrier: round
 * k sends what round k-1 received, plus one, and the last round's data is
 * checked. SEED_INDEX tells repetitions apart. Adds the exchanges' CPU time
 * to *CPU_S; returns the time of all rounds. Both benchmarks' rounds. */
static double dependent_rounds(const struct transport *t, size_t bytes, int rounds, int workload,
                               uint64_t seed_index, struct bench_buffers *b, double *cpu_s)
{
    int me = t->rank;
    size_t words = bytes / 8;
    pattern_fill(b->send, words, pattern_seed(me, workload, seed_index, 0));
    t->barrier(t->ctx);
    double t0 = now_s();
    for (int k = 0; k < rounds; k++) {
        if (k > 0)
            for (size_t i = 0; i < words; i++)
                b->send[i] = b->recv[i] + 1;
        double cpu0 = cpu_now_s();
        exchange(t, b->send, b->recv, bytes);
        *cpu_s += cpu_now_s() - cpu0;
    }
    double elapsed = now_s() - t0;
    /* Round k receives what party (me+k+1)%3 started with, plus k. */
    int origin = (me + rounds) % PARTIES;
    pattern_check("rounds", b->recv, words, pattern_seed(origin, workload, seed_index, 0),
                  (uint64_t)(rounds - 1));
    return elapsed;
}

static void run_rounds(const struct transport *t, const struct bench_config *c,
                       struct bench_buffers *b, struct bench_results *res)
{
    size_t bytes = VEC_ELEMS * 8;
    for (int r = 0; r < c->rounds_reps; r++)
        b->samples[r] = dependent_rounds(t, bytes, c->rounds, W_ROUNDS, (uint64_t)r, b,
                                         &res->cost_cpu_s[COST_ROUNDS]);
    res->cost_bytes[COST_ROUNDS] = (double)bytes * c->rounds * c->rounds_reps * PARTIES;
    res->rounds = c->rounds;
    res->rounds_s = median(b->samples, (size_t)c->rounds_reps);
}

/* REPS opens of VEC_ELEMS shares at rank 0 (ranks 1 and 2 send theirs,
 * rank 0 adds its own), each after a barrier, timed and checked; adds their
 * CPU time to *CPU_S and returns the median time of one. b->recv holds
 * 3 * VEC_ELEMS words. Both benchmarks' open. */
static double timed_opens(const struct transport *t, int reps, int workload,
                          struct bench_buffers *b, double *cpu_s)
{
    int me = t->rank;
    size_t n = VEC_ELEMS;
    /* Rank 0: own share in send, shares of 1 and 2 in recv and recv+n,
     * result in recv+2n.  Ranks 1 and 2: share in send. */
    uint64_t *in1 = b->recv, *in2 = b->recv + n, *out = b->recv + 2 * n;
    for (int r = 0; r < reps; r++) {
        pattern_fill(b->send, n, pattern_seed(me, workload, (uint64_t)r, 0));
        t->barrier(t->ctx);
        double cpu0 = cpu_now_s(), t0 = now_s();
        if (me == 0) {
            struct xfer_op ops[2] = {
                {1, XFER_RECV, in1, n * 8},
                {2, XFER_RECV, in2, n * 8},
            };
            t->xfer(t->ctx, ops, 2);
            for (size_t i = 0; i < n; i++)
                out[i] = b->send[i] + in1[i] + in2[i];
        } else {
            struct xfer_op op = {0, XFER_SEND, b->send, n * 8};
            t->xfer(t->ctx, &op, 1);
        }
        b->samples[r] = now_s() - t0;
        *cpu_s += cpu_now_s() - cpu0;
        if (me == 0) {
            uint64_t s0 = pattern_seed(0, workload, (uint64_t)r, 0);
            uint64_t s1 = pattern_seed(1, workload, (uint64_t)r, 0);
            uint64_t s2 = pattern_seed(2, workload, (uint64_t)r, 0);
            pattern_check("open_1m (from rank 1)", in1, n, s1, 0);
            pattern_check("open_1m (from rank 2)", in2, n, s2, 0);
            for (size_t i = 0; i < n; i++) {
                uint64_t want = pattern_word(s0, i) + pattern_word(s1, i) + pattern_word(s2, i);
                if (out[i] != want)
                    bench_die(2, "open_1m: wrong sum at element %zu", i);
            }
        }
    }
    return median(b->samples, (size_t)reps);
}

static void run_open(const struct transport *t, const struct bench_config *c,
                     struct bench_buffers *b, struct bench_results *res)
{
    res->open_s = timed_opens(t, c->open_reps, W_OPEN, b, &res->cost_cpu_s[COST_OPEN]);
    res->cost_bytes[COST_OPEN] = (double)VEC_ELEMS * 8 * 2 * c->open_reps;
}

/* One-element exchanges in each pattern; the mean time per exchange.
 * Each pattern gets its own barrier, and every value is checked. */
static void run_patterns(const struct transport *t, const struct bench_config *c,
                         struct bench_results *res)
{
    int me = t->rank, from = succ_of(me);
    for (int p = 0; p < N_PATTERNS; p++) {
        t->barrier(t->ctx);
        double t0 = now_s();
        for (int k = 0; k < c->patterns_n; k++) {
            uint64_t out = pattern_word(pattern_seed(me, W_PATTERNS, (uint64_t)p, (uint64_t)k), 0);
            uint64_t in = 0;
            struct xfer_op ops[2];
            exchange_ops(t, ops, &out, &in, 8);
            if (p == PATTERN_SEND_RECV && t->send_then_recv) {
                t->send_then_recv(t->ctx, &ops[1], &ops[0]);
            } else if (p == PATTERN_SEND_RECV) {
                t->xfer(t->ctx, &ops[1], 1);
                t->xfer(t->ctx, &ops[0], 1);
            } else if (t->xfer_wait_each) {
                t->xfer_start(t->ctx, ops, 2);
                if (p == PATTERN_WAITALL)
                    t->xfer_wait(t->ctx);
                else
                    t->xfer_wait_each(t->ctx);
            } else {
                t->xfer(t->ctx, ops, 2);
            }
            if (in != pattern_word(pattern_seed(from, W_PATTERNS, (uint64_t)p, (uint64_t)k), 0))
                bench_die(2, "%s: data mismatch in exchange %d", pattern_names[p], k);
        }
        res->pattern_mean_us[p] = (now_s() - t0) / c->patterns_n * 1e6;
    }
    res->patterns_n = c->patterns_n;
}

/* Rank 0 gets every party's CPU time, summed per workload: COST_S holds N
 * workloads' seconds on every party. Both benchmarks' cost columns. */
static void gather_cpu_costs(const struct transport *t, double *cost_s, int n)
{
    size_t bytes = (size_t)n * sizeof *cost_s;
    if (t->rank == 0) {
        double *theirs = bench_alloc(2 * bytes);
        struct xfer_op ops[2] = {
            {1, XFER_RECV, theirs, bytes},
            {2, XFER_RECV, theirs + n, bytes},
        };
        t->xfer(t->ctx, ops, 2);
        for (int w = 0; w < n; w++)
            cost_s[w] += theirs[w] + theirs[n + w];
        free(theirs);
    } else {
        struct xfer_op op = {0, XFER_SEND, cost_s, bytes};
        t->xfer(t->ctx, &op, 1);
    }
}

static void run_overlap(const struct transport *t, const struct bench_config *c,
                        struct bench_buffers *b, struct bench_results *res)
{
    int me = t->rank, from = succ_of(me);
    size_t bytes = c->overlap_bytes, words = bytes / 8;
    int reps = c->overlap_reps;
    double *comp = b->samples, *exch = b->samples + reps, *both = b->samples + 2 * reps;
    pattern_fill(b->work, VEC_ELEMS, pattern_seed(me, W_OVERLAP, 0, 0));

    for (int r = 0; r < reps; r++) {
        t->barrier(t->ctx);
        double t0 = now_s();
        compute_kernel(b->work, VEC_ELEMS, c->overlap_passes);
        comp[r] = now_s() - t0;
    }
    for (int r = 0; r < reps; r++) {
        pattern_fill(b->send, words, pattern_seed(me, W_OVERLAP, 1, (uint64_t)r));
        t->barrier(t->ctx);
        double t0 = now_s();
        exchange(t, b->send, b->recv, bytes);
        exch[r] = now_s() - t0;
        pattern_check("overlap (exchange)", b->recv, words,
                      pattern_seed(from, W_OVERLAP, 1, (uint64_t)r), 0);
    }
    for (int r = 0; r < reps; r++) {
        pattern_fill(b->send, words, pattern_seed(me, W_OVERLAP, 2, (uint64_t)r));
        struct xfer_op ops[2];
        int nops = exchange_ops(t, ops, b->send, b->recv, bytes);
        t->barrier(t->ctx);
        double t0 = now_s();
        t->xfer_start(t->ctx, ops, nops);
        compute_kernel(b->work, VEC_ELEMS, c->overlap_passes);
        t->xfer_wait(t->ctx);
        both[r] = now_s() - t0;
        pattern_check("overlap (together)", b->recv, words,
                      pattern_seed(from, W_OVERLAP, 2, (uint64_t)r), 0);
    }
    res->overlap_bytes = bytes;
    res->overlap_passes = c->overlap_passes;
    res->compute_s = median(comp, (size_t)reps);
    res->exchange_s = median(exch, (size_t)reps);
    res->together_s = median(both, (size_t)reps);
    double slower = res->compute_s > res->exchange_s ? res->compute_s : res->exchange_s;
    res->ratio = res->together_s / slower;
}

/* Runs every workload; all parties call it, rank 0's results are the
 * ones reported. */
static void bench_run(const struct transport *t, const struct bench_config *c,
                      struct bench_results *res)
{
    struct bench_buffers b;
    size_t nsamples = (size_t)c->latency_n > 1000 ? (size_t)c->latency_n : 1000;
    b.send = bench_alloc(MAX_SIZE);
    b.recv = bench_alloc(MAX_SIZE);
    b.work = bench_alloc(VEC_ELEMS * 8);
    b.samples = bench_alloc(nsamples * sizeof(double));
    memset(res, 0, sizeof *res);

    run_latency(t, c, &b, res);
    run_throughput(t, c, &b, res);
    run_rounds(t, c, &b, res);
    run_open(t, c, &b, res);
    run_overlap(t, c, &b, res);
    run_patterns(t, c, res);
    gather_cpu_costs(t, res->cost_cpu_s, N_COSTS);
    t->barrier(t->ctx);

    fprintf(stderr, "rank %d: %s done (checksum %016" PRIx64 ")\n", t->rank, t->system,
            (uint64_t)bench_sink);
    free(b.send);
    free(b.recv);
    free(b.work);
    free(b.samples);
}

static void bench_print_json(FILE *f, const char *system, const struct bench_config *c,
                             const struct bench_results *r)
{
    fprintf(f, "{\"system\": \"%s\", \"parties\": %d, \"quick\": %s,\n", system, PARTIES,
            c->quick ? "true" : "false");
    fprintf(f, " \"latency_8b\": {\"exchanges\": %d, \"mean_us\": %.4f, \"p50_us\": %.4f, "
               "\"p99_us\": %.4f},\n",
            r->latency.n, r->latency.mean_us, r->latency.p50_us, r->latency.p99_us);
    fprintf(f, " \"throughput\": [");
    for (int s = 0; s < N_SIZES; s++)
        fprintf(f, "%s{\"bytes\": %zu, \"reps\": %d, \"median_s\": %.9f, \"mib_per_s\": %.3f}",
                s ? ",\n                " : "", r->tp[s].bytes, r->tp[s].reps, r->tp[s].median_s,
                r->tp[s].mib_per_s);
    fprintf(f, "],\n");
    fprintf(f, " \"rounds_64x1m\": {\"rounds\": %d, \"elements\": %zu, \"median_s\": %.9f},\n",
            r->rounds, VEC_ELEMS, r->rounds_s);
    fprintf(f, " \"open_1m\": {\"elements\": %zu, \"median_s\": %.9f},\n", VEC_ELEMS, r->open_s);
    fprintf(f, " \"overlap\": {\"bytes\": %zu, \"passes\": %d, \"compute_s\": %.9f, "
               "\"exchange_s\": %.9f, \"together_s\": %.9f, \"ratio\": %.4f},\n",
            r->overlap_bytes, r->overlap_passes, r->compute_s, r->exchange_s, r->together_s,
            r->ratio);
    fprintf(f, " \"exchange_patterns\": {\"exchanges\": %d", r->patterns_n);
    for (int p = 0; p < N_PATTERNS; p++)
        fprintf(f, ", \"%s_us\": %.4f", pattern_names[p], r->pattern_mean_us[p]);
    fprintf(f, "},\n \"cpu\": {");
    for (int w = 0; w < N_COSTS; w++) {
        char name[32];
        if (w == COST_LATENCY)
            snprintf(name, sizeof name, "latency_8b");
        else if (w == COST_ROUNDS)
            snprintf(name, sizeof name, "rounds_64x1m");
        else if (w == COST_OPEN)
            snprintf(name, sizeof name, "open_1m");
        else
            snprintf(name, sizeof name, "throughput_%zu", throughput_sizes[w - COST_THROUGHPUT]);
        double gib = r->cost_bytes[w] / (double)(1 << 30);
        fprintf(f, "%s\"%s\": {\"cpu_s\": %.6f, \"gib\": %.6f, \"cpu_s_per_gib\": %.4f}",
                w ? ",\n         " : "", name, r->cost_cpu_s[w], gib, r->cost_cpu_s[w] / gib);
    }
    fprintf(f, "}}\n");
    fflush(f);
}

/* What a program was asked to run: the loopback workloads above or the
 * wide-area ones of wan.h, in full or quick (a smoke test). */
struct bench_args {
    bool quick, wan;
};

/* Parses [--quick] [--wan]; anything else is a usage error. */
static struct bench_args bench_parse_args(int argc, char **argv, const char *usage)
{
    struct bench_args a = {false, false};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            a.quick = true;
        } else if (strcmp(argv[i], "--wan") == 0) {
            a.wan = true;
        } else {
            fprintf(stderr, "usage: %s\n", usage);
            exit(argv[i][0] == '-' && strcmp(argv[i], "--help") == 0 ? 0 : 64);
        }
    }
    return a;
}

#endif /* TERNION_BENCH_COMMON_H */
