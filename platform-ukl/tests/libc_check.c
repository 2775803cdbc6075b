/*
 * libc_check: the in-kernel C library's math, random and time functions,
 * printed so that the same program built against glibc (and libsodium)
 * can be compared line by line. scripts/run-qemu.sh --libc boots it and
 * compares: math results exactly where IEEE 754 fixes them (ceil, floor,
 * sqrt, fabs, round) and within one unit in the last place otherwise;
 * random sequences exactly.
 *
 * Lines: "FUNCTION INPUT-BITS... RESULT-BITS" for math, "random SEED N VALUE"
 * for the generator, and "check NAME ok|FAILED" for properties.
 */
#define _DEFAULT_SOURCE

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>
#include <time.h>

static unsigned long long bits(double x)
{
    unsigned long long b;

    memcpy(&b, &x, sizeof b);
    return b;
}

static double from_bits(unsigned long long b)
{
    double x;

    memcpy(&x, &b, sizeof x);
    return x;
}

static void unary(const char *name, double (*f)(double), double x)
{
    printf("%s %016llx %016llx\n", name, bits(x), bits(f(x)));
}

static void check(const char *name, int ok)
{
    printf("check %s %s\n", name, ok ? "ok" : "FAILED");
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    static const double inputs[] = {
        0.0, -0.0, 1e-310, 0.1, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 7.25, 10.0, 1023.999,
        1024.0, 12345.678, 65536.0, 1e15, 4503599627370495.5, 1e300, -0.5, -1.5, -2.5, -7.25,
        -1e15,
    };
    const size_t n = sizeof inputs / sizeof inputs[0];
    for (size_t i = 0; i < n; i++) {
        double x = inputs[i];
        unary("ceil", ceil, x);
        unary("floor", floor, x);
        unary("fabs", fabs, x);
        unary("round", round, x);
        unary("exp", exp, x / 64);
        if (x > 0) {
            unary("sqrt", sqrt, x);
            unary("log2", log2, x);
            unary("log", log, x);
            printf("pow %016llx %016llx %016llx\n", bits(x), bits(1.0 / 3), bits(pow(x, 1.0 / 3)));
        }
    }
    /* log2 of every power of two is exact: how Secrecy sizes its rounds. */
    int exact = 1;
    for (int e = -1022; e <= 1023; e++)
        exact &= log2(from_bits((unsigned long long)(e + 1023) << 52)) == (double)e;
    check("log2-of-powers-of-two", exact);
    /* Pseudo-random sequences, as Secrecy seeds them. */
    static const unsigned int seeds[] = {1, 42, 2026, 0x80000000u};
    for (size_t s = 0; s < sizeof seeds / sizeof seeds[0]; s++) {
        srandom(seeds[s]);
        for (int i = 0; i < 5; i++)
            printf("random %u %d %ld\n", seeds[s], i, random());
    }
    static char local[128], remote[128];
    initstate(7, local, sizeof local);
    initstate(8, remote, sizeof remote);
    for (int i = 0; i < 5; i++) {
        setstate(local);
        long a = random();
        setstate(remote);
        printf("interleaved %d %ld\n", i, a - random());
    }
    /* Time and entropy: properties only, the values differ by nature. */
    struct timeval tv;
    int rc = gettimeofday(&tv, NULL);
    long long apart = (long long)tv.tv_sec - (long long)time(NULL);
    check("gettimeofday", rc == 0 && apart >= -1 && apart <= 1 && tv.tv_usec >= 0 &&
                              tv.tv_usec < 1000000);
    unsigned char a[32] = {0}, b[32] = {0};
    check("getrandom", getrandom(a, sizeof a, 0) == (long)sizeof a &&
                           getrandom(b, sizeof b, 0) == (long)sizeof b && memcmp(a, b, sizeof a) != 0);
    int first = sodium_init(), second = sodium_init();
    check("sodium_init", first == 0 && second == 1);
    randombytes_buf(a, sizeof a);
    randombytes_buf(b, sizeof b);
    check("randombytes_buf", memcmp(a, b, sizeof a) != 0);
    printf("libc_check: done\n");
    return 0;
}
