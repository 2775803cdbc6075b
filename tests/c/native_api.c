/*
 * Every function of ternion.h, run as three parties under `ternion run`.
 * Each check computes its expected value locally; any failure prints what
 * went wrong and exits non-zero.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ternion.h>

static int rank_;

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "native_api rank %d line %d: ", rank_, __LINE__);  \
            fprintf(stderr, __VA_ARGS__);                                      \
            fprintf(stderr, "\n");                                             \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

#define OK(call)                                                               \
    do {                                                                       \
        int rc_ = (call);                                                      \
        CHECK(rc_ == TERNION_OK, "%s failed: %s", #call, ternion_strerror(rc_)); \
    } while (0)

enum { N = 1000 };

static uint64_t value(int who, size_t i) { return (uint64_t)who * 1000003u + i * 7919u; }

static void exchanges(void) {
    int succ = ternion_succ();
    uint64_t su64[N], ru64[N];
    int64_t si64[N], ri64[N];
    uint32_t su32[N], ru32[N];
    uint8_t su8[N], ru8[N];
    bool sb[N], rb[N];
    for (size_t i = 0; i < N; i++) {
        su64[i] = value(rank_, i);
        si64[i] = -(int64_t)value(rank_, i);
        su32[i] = (uint32_t)value(rank_, i);
        su8[i] = (uint8_t)value(rank_, i);
        sb[i] = (value(rank_, i) & 1) != 0;
    }
    OK(ternion_exchange_u64(su64, ru64, N));
    OK(ternion_exchange_i64(si64, ri64, N));
    OK(ternion_exchange_u32(su32, ru32, N));
    OK(ternion_exchange_u8(su8, ru8, N));
    OK(ternion_exchange_bool(sb, rb, N));
    for (size_t i = 0; i < N; i++) {
        CHECK(ru64[i] == value(succ, i), "u64 exchange element %zu", i);
        CHECK(ri64[i] == -(int64_t)value(succ, i), "i64 exchange element %zu", i);
        CHECK(ru32[i] == (uint32_t)value(succ, i), "u32 exchange element %zu", i);
        CHECK(ru8[i] == (uint8_t)value(succ, i), "u8 exchange element %zu", i);
        CHECK(rb[i] == ((value(succ, i) & 1) != 0), "bool exchange element %zu", i);
    }
}

static void open_and_reveal(void) {
    uint64_t share[N], out[N];
    bool bshare[N], bout[N];
    for (size_t i = 0; i < N; i++) {
        share[i] = value(rank_, i);
        bshare[i] = ((value(rank_, i) >> 3) & 1) != 0;
    }
    memset(out, 0, sizeof out);
    OK(ternion_open_u64(share, rank_ == 0 ? out : NULL, N, TERNION_ADD));
    if (rank_ == 0)
        for (size_t i = 0; i < N; i++)
            CHECK(out[i] == value(0, i) + value(1, i) + value(2, i), "open add element %zu", i);
    OK(ternion_reveal_u64(share, out, N, TERNION_XOR));
    for (size_t i = 0; i < N; i++)
        CHECK(out[i] == (value(0, i) ^ value(1, i) ^ value(2, i)), "reveal xor element %zu", i);
    OK(ternion_reveal_bool(bshare, bout, N, TERNION_XOR));
    for (size_t i = 0; i < N; i++) {
        bool want = (((value(0, i) ^ value(1, i) ^ value(2, i)) >> 3) & 1) != 0;
        CHECK(bout[i] == want, "reveal bool element %zu", i);
    }
    int64_t s64 = -(int64_t)rank_, o64 = 0;
    OK(ternion_reveal_i64(&s64, &o64, 1, TERNION_ADD));
    CHECK(o64 == -3, "reveal i64 sum is %lld", (long long)o64);
    uint32_t s32 = 0xffffffffu, o32 = 0;
    OK(ternion_reveal_u32(&s32, &o32, 1, TERNION_ADD));
    CHECK(o32 == 0xfffffffdu, "reveal u32 wraps: %u", o32);
    uint8_t s8 = (uint8_t)(1u << rank_), o8 = 0;
    OK(ternion_open_u8(&s8, &o8, 1, TERNION_XOR));
    CHECK(rank_ != 0 || o8 == 7, "open u8 xor is %u", o8);
    OK(ternion_open_i64(&s64, &o64, 1, TERNION_ADD));
    OK(ternion_open_u32(&s32, &o32, 1, TERNION_XOR));
    OK(ternion_open_bool(bshare, bout, 1, TERNION_XOR));
    OK(ternion_reveal_u8(&s8, &o8, 1, TERNION_ADD));
    CHECK(o8 == 7, "reveal u8 add is %u", o8);
}

static void point_to_point(void) {
    int succ = ternion_succ(), pred = ternion_pred();
    /* Blocking send before receive, to every other party. */
    uint64_t out = value(rank_, 42), in = 0;
    size_t got = 0;
    OK(ternion_send(succ, 5, &out, sizeof out));
    OK(ternion_send(pred, 5, &out, sizeof out));
    OK(ternion_recv(pred, 5, &in, sizeof in, &got));
    CHECK(got == sizeof in && in == value(pred, 42), "recv from pred");
    OK(ternion_recv(-1, -1, &in, sizeof in, &got));
    CHECK(in == value(succ, 42), "wildcard recv from succ");
    /* Non-blocking, completed by wait and by test. */
    ternion_request r = 0, s = 0;
    uint8_t big_out[100000], big_in[100000];
    memset(big_out, rank_ + 1, sizeof big_out);
    OK(ternion_irecv(succ, 6, big_in, sizeof big_in, &r));
    OK(ternion_isend(pred, 6, big_out, sizeof big_out, &s));
    int done = 0;
    size_t len = 0;
    while (!done)
        OK(ternion_test(&r, &done, &len));
    CHECK(len == sizeof big_in && big_in[99999] == succ + 1, "irecv completed by test");
    CHECK(r == 0, "a completed request is reset to 0");
    OK(ternion_wait(&s, &len));
    CHECK(ternion_wait(&s, &len) == TERNION_ERR_REQUEST, "waiting twice is an error");
    /* Truncation is reported, and the link stays usable. */
    uint64_t pair[2] = {1, 2}, one = 0;
    OK(ternion_send(pred, 7, pair, sizeof pair));
    CHECK(ternion_recv(succ, 7, &one, sizeof one, &got) == TERNION_ERR_TRUNCATED, "truncation");
    OK(ternion_send(pred, 7, &out, sizeof out));
    OK(ternion_recv(succ, 7, &one, sizeof one, &got));
    CHECK(one == value(succ, 42), "link usable after truncation");
}

