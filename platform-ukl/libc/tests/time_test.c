/*
 * Host test of src/time.c (built with every shim symbol prefixed shim_):
 * gettimeofday against glibc's, which reads the same clock. The last line
 * is "time_test: N passed, M failed".
 */
#define _DEFAULT_SOURCE

#include <errno.h>
#include <stdio.h>
#include <sys/time.h>


#include "tally.h"
int shim_gettimeofday(struct timeval *tv, void *tz);

static int shim_errno;
int *shim_errno_location(void) { return &shim_errno; }


static long long micros(const struct timeval *tv)
{
    return (long long)tv->tv_sec * 1000000 + tv->tv_usec;
}

int main(void)
{
    for (int i = 0; i < 1000; i++) {
        struct timeval before, ours, after;
        gettimeofday(&before, NULL);
        int rc = shim_gettimeofday(&ours, NULL);
        gettimeofday(&after, NULL);
        check(rc == 0, "gettimeofday returns 0");
        check(ours.tv_usec >= 0 && ours.tv_usec < 1000000, "tv_usec is within a second");
        check(micros(&before) <= micros(&ours) && micros(&ours) <= micros(&after),
              "the shim's time lies between two readings of glibc's");
    }
    struct timeval tv;
    struct timezone tz;
    shim_errno = 0;
    check(shim_gettimeofday(&tv, &tz) == -1 && shim_errno == EINVAL,
          "a time zone argument is refused with EINVAL");
    check(shim_gettimeofday(NULL, NULL) == 0, "a NULL timeval is accepted");
    return finish("time_test");
}
