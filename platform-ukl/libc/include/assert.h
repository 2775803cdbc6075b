/*
 * assert for the in-kernel (UKL) party.  Like every <assert.h>, this one has
 * no include guard: each inclusion redefines assert for the current NDEBUG.
 */
#undef assert
#ifdef NDEBUG
#define assert(expr) ((void)0)
#else
/* Prints the failed assertion to stderr and aborts (src/stdio.c). */
#ifdef __cplusplus
extern "C"
#endif
__attribute__((__noreturn__)) void __ternion_assert_fail(const char *expr, const char *file,
                                                         unsigned int line, const char *func);
#define assert(expr)                                                                    \
    ((expr) ? (void)0 : __ternion_assert_fail(#expr, __FILE__, __LINE__, __func__))
#endif

#ifndef __cplusplus
#define static_assert _Static_assert
#endif
