/*
 * The printf family and a minimal FILE for the in-kernel (UKL) party.
 *
 * Everything reaches the outside world through one function of the Rust
 * side, ternion_ukl_console_write.  stdout and stderr are line-buffered in
 * front of it.  A FILE opened with fopen(path, "w") collects its content in
 * memory, and fclose hands it to the console in a framed form:
 *
 *   ternion-file-begin <path> <length> <fnv1a64 as 16 lowercase hex digits>
 *   ternion-file| <first line, without its newline>
 *   ...
 *   ternion-file-end <path>
 *
 * one console write per line; a last line without a newline is framed the
 * same way, and the length and hash let the reader restore the exact bytes.
 *
 * stdout and stderr lines are tagged, so that the host can tell a program's
 * two streams from each other and from the runtime's own messages:
 *
 *   stdout| <a line, or its first piece>
 *   stdout+ <the next piece of a line longer than a console line>
 *
 * and the same with stderr.  A line's pieces joined are the line.
 *
 * The formatter does no floating-point arithmetic: a double is converted to
 * its exact decimal expansion with integer arithmetic and then rounded as
 * text, ties to even, which is what glibc prints in the default rounding
 * mode.  That keeps it exact for every double and free of soft-float calls.
 */
#include "shim_names.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Provided by the Rust side: writes bytes to the kernel console. */
void ternion_ukl_console_write(const char *bytes, size_t len);

/* <limits.h> is avoided: gcc's copy needs the C library's (the host test
 * builds these sources with gcc and no C library headers). */
#define INT_LIMIT __INT_MAX__

/* ---- FILE --------------------------------------------------------------- */

enum file_kind {
    FILE_CONSOLE, /* stdout, stderr: line-buffered to the console */
    FILE_MEMORY,  /* fopen(path, "w"): collected, framed to the console by fclose */
};

struct ternion_file {
    enum file_kind kind;
    const char *tag; /* console: "stdout" or "stderr" */
    bool mid_line;   /* console: the last piece emitted did not end its line */
    char *buf;   /* console: the pending partial line; memory: the content */
    size_t len;  /* bytes used in buf */
    size_t cap;  /* size of buf */
    char *path;  /* memory: the path given to fopen (owned) */
    bool failed; /* memory: an allocation failed, so content was lost */
};

/* Room for a few ordinary lines; a longer line goes out in pieces. */
#define CONSOLE_BUFFER_SIZE 512

static char stdout_buffer[CONSOLE_BUFFER_SIZE];
static char stderr_buffer[CONSOLE_BUFFER_SIZE];
static FILE stdout_file = {FILE_CONSOLE, "stdout", false, stdout_buffer, 0, CONSOLE_BUFFER_SIZE,
                           NULL, false};
static FILE stderr_file = {FILE_CONSOLE, "stderr", false, stderr_buffer, 0, CONSOLE_BUFFER_SIZE,
                           NULL, false};
FILE *const stdout = &stdout_file;
FILE *const stderr = &stderr_file;

/* Text per console line after the tag: the Rust side's console lines hold
 * 256 bytes, and "stdout| " takes 8. */
#define CONSOLE_PIECE 240

/* Hands the first n buffered bytes to the console, one tagged piece per
 * console line, and keeps the rest. */
static void console_emit(FILE *f, size_t n)
{
    char piece[8 + CONSOLE_PIECE];
    size_t tag_len = strlen(f->tag);
    for (size_t start = 0; start < n;) {
        size_t end = start;
        while (end < n && end - start < CONSOLE_PIECE && f->buf[end] != '\n')
            end++;
        bool ends_line = end < n && f->buf[end] == '\n';
        memcpy(piece, f->tag, tag_len);
        piece[tag_len] = f->mid_line ? '+' : '|';
        piece[tag_len + 1] = ' ';
        memcpy(piece + tag_len + 2, f->buf + start, end - start);
        ternion_ukl_console_write(piece, tag_len + 2 + end - start);
        f->mid_line = !ends_line;
        start = ends_line ? end + 1 : end;
    }
    memmove(f->buf, f->buf + n, f->len - n);
    f->len -= n;
}

/*
 * Appends to a console stream.  Whenever the buffer holds a newline, the text
 * up to the last one goes out in one console write, so the buffer never keeps
 * a complete line; when it fills up with no newline, the partial line goes.
 */
