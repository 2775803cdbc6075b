/*
 * Floating-point printf cases shared by format_test.c (the shim against
 * glibc, both with SSE doubles) and softfloat_test.c (the shim built for the
 * kernel's soft-float ABI, whose output run.sh compares with glibc's).
 *
 * Nothing here does floating-point arithmetic at run time, so the soft-float
 * test needs no soft-float helper library.
 */
#ifndef TERNION_LIBC_TESTS_DOUBLE_CASES_H
#define TERNION_LIBC_TESTS_DOUBLE_CASES_H

#include <float.h>
#include <stddef.h>
#include <stdint.h>

static const char *const double_formats[] = {
    "%f",     "%.0f",    "%.1f",     "%.2f",     "%.3f",     "%.9f",    "%.15f",
    "%.20f",  "%.40f",   "%F",       "%e",       "%.0e",     "%.1e",    "%.3e",
    "%.12e",  "%.20e",   "%E",       "%g",       "%.0g",     "%.1g",    "%.2g",
    "%.3g",   "%.10g",   "%.17g",    "%.25g",    "%G",       "%#g",     "%#.3g",
    "%#.0g",  "%#f",     "%#.0f",    "%#.0e",    "%+f",      "% f",     "%+e",
    "% g",    "%12.3f",  "%-12.3f",  "%012.3f",  "%+012.3e", "%-+15g",  "%015g",
    "%10.4F", "%-8.2E",  "% 010.1f", "%30.20e",  "%08g",     "%.6G",    "%1.1f",
};

/* Values chosen for rounding ties (exact in binary: 0.5, 2.5, 0.125, 1.125,
 * 0.375...), values just below ties in binary (0.15, 0.45, 99.995), powers of
 * ten around the %g switch, extremes, subnormals and the special values. */
static const double double_values[] = {
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    -0.5,
    1.5,
    2.5,
    -2.5,
    3.5,
    0.25,
    0.125,
    0.375,
    1.125,
    1.25,
    9.5,
    0.05,
    0.15,
    0.45,
    0.1,
    0.2,
    0.3,
    1e-3,
    1e-4,
    1e-5,
    5e-5,
    1e-7,
    0.000123456,
    123.456e-10,
    99.995,
    999999.5,
    9999995.0,
    123456.789,
    -123456.789,
    123456789.0,
    100000.0,
    1000000.0,
    3.14159265358979,
    2.718281828459045,
    1.0 / 3.0,
    2.0 / 3.0,
    1e15,
    1e16,
    1e17,
    9.999999e17,
    1e18,
    123456789012345678.0,
    1e21,
    1e100,
    1e300,
    DBL_MAX,
    -DBL_MAX,
    DBL_MIN,
    DBL_EPSILON,
    4.9406564584124654e-324, /* the smallest subnormal */
    2.2250738585072009e-308, /* the largest subnormal */
    0.9999999,
    9.9999999,
    0.00000999995,
    __builtin_inf(),
    -__builtin_inf(),
    __builtin_nan(""),
    -__builtin_nan(""),
};

#define DOUBLE_VALUE_COUNT (sizeof double_values / sizeof double_values[0])
#define RANDOM_VALUE_COUNT 400
#define DOUBLE_CASE_VALUE_COUNT (DOUBLE_VALUE_COUNT + RANDOM_VALUE_COUNT)
#define DOUBLE_FORMAT_COUNT (sizeof double_formats / sizeof double_formats[0])

static uint64_t case_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Value i of the cases: the table above, then pseudo-random doubles, half
 * with any bit pattern and half of ordinary magnitude (2^-40 .. 2^60). */
static double case_value(size_t i)
{
    if (i < DOUBLE_VALUE_COUNT)
        return double_values[i];
    uint64_t r = case_mix64(i);
    union {
        uint64_t bits;
        double value;
    } u;
    if (i % 2 == 0) {
        u.bits = r;
        if ((u.bits >> 52 & 0x7ff) == 0x7ff)
            u.bits ^= (uint64_t)1 << 62; /* keep it finite */
    } else {
        uint64_t exponent = 1023 - 40 + (r >> 52) % 100;
        u.bits = (r & (((uint64_t)1 << 52) - 1)) | exponent << 52 | (r >> 63) << 63;
    }
    return u.value;
}

/* Calls with several arguments, for the passing of variadic doubles between
 * integer and pointer arguments and past the registers onto the stack. */
#define MIXED_CASES(X)                                                                   \
    X("%d|%f|%s|%e|%ld|%g", 7, 2.5, "str", -1e-3, 123456789012L, 0.1)                    \
    X("%f %f %f %f %f %f %f %f %f %f %f", 1.0, 2.0, 3.5, 4.25, 5.125, 6.0625, 7.5, 8.75,  \
      9.0, 10.5, 11.25)                                                                  \
    X("%d %d %d %d %d %f %d %f %d %g", 1, 2, 3, 4, 5, 6.5, 7, 8.25, 9, 1e-9)              \
    X("%.3f %c %.2e %hhd %zu %g %s", 3.14159, 'x', 12345.678, (signed char)-5, (size_t)42, 1e-5, "end") \
    X("%*.*f|%-*.*e|%*g", 12, 3, 2.71828, 14, 2, -0.000123, -9, 0.5)                      \
    X("%s %f %s %f %s %f %s %f", "a", 0.25, "b", -0.75, "c", 1e10, "d", 1e-10)

#endif
