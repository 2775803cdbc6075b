/* time for the in-kernel (UKL) party; the functions come from the Rust side. */
#ifndef TERNION_LIBC_TIME_H
#define TERNION_LIBC_TIME_H

#define __need_size_t
#define __need_NULL
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef long time_t;
typedef int clockid_t;

struct timespec {
    time_t tv_sec;
    long tv_nsec;
};

/* The Linux clock ids, so the Rust side can pass them straight on. */
#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1

int clock_gettime(clockid_t clock_id, struct timespec *tp);
time_t time(time_t *tloc);
int nanosleep(const struct timespec *req, struct timespec *rem);

#ifdef __cplusplus
}
#endif

#endif
