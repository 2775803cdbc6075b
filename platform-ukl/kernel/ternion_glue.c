// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * ternion's kernel glue: the one file compiled against the kernel's headers.
 *
 * The Rust library (platform-ukl) reaches kernel facilities only through
 * the functions declared in ternion_glue.h, so the layout of struct socket,
 * struct sock and friends, which varies between kernel versions, is known
 * here and nowhere else. The file also starts the application: from a late
 * initcall when linked into the kernel (the unikernel case), or from
 * module_init when loaded into a stock kernel.
 */
#define pr_fmt(fmt) "ternion: " fmt

#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/in.h>
#include <linux/init.h>
#include <linux/init_syscalls.h>
#include <linux/initrd.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/net.h>
#include <linux/random.h>
#include <linux/reboot.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>
#include <net/net_namespace.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <asm/nospec-branch.h>

#include "ternion_glue.h"

/* ---- memory, console, time, randomness -------------------------------- */

void *ternion_k_alloc(size_t size)
{
	return kvmalloc(size, GFP_KERNEL);
}

void ternion_k_free(void *ptr)
{
	kvfree(ptr);
}

void ternion_k_print(const char *text, size_t len)
{
	pr_info("%.*s\n", (int)min_t(size_t, len, INT_MAX), text);
}

u64 ternion_k_monotonic_ns(void)
{
	return ktime_get_ns();
}

u64 ternion_k_realtime_ns(void)
{
	return ktime_get_real_ns();
}

void ternion_k_sleep_ns(u64 ns)
{
	u64 deadline = ktime_get_ns() + ns;
	u64 now;

	/*
	 * Sleeps until the monotonic clock (the one MPI_Wtime reads) has moved
	 * on by the whole interval. fsleep picks a busy delay, an hrtimer sleep
	 * or msleep by length, and msleep counts jiffies, which an emulated
	 * machine under load can advance faster than the clock.
	 */
	while ((now = ktime_get_ns()) < deadline) {
		u64 us = div_u64(deadline - now + NSEC_PER_USEC - 1, NSEC_PER_USEC);

		fsleep(min_t(u64, us, 1000000));
	}
}

void ternion_k_yield(void)
{
	cond_resched();
}

void ternion_k_random(void *buf, size_t len)
{
	get_random_bytes(buf, len);
}

/* ---- event channels ---------------------------------------------------- */

static atomic_t channel_events[2];
static DECLARE_WAIT_QUEUE_HEAD(sockets_wait);
static DECLARE_WAIT_QUEUE_HEAD(kicks_wait);

static wait_queue_head_t *channel_queue(enum ternion_k_channel channel)
{
	return channel == TERNION_K_SOCKETS ? &sockets_wait : &kicks_wait;
}

u32 ternion_k_events(enum ternion_k_channel channel)
{
	return atomic_read(&channel_events[channel & 1]);
}

void ternion_k_signal(enum ternion_k_channel channel)
{
	wait_queue_head_t *queue = channel_queue(channel);

	atomic_inc(&channel_events[channel & 1]);
	/* wq_has_sleeper orders the increment before the check for sleepers. */
	if (wq_has_sleeper(queue))
		wake_up_interruptible(queue);
}

void ternion_k_wait(enum ternion_k_channel channel, u32 seen, u64 timeout_ns)
{
	/* Kernel threads ignore signals, so an interruptible sleep only ends on
	 * an event or the timeout; it keeps the load average honest. */
	wait_event_interruptible_hrtimeout(*channel_queue(channel),
		(u32)atomic_read(&channel_events[channel & 1]) != seen,
		ns_to_ktime(min_t(u64, timeout_ns, KTIME_MAX)));
}

/* ---- sockets ------------------------------------------------------------ */

struct ternion_k_sock {
	/* NULL once the application has released the socket. */
	struct socket *sock;
	/* Held until everything sent on the socket has been acknowledged. */
	struct sock *sk;
	/* On tracked_sockets. */
	struct list_head node;
	void (*data_ready)(struct sock *sk);
	void (*write_space)(struct sock *sk);
	void (*state_change)(struct sock *sk);
};

/*
 * The application's sockets, including released ones whose last bytes are
 * still unacknowledged. The kernel sends on for a released socket (the close
 * or abort frame, then the FIN), as it does for an exited process's; but a
 * unikernel restarts the machine when the application ends, so the launcher
 * first waits for these queues to drain (flush_sockets).
 */
static LIST_HEAD(tracked_sockets);
static DEFINE_MUTEX(tracked_sockets_lock);