static void console_write(FILE *f, const char *p, size_t n)
{
    while (n > 0) {
        if (f->len == f->cap)
            console_emit(f, f->len);
        size_t take = f->cap - f->len < n ? f->cap - f->len : n;
        memcpy(f->buf + f->len, p, take);
        f->len += take;
        p += take;
        n -= take;
        for (size_t end = f->len; end > f->len - take; end--) {
            if (f->buf[end - 1] == '\n') {
                console_emit(f, end);
                break;
            }
        }
    }
}

/* Appends to a memory file, growing it geometrically. */
static bool memory_write(FILE *f, const char *p, size_t n)
{
    if (f->failed)
        return false;
    if (n > f->cap - f->len) {
        if (n > SIZE_MAX - f->len) {
            f->failed = true;
            errno = ENOMEM;
            return false;
        }
        size_t need = f->len + n;
        size_t cap = f->cap ? f->cap : 256;
        while (cap < need)
            cap = cap > SIZE_MAX / 2 ? need : cap * 2;
        char *grown = realloc(f->buf, cap);
        if (grown == NULL) {
            f->failed = true;
            errno = ENOMEM;
            return false;
        }
        f->buf = grown;
        f->cap = cap;
    }
    memcpy(f->buf + f->len, p, n);
    f->len += n;
    return true;
}

static bool file_write(FILE *f, const char *p, size_t n)
{
    if (f->kind == FILE_MEMORY)
        return memory_write(f, p, n);
    console_write(f, p, n);
    return true;
}

/* ---- output sinks ------------------------------------------------------- */

/* Where a formatted string goes: a FILE, or a caller's array (snprintf). */
struct sink {
    FILE *file;      /* the stream, or NULL when writing to str */
    char *str;       /* the caller's array */
    size_t room;     /* bytes str can take, not counting the final NUL */
    size_t produced; /* bytes produced so far, stored or not */
    bool failed;     /* a write to file failed */
};

static void sink_write(struct sink *s, const char *p, size_t n)
{
    if (s->file != NULL) {
        if (!file_write(s->file, p, n))
            s->failed = true;
    } else if (s->produced < s->room) {
        size_t fits = s->room - s->produced;
        memcpy(s->str + s->produced, p, n < fits ? n : fits);
    }
    s->produced += n;
}

static void sink_repeat(struct sink *s, char c, size_t n)
{
    char chunk[32];
    memset(chunk, c, sizeof chunk);
    while (n > 0) {
        size_t k = n < sizeof chunk ? n : sizeof chunk;
        sink_write(s, chunk, k);
        n -= k;
    }
}

/* ---- conversion specifications ------------------------------------------ */

enum length { LEN_NONE, LEN_HH, LEN_H, LEN_L, LEN_LL, LEN_Z, LEN_J, LEN_T };

struct spec {
    bool left;     /* '-': pad on the right */
    bool plus;     /* '+': always a sign */
    bool space;    /* ' ': a space where the sign of a positive number goes */
    bool alt;      /* '#' */
    bool zero;     /* '0': pad with zeros after the sign (cleared when it does not apply) */
    size_t width;  /* minimum field width */
    int precision; /* -1 when not given */
    enum length length;
    char conv;
};

/*
 * A field is: padding, prefix (sign, "0x"), body, padding.  Zero padding goes
 * between prefix and body, space padding outside both.
 */
static void field_begin(struct sink *s, const struct spec *sp, const char *prefix,
                        size_t body_len)
{
    size_t prefix_len = strlen(prefix);
    size_t len = prefix_len + body_len;
    size_t pad = sp->width > len ? sp->width - len : 0;
    if (!sp->left && !sp->zero)
        sink_repeat(s, ' ', pad);
    sink_write(s, prefix, prefix_len);
    if (!sp->left && sp->zero)
        sink_repeat(s, '0', pad);
}

static void field_end(struct sink *s, const struct spec *sp, const char *prefix,
                      size_t body_len)
{
    size_t len = strlen(prefix) + body_len;
    if (sp->left && sp->width > len)
        sink_repeat(s, ' ', sp->width - len);
}

/* The sign prefix of a signed conversion. */
static const char *sign_prefix(const struct spec *sp, bool negative)
{
    return negative ? "-" : sp->plus ? "+" : sp->space ? " " : "";
}

/* ---- integers ----------------------------------------------------------- */

