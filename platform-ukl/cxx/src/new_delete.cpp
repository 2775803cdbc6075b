/*
 * operator new and delete on the kernel allocator (the C library's malloc,
 * which the Rust side serves from the kernel's kvmalloc).
 *
 * Built without exceptions, new cannot throw std::bad_alloc; running out
 * of memory ends the program as an uncaught bad_alloc would, with a
 * message, and the nothrow forms return null as the standard says.
 */
#include <cstdio>
#include <cstdlib>
#include <new>

namespace {

[[noreturn]] void out_of_memory(std::size_t size)
{
    std::fprintf(stderr, "terminate called: std::bad_alloc (operator new of %zu bytes)\n", size);
    std::abort();
}

void *allocate(std::size_t size)
{
    /* malloc(0) may return null; new must return a distinct pointer. */
    void *p = std::malloc(size ? size : 1);
    if (!p)
        out_of_memory(size);
    return p;
}

} // namespace

void *operator new(std::size_t size)
{
    return allocate(size);
}

void *operator new[](std::size_t size)
{
    return allocate(size);
}

void *operator new(std::size_t size, const std::nothrow_t &) noexcept
{
    return std::malloc(size ? size : 1);
}

void *operator new[](std::size_t size, const std::nothrow_t &) noexcept
{
    return std::malloc(size ? size : 1);
}

void operator delete(void *p) noexcept
{
    std::free(p);
}

void operator delete[](void *p) noexcept
{
    std::free(p);
}

void operator delete(void *p, std::size_t) noexcept
{
    std::free(p);
}

void operator delete[](void *p, std::size_t) noexcept
{
    std::free(p);
}

void operator delete(void *p, const std::nothrow_t &) noexcept
{
    std::free(p);
}

void operator delete[](void *p, const std::nothrow_t &) noexcept
{
    std::free(p);
}