static bool send_queue_empty(struct sock *sk)
{
	return READ_ONCE(sk->sk_wmem_queued) == 0;
}

/* Drops released sockets whose peers have acknowledged everything (or all). */
static void forget_released_sockets(bool all)
{
	struct ternion_k_sock *handle, *next;

	mutex_lock(&tracked_sockets_lock);
	list_for_each_entry_safe(handle, next, &tracked_sockets, node) {
		if (handle->sock || !(all || send_queue_empty(handle->sk)))
			continue;
		list_del(&handle->node);
		sock_put(handle->sk);
		kfree(handle);
	}
	mutex_unlock(&tracked_sockets_lock);
}

/* How long an ending application's last bytes get to reach its peers. */
#define EXIT_FLUSH_MS 2000

/* Waits, for a bounded time, until every tracked send queue is empty. */
static void flush_sockets(void)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(EXIT_FLUSH_MS);
	struct ternion_k_sock *handle;

	mutex_lock(&tracked_sockets_lock);
	list_for_each_entry(handle, &tracked_sockets, node) {
		while (!send_queue_empty(handle->sk) && time_before(jiffies, deadline))
			msleep(5);
	}
	mutex_unlock(&tracked_sockets_lock);
}

/*
 * The callbacks run in softirq context with the socket's callback lock held
 * for reading. They keep the kernel's own behaviour (the original callback)
 * and then signal the socket channel, which is what ends a driver's sleep.
 */
static struct ternion_k_sock *callback_owner(struct sock *sk)
{
	return sk->sk_user_data;
}

static void on_data_ready(struct sock *sk)
{
	struct ternion_k_sock *owner;

	read_lock_bh(&sk->sk_callback_lock);
	owner = callback_owner(sk);
	if (owner)
		owner->data_ready(sk);
	read_unlock_bh(&sk->sk_callback_lock);
	ternion_k_signal(TERNION_K_SOCKETS);
}

static void on_write_space(struct sock *sk)
{
	struct ternion_k_sock *owner;

	read_lock_bh(&sk->sk_callback_lock);
	owner = callback_owner(sk);
	if (owner)
		owner->write_space(sk);
	read_unlock_bh(&sk->sk_callback_lock);
	ternion_k_signal(TERNION_K_SOCKETS);
}

static void on_state_change(struct sock *sk)
{
	struct ternion_k_sock *owner;

	read_lock_bh(&sk->sk_callback_lock);
	owner = callback_owner(sk);
	if (owner)
		owner->state_change(sk);
	read_unlock_bh(&sk->sk_callback_lock);
	ternion_k_signal(TERNION_K_SOCKETS);
}

/*
 * Wraps `sock`. `inherited` is the listener a socket was accepted from: the
 * kernel cloned the listener's callbacks (ours) into the new socket, so the
 * kernel's originals come from the listener's handle instead.
 */
static struct ternion_k_sock *wrap_socket(struct socket *sock, struct ternion_k_sock *inherited)
{
	struct ternion_k_sock *handle = kzalloc(sizeof(*handle), GFP_KERNEL);
	struct sock *sk = sock->sk;

	if (!handle)
		return NULL;
	handle->sock = sock;
	handle->sk = sk;
	sock_hold(sk);
	write_lock_bh(&sk->sk_callback_lock);
	if (inherited) {
		handle->data_ready = inherited->data_ready;
		handle->write_space = inherited->write_space;
		handle->state_change = inherited->state_change;
	} else {
		handle->data_ready = sk->sk_data_ready;
		handle->write_space = sk->sk_write_space;
		handle->state_change = sk->sk_state_change;
	}
	sk->sk_user_data = handle;
	sk->sk_data_ready = on_data_ready;
	sk->sk_write_space = on_write_space;
	sk->sk_state_change = on_state_change;
	write_unlock_bh(&sk->sk_callback_lock);
	mutex_lock(&tracked_sockets_lock);
	list_add(&handle->node, &tracked_sockets);
	mutex_unlock(&tracked_sockets_lock);
	return handle;
}

static void ipv4_address(struct sockaddr_in *sin, __be32 addr, u16 port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = addr;
	sin->sin_port = htons(port);
}

static int new_tcp_socket(struct socket **out)
{
	int err = sock_create_kern(&init_net, AF_INET, SOCK_STREAM, IPPROTO_TCP, out);

	if (err)
		return err;
	/* Ring exchanges are small request/response rounds: never delay them. */
	tcp_sock_set_nodelay((*out)->sk);
	return 0;
}