static intmax_t read_signed(va_list *ap, enum length length)
{
    switch (length) {
    case LEN_HH:
        return (signed char)va_arg(*ap, int);
    case LEN_H:
        return (short)va_arg(*ap, int);
    case LEN_L:
        return va_arg(*ap, long);
    case LEN_LL:
        return va_arg(*ap, long long);
    case LEN_Z: /* the signed type of size_t's width */
    case LEN_T:
        return va_arg(*ap, ptrdiff_t);
    case LEN_J:
        return va_arg(*ap, intmax_t);
    case LEN_NONE:
        break;
    }
    return va_arg(*ap, int);
}

static uintmax_t read_unsigned(va_list *ap, enum length length)
{
    switch (length) {
    case LEN_HH:
        return (unsigned char)va_arg(*ap, unsigned int);
    case LEN_H:
        return (unsigned short)va_arg(*ap, unsigned int);
    case LEN_L:
        return va_arg(*ap, unsigned long);
    case LEN_LL:
        return va_arg(*ap, unsigned long long);
    case LEN_Z: /* and the unsigned type of ptrdiff_t's width */
    case LEN_T:
        return va_arg(*ap, size_t);
    case LEN_J:
        return va_arg(*ap, uintmax_t);
    case LEN_NONE:
        break;
    }
    return va_arg(*ap, unsigned int);
}

/* d i u o x X p: prefix is the sign, or "0x"/"0X" for '#' and pointers. */
static void format_integer(struct sink *s, struct spec sp, uintmax_t magnitude,
                           const char *prefix)
{
    /* 22 octal digits hold 64 bits. */
    char digits[24];
    char *end = digits + sizeof digits;
    char *first = end;
    bool hex = sp.conv == 'x' || sp.conv == 'X' || sp.conv == 'p';
    unsigned base = sp.conv == 'o' ? 8 : hex ? 16 : 10;
    const char *digit_chars = sp.conv == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
    /* "%.0d" of 0 prints no digits at all. */
    if (magnitude != 0 || sp.precision != 0) {
        do {
            *--first = digit_chars[magnitude % base];
            magnitude /= base;
        } while (magnitude != 0);
    }
    size_t ndigits = (size_t)(end - first);
    size_t zeros = sp.precision > 0 && (size_t)sp.precision > ndigits
                       ? (size_t)sp.precision - ndigits
                       : 0;
    /* '#' with 'o' makes the first digit a 0. */
    if (sp.conv == 'o' && sp.alt && zeros == 0 && (ndigits == 0 || *first != '0'))
        zeros = 1;
    if (sp.precision >= 0)
        sp.zero = false;
    field_begin(s, &sp, prefix, zeros + ndigits);
    sink_repeat(s, '0', zeros);
    sink_write(s, first, ndigits);
    field_end(s, &sp, prefix, zeros + ndigits);
}

/* ---- floating point ----------------------------------------------------- */

/*
 * A finite double is m * 2^e with m < 2^53.  For e < 0 it equals
 * m * 5^-e / 10^-e, so its exact decimal expansion has the digits of the
 * integer m * 5^-e, at most 2^53 * 5^1074 < 10^767: 767 digits.  For e >= 0
 * it is an integer below 2^1024, 309 digits.
 */
#define DECIMAL_MAX_DIGITS 767
#define LIMB_BASE 1000000000u /* a limb holds 9 decimal digits */
#define LIMB_DIGITS 9
#define MAX_LIMBS ((DECIMAL_MAX_DIGITS + LIMB_DIGITS - 1) / LIMB_DIGITS)

/* value = 0.d[0] d[1] ... d[count-1] * 10^point; digits past count are 0. */
struct decimal {
    char digit[DECIMAL_MAX_DIGITS]; /* '0'..'9'; no trailing zeros */
    long count;                     /* 0 for the value zero */
    long point;
};

/* A big integer in base 10^9, least significant limb first. */
struct big {
    uint32_t limb[MAX_LIMBS];
    int n;
};

/* factor < 2^32 and limb < 2^30 keep limb * factor + carry below 2^64. */
static void big_multiply(struct big *b, uint32_t factor)
{
    uint64_t carry = 0;
    for (int i = 0; i < b->n; i++) {
        uint64_t t = (uint64_t)b->limb[i] * factor + carry;
        b->limb[i] = (uint32_t)(t % LIMB_BASE);
        carry = t / LIMB_BASE;
    }
    while (carry != 0) {
        b->limb[b->n++] = (uint32_t)(carry % LIMB_BASE);
        carry /= LIMB_BASE;
    }
}

