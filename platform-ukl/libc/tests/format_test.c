/*
 * Host test of the libc shim (built by tests/run.sh with every shim symbol
 * prefixed shim_, next to glibc): the printf family against glibc's, the
 * console buffering and the fopen/fclose framing against the expected
 * console text, and the string and stdlib functions against glibc's.
 *
 *   format_test             run the checks; the last line is "N passed, M failed"
 *   format_test --doubles   print glibc's results for tests/double_cases.h, in the
 *                           format of softfloat_test, for run.sh to compare
 */
/* strnlen, strdup and ssize_t are POSIX. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "double_cases.h"
#include "shim_api.h"

/* ---- what the Rust side provides in the kernel --------------------------- */

/* Every console write, kept whole so tests can count them. */
#define CONSOLE_CAPACITY (1 << 20)
#define MAX_WRITES 4096
static char console[CONSOLE_CAPACITY];
static size_t console_len;
static size_t write_end[MAX_WRITES]; /* where each write ends in console */
static size_t write_count;

void ternion_ukl_console_write(const char *bytes, size_t len)
{
    if (console_len + len > CONSOLE_CAPACITY || write_count == MAX_WRITES) {
        fprintf(stderr, "format_test: console capture overflow\n");
        exit(1);
    }
    memcpy(console + console_len, bytes, len);
    console_len += len;
    write_end[write_count++] = console_len;
}

static void console_reset(void)
{
    console_len = 0;
    write_count = 0;
}

/* The text of write i, as a NUL-terminated copy in a static buffer. */
static const char *console_write_text(size_t i)
{
    static char text[8192];
    size_t start = i == 0 ? 0 : write_end[i - 1];
    size_t len = write_end[i] - start;
    if (len >= sizeof text)
        len = sizeof text - 1;
    memcpy(text, console + start, len);
    text[len] = '\0';
    return text;
}

/* Live allocations, to see that fclose frees what fopen and writes took. */
static long live_allocations;

void *shim_malloc(size_t size)
{
    void *p = malloc(size);
    if (p != NULL)
        live_allocations++;
    return p;
}

void *shim_realloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size);
    if (ptr == NULL && p != NULL)
        live_allocations++;
    return p;
}

void shim_free(void *ptr)
{
    if (ptr != NULL)
        live_allocations--;
    free(ptr);
}

_Noreturn void shim_abort(void)
{
    abort();
}

static int shim_errno;

int *shim_errno_location(void)
{
    return &shim_errno;
}

/* ---- checks ------------------------------------------------------------- */

static unsigned long checks_passed;
static unsigned long checks_failed;

/* Records one check; prints the first failures in detail. */
__attribute__((format(printf, 2, 3))) static void check(bool ok, const char *what, ...)
{
    if (ok) {
        checks_passed++;
        return;
    }
    if (++checks_failed <= 60) {
        va_list ap;
        va_start(ap, what);
        fputs("FAIL: ", stdout);
        vprintf(what, ap);
        fputc('\n', stdout);
        va_end(ap);
    }
}

/* One printf comparison: the shim's text and return value against glibc's. */
static void check_same_output(const char *format, const char *shim, int shim_rc,
                              const char *ref, int ref_rc)
{
    check(strcmp(shim, ref) == 0 && shim_rc == ref_rc,
          "format \"%s\": shim \"%s\" (%d), glibc \"%s\" (%d)", format, shim, shim_rc, ref,
          ref_rc);
}

/* Compares shim_snprintf with snprintf on the same arguments. */
#define EXPECT_SAME(format, ...)                                                         \
    do {                                                                                 \
        char shim_buf_[2048], ref_buf_[2048];                                            \
        int shim_rc_ = shim_snprintf(shim_buf_, sizeof shim_buf_, format, __VA_ARGS__);  \
        int ref_rc_ = snprintf(ref_buf_, sizeof ref_buf_, format, __VA_ARGS__);          \
        check_same_output(format, shim_buf_, shim_rc_, ref_buf_, ref_rc_);               \
    } while (0)

/* ---- integers ----------------------------------------------------------- */

static const char *const int_flags[] = {"", "-", "+", " ", "#", "0", "-+", "+0", " 0",
                                        "#0", "-#", "-0", "+ ", "#-0+ "};
static const char *const int_widths[] = {"", "1", "8", "25"};
static const char *const int_precisions[] = {"", ".", ".0", ".1", ".5", ".24"};
static const char *const int_lengths[] = {"hh", "h", "", "l", "ll", "z", "j", "t"};
static const char int_conversions[] = "diouxX";

