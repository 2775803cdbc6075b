/*
 * ternion_init_explicit: a party configured by its arguments alone (no
 * launcher, no environment): native_explicit RANK HOST:PORT HOST:PORT HOST:PORT.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <ternion.h>

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s RANK ADDR0 ADDR1 ADDR2\n", argv[0]);
        return 2;
    }
    int rank = atoi(argv[1]);
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
    uint64_t mine = 1000u + (uint64_t)rank, from_succ = 0;
    rc = ternion_exchange_u64(&mine, &from_succ, 1);
    if (rc != TERNION_OK || from_succ != 1000u + (uint64_t)((rank + 1) % 3)) {
        fprintf(stderr, "rank %d: exchange: %s, got %llu\n", rank, ternion_strerror(rc),
                (unsigned long long)from_succ);
        return 1;
    }
    rc = ternion_close();
    if (rc != TERNION_OK) {
        fprintf(stderr, "rank %d: close: %s\n", rank, ternion_strerror(rc));
        return 1;
    }
    printf("native_explicit rank %d: ok\n", rank);
    return 0;
}