static void decimal_trim(struct decimal *d)
{
    while (d->count > 0 && d->digit[d->count - 1] == '0')
        d->count--;
}

/* The exact decimal expansion of mantissa * 2^exponent. */
static void decimal_from_binary(struct decimal *d, uint64_t mantissa, int exponent)
{
    d->count = 0;
    d->point = 1;
    if (mantissa == 0)
        return;
    /* Fewer factors to multiply in; the value stays the same. */
    while ((mantissa & 1) == 0) {
        mantissa >>= 1;
        exponent++;
    }
    struct big b = {{0}, 0};
    for (; mantissa != 0; mantissa /= LIMB_BASE)
        b.limb[b.n++] = (uint32_t)(mantissa % LIMB_BASE);
    static const uint32_t powers_of_5[] = {1,       5,        25,        125,       625,
                                           3125,    15625,    78125,     390625,    1953125,
                                           9765625, 48828125, 244140625, 1220703125};
    long fraction_digits = exponent < 0 ? -exponent : 0;
    while (exponent > 0) {
        int step = exponent < 31 ? exponent : 31;
        big_multiply(&b, (uint32_t)1 << step);
        exponent -= step;
    }
    while (exponent < 0) {
        int step = -exponent < 13 ? -exponent : 13;
        big_multiply(&b, powers_of_5[step]);
        exponent += step;
    }
    /* The top limb without leading zeros, every other limb with all 9. */
    char top[LIMB_DIGITS];
    int top_len = 0;
    for (uint32_t v = b.limb[b.n - 1]; v != 0; v /= 10)
        top[top_len++] = (char)('0' + v % 10);
    while (top_len > 0)
        d->digit[d->count++] = top[--top_len];
    for (int i = b.n - 2; i >= 0; i--) {
        uint32_t v = b.limb[i];
        for (int k = LIMB_DIGITS - 1; k >= 0; k--) {
            d->digit[d->count + k] = (char)('0' + v % 10);
            v /= 10;
        }
        d->count += LIMB_DIGITS;
    }
    d->point = d->count - fraction_digits;
    decimal_trim(d);
}

/*
 * Keeps the first `keep` digits (keep may be <= 0 or past count), rounding
 * to nearest with ties to even on the exact value.  Rounding up past the
 * first digit gives "1" one place further left.
 */
static void decimal_round(struct decimal *d, long keep)
{
    if (keep >= d->count)
        return;
    if (keep < 0) {
        /* Below half a unit of the last kept place. */
        d->count = 0;
        return;
    }
    char next = d->digit[keep];
    /* No trailing zeros are stored, so a digit after `next` means "more". */
    bool more = keep + 1 < d->count;
    bool odd = keep > 0 && (d->digit[keep - 1] - '0') % 2 == 1;
    bool up = next > '5' || (next == '5' && (more || odd));
    d->count = keep;
    if (up) {
        long i = keep - 1;
        while (i >= 0 && d->digit[i] == '9')
            i--;
        if (i < 0) {
            d->digit[0] = '1';
            d->count = 1;
            d->point++;
        } else {
            d->digit[i]++;
            d->count = i + 1;
        }
    }
    decimal_trim(d);
}

/* Writes the digits at positions from .. from+n-1 (zeros outside 0..count). */
static void emit_digits(struct sink *s, const struct decimal *d, long from, size_t n)
{
    if (from < 0) {
        size_t zeros = (size_t)-from < n ? (size_t)-from : n;
        sink_repeat(s, '0', zeros);
        n -= zeros;
        from = 0;
    }
    if (n > 0 && from < d->count) {
        size_t avail = (size_t)(d->count - from);
        size_t k = n < avail ? n : avail;
        sink_write(s, d->digit + from, k);
        n -= k;
    }
    sink_repeat(s, '0', n);
}

/* [-]ddd.ddd with `fraction` digits after the point. */
static size_t fixed_length(const struct decimal *d, size_t fraction, bool alt)
{
    size_t integer = d->point > 0 ? (size_t)d->point : 1;
    return integer + (fraction > 0 || alt ? 1 + fraction : 0);
}

static void emit_fixed(struct sink *s, const struct decimal *d, size_t fraction, bool alt)
{
    if (d->point > 0)
        emit_digits(s, d, 0, (size_t)d->point);
    else
        sink_write(s, "0", 1);
    if (fraction > 0 || alt)
        sink_write(s, ".", 1);
    emit_digits(s, d, d->point, fraction);
}