static const long long int_values[] = {
    0,          1,           -1,          7,           -7,           42,
    -42,        127,         -128,        255,         256,          300,
    32767,      -32768,      65535,       65536,       INT_MAX,      INT_MIN,
    UINT_MAX,   1LL << 32,   LLONG_MAX,   LLONG_MIN,   -1000000007,  0x123456789abcdefLL,
    01234567,   -0x7edcba98,
};

/* Formats v with one integer conversion; the argument has the type the
 * length modifier names (hh and h take an int, as promotion passes it). */
static void expect_same_integer(const char *format, const char *length, char conv, long long v)
{
    bool is_signed = conv == 'd' || conv == 'i';
    if (strcmp(length, "hh") == 0 || strcmp(length, "h") == 0 || length[0] == '\0') {
        if (is_signed)
            EXPECT_SAME(format, (int)v);
        else
            EXPECT_SAME(format, (unsigned)v);
    } else if (strcmp(length, "l") == 0) {
        if (is_signed)
            EXPECT_SAME(format, (long)v);
        else
            EXPECT_SAME(format, (unsigned long)v);
    } else if (strcmp(length, "ll") == 0) {
        if (is_signed)
            EXPECT_SAME(format, v);
        else
            EXPECT_SAME(format, (unsigned long long)v);
    } else if (strcmp(length, "z") == 0) {
        if (is_signed)
            EXPECT_SAME(format, (ssize_t)v);
        else
            EXPECT_SAME(format, (size_t)v);
    } else if (strcmp(length, "j") == 0) {
        if (is_signed)
            EXPECT_SAME(format, (intmax_t)v);
        else
            EXPECT_SAME(format, (uintmax_t)v);
    } else {
        if (is_signed)
            EXPECT_SAME(format, (ptrdiff_t)v);
        else
            EXPECT_SAME(format, (size_t)v);
    }
}

/* The format strings are built at run time: gcc cannot check them, and the
 * arguments match them by construction. */
#pragma GCC diagnostic ignored "-Wformat-nonliteral"

static void test_integers(void)
{
    size_t nflags = sizeof int_flags / sizeof int_flags[0];
    size_t nwidths = sizeof int_widths / sizeof int_widths[0];
    size_t nprecisions = sizeof int_precisions / sizeof int_precisions[0];
    size_t nlengths = sizeof int_lengths / sizeof int_lengths[0];
    size_t nvalues = sizeof int_values / sizeof int_values[0];
    for (const char *conv = int_conversions; *conv != '\0'; conv++) {
        for (size_t f = 0; f < nflags; f++) {
            /* '#' is undefined for d, i and u. */
            if (strchr(int_flags[f], '#') != NULL && strchr("diu", *conv) != NULL)
                continue;
            for (size_t w = 0; w < nwidths; w++)
                for (size_t p = 0; p < nprecisions; p++)
                    for (size_t l = 0; l < nlengths; l++) {
                        char format[32];
                        snprintf(format, sizeof format, "[%%%s%s%s%s%c]", int_flags[f],
                                 int_widths[w], int_precisions[p], int_lengths[l], *conv);
                        for (size_t v = 0; v < nvalues; v++)
                            expect_same_integer(format, int_lengths[l], *conv, int_values[v]);
                    }
        }
    }
    /* Width and precision from arguments, including negative ones. */
    static const int stars[] = {-12, -1, 0, 3, 12};
    for (size_t a = 0; a < 5; a++)
        for (size_t b = 0; b < 5; b++) {
            EXPECT_SAME("[%*d]", stars[a], stars[b] * 1001);
            EXPECT_SAME("[%.*d]", stars[a], stars[b] * 1001);
            EXPECT_SAME("[%*.*x]", stars[a], stars[b], 0xbeefu);
            EXPECT_SAME("[%-*.*o]", stars[a], stars[b], 0755u);
        }
}

/* ---- strings, characters, pointers, literals ----------------------------- */

