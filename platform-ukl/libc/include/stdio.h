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

#ifdef __cplusplus
extern "C" {
#endif

#define EOF (-1)

typedef struct ternion_file FILE;

extern FILE *const stdout;
extern FILE *const stderr;

/* The va_list parameters use the compiler's builtin type so that this header
 * does not have to define va_list and the va_* macros (as <stdarg.h> would). */
__attribute__((format(printf, 1, 2))) int printf(const char *__restrict format, ...);
__attribute__((format(printf, 2, 3))) int fprintf(FILE *__restrict stream,
                                                  const char *__restrict format, ...);
__attribute__((format(printf, 3, 4))) int snprintf(char *__restrict s, size_t n,
                                                   const char *__restrict format, ...);
__attribute__((format(printf, 2, 3))) int sprintf(char *__restrict s,
                                                  const char *__restrict format, ...);
__attribute__((format(printf, 1, 0))) int vprintf(const char *__restrict format,
                                                  __builtin_va_list arg);
__attribute__((format(printf, 2, 0))) int vfprintf(FILE *__restrict stream,
                                                   const char *__restrict format,
                                                   __builtin_va_list arg);
__attribute__((format(printf, 3, 0))) int vsnprintf(char *__restrict s, size_t n,
                                                    const char *__restrict format,
                                                    __builtin_va_list arg);
__attribute__((format(printf, 2, 0))) int vsprintf(char *__restrict s,
                                                   const char *__restrict format,
                                                   __builtin_va_list arg);

int fputc(int c, FILE *stream);
int putc(int c, FILE *stream);
int putchar(int c);
int fputs(const char *__restrict s, FILE *__restrict stream);
int puts(const char *s);
size_t fwrite(const void *__restrict ptr, size_t size, size_t nmemb, FILE *__restrict stream);
int fflush(FILE *stream);

FILE *fopen(const char *__restrict path, const char *__restrict mode);
int fclose(FILE *stream);

#ifdef __cplusplus
}
#endif

#endif
