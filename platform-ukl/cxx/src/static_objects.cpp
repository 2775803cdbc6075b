/*
 * Objects of static storage duration: their constructors before main, their
 * destructors after it (or at exit), and the guards of function-local
 * statics.
 *
 * The compiler lists the constructors in .init_array; the partial link
 * (platform-ukl/linker/app.lds) keeps that list inside .data between
 * __ternion_init_array_start and __ternion_init_array_end, in priority
 * order.  Destructors are registered with __cxa_atexit as the constructors
 * run, and __cxa_finalize runs them in reverse, as exit does in a hosted
 * C++ program.
 *
 * The application runs on one kernel thread (the communication thread is
 * Rust and never enters C++), so the guards need no lock: they only catch
 * an initialisation that re-enters itself, which is undefined behaviour.
 */
#include <cstdio>
#include <cstdlib>
#include <cxxabi.h>

extern "C" {

/* Identifies this image to __cxa_atexit: it is one "shared object". */
void *__dso_handle = &__dso_handle;

typedef void (*ternion_constructor)(void);
extern const ternion_constructor __ternion_init_array_start[];
extern const ternion_constructor __ternion_init_array_end[];

void ternion_cxx_construct_statics(void)
{
    static bool constructed;
    if (constructed)
        return;
    constructed = true;
    for (const ternion_constructor *c = __ternion_init_array_start; c != __ternion_init_array_end; ++c)
        (*c)();
}

} // extern "C"

namespace {

struct Destructor {
    void (*function)(void *);
    void *object;
    Destructor *earlier;
};

Destructor *latest_destructor;

} // namespace

namespace __cxxabiv1 {

extern "C" int __cxa_atexit(void (*function)(void *), void *object, void *) noexcept
{
    Destructor *d = static_cast<Destructor *>(std::malloc(sizeof *d));
    if (!d)
        return -1;
    d->function = function;
    d->object = object;
    d->earlier = latest_destructor;
    latest_destructor = d;
    return 0;
}

/* One image, so every handle means "all of them". */
extern "C" void __cxa_finalize(void *)
{
    while (Destructor *d = latest_destructor) {
        latest_destructor = d->earlier;
        d->function(d->object);
        std::free(d);
    }
}

/* The guard's first byte is the Itanium ABI's "initialised" flag, which
 * the compiler's inline check reads; the second marks "in progress". */
extern "C" int __cxa_guard_acquire(__guard *guard)
{
    unsigned char *state = reinterpret_cast<unsigned char *>(guard);
    if (state[0])
        return 0;
    if (state[1]) {
        std::fprintf(stderr, "terminate called: a static local's initialisation re-entered itself\n");
        std::abort();
    }
    state[1] = 1;
    return 1;
}

extern "C" void __cxa_guard_release(__guard *guard) noexcept
{
    unsigned char *state = reinterpret_cast<unsigned char *>(guard);
    state[1] = 0;
    state[0] = 1;
}

extern "C" void __cxa_guard_abort(__guard *guard) noexcept
{
    reinterpret_cast<unsigned char *>(guard)[1] = 0;
}

} // namespace __cxxabiv1
