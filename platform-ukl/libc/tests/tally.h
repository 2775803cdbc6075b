/*
 * The tally of a host test of the shim: each failure is printed as it
 * happens, and the last line, "NAME: N passed, M failed", is what run.sh
 * reads.
 */
#ifndef TERNION_LIBC_TESTS_TALLY_H
#define TERNION_LIBC_TESTS_TALLY_H

#include <stdio.h>

static int passed, failed;

static void check(int ok, const char *what)
{
    if (ok) {
        passed++;
    } else {
        failed++;
        printf("FAIL %s\n", what);
    }
}

/* Prints the last line; the program's exit code. */
static int finish(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, passed, failed);
    return failed != 0;
}

#endif
