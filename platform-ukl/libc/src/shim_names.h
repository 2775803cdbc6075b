/*
 * Every source file of the shim includes this header first.
 *
 * In the kernel build it does nothing.  The host test (tests/run.sh) defines
 * TERNION_SHIM_PREFIX, which renames every symbol the shim defines or needs
 * from the Rust side to shim_<name>, so the shim can be linked into a normal
 * program next to glibc and compared against it.  The renaming applies to
 * the declarations in include/ too, since they are included after this.
 * memcpy, memset and memcmp keep their names: glibc's serve as well as the
 * kernel's; so do clock_gettime and getrandom, whose glibc versions are the
 * real clock and generator the tests compare with.
 */
#ifndef TERNION_LIBC_SHIM_NAMES_H
#define TERNION_LIBC_SHIM_NAMES_H

#ifdef TERNION_SHIM_PREFIX
/* stdio */
#define stdout shim_stdout
#define stderr shim_stderr
#define printf shim_printf
#define fprintf shim_fprintf
#define snprintf shim_snprintf
#define sprintf shim_sprintf
#define vprintf shim_vprintf
#define vfprintf shim_vfprintf
#define vsnprintf shim_vsnprintf
#define vsprintf shim_vsprintf
#define fputc shim_fputc
#define putc shim_putc
#define putchar shim_putchar
#define fputs shim_fputs
#define puts shim_puts
#define fwrite shim_fwrite
#define fflush shim_fflush
#define fopen shim_fopen
#define fclose shim_fclose
#define __ternion_assert_fail shim_assert_fail
#define __assert_fail shim_glibc_assert_fail
/* stdlib */
#define malloc shim_malloc
#define calloc shim_calloc
#define realloc shim_realloc
#define free shim_free
#define getenv shim_getenv
#define exit shim_exit
#define abort shim_abort
#define atoi shim_atoi
#define atol shim_atol
#define strtol shim_strtol
#define strtoul shim_strtoul
#define strtoull shim_strtoull
#define abs shim_abs
#define qsort shim_qsort
#define random shim_random
#define srandom shim_srandom
#define initstate shim_initstate
#define setstate shim_setstate
/* time, randomness */
#define gettimeofday shim_gettimeofday
#define sodium_init shim_sodium_init
#define randombytes_buf shim_randombytes_buf
#define randombytes_random shim_randombytes_random
/* string */
#define memmove shim_memmove
#define memchr shim_memchr
#define bcmp shim_bcmp
#define strlen shim_strlen
#define strnlen shim_strnlen
#define strcmp shim_strcmp
#define strncmp shim_strncmp
#define strcpy shim_strcpy
#define strncpy shim_strncpy
#define strchr shim_strchr
#define strrchr shim_strrchr
#define strstr shim_strstr
#define strdup shim_strdup
#define strerror shim_strerror
/* errno */
#define __errno_location shim_errno_location
#endif

#endif
