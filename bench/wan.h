/*
 * The wide-area workloads (scripts/bench.sh --wan), on the same transport
 * interface, data patterns, checks and CPU accounting as common.h.  Over a
 * path of 20 to 80 ms a workload's time is set by round trips and by how
 * well TCP fills the pipe, so these are the patterns whose time a
 * communication layer decides there:
 *
 *   - latency_8b: one 8-byte ring exchange at a time (mean, p50, p99);
 *   - exchange: one ring exchange of 1 MiB and of 64 MiB (median time);
 *   - rounds: R dependent ring exchanges of S bytes each, Secrecy's shape
 *     (each round sends what the last one received, plus one), at sizes
 *     from 8 B to 4 MiB: 1,000 rounds of 8 B, 200 of 64 KiB and of 1 MiB
 *     (the three), a few dozen of the others (for the plot of time
 *     per round against size);
 *   - open_1m: ranks 1 and 2 send 1,048,576 u64 shares to rank 0, which
 *     adds the three.
 *
 * A ring exchange's physical floor is the one-way delay plus size / rate:
 * every party's message travels one path, and the three paths run at once.
 *
 * Include after common.h.
 */
#ifndef TERNION_BENCH_WAN_H
#define TERNION_BENCH_WAN_H

#define WAN_EXCHANGES 2
static const size_t wan_exchange_bytes[WAN_EXCHANGES] = {1 * MIB, 64 * MIB};
#define WAN_MAX_SIZE (64 * MIB)

#define WAN_ROUND_SIZES 7
static const size_t wan_round_bytes[WAN_ROUND_SIZES] = {
    8, 1 * KIB, 16 * KIB, 64 * KIB, 256 * KIB, 1 * MIB, 4 * MIB,
};
/* Rounds per size: the 1,000 x 8 B, 200 x 64 KiB and 200 x 1 MiB,
 * and enough of the others for a stable mean per round. */
static const int wan_round_counts[WAN_ROUND_SIZES] = {1000, 50, 50, 200, 50, 200, 20};
static const int wan_round_counts_quick[WAN_ROUND_SIZES] = {50, 5, 5, 20, 5, 10, 3};

struct wan_config {
    bool quick;
    int latency_n, latency_warmup;
    int exchange_reps[WAN_EXCHANGES];
    const int *round_counts;
    int open_reps;
};

static struct wan_config wan_config_for(bool quick)
{
    if (quick)
        return (struct wan_config){
            .quick = true,
            .latency_n = 20, .latency_warmup = 2,
            .exchange_reps = {2, 2},
            .round_counts = wan_round_counts_quick,
            .open_reps = 2,
        };
    return (struct wan_config){
        .quick = false,
        .latency_n = 200, .latency_warmup = 10,
        .exchange_reps = {10, 5},
        .round_counts = wan_round_counts,
        .open_reps = 5,
    };
}

/* The workloads whose CPU cost is reported, in JSON order. */
enum {
    WAN_COST_LATENCY,
    WAN_COST_EXCHANGE,                                /* one per size */
    WAN_COST_ROUNDS = WAN_COST_EXCHANGE + WAN_EXCHANGES, /* one per size */
    WAN_COST_OPEN = WAN_COST_ROUNDS + WAN_ROUND_SIZES,
    WAN_N_COSTS
};

struct wan_results {
    double cost_cpu_s[WAN_N_COSTS], cost_bytes[WAN_N_COSTS];
    struct latency_result latency;
    double exchange_median_s[WAN_EXCHANGES];
    double rounds_total_s[WAN_ROUND_SIZES];
    double open_s;
};

/* Workload ids for pattern seeds (after common.h's). */
enum { W_WAN_LATENCY = 11, W_WAN_EXCHANGE, W_WAN_ROUNDS, W_WAN_OPEN };

static void wan_latency(const struct transport *t, const struct wan_config *c,
                        struct bench_buffers *b, struct wan_results *res)
{
    struct latency_result r =
        measure_latency(t, c->latency_warmup, c->latency_n, W_WAN_LATENCY, b);
    res->latency = r;
    res->cost_cpu_s[WAN_COST_LATENCY] = r.cpu_s;
    res->cost_bytes[WAN_COST_LATENCY] = r.bytes;
}

static void wan_exchanges(const struct transport *t, const struct wan_config *c,
                          struct bench_buffers *b, struct wan_results *res)
{
    for (int s = 0; s < WAN_EXCHANGES; s++) {
        size_t bytes = wan_exchange_bytes[s];
        int reps = c->exchange_reps[s];
        res->exchange_median_s[s] = timed_exchanges(t, bytes, reps, W_WAN_EXCHANGE, b,
                                                    &res->cost_cpu_s[WAN_COST_EXCHANGE + s]);
        res->cost_bytes[WAN_COST_EXCHANGE + s] = (double)bytes * reps * PARTIES;
    }
}