/* [-]d.ddde±dd with `fraction` digits after the point. */
static size_t exponential_length(const struct decimal *d, size_t fraction, bool alt)
{
    long e = d->count == 0 ? 0 : d->point - 1;
    long magnitude = e < 0 ? -e : e;
    size_t exponent_digits = magnitude >= 100 ? 3 : 2;
    return 1 + (fraction > 0 || alt ? 1 + fraction : 0) + 2 + exponent_digits;
}

static void emit_exponential(struct sink *s, const struct decimal *d, size_t fraction,
                             bool alt, bool upper)
{
    long e = d->count == 0 ? 0 : d->point - 1;
    emit_digits(s, d, 0, 1);
    if (fraction > 0 || alt)
        sink_write(s, ".", 1);
    emit_digits(s, d, 1, fraction);
    char exponent[5];
    size_t len = 0;
    long magnitude = e < 0 ? -e : e;
    exponent[len++] = upper ? 'E' : 'e';
    exponent[len++] = e < 0 ? '-' : '+';
    if (magnitude >= 100)
        exponent[len++] = (char)('0' + magnitude / 100);
    exponent[len++] = (char)('0' + magnitude / 10 % 10);
    exponent[len++] = (char)('0' + magnitude % 10);
    sink_write(s, exponent, len);
}

/*
 * Under x86_64 soft-float (the kernel build), a caller passes a variadic
 * double in an integer register or stack slot, but clang's va_arg(ap, double)
 * still reads the SSE register save area.  Reading the bits as an integer
 * takes them from where the caller put them.
 */
static uint64_t read_double_bits(va_list *ap)
{
#if defined(__x86_64__) && !defined(__SSE2__)
    return va_arg(*ap, uint64_t);
#else
    union {
        double value;
        uint64_t bits;
    } u;
    u.value = va_arg(*ap, double);
    return u.bits;
#endif
}

/* f F e E g G */
static void format_double(struct sink *s, struct spec sp, uint64_t bits)
{
    bool negative = bits >> 63;
    int biased_exponent = (int)(bits >> 52 & 0x7ff);
    uint64_t fraction_bits = bits & (((uint64_t)1 << 52) - 1);
    bool upper = sp.conv == 'F' || sp.conv == 'E' || sp.conv == 'G';
    const char *prefix = sign_prefix(&sp, negative);

    if (biased_exponent == 0x7ff) {
        const char *text = fraction_bits != 0 ? (upper ? "NAN" : "nan") : (upper ? "INF" : "inf");
        sp.zero = false;
        field_begin(s, &sp, prefix, 3);
        sink_write(s, text, 3);
        field_end(s, &sp, prefix, 3);
        return;
    }

    struct decimal d;
    if (biased_exponent == 0)
        decimal_from_binary(&d, fraction_bits, -1074);
    else
        decimal_from_binary(&d, fraction_bits | (uint64_t)1 << 52, biased_exponent - 1075);

    size_t precision = sp.precision < 0 ? 6 : (size_t)sp.precision;
    bool exponential;
    size_t fraction;
    switch (sp.conv) {
    case 'f':
    case 'F':
        decimal_round(&d, d.point + (long)precision);
        exponential = false;
        fraction = precision;
        break;
    case 'e':
    case 'E':
        decimal_round(&d, (long)precision + 1);
        exponential = true;
        fraction = precision;
        break;
    default: {
        /* %g: P significant digits; the exponent X that %e would show picks
         * the style, and unless '#' trailing zeros are dropped. */
        size_t significant = precision == 0 ? 1 : precision;
        decimal_round(&d, (long)significant);
        long x = d.count == 0 ? 0 : d.point - 1;
        exponential = !(x < (long)significant && x >= -4);
        if (exponential)
            fraction = sp.alt ? significant - 1 : (d.count > 1 ? (size_t)d.count - 1 : 0);
        else if (sp.alt)
            fraction = (size_t)((long)significant - 1 - x);
        else
            fraction = d.count > d.point ? (size_t)(d.count - d.point) : 0;
        break;
    }
    }

    size_t body = exponential ? exponential_length(&d, fraction, sp.alt)
                              : fixed_length(&d, fraction, sp.alt);
    field_begin(s, &sp, prefix, body);
    if (exponential)
        emit_exponential(s, &d, fraction, sp.alt, upper);
    else
        emit_fixed(s, &d, fraction, sp.alt);
    field_end(s, &sp, prefix, body);
}

