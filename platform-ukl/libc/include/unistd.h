/* unistd for the in-kernel (UKL) party; the functions come from the Rust side. */
#ifndef TERNION_LIBC_UNISTD_H
#define TERNION_LIBC_UNISTD_H

typedef unsigned int useconds_t;

unsigned int sleep(unsigned int seconds);
int usleep(useconds_t usec);

#endif