static void test_strings_and_chars(void)
{
    static const char *const strings[] = {"", "a", "hello", "hello, world", "tab\there"};
    static const char *const formats[] = {"[%s]",   "[%10s]",   "[%-10s]", "[%.3s]", "[%10.3s]",
                                          "[%-10.3s]", "[%.0s]", "[%.20s]", "[%1s]"};
    for (size_t s = 0; s < sizeof strings / sizeof strings[0]; s++)
        for (size_t f = 0; f < sizeof formats / sizeof formats[0]; f++)
            EXPECT_SAME(formats[f], strings[s]);
    for (int prec = -2; prec < 8; prec++)
        for (int width = -8; width < 9; width += 4)
            EXPECT_SAME("[%*.*s]", width, prec, "abcdef");
    /* The precision bounds the read: this array has no NUL. */
    static const char unterminated[3] = {'a', 'b', 'c'};
    EXPECT_SAME("[%.3s]", unterminated);
    EXPECT_SAME("[%.2s]", unterminated);

    static const int chars[] = {'a', 'Z', ' ', '%', 0x7f, 0xe9};
    for (size_t c = 0; c < sizeof chars / sizeof chars[0]; c++) {
        EXPECT_SAME("[%c]", chars[c]);
        EXPECT_SAME("[%5c]", chars[c]);
        EXPECT_SAME("[%-5c]", chars[c]);
    }
    /* A NUL character is output (and counted) like any other. */
    char shim_buf[8];
    int rc = shim_snprintf(shim_buf, sizeof shim_buf, "a%cb", 0);
    check(rc == 3 && memcmp(shim_buf, "a\0b", 4) == 0, "%%c of NUL: rc %d", rc);

    int x = 0;
    void *pointers[] = {&x, (void *)(uintptr_t)0x1000, (void *)(uintptr_t)UINTPTR_MAX, NULL};
    for (size_t p = 0; p < sizeof pointers / sizeof pointers[0]; p++) {
        EXPECT_SAME("[%p]", pointers[p]);
        EXPECT_SAME("[%20p]", pointers[p]);
        EXPECT_SAME("[%-20p]", pointers[p]);
    }

    char shim_out[64], ref_out[64];
    int shim_rc = shim_snprintf(shim_out, sizeof shim_out, "%%|100%%|%%%%|plain text");
    int ref_rc = snprintf(ref_out, sizeof ref_out, "%%|100%%|%%%%|plain text");
    check_same_output("percent literals", shim_out, shim_rc, ref_out, ref_rc);
    shim_rc = shim_snprintf(shim_out, sizeof shim_out, "%s", "");
    check(shim_rc == 0 && shim_out[0] == '\0', "empty output: rc %d", shim_rc);
}

/* ---- doubles ------------------------------------------------------------ */

/*
 * Where glibc 2.36 departs from C11, the shim follows C11.  With '#', %g
 * keeps its trailing zeros, but when rounding to 6 digits carries into a new
 * power of ten (999999.5 -> 1e+06) glibc drops them anyway.
 */
static const struct {
    const char *format;
    double value;
    const char *c11;
} glibc_deviations[] = {
    {"%#g", 999999.5, "1.00000e+06"},
};

/* glibc's snprintf of one double, with the deviations above corrected. */
static int reference_double(char *out, size_t size, const char *format, double value)
{
    for (size_t i = 0; i < sizeof glibc_deviations / sizeof glibc_deviations[0]; i++)
        if (strcmp(format, glibc_deviations[i].format) == 0 &&
            memcmp(&value, &glibc_deviations[i].value, sizeof value) == 0)
            return snprintf(out, size, "%s", glibc_deviations[i].c11);
    return snprintf(out, size, format, value);
}

static void test_doubles(void)
{
    for (size_t f = 0; f < DOUBLE_FORMAT_COUNT; f++)
        for (size_t v = 0; v < DOUBLE_CASE_VALUE_COUNT; v++) {
            char shim[2048], ref[2048];
            int shim_rc = shim_snprintf(shim, sizeof shim, double_formats[f], case_value(v));
            int ref_rc = reference_double(ref, sizeof ref, double_formats[f], case_value(v));
            check_same_output(double_formats[f], shim, shim_rc, ref, ref_rc);
        }
    /* Every precision on values where a rounding step goes wrong easily. */
    static const double hard[] = {0.5, 0.05, 0.0005, 1.0 / 3.0, 9.999999999999999e22,
                                  5e-324, 1e23, 0.1, 12345678901234567890.0, 0.95, 2.675};
    for (size_t v = 0; v < sizeof hard / sizeof hard[0]; v++)
        for (int prec = 0; prec < 30; prec++) {
            EXPECT_SAME("%.*f", prec, hard[v]);
            EXPECT_SAME("%.*e", prec, hard[v]);
            EXPECT_SAME("%.*g", prec, hard[v]);
            EXPECT_SAME("%#.*g", prec, hard[v]);
        }
    /* float arguments are promoted to double. */
    EXPECT_SAME("%f %g %e", 1.1f, 3.4028235e38f, 1e-45f);
    /* %lf is %f. */
    EXPECT_SAME("%lf %lg %le", 0.1, 0.2, 0.3);
#define MIXED_CASE(format, ...) EXPECT_SAME(format, __VA_ARGS__);
    MIXED_CASES(MIXED_CASE)
#undef MIXED_CASE
}

