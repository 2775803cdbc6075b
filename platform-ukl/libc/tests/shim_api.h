/*
 * The shim as the host tests see it: built with TERNION_SHIM_PREFIX (see
 * src/shim_names.h), every symbol is shim_<name>, so these declarations can
 * sit next to glibc's.  The tests provide what the Rust side provides in the
 * kernel: ternion_ukl_console_write and the shim_ allocator, abort and errno.
 */
#ifndef TERNION_LIBC_TESTS_SHIM_API_H
#define TERNION_LIBC_TESTS_SHIM_API_H

#include <stdarg.h>
#include <stddef.h>

struct ternion_file;
extern struct ternion_file *const shim_stdout;
extern struct ternion_file *const shim_stderr;

__attribute__((format(printf, 1, 2))) int shim_printf(const char *format, ...);
__attribute__((format(printf, 2, 3))) int shim_fprintf(struct ternion_file *stream,
                                                       const char *format, ...);
__attribute__((format(printf, 3, 4))) int shim_snprintf(char *s, size_t n,
                                                        const char *format, ...);
__attribute__((format(printf, 2, 3))) int shim_sprintf(char *s, const char *format, ...);
__attribute__((format(printf, 3, 0))) int shim_vsnprintf(char *s, size_t n,
                                                         const char *format, va_list ap);
int shim_fputc(int c, struct ternion_file *stream);
int shim_putchar(int c);
int shim_fputs(const char *s, struct ternion_file *stream);
int shim_puts(const char *s);
size_t shim_fwrite(const void *ptr, size_t size, size_t nmemb, struct ternion_file *stream);
int shim_fflush(struct ternion_file *stream);
struct ternion_file *shim_fopen(const char *path, const char *mode);
int shim_fclose(struct ternion_file *stream);

void *shim_calloc(size_t nmemb, size_t size);
int shim_atoi(const char *nptr);
long shim_atol(const char *nptr);
long shim_strtol(const char *nptr, char **endptr, int base);
unsigned long shim_strtoul(const char *nptr, char **endptr, int base);
unsigned long long shim_strtoull(const char *nptr, char **endptr, int base);
int shim_abs(int j);
void shim_qsort(void *base, size_t nmemb, size_t size,
                int (*compar)(const void *, const void *));

void *shim_memmove(void *dest, const void *src, size_t n);
void *shim_memchr(const void *s, int c, size_t n);
size_t shim_strlen(const char *s);
size_t shim_strnlen(const char *s, size_t maxlen);
int shim_strcmp(const char *s1, const char *s2);
int shim_strncmp(const char *s1, const char *s2, size_t n);
char *shim_strcpy(char *dest, const char *src);
char *shim_strncpy(char *dest, const char *src, size_t n);
char *shim_strchr(const char *s, int c);
char *shim_strrchr(const char *s, int c);
char *shim_strstr(const char *haystack, const char *needle);
char *shim_strdup(const char *s);
char *shim_strerror(int errnum);

/* What the Rust side provides in the kernel. */
void ternion_ukl_console_write(const char *bytes, size_t len);
void *shim_malloc(size_t size);
void *shim_realloc(void *ptr, size_t size);
void shim_free(void *ptr);
_Noreturn void shim_abort(void);
int *shim_errno_location(void);

#endif