static void errors(void) {
    uint8_t b = 0;
    CHECK(ternion_send(rank_, 0, &b, 1) == TERNION_ERR_RANK, "sending to self");
    CHECK(ternion_send(7, 0, &b, 1) == TERNION_ERR_RANK, "rank out of range");
    CHECK(ternion_send(ternion_succ(), -5, &b, 1) == TERNION_ERR_TAG, "negative tag");
    CHECK(ternion_send(ternion_succ(), 0, NULL, 1) == TERNION_ERR_ARGUMENT, "null buffer");
    CHECK(strlen(ternion_strerror(TERNION_ERR_LINK)) > 0, "strerror");
    ternion_link_stats st;
    OK(ternion_get_link_stats(ternion_succ(), &st));
    CHECK(st.messages_sent > 0 && st.bytes_sent > st.messages_sent, "link stats count traffic");
}

int main(void) {
    CHECK(ternion_rank() == TERNION_ERR_NOT_INITIALIZED, "calls before init are refused");
    OK(ternion_init());
    rank_ = ternion_rank();
    CHECK(rank_ >= 0 && rank_ < 3, "rank %d", rank_);
    CHECK(ternion_succ() == (rank_ + 1) % 3 && ternion_pred() == (rank_ + 2) % 3, "ring neighbours");
    exchanges();
    open_and_reveal();
    point_to_point();
    errors();
    OK(ternion_barrier());
    OK(ternion_close());
    CHECK(ternion_barrier() == TERNION_ERR_NOT_INITIALIZED, "calls after close are refused");
    printf("native_api rank %d: all checks passed\n", rank_);
    return 0;
}