/* glibc's results (corrected as above) in the line format of softfloat_test.c. */
static void print_double_reference(void)
{
    char out[2048];
    for (size_t f = 0; f < DOUBLE_FORMAT_COUNT; f++)
        for (size_t v = 0; v < DOUBLE_CASE_VALUE_COUNT; v++) {
            int rc = reference_double(out, sizeof out, double_formats[f], case_value(v));
            printf("%zu %zu %d [%s]\n", f, v, rc, out);
        }
#define MIXED_CASE(format, ...)                                                          \
    printf("mixed %d [%s]\n", snprintf(out, sizeof out, format, __VA_ARGS__), out);
    MIXED_CASES(MIXED_CASE)
#undef MIXED_CASE
}

/* ---- snprintf truncation and the other printf entry points ---------------- */

static int call_shim_vsnprintf(char *buf, size_t size, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    int rc = shim_vsnprintf(buf, size, format, ap);
    va_end(ap);
    return rc;
}

static void test_truncation(void)
{
    static const char *const texts[] = {"", "x", "hello world", "0123456789abcdef"};
    for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++)
        for (size_t size = 0; size < 20; size++) {
            char shim_buf[24], ref_buf[24];
            memset(shim_buf, '#', sizeof shim_buf);
            memset(ref_buf, '#', sizeof ref_buf);
            int shim_rc = shim_snprintf(shim_buf, size, "%s|%d", texts[t], 12345);
            int ref_rc = snprintf(ref_buf, size, "%s|%d", texts[t], 12345);
            check(shim_rc == ref_rc && memcmp(shim_buf, ref_buf, sizeof shim_buf) == 0,
                  "snprintf(size %zu) of \"%s|12345\": rc %d vs %d", size, texts[t], shim_rc,
                  ref_rc);
        }
    check(shim_snprintf(NULL, 0, "%d%s%f", 42, "abc", 1.5) == 13,
          "snprintf(NULL, 0) counts the output");
    char buf[64];
    memset(buf, '#', sizeof buf);
    check(call_shim_vsnprintf(buf, 6, "%s=%d", "key", 123456) == 10 && strcmp(buf, "key=1") == 0,
          "vsnprintf truncates: \"%s\"", buf);
    check(shim_sprintf(buf, "%05.1f|%-3s|", 3.14159, "ab") == 10 &&
              strcmp(buf, "003.1|ab |") == 0,
          "sprintf: \"%s\"", buf);
    /* A long output past the 32-byte padding chunks. */
    char shim_long[256], ref_long[256];
    int shim_rc = shim_snprintf(shim_long, sizeof shim_long, "%100d|%-90s|", 7, "left");
    int ref_rc = snprintf(ref_long, sizeof ref_long, "%100d|%-90s|", 7, "left");
    check_same_output("long padding", shim_long, shim_rc, ref_long, ref_rc);
}

/* ---- console streams ---------------------------------------------------- */

static bool console_is(const char *expected)
{
    return console_len == strlen(expected) && memcmp(console, expected, console_len) == 0;
}

/* True if console write i is exactly `expected`. */
static bool write_is(size_t i, const char *expected)
{
    return i < write_count && strcmp(console_write_text(i), expected) == 0;
}

/* Each console write is one tagged piece of a line: "stdout| " or
 * "stderr| " before a line's first piece, "stdout+ " before the next. */
