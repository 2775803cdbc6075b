/*
 * String functions for the in-kernel (UKL) party.  memcpy, memset and memcmp
 * are not here: the kernel and compiler_builtins provide them.
 */
#include "shim_names.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *memmove(void *dest, const void *src, size_t n)
{
    unsigned char *d = dest;
    const unsigned char *s = src;
    /* Copy in the direction that reads each source byte before it is overwritten. */
    if (d < s) {
        for (size_t i = 0; i < n; i++)
            d[i] = s[i];
    } else if (d > s) {
        for (size_t i = n; i > 0; i--)
            d[i - 1] = s[i - 1];
    }
    return dest;
}

int bcmp(const void *s1, const void *s2, size_t n)
{
    return memcmp(s1, s2, n);
}

void *memchr(const void *s, int c, size_t n)
{
    const unsigned char *p = s;
    for (size_t i = 0; i < n; i++)
        if (p[i] == (unsigned char)c)
            return (void *)(p + i);
    return NULL;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n] != '\0')
        n++;
    return n;
}

size_t strnlen(const char *s, size_t maxlen)
{
    size_t n = 0;
    while (n < maxlen && s[n] != '\0')
        n++;
    return n;
}

/* Characters compare as unsigned char, as the standard requires. */
int strcmp(const char *s1, const char *s2)
{
    const unsigned char *a = (const unsigned char *)s1;
    const unsigned char *b = (const unsigned char *)s2;
    while (*a != '\0' && *a == *b) {
        a++;
        b++;
    }
    return (*a > *b) - (*a < *b);
}

int strncmp(const char *s1, const char *s2, size_t n)
{
    const unsigned char *a = (const unsigned char *)s1;
    const unsigned char *b = (const unsigned char *)s2;
    for (size_t i = 0; i < n; i++) {
        if (a[i] != b[i])
            return (a[i] > b[i]) - (a[i] < b[i]);
        if (a[i] == '\0')
            break;
    }
    return 0;
}

char *strcpy(char *restrict dest, const char *restrict src)
{
    size_t i = 0;
    do {
        dest[i] = src[i];
    } while (src[i++] != '\0');
    return dest;
}

/* Copies at most n bytes and pads with NULs to n (so no NUL if src is long). */
char *strncpy(char *restrict dest, const char *restrict src, size_t n)
{
    size_t i = 0;
    for (; i < n && src[i] != '\0'; i++)
        dest[i] = src[i];
    for (; i < n; i++)
        dest[i] = '\0';
    return dest;
}

/* The terminating NUL counts as part of the string: strchr(s, 0) finds it. */
char *strchr(const char *s, int c)
{
    for (;; s++) {
        if (*s == (char)c)
            return (char *)s;
        if (*s == '\0')
            return NULL;
    }
}

char *strrchr(const char *s, int c)
{
    const char *found = NULL;
    for (;; s++) {
        if (*s == (char)c)
            found = s;
        if (*s == '\0')
            return (char *)found;
    }
}

char *strstr(const char *haystack, const char *needle)
{
    size_t n = strlen(needle);
    for (; *haystack != '\0'; haystack++)
        if (strncmp(haystack, needle, n) == 0)
            return (char *)haystack;
    return n == 0 ? (char *)haystack : NULL;
}

char *strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = malloc(n);
    if (copy == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    memcpy(copy, s, n);
    return copy;
}

/* glibc's messages for the errno values of <errno.h>. */
char *strerror(int errnum)
{
    switch (errnum) {
    case 0:
        return "Success";
    case EINTR:
        return "Interrupted system call";
    case EAGAIN:
        return "Resource temporarily unavailable";
    case ENOMEM:
        return "Cannot allocate memory";
    case EINVAL:
        return "Invalid argument";
    case ERANGE:
        return "Numerical result out of range";
    case EOVERFLOW:
        return "Value too large for defined data type";
    default: {
        /* Not thread-safe, which the standard allows of strerror. */
        static char unknown[32];
        snprintf(unknown, sizeof unknown, "error %d", errnum);
        return unknown;
    }
    }
}
