/*
 * errno for the in-kernel (UKL) party.  The Rust side provides
 * __errno_location, so it decides where errno lives (per task or global).
 */
#ifndef TERNION_LIBC_ERRNO_H
#define TERNION_LIBC_ERRNO_H

#ifdef __cplusplus
extern "C" {
#endif

int *__errno_location(void);
#define errno (*__errno_location())

/* The Linux values, so the Rust side can pass kernel error codes on. */
#define EINTR 4
#define EAGAIN 11
#define ENOMEM 12
#define EINVAL 22
#define ERANGE 34
#define EOVERFLOW 75

#ifdef __cplusplus
}
#endif

#endif
