/*
 * The shim's printf of doubles under the kernel's soft-float ABI.
 *
 * run.sh builds this file and the shim with clang's soft-float x86_64 flags
 * (as for the kernel, but as a user program linked with glibc, which it only
 * calls with integer and pointer arguments), runs it, and compares its output
 * line by line with `format_test --doubles`, glibc's results for the same
 * cases.  This is what checks that variadic doubles arrive intact.
 */
#include <stdio.h>
#include <stdlib.h>

#include "double_cases.h"
#include "shim_api.h"

/* What the Rust side provides in the kernel. */
void ternion_ukl_console_write(const char *bytes, size_t len)
{
    fwrite(bytes, 1, len, stderr);
}

void *shim_malloc(size_t size)
{
    return malloc(size);
}

void *shim_realloc(void *ptr, size_t size)
{
    return realloc(ptr, size);
}

void shim_free(void *ptr)
{
    free(ptr);
}

_Noreturn void shim_abort(void)
{
    abort();
}

int *shim_errno_location(void)
{
    static int value;
    return &value;
}

/* The format strings come from the shared table. */
#pragma GCC diagnostic ignored "-Wformat-nonliteral"

int main(void)
{
    char out[2048];
    for (size_t f = 0; f < DOUBLE_FORMAT_COUNT; f++)
        for (size_t v = 0; v < DOUBLE_CASE_VALUE_COUNT; v++) {
            int rc = shim_snprintf(out, sizeof out, double_formats[f], case_value(v));
            printf("%zu %zu %d [%s]\n", f, v, rc, out);
        }
#define MIXED_CASE(format, ...)                                                          \
    printf("mixed %d [%s]\n", shim_snprintf(out, sizeof out, format, __VA_ARGS__), out);
    MIXED_CASES(MIXED_CASE)
#undef MIXED_CASE
    return 0;
}