int ternion_k_listen(__be32 addr, u16 port, int backlog, struct ternion_k_sock **out)
{
	struct sockaddr_in sin;
	struct socket *sock;
	int err = new_tcp_socket(&sock);

	if (err)
		return err;
	sock_set_reuseaddr(sock->sk);
	ipv4_address(&sin, addr, port);
	err = kernel_bind(sock, (struct sockaddr *)&sin, sizeof(sin));
	if (!err)
		err = kernel_listen(sock, backlog);
	if (!err) {
		*out = wrap_socket(sock, NULL);
		if (!*out)
			err = -ENOMEM;
	}
	if (err)
		sock_release(sock);
	return err;
}

int ternion_k_accept(struct ternion_k_sock *listener, struct ternion_k_sock **out)
{
	struct socket *sock;
	int err = kernel_accept(listener->sock, &sock, O_NONBLOCK);

	if (err)
		return err;
	tcp_sock_set_nodelay(sock->sk);
	*out = wrap_socket(sock, listener);
	if (!*out) {
		sock_release(sock);
		return -ENOMEM;
	}
	return 0;
}

int ternion_k_connect(__be32 addr, u16 port, struct ternion_k_sock **out)
{
	struct sockaddr_in sin;
	struct socket *sock;
	int err = new_tcp_socket(&sock);

	if (err)
		return err;
	/* Callbacks first, so the connection's completion wakes the driver. */
	*out = wrap_socket(sock, NULL);
	if (!*out) {
		sock_release(sock);
		return -ENOMEM;
	}
	ipv4_address(&sin, addr, port);
	err = kernel_connect(sock, (struct sockaddr *)&sin, sizeof(sin), O_NONBLOCK);
	if (err && err != -EINPROGRESS) {
		ternion_k_release(*out);
		*out = NULL;
		return err;
	}
	return 0;
}

int ternion_k_connected(struct ternion_k_sock *sock)
{
	struct sock *sk = sock->sock->sk;
	int err = sock_error(sk);

	if (err)
		return err;
	switch (READ_ONCE(sk->sk_state)) {
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
		return 0;
	case TCP_SYN_SENT:
	case TCP_SYN_RECV:
		return -EINPROGRESS;
	default:
		return -ECONNRESET;
	}
}

/* Bytes in a vector, or -EINVAL if they overflow. */
static long vector_length(const struct ternion_k_iovec *iov, size_t count)
{
	size_t total = 0;
	size_t i;

	for (i = 0; i < count; i++) {
		if (check_add_overflow(total, iov[i].len, &total) || total > LONG_MAX)
			return -EINVAL;
	}
	return total;
}

/* struct ternion_k_iovec mirrors struct kvec; the build fails if they drift. */
static_assert(sizeof(struct ternion_k_iovec) == sizeof(struct kvec));
static_assert(offsetof(struct ternion_k_iovec, base) == offsetof(struct kvec, iov_base));
static_assert(offsetof(struct ternion_k_iovec, len) == offsetof(struct kvec, iov_len));

long ternion_k_send(struct ternion_k_sock *sock, const struct ternion_k_iovec *iov, size_t count)
{
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL };
	long total = vector_length(iov, count);

	if (total < 0)
		return total;
	if (total == 0)
		return 0;
	return kernel_sendmsg(sock->sock, &msg, (struct kvec *)iov, count, total);
}

long ternion_k_recv(struct ternion_k_sock *sock, struct ternion_k_iovec *iov, size_t count)
{
	struct msghdr msg = { .msg_flags = 0 };
	long total = vector_length(iov, count);

	if (total < 0)
		return total;
	if (total == 0)
		return 0;
	return kernel_recvmsg(sock->sock, &msg, (struct kvec *)iov, count, total, MSG_DONTWAIT);
}

int ternion_k_peer(struct ternion_k_sock *sock, __be32 *addr, u16 *port)
{
	struct sockaddr_in sin;
	int len = kernel_getpeername(sock->sock, (struct sockaddr *)&sin);

	if (len < 0)
		return len;
	*addr = sin.sin_addr.s_addr;
	*port = ntohs(sin.sin_port);
	return 0;
}

