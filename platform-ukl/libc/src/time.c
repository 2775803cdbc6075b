/* gettimeofday for the in-kernel (UKL) party, over clock_gettime. */
#include "shim_names.h"

#include <errno.h>
#include <sys/time.h>
#include <time.h>

int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
    struct timespec now;

    if (tz != NULL) {
        errno = EINVAL;
        return -1;
    }
    if (tv == NULL)
        return 0;
    if (clock_gettime(CLOCK_REALTIME, &now) != 0)
        return -1;
    tv->tv_sec = now.tv_sec;
    tv->tv_usec = now.tv_nsec / 1000;
    return 0;
}
