/* The randomness part of libsodium for the in-kernel (UKL) party (see
 * include/sodium.h), over getrandom. */
#include "shim_names.h"

#include <sodium.h>
#include <stdlib.h>
#include <sys/random.h>

static int initialized;

int sodium_init(void)
{
    if (initialized)
        return 1;
    initialized = 1;
    return 0;
}

void randombytes_buf(void *const buf, const size_t size)
{
    unsigned char *cursor = buf;
    size_t left = size;

    while (left > 0) {
        ssize_t got = getrandom(cursor, left, 0);

        if (got <= 0)
            abort(); /* as libsodium: never hand out bytes that are not random */
        cursor += got;
        left -= (size_t)got;
    }
}

uint32_t randombytes_random(void)
{
    uint32_t value;

    randombytes_buf(&value, sizeof value);
    return value;
}
