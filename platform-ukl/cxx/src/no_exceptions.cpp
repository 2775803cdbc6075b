/*
 * What the library does where it would throw.
 *
 * The image is built without exceptions, so libstdc++'s std::__throw_*
 * helpers (called from the headers when, say, std::string::at is out of
 * range) cannot throw: each prints what would have been thrown and aborts,
 * as an uncaught exception's std::terminate would.  A pure virtual call
 * ends the same way.
 */
#include <cstdarg>
#include <cstdio>
#include <cstdlib>

namespace {

[[noreturn]] void terminate_with(const char *exception, const char *what)
{
    std::fprintf(stderr, "terminate called after throwing an instance of '%s'\n  what():  %s\n",
                 exception, what);
    std::abort();
}

} // namespace

namespace std {

void __throw_bad_exception() { terminate_with("std::bad_exception", "std::bad_exception"); }
void __throw_bad_alloc() { terminate_with("std::bad_alloc", "std::bad_alloc"); }
void __throw_bad_array_new_length() { terminate_with("std::bad_array_new_length", "std::bad_array_new_length"); }
void __throw_bad_cast() { terminate_with("std::bad_cast", "std::bad_cast"); }
void __throw_bad_typeid() { terminate_with("std::bad_typeid", "std::bad_typeid"); }
void __throw_bad_function_call() { terminate_with("std::bad_function_call", "bad_function_call"); }
void __throw_logic_error(const char *what) { terminate_with("std::logic_error", what); }
void __throw_domain_error(const char *what) { terminate_with("std::domain_error", what); }
void __throw_invalid_argument(const char *what) { terminate_with("std::invalid_argument", what); }
void __throw_length_error(const char *what) { terminate_with("std::length_error", what); }
void __throw_out_of_range(const char *what) { terminate_with("std::out_of_range", what); }
void __throw_runtime_error(const char *what) { terminate_with("std::runtime_error", what); }
void __throw_range_error(const char *what) { terminate_with("std::range_error", what); }
void __throw_overflow_error(const char *what) { terminate_with("std::overflow_error", what); }
void __throw_underflow_error(const char *what) { terminate_with("std::underflow_error", what); }

void __throw_out_of_range_fmt(const char *format, ...)
{
    char what[256];
    va_list args;
    va_start(args, format);
    std::vsnprintf(what, sizeof what, format, args);
    va_end(args);
    terminate_with("std::out_of_range", what);
}

} // namespace std

extern "C" void __cxa_pure_virtual()
{
    terminate_with("(none)", "pure virtual method called");
}

extern "C" void __cxa_deleted_virtual()
{
    terminate_with("(none)", "deleted virtual method called");
}
