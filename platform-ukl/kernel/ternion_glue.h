/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * The narrow ABI between ternion's in-kernel library (Rust, platform-ukl/src)
 * and the kernel it runs in.
 *
 * Kernel structures change layout between versions, so the Rust side never
 * touches one: it holds opaque handles and calls the functions below, which
 * ternion_glue.c implements against the headers of the kernel being built.
 * Every function that can fail returns 0 or a non-negative count on success
 * and a negative errno on failure; none of them sleeps unless it says so.
 * The Rust declarations are in platform-ukl/src/glue.rs and must match.
 */
#ifndef TERNION_GLUE_H
#define TERNION_GLUE_H

/* Included from kernel code only: the kernel's own fixed-width types. */
#include <linux/types.h>

/* A TCP socket plus the socket callbacks ternion installed on it. */
struct ternion_k_sock;

/* A kernel thread that can be joined. */
struct ternion_k_thread;

/* One piece of a vectored read or write (the layout of struct kvec). */
struct ternion_k_iovec {
	void *base;
	size_t len;
};

/* Event channels a thread can sleep on. */
enum ternion_k_channel {
	/* Some socket became readable, writable, connected or closed. */
	TERNION_K_SOCKETS = 0,
	/* Another thread asked the communication thread to look for work. */
	TERNION_K_KICKS = 1,
};

/* Memory (may sleep). Any size; the result is 8-byte aligned. */
void *ternion_k_alloc(size_t size);
void ternion_k_free(void *ptr);

/* One line of text on the kernel console (no trailing newline needed). */
void ternion_k_print(const char *text, size_t len);

/* Monotonic and wall-clock time, in nanoseconds. */
u64 ternion_k_monotonic_ns(void);
u64 ternion_k_realtime_ns(void);

/* Sleeps for `ns` nanoseconds (may sleep; never returns early). */
void ternion_k_sleep_ns(u64 ns);

/* Lets other threads run (may sleep). */
void ternion_k_yield(void);

/* Fills `buf` from the kernel's random number generator. */
void ternion_k_random(void *buf, size_t len);

/*
 * Event counters: every event on a channel increments its counter and wakes
 * its sleepers. A thread reads the counter, checks for work, and sleeps
 * until the counter moves away from what it read, so no wake-up is lost.
 */
u32 ternion_k_events(enum ternion_k_channel channel);
void ternion_k_signal(enum ternion_k_channel channel);
/* Sleeps until the counter differs from `seen` or `timeout_ns` elapses. */
void ternion_k_wait(enum ternion_k_channel channel, u32 seen, u64 timeout_ns);

/* TCP over IPv4; addresses in network byte order, ports in host order. */
int ternion_k_listen(__be32 addr, u16 port, int backlog, struct ternion_k_sock **out);
/* Non-blocking: -EAGAIN when no connection is waiting. */
int ternion_k_accept(struct ternion_k_sock *listener, struct ternion_k_sock **out);
/* Starts a non-blocking connect; see ternion_k_connected for its outcome. */
int ternion_k_connect(__be32 addr, u16 port, struct ternion_k_sock **out);
/* 0 once connected, -EINPROGRESS while connecting, else the error. */
int ternion_k_connected(struct ternion_k_sock *sock);
/* Non-blocking vectored I/O: bytes moved, 0 at end of stream (receive), -EAGAIN, or -errno. */
long ternion_k_send(struct ternion_k_sock *sock, const struct ternion_k_iovec *iov, size_t count);
long ternion_k_recv(struct ternion_k_sock *sock, struct ternion_k_iovec *iov, size_t count);
/* The remote address (network order) and port. */
int ternion_k_peer(struct ternion_k_sock *sock, __be32 *addr, u16 *port);
/* Restores the callbacks, closes the socket and frees the handle. */
void ternion_k_release(struct ternion_k_sock *sock);

/* Starts `fn(arg)` on a new kernel thread named `name`. */
struct ternion_k_thread *ternion_k_thread_start(void (*fn)(void *), void *arg, const char *name);
/* Waits for the thread's function to return, then frees the handle (may sleep). */
void ternion_k_thread_join(struct ternion_k_thread *thread);

/*
 * The application's environment: space-separated KEY=VALUE words (when
 * built in, the initramfs file /ternion-secrets's, then the kernel command
 * line's before "--"; the `env` parameter when a module). Never NULL.
 */
const char *ternion_k_environment(void);

/*
 * Ends the application with `code`: records it, wakes whoever waits for the
 * application, and ends the calling thread (never returns).
 */
void __noreturn ternion_k_exit(int code);

/* Implemented in Rust: runs the program named by argv[0]; returns its exit code. */
int ternion_ukl_main(int argc, char **argv);

#endif