void ternion_k_release(struct ternion_k_sock *sock)
{
	struct sock *sk = sock->sk;

	write_lock_bh(&sk->sk_callback_lock);
	sk->sk_data_ready = sock->data_ready;
	sk->sk_write_space = sock->write_space;
	sk->sk_state_change = sock->state_change;
	sk->sk_user_data = NULL;
	write_unlock_bh(&sk->sk_callback_lock);
	kernel_sock_shutdown(sock->sock, SHUT_RDWR);
	sock_release(sock->sock);
	mutex_lock(&tracked_sockets_lock);
	sock->sock = NULL;
	mutex_unlock(&tracked_sockets_lock);
	forget_released_sockets(false);
}

/* ---- threads ------------------------------------------------------------ */

/*
 * ternion's threads run on their own 1 MiB stacks. A kernel thread's stack
 * is 16 KiB, and the application is ordinary code, compiled for user space:
 * the C programs keep buffers of tens of KiB on the stack, and so does the
 * Noise handshake. The stack comes from vmalloc, never from contiguous
 * pages: vmalloc leaves an unmapped guard page after every area, so the
 * page below the stack is never mapped, and an overflow faults instead of
 * corrupting memory (the `stack_overflow` program shows it).
 */
#define APPLICATION_STACK_SIZE (1 << 20)

/* Runs fn(arg) with the stack pointer at `top` (16-byte aligned). */
static void call_on_stack(void (*fn)(void *), void *arg, void *top)
{
	asm volatile("mov %%rsp, %%rbx\n\t"
		     "mov %[top], %%rsp\n\t"
		     CALL_NOSPEC
		     "mov %%rbx, %%rsp\n\t"
		     : "+D"(arg)
		     : [top] "r"(top), [thunk_target] "r"(fn)
		     : "rax", "rbx", "rcx", "rdx", "rsi", "r8", "r9", "r10", "r11",
		       "memory", "cc");
}

/* Runs fn(arg) on a fresh large stack; false if there was no memory. */
static bool run_on_large_stack(void (*fn)(void *), void *arg)
{
	void *stack = vmalloc(APPLICATION_STACK_SIZE);

	if (!stack)
		return false;
	call_on_stack(fn, arg, stack + APPLICATION_STACK_SIZE);
	vfree(stack);
	return true;
}

struct ternion_k_thread {
	void (*fn)(void *);
	void *arg;
	struct completion done;
};

static int thread_body(void *data)
{
	struct ternion_k_thread *thread = data;

	if (!run_on_large_stack(thread->fn, thread->arg))
		pr_err("no memory for a thread's stack\n");
	/* Exits in the kernel's own code, so a module may unload right after. */
	kthread_complete_and_exit(&thread->done, 0);
}

struct ternion_k_thread *ternion_k_thread_start(void (*fn)(void *), void *arg, const char *name)
{
	struct ternion_k_thread *thread = kzalloc(sizeof(*thread), GFP_KERNEL);
	struct task_struct *task;

	if (!thread)
		return NULL;
	thread->fn = fn;
	thread->arg = arg;
	init_completion(&thread->done);
	task = kthread_run(thread_body, thread, "%s", name);
	if (IS_ERR(task)) {
		kfree(thread);
		return NULL;
	}
	return thread;
}

void ternion_k_thread_join(struct ternion_k_thread *thread)
{
	wait_for_completion(&thread->done);
	kfree(thread);
}

/* ---- the application ---------------------------------------------------- */

/* Where the program's words come from: see ternion_k_environment. */
static char *env = "";
module_param(env, charp, 0444);
MODULE_PARM_DESC(env, "KEY=VALUE words the application sees as its environment (module only)");

static char *args = "demo";
module_param(args, charp, 0444);
MODULE_PARM_DESC(args, "the program and its arguments (module only; built in, the words after \"--\")");

static bool run = true;
module_param(run, bool, 0444);
MODULE_PARM_DESC(run, "start the application (off for guests that run a hosted party instead)");

#define MAX_ARGS 16

static struct task_struct *app_task;
static DECLARE_COMPLETION(app_done);
static atomic_t app_exited = ATOMIC_INIT(0);
static int app_exit_code;
static char *app_words;
static char *app_argv[MAX_ARGS + 1];
static int app_argc;

void __noreturn ternion_k_exit(int code)
{
	if (atomic_cmpxchg(&app_exited, 0, 1) == 0)
		app_exit_code = code;
	if (current == app_task)
		kthread_complete_and_exit(&app_done, code);
	/* Another thread ended the application (a peer's abort): the
	 * application thread may be blocked anywhere, so wake the launcher and
	 * park; the launcher powers the guest off. */
	complete(&app_done);
	for (;;)
		msleep_interruptible(1000);
}

static void app_main(void *unused)
{
	ternion_k_exit(ternion_ukl_main(app_argc, app_argv));
}