static void test_console(void)
{
    console_reset();
    check(shim_printf("a=%d\n", 5) == 4, "printf returns its byte count");
    check(write_count == 1 && write_is(0, "stdout| a=5"), "printf of one line is one tagged write");

    console_reset();
    shim_printf("partial");
    check(write_count == 0, "a partial line stays buffered");
    shim_printf(" more\nsecond\n\nthird");
    check(write_count == 3 && write_is(0, "stdout| partial more") && write_is(1, "stdout| second") &&
              write_is(2, "stdout| "),
          "complete lines go out, one write each: \"%s\"", console_write_text(0));
    shim_fflush(shim_stdout);
    check(write_count == 4 && write_is(3, "stdout| third"), "fflush emits the partial line");
    shim_fflush(shim_stdout);
    check(write_count == 4, "fflush of an empty buffer writes nothing");
    shim_printf(" continued\n");
    check(write_count == 5 && write_is(4, "stdout+  continued"),
          "the rest of a flushed line is tagged as its continuation");

    console_reset();
    shim_puts("puts");
    shim_fputs("fputs ", shim_stdout);
    shim_fputc('c', shim_stdout);
    shim_putchar('\n');
    shim_fwrite("fwrite\n", 1, 7, shim_stdout);
    check(write_count == 3 && write_is(0, "stdout| puts") && write_is(1, "stdout| fputs c") &&
              write_is(2, "stdout| fwrite"),
          "puts, fputs, fputc, putchar, fwrite: %zu writes", write_count);

    console_reset();
    shim_fprintf(shim_stderr, "err %s", "one");
    shim_fprintf(shim_stdout, "out\n");
    shim_fprintf(shim_stderr, "\n");
    check(write_count == 2 && write_is(0, "stdout| out") && write_is(1, "stderr| err one"),
          "stdout and stderr are buffered separately and tagged apart");

    /* A line longer than a console line goes out in pieces that join up. */
    console_reset();
    char line[1301];
    memset(line, 'x', sizeof line - 1);
    line[sizeof line - 1] = '\0';
    line[0] = 'a';
    line[sizeof line - 2] = 'z';
    shim_printf("%s\n", line);
    char joined[sizeof line];
    size_t joined_len = 0;
    bool tags_right = write_count > 1;
    for (size_t i = 0; i < write_count && tags_right; i++) {
        const char *piece = console_write_text(i);
        tags_right = strncmp(piece, i == 0 ? "stdout| " : "stdout+ ", 8) == 0 &&
                     strlen(piece) - 8 <= 240 && joined_len + strlen(piece) - 8 < sizeof joined;
        if (tags_right) {
            memcpy(joined + joined_len, piece + 8, strlen(piece) - 8);
            joined_len += strlen(piece) - 8;
        }
    }
    check(tags_right && joined_len == 1300 && memcmp(joined, line, 1300) == 0,
          "a 1300-byte line: %zu pieces of at most 240 bytes that join to it", write_count);

    console_reset();
    check(shim_fclose(shim_stdout) == 0 && write_count == 0, "fclose(stdout) with nothing pending");
    shim_printf("pending");
    check(shim_fclose(shim_stdout) == 0 && write_is(0, "stdout| pending"), "fclose(stdout) flushes");
    console_reset();
    shim_printf("\nstill usable\n");
    check(write_count == 2 && write_is(0, "stdout+ ") && write_is(1, "stdout| still usable"),
          "stdout works after fclose");
}

/* ---- memory files ------------------------------------------------------- */

static uint64_t reference_fnv1a64(const char *p, size_t n)
{
    uint64_t h = 14695981039346656037u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211u;
    return h;
}

/* The framed console text for a file; built independently of the shim. */
static size_t expected_frame(char *out, size_t cap, const char *path, const char *content,
                             size_t len)
{
    size_t n = (size_t)snprintf(out, cap, "ternion-file-begin %s %zu %016" PRIx64 "\n", path,
                                len, reference_fnv1a64(content, len));
    size_t start = 0;
    while (start < len) {
        const char *nl = memchr(content + start, '\n', len - start);
        size_t end = nl ? (size_t)(nl - content) : len;
        n += (size_t)snprintf(out + n, cap - n, "ternion-file| %.*s\n", (int)(end - start),
                              content + start);
        start = end + 1;
    }
    n += (size_t)snprintf(out + n, cap - n, "ternion-file-end %s\n", path);
    return n;
}

/* Writes `content` through the shim into a memory file, closes it and checks
 * the console text, the number of writes and that everything was freed. */
static void check_file_roundtrip(const char *name, const char *path, const char *content,
                                 size_t len, size_t lines)
{
    long allocations_before = live_allocations;
    console_reset();
    struct ternion_file *f = shim_fopen(path, "w");
    check(f != NULL, "%s: fopen", name);
    if (f == NULL)
        return;
    /* In pieces of varying size, through the different entry points. */
    size_t written = 0;
    for (size_t piece = 1; written < len; piece = piece * 3 % 17 + 1) {
        size_t n = len - written < piece ? len - written : piece;
        if (n == 1)
            shim_fputc(content[written], f);
        else if (n % 2 == 0)
            shim_fwrite(content + written, 1, n, f);
        else
            shim_fprintf(f, "%.*s", (int)n, content + written);
        written += n;
    }
    check(write_count == 0, "%s: nothing reaches the console before fclose", name);
    check(shim_fclose(f) == 0, "%s: fclose returns 0", name);
    static char expected[1 << 18];
    size_t expected_len = expected_frame(expected, sizeof expected, path, content, len);
    check(console_len == expected_len && memcmp(console, expected, expected_len) == 0,
          "%s: framed output\n--- got ---\n%.*s--- expected ---\n%s", name, (int)console_len,
          console, expected);
    check(write_count == lines + 2, "%s: %zu console writes for %zu lines", name, write_count,
          lines);
    check(live_allocations == allocations_before, "%s: fclose frees everything (%ld left)",
          name, live_allocations - allocations_before);
}