/* ---- the format loop ---------------------------------------------------- */

/* Reads a decimal number, saturating at INT_LIMIT. */
static int parse_count(const char **p)
{
    int n = 0;
    for (; **p >= '0' && **p <= '9'; (*p)++) {
        int digit = **p - '0';
        n = n > (INT_LIMIT - digit) / 10 ? INT_LIMIT : n * 10 + digit;
    }
    return n;
}

/* Formats the conversion specification at `pct` (a '%'); returns what follows it. */
static const char *format_one(struct sink *s, const char *pct, va_list *ap)
{
    struct spec sp = {false, false, false, false, false, 0, -1, LEN_NONE, 0};
    const char *p = pct + 1;

    for (;; p++) {
        if (*p == '-')
            sp.left = true;
        else if (*p == '+')
            sp.plus = true;
        else if (*p == ' ')
            sp.space = true;
        else if (*p == '#')
            sp.alt = true;
        else if (*p == '0')
            sp.zero = true;
        else
            break;
    }
    if (*p == '*') {
        int w = va_arg(*ap, int);
        /* A negative width is a '-' flag and a positive width. */
        if (w < 0)
            sp.left = true;
        sp.width = w < 0 ? (size_t)-(long)w : (size_t)w;
        p++;
    } else {
        sp.width = (size_t)parse_count(&p);
    }
    if (*p == '.') {
        p++;
        if (*p == '*') {
            int prec = va_arg(*ap, int);
            /* A negative precision is taken as omitted. */
            sp.precision = prec < 0 ? -1 : prec;
            p++;
        } else {
            sp.precision = parse_count(&p);
        }
    }
    switch (*p) {
    case 'h':
        sp.length = p[1] == 'h' ? LEN_HH : LEN_H;
        p += sp.length == LEN_HH ? 2 : 1;
        break;
    case 'l':
        sp.length = p[1] == 'l' ? LEN_LL : LEN_L;
        p += sp.length == LEN_LL ? 2 : 1;
        break;
    case 'z':
        sp.length = LEN_Z;
        p++;
        break;
    case 'j':
        sp.length = LEN_J;
        p++;
        break;
    case 't':
        sp.length = LEN_T;
        p++;
        break;
    default:
        break;
    }
    sp.conv = *p;
    if (sp.left)
        sp.zero = false;

    switch (sp.conv) {
    case 'd':
    case 'i': {
        intmax_t v = read_signed(ap, sp.length);
        uintmax_t magnitude = v < 0 ? (uintmax_t)0 - (uintmax_t)v : (uintmax_t)v;
        format_integer(s, sp, magnitude, sign_prefix(&sp, v < 0));
        break;
    }
    case 'u':
    case 'o':
    case 'x':
    case 'X': {
        uintmax_t v = read_unsigned(ap, sp.length);
        const char *prefix = "";
        if (sp.alt && v != 0 && sp.conv != 'u' && sp.conv != 'o')
            prefix = sp.conv == 'X' ? "0X" : "0x";
        format_integer(s, sp, v, prefix);
        break;
    }
    case 'p': {
        /* Like glibc: "0x" and lowercase hex, "(nil)" for a null pointer. */
        uintptr_t v = (uintptr_t)va_arg(*ap, void *);
        if (v != 0) {
            format_integer(s, sp, v, "0x");
        } else {
            sp.zero = false;
            field_begin(s, &sp, "", 5);
            sink_write(s, "(nil)", 5);
            field_end(s, &sp, "", 5);
        }
        break;
    }
    case 'f':
    case 'F':
    case 'e':
    case 'E':
    case 'g':
    case 'G':
        if (sp.length != LEN_NONE && sp.length != LEN_L)
            goto unsupported;
        format_double(s, sp, read_double_bits(ap));
        break;
    case 'c': {
        if (sp.length != LEN_NONE)
            goto unsupported; /* no wide characters */
        char c = (char)(unsigned char)va_arg(*ap, int);
        sp.zero = false;
        field_begin(s, &sp, "", 1);
        sink_write(s, &c, 1);
        field_end(s, &sp, "", 1);
        break;
    }
    case 's': {
        if (sp.length != LEN_NONE)
            goto unsupported; /* no wide strings */
        const char *str = va_arg(*ap, const char *);
        /* glibc prints "(null)" unless the precision is too small for it. */
        if (str == NULL)
            str = sp.precision < 0 || sp.precision >= 6 ? "(null)" : "";
        size_t len = sp.precision < 0 ? strlen(str) : strnlen(str, (size_t)sp.precision);
        sp.zero = false;
        field_begin(s, &sp, "", len);
        sink_write(s, str, len);
        field_end(s, &sp, "", len);
        break;
    }
    case '%':
        sink_write(s, "%", 1);
        break;
    default:
        goto unsupported;
    }
    return p + 1;

unsupported:
    /* %n, long double, wide characters, unknown conversions: the
     * specification is printed as it stands (without consuming an argument). */
    if (*p == '\0') {
        sink_write(s, pct, (size_t)(p - pct));
        return p;
    }
    sink_write(s, pct, (size_t)(p + 1 - pct));
    return p + 1;
}

