/*
 * ternion_init_explicit: a party configured by its arguments alone (no
 * launcher, no environment):
 *
 *     native_explicit RANK ADDR0 ADDR1 ADDR2 [ROUNDS [RESUMED_PEER]]
 *
 * It runs ROUNDS ring exchanges (default 1). With RESUMED_PEER, the test
 * cuts this party's connection to that peer while they run, and the party
 * checks that the C API's link statistics count the resume.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <ternion.h>

int main(int argc, char **argv) {
    if (argc < 5 || argc > 7) {
        fprintf(stderr, "usage: %s RANK ADDR0 ADDR1 ADDR2 [ROUNDS [RESUMED_PEER]]\n", argv[0]);
        return 2;
    }
    int rank = atoi(argv[1]);
    long rounds = argc > 5 ? atol(argv[5]) : 1;
    int resumed_peer = argc > 6 ? atoi(argv[6]) : -1;
    const char *const peers[3] = {argv[2], argv[3], argv[4]};
    int rc = ternion_init_explicit(rank, peers, "00112233445566778899aabbccddeeff");
    if (rc != TERNION_OK) {
        fprintf(stderr, "rank %d: init: %s\n", rank, ternion_strerror(rc));
        return 1;
    }
    if (ternion_rank() != rank) {
        fprintf(stderr, "rank %d: ternion_rank() says %d\n", rank, ternion_rank());
        return 1;
    }
    for (long round = 0; round < rounds; round++) {
        uint64_t mine = 1000u * (uint64_t)round + (uint64_t)rank, from_succ = 0;
        uint64_t expected = 1000u * (uint64_t)round + (uint64_t)((rank + 1) % 3);
        rc = ternion_exchange_u64(&mine, &from_succ, 1);
        if (rc != TERNION_OK || from_succ != expected) {
            fprintf(stderr, "rank %d round %ld: exchange: %s, got %llu\n", rank, round,
                    ternion_strerror(rc), (unsigned long long)from_succ);
            return 1;
        }
    }
    for (int peer = 0; peer < 3; peer++) {
        if (peer == rank) {
            continue;
        }
        ternion_link_stats st;
        rc = ternion_get_link_stats(peer, &st);
        int want_resume = peer == resumed_peer;
        if (rc != TERNION_OK || (want_resume ? st.resumes == 0 : st.resumes != 0)) {
            fprintf(stderr, "rank %d: link to rank %d: %s, %llu resumes (expected %s)\n", rank,
                    peer, ternion_strerror(rc), (unsigned long long)st.resumes,
                    want_resume ? "at least 1" : "none");
            return 1;
        }
    }
    rc = ternion_close();
    if (rc != TERNION_OK) {
        fprintf(stderr, "rank %d: close: %s\n", rank, ternion_strerror(rc));
        return 1;
    }
    printf("native_explicit rank %d: ok\n", rank);
    return 0;
}