static void test_memory_files(void)
{
    static const char three_lines[] = "first line\nsecond: 2\nthird\n";
    check_file_roundtrip("three lines", "out/rank0.txt", three_lines, strlen(three_lines), 3);
    static const char no_newline[] = "alpha\nbeta\ngamma without newline";
    check_file_roundtrip("no final newline", "out/rank1.txt", no_newline, strlen(no_newline), 3);
    check_file_roundtrip("empty", "empty.txt", "", 0, 0);
    static const char blank_lines[] = "\n\nx\n\n";
    check_file_roundtrip("blank lines", "b.txt", blank_lines, strlen(blank_lines), 4);

    /* The exact text of the three-line file, written out by hand. */
    console_reset();
    struct ternion_file *f = shim_fopen("dir/r.txt", "wb");
    shim_fprintf(f, "a %d\nb\n", 1);
    shim_fputs("c", f);
    shim_fclose(f);
    char header[80];
    snprintf(header, sizeof header, "ternion-file-begin dir/r.txt 7 %016" PRIx64 "\n",
             reference_fnv1a64("a 1\nb\nc", 7));
    char expected[256];
    snprintf(expected, sizeof expected,
             "%sternion-file| a 1\nternion-file| b\nternion-file| c\nternion-file-end dir/r.txt\n",
             header);
    check(console_is(expected) && write_count == 5 &&
              strcmp(console_write_text(1), "ternion-file| a 1\n") == 0,
          "framing by hand:\n%.*s", (int)console_len, console);
    /* The reference hash against the published FNV-1a 64 test vectors. */
    check(reference_fnv1a64("", 0) == 0xcbf29ce484222325u &&
              reference_fnv1a64("a", 1) == 0xaf63dc4c8601ec8cu &&
              reference_fnv1a64("foobar", 6) == 0x85944171f73967e8u,
          "FNV-1a 64 test vectors");

    /* A large file with long lines makes the buffer grow several times. */
    static char big[100000];
    size_t len = 0, lines = 0;
    for (unsigned i = 0; len + 120 < sizeof big; i++) {
        len += (size_t)snprintf(big + len, sizeof big - len, "line %u %0*u\n", i,
                                (int)(i % 97), i * 2654435761u);
        lines++;
    }
    check_file_roundtrip("large", "big.txt", big, len, lines);

    static const char *const bad_modes[] = {"r", "a", "w+", "rb", "", "ww"};
    for (size_t m = 0; m < sizeof bad_modes / sizeof bad_modes[0]; m++) {
        shim_errno = 0;
        check(shim_fopen("x", bad_modes[m]) == NULL && shim_errno == EINVAL,
              "fopen mode \"%s\" is refused with EINVAL", bad_modes[m]);
    }
}

/* ---- stdlib ------------------------------------------------------------- */

static void test_number_parsing(void)
{
    static const char *const inputs[] = {
        "0", "42", "-42", "  +17xyz", "\t\n\v\f\r 12", "0x1A", "0X1a", "-0x10", "0x", "0xg",
        "0x1g", "012", "08", "09", "0b1", "777", "1010", "zz", "Zz9", "", "   ", "-", "+", "+-1",
        "abc", "1e5", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
        "-9223372036854775809", "18446744073709551615", "18446744073709551616",
        "-18446744073709551615", "-18446744073709551616", "-1",
        "99999999999999999999999999999", "0x7fffffffffffffff", "0xffffffffffffffff",
        "0x10000000000000000", "  -0", "00000000000000000000000000042",
    };
    static const int bases[] = {0, 2, 8, 10, 16, 36};
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        const char *s = inputs[i];
        for (size_t b = 0; b < sizeof bases / sizeof bases[0]; b++) {
            int base = bases[b];
            char *shim_end, *ref_end;
            shim_errno = 0;
            errno = 0;
            long shim_l = shim_strtol(s, &shim_end, base);
            long ref_l = strtol(s, &ref_end, base);
            check(shim_l == ref_l && shim_end == ref_end && shim_errno == errno,
                  "strtol(\"%s\", %d): %ld end %td errno %d, glibc %ld end %td errno %d", s,
                  base, shim_l, shim_end - s, shim_errno, ref_l, ref_end - s, errno);
            shim_errno = 0;
            errno = 0;
            unsigned long shim_ul = shim_strtoul(s, &shim_end, base);
            unsigned long ref_ul = strtoul(s, &ref_end, base);
            check(shim_ul == ref_ul && shim_end == ref_end && shim_errno == errno,
                  "strtoul(\"%s\", %d): %lu end %td errno %d, glibc %lu end %td errno %d", s,
                  base, shim_ul, shim_end - s, shim_errno, ref_ul, ref_end - s, errno);
            shim_errno = 0;
            errno = 0;
            unsigned long long shim_ull = shim_strtoull(s, &shim_end, base);
            unsigned long long ref_ull = strtoull(s, &ref_end, base);
            check(shim_ull == ref_ull && shim_end == ref_end && shim_errno == errno,
                  "strtoull(\"%s\", %d): %llu errno %d, glibc %llu errno %d", s, base,
                  shim_ull, shim_errno, ref_ull, errno);
        }
        check(shim_strtol(s, NULL, 10) == strtol(s, NULL, 10), "strtol(\"%s\") without endptr",
              s);
        /* atoi of an out-of-range value is undefined; compare in range only. */
        errno = 0;
        long ref = strtol(s, NULL, 10);
        if (errno == 0 && ref >= INT_MIN && ref <= INT_MAX)
            check(shim_atoi(s) == atoi(s), "atoi(\"%s\"): %d, glibc %d", s, shim_atoi(s),
                  atoi(s));
        check(shim_atol(s) == atol(s), "atol(\"%s\"): %ld, glibc %ld", s, shim_atol(s), atol(s));
    }
    char *end;
    shim_errno = 0;
    check(shim_strtol("123", &end, 1) == 0 && shim_errno == EINVAL, "strtol base 1 is EINVAL");
    shim_errno = 0;
    check(shim_strtoul("123", &end, 37) == 0 && shim_errno == EINVAL,
          "strtoul base 37 is EINVAL");
}