static void wan_rounds(const struct transport *t, const struct wan_config *c,
                       struct bench_buffers *b, struct wan_results *res)
{
    for (int s = 0; s < WAN_ROUND_SIZES; s++) {
        size_t bytes = wan_round_bytes[s];
        int rounds = c->round_counts[s];
        res->rounds_total_s[s] = dependent_rounds(t, bytes, rounds, W_WAN_ROUNDS, bytes, b,
                                                  &res->cost_cpu_s[WAN_COST_ROUNDS + s]);
        res->cost_bytes[WAN_COST_ROUNDS + s] = (double)bytes * rounds * PARTIES;
    }
}

static void wan_open(const struct transport *t, const struct wan_config *c,
                     struct bench_buffers *b, struct wan_results *res)
{
    res->open_s = timed_opens(t, c->open_reps, W_WAN_OPEN, b, &res->cost_cpu_s[WAN_COST_OPEN]);
    res->cost_bytes[WAN_COST_OPEN] = (double)VEC_ELEMS * 8 * 2 * c->open_reps;
}

/* Runs every wide-area workload; all parties call it, rank 0's results
 * are the ones reported. */
static void wan_run(const struct transport *t, const struct wan_config *c, struct wan_results *res)
{
    struct bench_buffers b = {0};
    int nsamples = c->latency_n > 64 ? c->latency_n : 64;
    b.send = bench_alloc(WAN_MAX_SIZE);
    b.recv = bench_alloc(WAN_MAX_SIZE);
    b.samples = bench_alloc((size_t)nsamples * sizeof(double));
    memset(res, 0, sizeof *res);

    wan_latency(t, c, &b, res);
    wan_exchanges(t, c, &b, res);
    wan_rounds(t, c, &b, res);
    wan_open(t, c, &b, res);
    gather_cpu_costs(t, res->cost_cpu_s, WAN_N_COSTS);
    t->barrier(t->ctx);

    fprintf(stderr, "rank %d: %s wan done\n", t->rank, t->system);
    free(b.send);
    free(b.recv);
    free(b.samples);
}

static void wan_print_json(FILE *f, const char *system, const struct wan_config *c,
                           const struct wan_results *r)
{
    fprintf(f, "{\"system\": \"%s\", \"parties\": %d, \"quick\": %s, \"workloads\": \"wan\",\n",
            system, PARTIES, c->quick ? "true" : "false");
    fprintf(f, " \"latency_8b\": {\"exchanges\": %d, \"mean_us\": %.3f, \"p50_us\": %.3f, "
               "\"p99_us\": %.3f},\n",
            r->latency.n, r->latency.mean_us, r->latency.p50_us, r->latency.p99_us);
    fprintf(f, " \"exchange\": [");
    for (int s = 0; s < WAN_EXCHANGES; s++)
        fprintf(f, "%s{\"bytes\": %zu, \"reps\": %d, \"median_s\": %.9f, \"mib_per_s\": %.3f}",
                s ? ",\n              " : "", wan_exchange_bytes[s], c->exchange_reps[s],
                r->exchange_median_s[s],
                (double)wan_exchange_bytes[s] / (double)MIB / r->exchange_median_s[s]);
    fprintf(f, "],\n \"rounds\": [");
    for (int s = 0; s < WAN_ROUND_SIZES; s++)
        fprintf(f, "%s{\"bytes\": %zu, \"rounds\": %d, \"total_s\": %.9f, \"per_round_s\": %.9f}",
                s ? ",\n            " : "", wan_round_bytes[s], c->round_counts[s],
                r->rounds_total_s[s], r->rounds_total_s[s] / c->round_counts[s]);
    fprintf(f, "],\n \"open_1m\": {\"elements\": %zu, \"reps\": %d, \"median_s\": %.9f},\n",
            VEC_ELEMS, c->open_reps, r->open_s);
    fprintf(f, " \"cpu\": {");
    for (int w = 0; w < WAN_N_COSTS; w++) {
        char name[32];
        if (w == WAN_COST_LATENCY)
            snprintf(name, sizeof name, "latency_8b");
        else if (w == WAN_COST_OPEN)
            snprintf(name, sizeof name, "open_1m");
        else if (w < WAN_COST_ROUNDS)
            snprintf(name, sizeof name, "exchange_%zu", wan_exchange_bytes[w - WAN_COST_EXCHANGE]);
        else
            snprintf(name, sizeof name, "rounds_%zu", wan_round_bytes[w - WAN_COST_ROUNDS]);
        double gib = r->cost_bytes[w] / (double)(1 << 30);
        fprintf(f, "%s\"%s\": {\"cpu_s\": %.6f, \"gib\": %.9f, \"cpu_s_per_gib\": %.4f}",
                w ? ",\n         " : "", name, r->cost_cpu_s[w], gib, r->cost_cpu_s[w] / gib);
    }
    fprintf(f, "}}\n");
    fflush(f);
}

#endif /* TERNION_BENCH_WAN_H */
