/* unistd for the in-kernel (UKL) party; the functions come from the Rust side. */
#ifndef TERNION_LIBC_UNISTD_H
#define TERNION_LIBC_UNISTD_H

#ifdef __cplusplus
extern "C" {
#endif

typedef unsigned int useconds_t;

unsigned int sleep(unsigned int seconds);
int usleep(useconds_t usec);

#ifdef __cplusplus
}
#endif

#endif
