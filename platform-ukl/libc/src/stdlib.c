/*
 * stdlib for the in-kernel (UKL) party: number parsing, abs, qsort, calloc.
 * malloc, realloc, free, getenv, exit and abort come from the Rust side.
 */
#include "shim_names.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* <limits.h> is avoided: gcc's copy needs the C library's (the host test
 * builds these sources with gcc and no C library headers). */
#define LONG_LIMIT __LONG_MAX__
#define ULONG_LIMIT (__LONG_MAX__ * 2UL + 1)
#define ULLONG_LIMIT (__LONG_LONG_MAX__ * 2ULL + 1)

static bool is_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* The value of c as a digit (0-9, then a/A = 10 ... z/Z = 35), or 36. */
static unsigned digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return (unsigned)(c - '0');
    if (c >= 'a' && c <= 'z')
        return (unsigned)(c - 'a' + 10);
    if (c >= 'A' && c <= 'Z')
        return (unsigned)(c - 'A' + 10);
    return 36;
}

/*
 * The common part of the strto* functions: white space, sign, the base
 * prefix ("0x" for base 0 and 16, "0" for base 0 means octal) and digits.
 * Returns the magnitude, saturated at `limit` (or at `negative_limit` after a
 * '-'), and sets *overflow when it saturated.
 */
static unsigned long long parse_magnitude(const char *nptr, char **endptr, int base,
                                          unsigned long long limit,
                                          unsigned long long negative_limit, bool *negative,
                                          bool *overflow)
{
    const char *p = nptr;
    *negative = false;
    *overflow = false;
    if (base < 0 || base == 1 || base > 36) {
        errno = EINVAL;
        if (endptr != NULL)
            *endptr = (char *)nptr;
        return 0;
    }
    while (is_space(*p))
        p++;
    if (*p == '+' || *p == '-')
        *negative = *p++ == '-';
    /* "0x" is a prefix only if a hex digit follows; else the 0 is the number. */
    if ((base == 0 || base == 16) && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') &&
        digit_value(p[2]) < 16) {
        p += 2;
        base = 16;
    } else if (base == 0) {
        base = p[0] == '0' ? 8 : 10;
    }
    if (*negative)
        limit = negative_limit;
    const char *digits = p;
    unsigned long long value = 0;
    for (unsigned d; (d = digit_value(*p)) < (unsigned)base; p++) {
        if (value > (limit - d) / (unsigned)base) {
            *overflow = true;
            value = limit;
        } else if (!*overflow) {
            value = value * (unsigned)base + d;
        }
    }
    if (endptr != NULL)
        *endptr = (char *)(p == digits ? nptr : p);
    return value;
}

long strtol(const char *restrict nptr, char **restrict endptr, int base)
{
    bool negative, overflow;
    unsigned long long magnitude =
        parse_magnitude(nptr, endptr, base, (unsigned long long)LONG_LIMIT,
                        (unsigned long long)LONG_LIMIT + 1, &negative, &overflow);
    if (overflow)
        errno = ERANGE;
    if (!negative)
        return (long)magnitude;
    /* -(LONG_MAX + 1) cannot be negated as a long; reach it from -LONG_MAX. */
    return magnitude == 0 ? 0 : -(long)(magnitude - 1) - 1;
}

/* A '-' negates the result in the unsigned type, as the standard says. */
unsigned long long strtoull(const char *restrict nptr, char **restrict endptr, int base)
{
    bool negative, overflow;
    unsigned long long magnitude = parse_magnitude(nptr, endptr, base, ULLONG_LIMIT,
                                                   ULLONG_LIMIT, &negative, &overflow);
    if (overflow) {
        errno = ERANGE;
        return ULLONG_LIMIT;
    }
    return negative ? 0 - magnitude : magnitude;
}

unsigned long strtoul(const char *restrict nptr, char **restrict endptr, int base)
{
    bool negative, overflow;
    unsigned long long magnitude = parse_magnitude(nptr, endptr, base, ULONG_LIMIT,
                                                   ULONG_LIMIT, &negative, &overflow);
    if (overflow) {
        errno = ERANGE;
        return ULONG_LIMIT;
    }
    return (unsigned long)(negative ? 0 - magnitude : magnitude);
}

int atoi(const char *nptr)
{
    return (int)strtol(nptr, NULL, 10);
}

long atol(const char *nptr)
{
    return strtol(nptr, NULL, 10);
}

int abs(int j)
{
    return j < 0 ? -j : j;
}

void *calloc(size_t nmemb, size_t size)
{
    if (size != 0 && nmemb > SIZE_MAX / size) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = malloc(nmemb * size);
    if (p != NULL)
        memset(p, 0, nmemb * size);
    return p;
}

/* ---- qsort: heapsort, O(n log n) with no recursion and no extra memory --- */

static void swap_bytes(unsigned char *a, unsigned char *b, size_t size)
{
    for (size_t i = 0; i < size; i++) {
        unsigned char t = a[i];
        a[i] = b[i];
        b[i] = t;
    }
}

/* Moves element `root` down until the max-heap of the first n elements holds. */
static void sift_down(unsigned char *base, size_t root, size_t n, size_t size,
                      int (*compar)(const void *, const void *))
{
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n)
            return;
        if (child + 1 < n && compar(base + child * size, base + (child + 1) * size) < 0)
            child++;
        if (compar(base + root * size, base + child * size) >= 0)
            return;
        swap_bytes(base + root * size, base + child * size, size);
        root = child;
    }
}

void qsort(void *base, size_t nmemb, size_t size, int (*compar)(const void *, const void *))
{
    unsigned char *b = base;
    if (nmemb < 2 || size == 0)
        return;
    for (size_t i = nmemb / 2; i > 0; i--)
        sift_down(b, i - 1, nmemb, size, compar);
    for (size_t end = nmemb - 1; end > 0; end--) {
        swap_bytes(b, b + end * size, size);
        sift_down(b, 0, end, size, compar);
    }
}
