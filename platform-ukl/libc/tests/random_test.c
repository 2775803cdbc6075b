/*
 * Host test of src/random.c (built with every shim symbol prefixed shim_,
 * next to glibc): the shim's random, srandom, initstate and setstate must
 * draw exactly glibc's numbers, including two generators interleaved
 * through setstate as Secrecy uses them. The last line is
 * "random_test: N passed, M failed".
 */
#define _DEFAULT_SOURCE

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

long shim_random(void);
void shim_srandom(unsigned int seed);
char *shim_initstate(unsigned int seed, char *state, size_t n);
char *shim_setstate(char *state);

static int passed, failed;

static void check(int ok, const char *what, unsigned int seed, int i, long want, long got)
{
    if (ok) {
        passed++;
        return;
    }
    failed++;
    if (failed <= 10)
        printf("FAIL %s, seed %u, draw %d: glibc %ld, shim %ld\n", what, seed, i, want, got);
}

/* DRAWS numbers from each, all of which must agree. */
#define DRAWS 2000

static void compare_draws(const char *what, unsigned int seed)
{
    for (int i = 0; i < DRAWS; i++) {
        long want = random(), got = shim_random();
        check(want == got, what, seed, i, want, got);
    }
}

int main(void)
{
    static const unsigned int seeds[] = {0, 1, 2, 42, 12345, 0x7fffffffu, 0x80000000u, 0xffffffffu};
    const size_t nseeds = sizeof seeds / sizeof seeds[0];

    compare_draws("unseeded", 0);
    for (size_t s = 0; s < nseeds; s++) {
        srandom(seeds[s]);
        shim_srandom(seeds[s]);
        compare_draws("srandom", seeds[s]);
    }
    /* Every state size glibc serves with TYPE_3, and two generators
     * interleaved through setstate (Secrecy's local and remote seeds). */
    static const size_t sizes[] = {128, 200, 255};
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        for (size_t s = 0; s + 1 < nseeds; s++) {
            static char g_local[256], g_remote[256], s_local[256], s_remote[256];
            initstate(seeds[s], g_local, sizes[z]);
            initstate(seeds[s + 1], g_remote, sizes[z]);
            char *first = shim_initstate(seeds[s], s_local, sizes[z]);
            char *second = shim_initstate(seeds[s + 1], s_remote, sizes[z]);
            check(first != NULL && second == s_local, "initstate returns the previous state",
                  seeds[s], 0, 1, second == s_local);
            for (int i = 0; i < DRAWS; i++) {
                setstate(g_local);
                long want = random();
                setstate(g_remote);
                want -= random();
                check(shim_setstate(s_local) != NULL, "setstate of a valid state", seeds[s], i, 1, 0);
                long got = shim_random();
                check(shim_setstate(s_remote) == s_local, "setstate returns the previous state",
                      seeds[s], i, 1, 0);
                got -= shim_random();
                check(want == got, "interleaved", seeds[s], i, want, got);
            }
        }
    }
    /* setstate of the state in use resumes it where it stands. */
    static char g_same[128], s_same[128];
    initstate(99, g_same, sizeof g_same);
    shim_initstate(99, s_same, sizeof s_same);
    for (int i = 0; i < 40; i++) {
        if (i % 7 == 3) {
            setstate(g_same);
            shim_setstate(s_same);
        }
        long want = random(), got = shim_random();
        check(want == got, "setstate of the current state", 99, i, want, got);
    }
    /* Sizes glibc serves with another generator are refused, not mimicked badly. */
    static char small[127], large[256];
    check(shim_initstate(1, small, sizeof small) == NULL, "initstate of 127 bytes refused", 1, 0, 0, 1);
    check(shim_initstate(1, large, sizeof large) == NULL, "initstate of 256 bytes refused", 1, 0, 0, 1);
    static char zeroed[128];
    check(shim_setstate(zeroed) == NULL, "setstate of a state initstate never made", 0, 0, 0, 1);
    printf("random_test: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