static int app_body(void *unused)
{
	run_on_large_stack(app_main, NULL);
	pr_err("no memory for the application's stack\n");
	ternion_k_exit(127);
}

#ifndef MODULE
/*
 * Secrets never travel on the kernel command line, which the kernel prints
 * at boot. A guest's private key comes in its initramfs instead, as
 * KEY=VALUE words in this file; they are read once, before the
 * application starts, and the file is removed.
 */
#define SECRETS_FILE "/ternion-secrets"
#define SECRETS_MAX 4096

/* The secrets file's words, then the command line's. */
static char *environment_words;

static void __init read_secrets(void)
{
	struct file *file;
	char *secrets;
	loff_t pos = 0;
	ssize_t len;

	wait_for_initramfs();
	file = filp_open(SECRETS_FILE, O_RDONLY, 0);
	if (IS_ERR(file))
		return; /* no initramfs, or no secrets in it: plaintext or module */
	secrets = kzalloc(SECRETS_MAX, GFP_KERNEL);
	len = secrets ? kernel_read(file, secrets, SECRETS_MAX - 1, &pos) : -ENOMEM;
	filp_close(file, NULL);
	init_unlink(SECRETS_FILE);
	if (len < 0 || len == SECRETS_MAX - 1) {
		pr_err("cannot read %s (error %zd, or longer than %d bytes)\n", SECRETS_FILE,
		       len < 0 ? len : -EFBIG, SECRETS_MAX - 2);
		kfree_sensitive(secrets);
		return;
	}
	environment_words = kasprintf(GFP_KERNEL, "%s %s", secrets, saved_command_line);
	kfree_sensitive(secrets);
}
#endif

const char *ternion_k_environment(void)
{
#ifdef MODULE
	return env;
#else
	return environment_words ? environment_words : saved_command_line;
#endif
}

/* The program's words: after " -- " on the kernel command line, or `args`. */
static const char *program_words(void)
{
#ifdef MODULE
	return args;
#else
	const char *dashes = strstr(saved_command_line, " -- ");

	return dashes ? dashes + 4 : "demo";
#endif
}

static int split_words(const char *line)
{
	char *cursor, *word;

	app_words = kstrdup(line, GFP_KERNEL);
	if (!app_words)
		return -ENOMEM;
	cursor = app_words;
	app_argc = 0;
	while ((word = strsep(&cursor, " \t\n")) != NULL) {
		if (*word == '\0')
			continue;
		if (app_argc == MAX_ARGS)
			return -E2BIG;
		app_argv[app_argc++] = word;
	}
	app_argv[app_argc] = NULL;
	return app_argc > 0 ? 0 : -EINVAL;
}

static int start_application(void)
{
	int err = split_words(program_words());

	if (err) {
		pr_err("cannot read the program's arguments (error %d)\n", err);
		return err;
	}
	pr_info("starting %s\n", app_argv[0]);
	app_task = kthread_run(app_body, NULL, "ternion-app");
	if (IS_ERR(app_task)) {
		err = PTR_ERR(app_task);
		app_task = NULL;
		pr_err("cannot start the application thread (error %d)\n", err);
	}
	return err;
}

static void report_exit(void)
{
	/* scripts/run-qemu.sh looks for exactly this line. */
	pr_info("application exited with code %d\n", app_exit_code);
}

#ifdef MODULE

static int __init ternion_module_init(void)
{
	return run ? start_application() : 0;
}

static void __exit ternion_module_exit(void)
{
	if (!app_task)
		return;
	wait_for_completion(&app_done);
	flush_sockets();
	forget_released_sockets(true);
	report_exit();
	kfree(app_words);
}

module_init(ternion_module_init);
module_exit(ternion_module_exit);

#else

/*
 * The unikernel's main: runs after every other initcall (so the network is
 * configured from the ip= parameter), waits for the application, and turns
 * the machine off. There is no user space to return to.
 */
static int __init ternion_unikernel_main(void)
{
	if (!run)
		return 0;
	read_secrets();
	if (start_application() == 0)
		wait_for_completion(&app_done);
	else
		app_exit_code = 127;
	flush_sockets();
	report_exit();
	/* Without ACPI a power-off only halts; a restart ends QEMU under -no-reboot. */
	kernel_restart(NULL);
	return 0;
}
late_initcall_sync(ternion_unikernel_main);

#endif

MODULE_DESCRIPTION("ternion: three-party secure communication, in the kernel");
MODULE_LICENSE("Dual MIT/GPL");
