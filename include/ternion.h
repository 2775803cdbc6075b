/*
 * ternion.h: ternion's native C API for three-party secure computation.
 *
 * One process is one party (rank 0, 1 or 2) with a standing link to each of
 * the other two. Link with libternion (or libternion_mpi, which also exports
 * this API on the same party). Every function returns TERNION_OK (0) or a
 * negative TERNION_ERR_* code; ternion_strerror explains it. Nothing here
 * aborts the process: the caller decides.
 */
#ifndef TERNION_H
#define TERNION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    TERNION_OK = 0,
    TERNION_ERR_NOT_INITIALIZED = -1, /* ternion_init has not succeeded, or ternion_close ran */
    TERNION_ERR_CONNECT = -2,         /* could not reach the other parties (details on stderr) */
    TERNION_ERR_RANK = -3,            /* peer is not one of the other two ranks */
    TERNION_ERR_TAG = -4,             /* tags are 0 .. 2^31-1 (-1 = any, receives only) */
    TERNION_ERR_TRUNCATED = -5,       /* message longer than the receive buffer */
    TERNION_ERR_LINK = -6,            /* the link to a peer failed */
    TERNION_ERR_CLOSED = -7,          /* a peer closed, or this party is closed */
    TERNION_ERR_REQUEST = -8,         /* unknown or already completed request */
    TERNION_ERR_ARGUMENT = -9,        /* null pointer or bad value */
    TERNION_ERR_LENGTH = -10,         /* message length differs from the one expected */
    TERNION_ERR_PEER_ABORTED = -11,   /* a peer aborted the job */
    TERNION_ERR_VALUE = -12           /* received bytes are not valid values (bool: 0 or 1) */
};

/* How shares combine into a value. */
enum { TERNION_XOR = 0, TERNION_ADD = 1 };

/* A non-blocking operation in flight (0 = none). */
typedef uint64_t ternion_request;

typedef struct ternion_link_stats {
    uint64_t bytes_sent;        /* framing included */
    uint64_t bytes_received;    /* framing included */
    uint64_t messages_sent;
    uint64_t messages_received;
    uint64_t resumes;           /* connections broken and resumed, nothing lost */
} ternion_link_stats;

/* Connects with the configuration `ternion run` provides (TERNION_* variables). */
int ternion_init(void);
/* Connects explicitly: peers are three "host:port" strings, rank 0 first;
 * keys come from TERNION_PRIVATE_KEY_FILE and TERNION_PUBLIC_KEYS (or
 * TERNION_INSECURE_PLAINTEXT=1), as for ternion_init;
 * session is 32 hex digits shared by all parties, or NULL to derive one. */
int ternion_init_explicit(int rank, const char *const peers[3], const char *session);

int ternion_rank(void); /* this party's rank */
int ternion_succ(void); /* the next rank in the ring */
int ternion_pred(void); /* the previous rank in the ring */

/* Blocking: returns when buf may be reused / holds the message. For receives,
 * peer -1 and tag -1 match any; *received (if not NULL) gets the length. */
int ternion_send(int peer, int tag, const void *buf, size_t len);
int ternion_recv(int peer, int tag, void *buf, size_t len, size_t *received);

/* Non-blocking: buf must stay valid until ternion_wait or a successful ternion_test. */
int ternion_isend(int peer, int tag, const void *buf, size_t len, ternion_request *req);
int ternion_irecv(int peer, int tag, void *buf, size_t len, ternion_request *req);
int ternion_wait(ternion_request *req, size_t *len);
int ternion_test(ternion_request *req, int *done, size_t *len);

/* Ring exchange: n values to the predecessor, n from the successor. */
int ternion_exchange_u64(const uint64_t *send, uint64_t *recv, size_t n);
int ternion_exchange_i64(const int64_t *send, int64_t *recv, size_t n);
int ternion_exchange_u32(const uint32_t *send, uint32_t *recv, size_t n);
int ternion_exchange_u8(const uint8_t *send, uint8_t *recv, size_t n);
int ternion_exchange_bool(const bool *send, bool *recv, size_t n);

/* Open to party 0 (out written at rank 0 only; others may pass NULL) and
 * reveal to all: every party contributes one share, combined with `how`. */
int ternion_open_u64(const uint64_t *share, uint64_t *out, size_t n, int how);
int ternion_open_i64(const int64_t *share, int64_t *out, size_t n, int how);
int ternion_open_u32(const uint32_t *share, uint32_t *out, size_t n, int how);
int ternion_open_u8(const uint8_t *share, uint8_t *out, size_t n, int how);
int ternion_open_bool(const bool *share, bool *out, size_t n, int how);
int ternion_reveal_u64(const uint64_t *share, uint64_t *out, size_t n, int how);
int ternion_reveal_i64(const int64_t *share, int64_t *out, size_t n, int how);
int ternion_reveal_u32(const uint32_t *share, uint32_t *out, size_t n, int how);
int ternion_reveal_u8(const uint8_t *share, uint8_t *out, size_t n, int how);
int ternion_reveal_bool(const bool *share, bool *out, size_t n, int how);

int ternion_barrier(void);
/* Flushes, closes every link in order and releases the party. */
int ternion_close(void);

const char *ternion_strerror(int code);
int ternion_get_link_stats(int peer, ternion_link_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* TERNION_H */
