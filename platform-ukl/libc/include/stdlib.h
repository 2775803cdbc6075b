/*
 * stdlib for the in-kernel (UKL) party.  malloc, calloc's allocator, getenv,
 * exit and abort come from the Rust side; the rest is in src/stdlib.c.
 */
#ifndef TERNION_LIBC_STDLIB_H
#define TERNION_LIBC_STDLIB_H

#define __need_size_t
#define __need_NULL
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EXIT_SUCCESS 0
#define EXIT_FAILURE 1

void *malloc(size_t size);
void *calloc(size_t nmemb, size_t size);
void *realloc(void *ptr, size_t size);
void free(void *ptr);

char *getenv(const char *name);

__attribute__((__noreturn__)) void exit(int status);
__attribute__((__noreturn__)) void abort(void);

int atoi(const char *nptr);
long atol(const char *nptr);
long strtol(const char *__restrict nptr, char **__restrict endptr, int base);
unsigned long strtoul(const char *__restrict nptr, char **__restrict endptr, int base);
unsigned long long strtoull(const char *__restrict nptr, char **__restrict endptr, int base);

int abs(int j);

void qsort(void *base, size_t nmemb, size_t size,
           int (*compar)(const void *, const void *));

/* glibc's generator, output for output (src/random.c); initstate takes
 * states of 128 to 255 bytes, glibc's TYPE_3. */
long random(void);
void srandom(unsigned int seed);
char *initstate(unsigned int seed, char *state, size_t n);
char *setstate(char *state);

#ifdef __cplusplus
}
#endif

#endif
