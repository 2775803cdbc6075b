/* sys/time.h for the in-kernel (UKL) party: gettimeofday (src/time.c). */
#ifndef TERNION_LIBC_SYS_TIME_H
#define TERNION_LIBC_SYS_TIME_H

#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef long suseconds_t;

struct timeval {
    time_t tv_sec;
    suseconds_t tv_usec;
};

/* The wall clock, from clock_gettime(CLOCK_REALTIME). The time zone
 * argument is obsolete; it must be NULL, as on Linux. */
int gettimeofday(struct timeval *__restrict tv, void *__restrict tz);

#ifdef __cplusplus
}
#endif

#endif
