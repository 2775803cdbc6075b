/*
 * random(3) for the in-kernel party: glibc's additive feedback generator,
 * output for output, so a kernel party and a hosted party seeded alike draw
 * the same numbers (Secrecy seeds one generator per neighbour and expects
 * both ends of a link to agree).
 *
 * The generator is x[i] = x[i-31] + x[i-3] (mod 2^32) over a table of 31
 * words, returning the top 31 bits; the table is seeded by the Park-Miller
 * generator 16807 * x mod (2^31 - 1), and the first 310 outputs are thrown
 * away. That is glibc's TYPE_3, which initstate picks for a state of 128 to
 * 255 bytes and srandom uses by default. Smaller and larger states (glibc's
 * other types) are refused by initstate rather than silently differing.
 *
 * As in glibc, a state buffer's first word records where the generator
 * stands, so that setstate can resume it; the table follows.
 */
#include "shim_names.h"

#include <stdint.h>
#include <stdlib.h>

enum {
    DEGREE = 31,     /* words in the table */
    SEPARATION = 3,  /* the lag between the two taps */
    TYPE_3 = 3,      /* glibc's name for this generator, kept in word 0 */
    MAX_TYPES = 5,   /* glibc encodes word 0 as MAX_TYPES * rear + type */
    MIN_STATE = 128, /* bytes initstate needs for TYPE_3 ... */
    MAX_STATE = 255, /* ... and the most it still uses TYPE_3 for */
};

struct generator {
    int32_t *table; /* DEGREE words, after the header word */
    int front;      /* index of the tap that is updated */
    int rear;       /* index of the tap that is added */
};

/* The state srandom and random use until initstate or setstate say
 * otherwise; seeded with 1 at the first draw, as glibc's starts. */
static int32_t default_state[1 + DEGREE] = {TYPE_3};
static struct generator current = {&default_state[1], SEPARATION, 0};
static int started;

/* Records in the state's header word where the generator stands; done
 * whenever it is switched away from, so setstate can resume it. */
static void save_position(const struct generator *g)
{
    g->table[-1] = MAX_TYPES * g->rear + TYPE_3;
}

static int32_t next(struct generator *g)
{
    uint32_t sum = (uint32_t)g->table[g->front] + (uint32_t)g->table[g->rear];

    g->table[g->front] = (int32_t)sum;
    g->front = (g->front + 1) % DEGREE;
    g->rear = (g->rear + 1) % DEGREE;
    return (int32_t)(sum >> 1);
}

static void seed(struct generator *g, unsigned int value)
{
    /* As glibc: the seed as a signed 32-bit word, so seeds of 2^31 and
     * above start the sequence from a negative number. */
    int32_t word = (int32_t)(value == 0 ? 1 : value);

    g->table[0] = word;
    for (int i = 1; i < DEGREE; i++) {
        /* 16807 * word mod (2^31 - 1), by Schrage's method: no overflow. */
        long hi = word / 127773, lo = word % 127773;

        word = (int32_t)(16807 * lo - 2836 * hi);
        if (word < 0)
            word += 2147483647;
        g->table[i] = word;
    }
    g->front = SEPARATION;
    g->rear = 0;
    for (int i = 0; i < 10 * DEGREE; i++)
        (void)next(g);
}

/* Seeds the default state with 1 if nothing was seeded before. */
static void start(void)
{
    if (!started) {
        started = 1;
        if (current.table == &default_state[1])
            seed(&current, 1);
    }
}

long random(void)
{
    start();
    return next(&current);
}

void srandom(unsigned int value)
{
    started = 1;
    seed(&current, value);
}

char *initstate(unsigned int value, char *state, size_t n)
{
    if (state == NULL || n < MIN_STATE || n > MAX_STATE)
        return NULL;
    start();
    int32_t *previous = current.table - 1;

    save_position(&current);
    current.table = (int32_t *)(void *)state + 1;
    seed(&current, value);
    save_position(&current);
    return (char *)previous;
}

char *setstate(char *state)
{
    if (state == NULL)
        return NULL;
    start();
    /* First, so that a state that is the current one reads back as it stands. */
    save_position(&current);
    int32_t *header = (int32_t *)(void *)state;
    if (header[0] % MAX_TYPES != TYPE_3 || header[0] / MAX_TYPES >= DEGREE)
        return NULL;
    int32_t *previous = current.table - 1;

    current.table = header + 1;
    current.rear = header[0] / MAX_TYPES;
    current.front = (current.rear + SEPARATION) % DEGREE;
    return (char *)previous;
}
