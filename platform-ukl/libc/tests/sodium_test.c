/*
 * Host test of src/sodium.c (built with every shim symbol prefixed shim_)
 * against libsodium itself: sodium_init's return values, and
 * randombytes_buf filling exactly the bytes asked for with bytes that look
 * random. The shim draws from getrandom, here glibc's (the kernel's
 * generator, as in the kernel build). The last line is
 * "sodium_test: N passed, M failed".
 */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "tally.h"
int shim_sodium_init(void);
void shim_randombytes_buf(void *buf, size_t size);
uint32_t shim_randombytes_random(void);

/* What the Rust side provides in the kernel. */
static int shim_errno;
int *shim_errno_location(void) { return &shim_errno; }
void shim_abort(void) { abort(); }


/* Fills size bytes between guard bytes; true if the guards are untouched. */
static int fills_exactly(void (*fill)(void *, size_t), size_t size)
{
    unsigned char *buf = malloc(size + 2);
    buf[0] = 0xa5;
    buf[size + 1] = 0x5a;
    fill(buf + 1, size);
    int ok = buf[0] == 0xa5 && buf[size + 1] == 0x5a;
    free(buf);
    return ok;
}

/* A chi-square statistic of the byte counts of `size` random bytes: about
 * 255 for uniform bytes; far above 400 would be a 1-in-10^9 event. */
static double chi_square(void (*fill)(void *, size_t), size_t size)
{
    unsigned char *buf = malloc(size);
    double counts[256] = {0}, stat = 0, expected = (double)size / 256;
    fill(buf, size);
    for (size_t i = 0; i < size; i++)
        counts[buf[i]]++;
    for (int b = 0; b < 256; b++)
        stat += (counts[b] - expected) * (counts[b] - expected) / expected;
    free(buf);
    return stat;
}

static void sodium_fill(void *buf, size_t size) { randombytes_buf(buf, size); }

int main(void)
{
    check(sodium_init() == 0 && shim_sodium_init() == 0, "the first sodium_init returns 0");
    check(sodium_init() == 1 && shim_sodium_init() == 1, "later sodium_init calls return 1");

    static const size_t sizes[] = {0, 1, 2, 3, 7, 8, 31, 32, 33, 255, 256, 4096, 65537, 1 << 20};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char what[96];
        snprintf(what, sizeof what, "randombytes_buf fills exactly %zu bytes", sizes[i]);
        check(fills_exactly(sodium_fill, sizes[i]) && fills_exactly(shim_randombytes_buf, sizes[i]),
              what);
    }
    unsigned char a[64], b[64];
    shim_randombytes_buf(a, sizeof a);
    shim_randombytes_buf(b, sizeof b);
    check(memcmp(a, b, sizeof a) != 0, "two draws of 64 bytes differ");
    double ours = chi_square(shim_randombytes_buf, 1 << 22);
    double theirs = chi_square(sodium_fill, 1 << 22);
    printf("chi-square of 4 MiB (255 expected): shim %.1f, libsodium %.1f\n", ours, theirs);
    check(ours < 400 && theirs < 400, "the bytes are uniform");
    uint32_t x = shim_randombytes_random(), y = shim_randombytes_random();
    check(x != y || shim_randombytes_random() != x, "randombytes_random varies");
    return finish("sodium_test");
}
