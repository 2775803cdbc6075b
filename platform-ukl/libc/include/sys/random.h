/* sys/random.h for the in-kernel (UKL) party: getrandom over the kernel's
 * random number generator (the Rust side). */
#ifndef TERNION_LIBC_SYS_RANDOM_H
#define TERNION_LIBC_SYS_RANDOM_H

#define __need_size_t
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef long ssize_t;

#define GRND_NONBLOCK 0x01
#define GRND_RANDOM 0x02
#define GRND_INSECURE 0x04

/* Fills buf with buflen random bytes and returns buflen: the kernel's
 * generator is ready long before the application starts. */
ssize_t getrandom(void *buf, size_t buflen, unsigned int flags);

#ifdef __cplusplus
}
#endif

#endif
