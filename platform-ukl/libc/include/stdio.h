/*
 * stdio for the in-kernel (UKL) party: the printf family and a minimal FILE.
 *
 * stdout and stderr go to the kernel console, line-buffered.  fopen(path,
 * "w") gives a FILE that collects its content in memory; fclose emits that
 * content to the console in a framed form (see src/stdio.c) from which the
 * host side reconstructs the file.
 */
#ifndef TERNION_LIBC_STDIO_H
#define TERNION_LIBC_STDIO_H

#define __need_size_t
#define __need_NULL
#include <stddef.h>

#define EOF (-1)

typedef struct ternion_file FILE;

extern FILE *const stdout;
extern FILE *const stderr;

/* The va_list parameters use the compiler's builtin type so that this header
 * does not have to define va_list and the va_* macros (as <stdarg.h> would). */
__attribute__((format(printf, 1, 2))) int printf(const char *restrict format, ...);
__attribute__((format(printf, 2, 3))) int fprintf(FILE *restrict stream,
                                                  const char *restrict format, ...);
__attribute__((format(printf, 3, 4))) int snprintf(char *restrict s, size_t n,
                                                   const char *restrict format, ...);
__attribute__((format(printf, 2, 3))) int sprintf(char *restrict s,
                                                  const char *restrict format, ...);
__attribute__((format(printf, 1, 0))) int vprintf(const char *restrict format,
                                                  __builtin_va_list arg);
__attribute__((format(printf, 2, 0))) int vfprintf(FILE *restrict stream,
                                                   const char *restrict format,
                                                   __builtin_va_list arg);
__attribute__((format(printf, 3, 0))) int vsnprintf(char *restrict s, size_t n,
                                                    const char *restrict format,
                                                    __builtin_va_list arg);
__attribute__((format(printf, 2, 0))) int vsprintf(char *restrict s,
                                                   const char *restrict format,
                                                   __builtin_va_list arg);

int fputc(int c, FILE *stream);
int putc(int c, FILE *stream);
int putchar(int c);
int fputs(const char *restrict s, FILE *restrict stream);
int puts(const char *s);
size_t fwrite(const void *restrict ptr, size_t size, size_t nmemb, FILE *restrict stream);
int fflush(FILE *stream);

FILE *fopen(const char *restrict path, const char *restrict mode);
int fclose(FILE *stream);

#endif