static void format_to_sink(struct sink *s, const char *format, va_list ap)
{
    /* A copy, so that the helpers can take it by pointer (va_list may be an
     * array type, which a parameter can only receive as a pointer). */
    va_list args;
    va_copy(args, ap);
    while (*format != '\0') {
        const char *pct = strchr(format, '%');
        if (pct == NULL) {
            sink_write(s, format, strlen(format));
            break;
        }
        sink_write(s, format, (size_t)(pct - format));
        format = format_one(s, pct, &args);
    }
    va_end(args);
}

/* The int result of the printf family: the byte count, or -1 on error. */
static int sink_result(const struct sink *s)
{
    if (s->failed)
        return -1;
    if (s->produced > (size_t)INT_LIMIT) {
        errno = EOVERFLOW;
        return -1;
    }
    return (int)s->produced;
}

/* ---- the printf family -------------------------------------------------- */

int vsnprintf(char *restrict str, size_t size, const char *restrict format, va_list ap)
{
    struct sink s = {NULL, str, size > 0 ? size - 1 : 0, 0, false};
    format_to_sink(&s, format, ap);
    if (size > 0)
        str[s.produced < s.room ? s.produced : s.room] = '\0';
    return sink_result(&s);
}

int snprintf(char *restrict str, size_t size, const char *restrict format, ...)
{
    va_list ap;
    va_start(ap, format);
    int n = vsnprintf(str, size, format, ap);
    va_end(ap);
    return n;
}

int vsprintf(char *restrict str, const char *restrict format, va_list ap)
{
    /* The caller promises room; past INT_MAX bytes the result is an error anyway. */
    return vsnprintf(str, (size_t)INT_LIMIT + 1, format, ap);
}

int sprintf(char *restrict str, const char *restrict format, ...)
{
    va_list ap;
    va_start(ap, format);
    int n = vsprintf(str, format, ap);
    va_end(ap);
    return n;
}

int vfprintf(FILE *restrict stream, const char *restrict format, va_list ap)
{
    struct sink s = {stream, NULL, 0, 0, false};
    format_to_sink(&s, format, ap);
    return sink_result(&s);
}

int fprintf(FILE *restrict stream, const char *restrict format, ...)
{
    va_list ap;
    va_start(ap, format);
    int n = vfprintf(stream, format, ap);
    va_end(ap);
    return n;
}

int vprintf(const char *restrict format, va_list ap)
{
    return vfprintf(stdout, format, ap);
}

int printf(const char *restrict format, ...)
{
    va_list ap;
    va_start(ap, format);
    int n = vfprintf(stdout, format, ap);
    va_end(ap);
    return n;
}

/* ---- character and block output ----------------------------------------- */

int fputc(int c, FILE *stream)
{
    char byte = (char)(unsigned char)c;
    return file_write(stream, &byte, 1) ? (unsigned char)c : EOF;
}

int putc(int c, FILE *stream)
{
    return fputc(c, stream);
}

int putchar(int c)
{
    return fputc(c, stdout);
}

int fputs(const char *restrict str, FILE *restrict stream)
{
    return file_write(stream, str, strlen(str)) ? 0 : EOF;
}

int puts(const char *str)
{
    return file_write(stdout, str, strlen(str)) && file_write(stdout, "\n", 1) ? 0 : EOF;
}