static void test_small_stdlib(void)
{
    static const int values[] = {0, 1, -1, 42, -42, INT_MAX, INT_MIN + 1};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
        check(shim_abs(values[i]) == abs(values[i]), "abs(%d)", values[i]);

    long before = live_allocations;
    unsigned char *p = shim_calloc(1000, 3);
    bool zero = p != NULL;
    for (size_t i = 0; zero && i < 3000; i++)
        zero = p[i] == 0;
    check(zero, "calloc gives zeroed memory");
    shim_free(p);
    shim_errno = 0;
    check(shim_calloc(SIZE_MAX / 2, 3) == NULL && shim_errno == ENOMEM,
          "calloc refuses an overflowing size with ENOMEM");
    check(live_allocations == before, "calloc leaks nothing");
}

static int compare_ints(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* 12 bytes: an element size that is not a power of two. */
struct record {
    int key;
    int tag;
    int check;
};

static int compare_records(const void *a, const void *b)
{
    return compare_ints(&((const struct record *)a)->key, &((const struct record *)b)->key);
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_qsort(void)
{
    static int data[2000], ref[2000];
    uint64_t seed = 1;
    static const size_t sizes[] = {0, 1, 2, 3, 4, 5, 7, 8, 16, 31, 100, 257, 1000, 2000};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (int range = 3; range <= 1000000; range *= 100) {
            size_t n = sizes[s];
            for (size_t i = 0; i < n; i++)
                ref[i] = data[i] = (int)(case_mix64(seed++) % (uint64_t)range) - range / 2;
            shim_qsort(data, n, sizeof data[0], compare_ints);
            qsort(ref, n, sizeof ref[0], compare_ints);
            check(memcmp(data, ref, n * sizeof data[0]) == 0, "qsort of %zu ints in [0, %d)", n,
                  range);
        }
    /* Already sorted and reversed input. */
    for (int i = 0; i < 500; i++)
        data[i] = i;
    shim_qsort(data, 500, sizeof data[0], compare_ints);
    bool sorted = true;
    for (int i = 0; i < 500; i++)
        sorted = sorted && data[i] == i;
    check(sorted, "qsort of sorted input");
    for (int i = 0; i < 500; i++)
        data[i] = 500 - i;
    shim_qsort(data, 500, sizeof data[0], compare_ints);
    sorted = true;
    for (int i = 0; i < 500; i++)
        sorted = sorted && data[i] == i + 1;
    check(sorted, "qsort of reversed input");

    static struct record records[777];
    long key_sum = 0;
    for (int i = 0; i < 777; i++) {
        records[i].key = (int)(case_mix64((uint64_t)i) % 50);
        records[i].tag = i;
        records[i].check = records[i].key * 7 + 1;
        key_sum += records[i].key;
    }
    shim_qsort(records, 777, sizeof records[0], compare_records);
    bool ordered = true, intact = true;
    long sum = 0;
    for (int i = 0; i < 777; i++) {
        ordered = ordered && (i == 0 || records[i - 1].key <= records[i].key);
        intact = intact && records[i].check == records[i].key * 7 + 1;
        sum += records[i].key;
    }
    check(ordered && intact && sum == key_sum, "qsort of 12-byte records");

    const char *words[] = {"pear", "apple", "fig", "banana", "apple", "cherry", "", "date"};
    shim_qsort(words, 8, sizeof words[0], compare_strings);
    check(strcmp(words[0], "") == 0 && strcmp(words[1], "apple") == 0 &&
              strcmp(words[2], "apple") == 0 && strcmp(words[7], "pear") == 0,
          "qsort of strings");
}

/* ---- string ------------------------------------------------------------- */

static int sign(int v)
{
    return (v > 0) - (v < 0);
}

static void test_string_functions(void)
{
    static const char *const strs[] = {"", "a", "ab", "abc", "abd", "b", "\xe9", "abcdef"};
    size_t n = sizeof strs / sizeof strs[0];
    for (size_t i = 0; i < n; i++) {
        check(shim_strlen(strs[i]) == strlen(strs[i]), "strlen(\"%s\")", strs[i]);
        for (size_t max = 0; max < 8; max++)
            check(shim_strnlen(strs[i], max) == strnlen(strs[i], max), "strnlen(\"%s\", %zu)",
                  strs[i], max);
        for (size_t j = 0; j < n; j++) {
            check(sign(shim_strcmp(strs[i], strs[j])) == sign(strcmp(strs[i], strs[j])),
                  "strcmp(\"%s\", \"%s\")", strs[i], strs[j]);
            for (size_t k = 0; k < 5; k++)
                check(sign(shim_strncmp(strs[i], strs[j], k)) ==
                          sign(strncmp(strs[i], strs[j], k)),
                      "strncmp(\"%s\", \"%s\", %zu)", strs[i], strs[j], k);
            check(shim_strstr(strs[i], strs[j]) == strstr(strs[i], strs[j]),
                  "strstr(\"%s\", \"%s\")", strs[i], strs[j]);
        }
    }
    static const char hay[] = "abracadabra";
    static const char *const needles[] = {"abra", "cad", "bra", "ra", "a", "", "abracadabra",
                                          "abracadabrax", "dab", "zz", "aa"};
    for (size_t i = 0; i < sizeof needles / sizeof needles[0]; i++)
        check(shim_strstr(hay, needles[i]) == strstr(hay, needles[i]), "strstr(hay, \"%s\")",
              needles[i]);
    static const int chars[] = {'a', 'b', 'r', 'z', '\0', 'a' + 256};
    for (size_t i = 0; i < sizeof chars / sizeof chars[0]; i++) {
        check(shim_strchr(hay, chars[i]) == strchr(hay, chars[i]), "strchr(hay, %d)", chars[i]);
        check(shim_strrchr(hay, chars[i]) == strrchr(hay, chars[i]), "strrchr(hay, %d)",
              chars[i]);
        check(shim_memchr(hay, chars[i], sizeof hay) == memchr(hay, chars[i], sizeof hay),
              "memchr(hay, %d)", chars[i]);
    }
    check(shim_memchr(hay, 'c', 4) == NULL, "memchr stops at n");

    char a[16], b[16];
    memset(a, 'x', sizeof a);
    memset(b, 'x', sizeof b);
    check(shim_strcpy(a, "hello") == a && memcmp(a, strcpy(b, "hello"), sizeof a) == 0,
          "strcpy");
    for (size_t k = 0; k < 10; k++) {
        memset(a, 'x', sizeof a);
        memset(b, 'x', sizeof b);
        shim_strncpy(a, "abc", k);
        strncpy(b, "abc", k);
        check(memcmp(a, b, sizeof a) == 0, "strncpy(\"abc\", %zu)", k);
    }

    /* memmove in both directions and every small shift. */
    for (int shift = -5; shift <= 5; shift++) {
        char buf[32], ref[32];
        for (int i = 0; i < 32; i++)
            buf[i] = ref[i] = (char)('A' + i);
        shim_memmove(buf + 10 + shift, buf + 10, 12);
        memmove(ref + 10 + shift, ref + 10, 12);
        check(memcmp(buf, ref, sizeof buf) == 0, "memmove shift %d", shift);
    }

    long before = live_allocations;
    char *copy = shim_strdup("duplicate me");
    check(copy != NULL && strcmp(copy, "duplicate me") == 0, "strdup");
    shim_free(copy);
    check(live_allocations == before, "strdup allocates with malloc");

    check(strcmp(shim_strerror(EINVAL), "Invalid argument") == 0, "strerror(EINVAL)");
    check(strcmp(shim_strerror(ENOMEM), "Cannot allocate memory") == 0, "strerror(ENOMEM)");
    check(strcmp(shim_strerror(9999), "error 9999") == 0, "strerror(9999): \"%s\"",
          shim_strerror(9999));
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--doubles") == 0) {
        print_double_reference();
        return 0;
    }
    test_integers();
    test_strings_and_chars();
    test_doubles();
    test_truncation();
    test_console();
    test_memory_files();
    test_number_parsing();
    test_small_stdlib();
    test_qsort();
    test_string_functions();
    printf("format_test: %lu passed, %lu failed\n", checks_passed, checks_failed);
    return checks_failed == 0 ? 0 : 1;
}