size_t fwrite(const void *restrict ptr, size_t size, size_t nmemb, FILE *restrict stream)
{
    if (size == 0 || nmemb == 0)
        return 0;
    if (nmemb > SIZE_MAX / size) {
        errno = EOVERFLOW;
        return 0;
    }
    return file_write(stream, ptr, size * nmemb) ? nmemb : 0;
}

int fflush(FILE *stream)
{
    if (stream == NULL) {
        fflush(stdout);
        fflush(stderr);
        return 0;
    }
    if (stream->kind == FILE_CONSOLE && stream->len > 0)
        console_emit(stream, stream->len);
    return 0;
}

/* ---- memory files ------------------------------------------------------- */

FILE *fopen(const char *restrict path, const char *restrict mode)
{
    if (path == NULL || mode == NULL || (strcmp(mode, "w") != 0 && strcmp(mode, "wb") != 0)) {
        errno = EINVAL;
        return NULL;
    }
    FILE *f = malloc(sizeof *f);
    char *path_copy = strdup(path);
    if (f == NULL || path_copy == NULL) {
        free(f);
        free(path_copy);
        errno = ENOMEM;
        return NULL;
    }
    *f = (FILE){.kind = FILE_MEMORY, .path = path_copy};
    return f;
}

static uint64_t fnv1a64(const char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 0x100000001b3u;
    }
    return h;
}

/* The framed form described at the top of this file, one console write per line. */
static bool emit_framed(const FILE *f)
{
    static const char line_prefix[] = "ternion-file| ";
    const size_t prefix_len = sizeof line_prefix - 1;
    size_t path_len = strlen(f->path);

    size_t longest = 0;
    for (size_t start = 0; start < f->len;) {
        const char *nl = memchr(f->buf + start, '\n', f->len - start);
        size_t end = nl != NULL ? (size_t)(nl - f->buf) : f->len;
        if (end - start > longest)
            longest = end - start;
        start = end + 1;
    }
    /* "ternion-file-begin " path " " up to 20 digits " " 16 hex digits "\n" */
    size_t header_cap = path_len + 64;
    size_t line_cap = prefix_len + longest + 1;
    size_t cap = header_cap > line_cap ? header_cap : line_cap;
    char *line = malloc(cap);
    if (line == NULL) {
        errno = ENOMEM;
        return false;
    }

    int n = snprintf(line, cap, "ternion-file-begin %s %zu %016llx\n", f->path, f->len,
                     (unsigned long long)fnv1a64(f->buf, f->len));
    ternion_ukl_console_write(line, (size_t)n);
    memcpy(line, line_prefix, prefix_len);
    for (size_t start = 0; start < f->len;) {
        const char *nl = memchr(f->buf + start, '\n', f->len - start);
        size_t end = nl != NULL ? (size_t)(nl - f->buf) : f->len;
        memcpy(line + prefix_len, f->buf + start, end - start);
        line[prefix_len + end - start] = '\n';
        ternion_ukl_console_write(line, prefix_len + end - start + 1);
        start = end + 1;
    }
    n = snprintf(line, cap, "ternion-file-end %s\n", f->path);
    ternion_ukl_console_write(line, (size_t)n);
    free(line);
    return true;
}

int fclose(FILE *stream)
{
    if (stream->kind == FILE_CONSOLE)
        return fflush(stream);
    /* A file that lost content to an allocation failure is not emitted:
     * its frame would look complete. */
    bool ok = !stream->failed && emit_framed(stream);
    free(stream->buf);
    free(stream->path);
    free(stream);
    return ok ? 0 : EOF;
}

/* ---- assert ------------------------------------------------------------- */

/* The running program's name (its argv[0]), which glibc's assertion
 * message starts with; set by the Rust side before main. */
static const char *program_name = "";

void ternion_libc_set_program_name(const char *name)
{
    program_name = name;
}

_Noreturn void __ternion_assert_fail(const char *expr, const char *file, unsigned int line,
                                     const char *func)
{
    fprintf(stderr, "%s%s%s:%u: %s: Assertion `%s' failed.\n", program_name,
            *program_name ? ": " : "", file, line, func, expr);
    fflush(stderr);
    abort();
}

/* glibc's <assert.h> calls this name, with the same arguments: programs
 * compiled against glibc's headers (the C++ ones) reach it. */
_Noreturn void __assert_fail(const char *expr, const char *file, unsigned int line,
                             const char *func);
_Noreturn void __assert_fail(const char *expr, const char *file, unsigned int line,
                             const char *func)
{
    __ternion_assert_fail(expr, file, line, func);
}
