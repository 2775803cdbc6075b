/*
 * OpenSSL TLS baseline for the ternion benchmarks: every link a TLS 1.3
 * connection with TLS_AES_256_GCM_SHA384, as MPC frameworks that offer
 * encryption run it.  It shows what encryption costs at its best on this
 * CPU (OpenSSL's assembly AES-GCM) under the same workloads and checks as
 * the raw TCP program.
 *
 *   cc -O2 -pthread -Wall -Wextra -o tls_bench bench/tls_bench.c -lssl -lcrypto
 *   ./tls_bench [--quick] [--wan]
 *
 * The three ranks and their connections come from tcp_mesh.h; on each one
 * the connecting (higher) rank is the TLS client.  The server's key and
 * self-signed certificate are made at start-up, and the client does not
 * verify them: this measures the record layer, not authentication.
 * Sockets are non-blocking after the handshakes; concurrent operations are
 * multiplexed with poll(), as in raw_tcp_bench.c.  Rank 0 prints one JSON
 * object on stdout; the exit status is non-zero if any rank failed.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>

#include "common.h"
#include "wan.h"
#include "tcp_mesh.h"

struct tls_ctx {
    struct mesh_party mesh;
    SSL *ssl[PARTIES];
};

static void tls_die(const char *what) __attribute__((noreturn));
static void tls_die(const char *what)
{
    char buf[256];
    unsigned long e = ERR_get_error();
    ERR_error_string_n(e, buf, sizeof buf);
    bench_die(1, "%s: %s", what, e ? buf : "failed");
}

/* One attempt at `op`: bytes moved, 0 if it must wait for the socket
 * (*want_write says which way). */
static size_t tls_io(struct tls_ctx *ctx, const struct xfer_op *op, size_t done, bool *want_write)
{
    SSL *ssl = ctx->ssl[op->peer];
    size_t left = op->len - done;
    int chunk = left > INT_MAX ? INT_MAX : (int)left;
    int n = op->kind == XFER_SEND ? SSL_write(ssl, (const char *)op->buf + done, chunk)
                                  : SSL_read(ssl, (char *)op->buf + done, chunk);
    if (n > 0)
        return (size_t)n;
    switch (SSL_get_error(ssl, n)) {
    case SSL_ERROR_WANT_READ:
        *want_write = false;
        return 0;
    case SSL_ERROR_WANT_WRITE:
        *want_write = true;
        return 0;
    case SSL_ERROR_ZERO_RETURN:
        bench_die(1, "rank %d closed its connection", op->peer);
    default:
        tls_die(op->kind == XFER_SEND ? "SSL_write" : "SSL_read");
    }
}

static void tls_xfer(void *vctx, const struct xfer_op *ops, int nops)
{
    struct tls_ctx *ctx = vctx;
    size_t done[XFER_MAX_OPS] = {0};
    if (nops > XFER_MAX_OPS)
        bench_die(1, "too many operations (%d)", nops);
    for (;;) {
        struct pollfd pfd[XFER_MAX_OPS];
        int np = 0, left = 0;
        bool progress = false;
        for (int i = 0; i < nops; i++) {
            if (done[i] == ops[i].len)
                continue;
            bool want_write = false;
            size_t n = tls_io(ctx, &ops[i], done[i], &want_write);
            done[i] += n;
            progress |= n > 0;
            if (done[i] == ops[i].len)
                continue;
            left++;
            if (n == 0)
                pfd[np++] = (struct pollfd){
                    .fd = ctx->mesh.fd[ops[i].peer],
                    .events = want_write ? POLLOUT : POLLIN,
                };
        }
        if (left == 0)
            return;
        /* Sleep only when every unfinished operation is waiting. */
        if (!progress && np == left && poll(pfd, (nfds_t)np, -1) < 0 && errno != EINTR)
            bench_die(1, "poll: %s", strerror(errno));
    }
}

/* A fresh P-256 key and a self-signed certificate for it. */
static void add_identity(SSL_CTX *sctx)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *cert = X509_new();
    if (!key || !cert)
        tls_die("key generation");
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_NAME *name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"bench", -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509_set_pubkey(cert, key);
    if (!X509_sign(cert, key, EVP_sha256()) || SSL_CTX_use_certificate(sctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey(sctx, key) != 1)
        tls_die("certificate");
    X509_free(cert);
    EVP_PKEY_free(key);
}

static SSL_CTX *tls_context(bool server)
{
    SSL_CTX *sctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (!sctx || SSL_CTX_set_min_proto_version(sctx, TLS1_3_VERSION) != 1 ||
        SSL_CTX_set_ciphersuites(sctx, "TLS_AES_256_GCM_SHA384") != 1)
        tls_die("SSL_CTX");
    SSL_CTX_set_mode(sctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_num_tickets(sctx, 0);
    if (server)
        add_identity(sctx);
    else
        SSL_CTX_set_verify(sctx, SSL_VERIFY_NONE, NULL);
    return sctx;
}

/* Handshakes on the blocking sockets (the lower rank serves), then makes
 * them non-blocking.  Rank 0 serves 1 then 2, rank 1 is a client of 0 and
 * serves 2, rank 2 is a client of 0 then 1: no cycle of waits. */
static void tls_connect(struct tls_ctx *ctx)
{
    const struct mesh_party *m = &ctx->mesh;
    SSL_CTX *server = tls_context(true), *client = tls_context(false);
    for (int p = 0; p < PARTIES; p++) {
        if (p == m->rank)
            continue;
        SSL *ssl = SSL_new(p < m->rank ? client : server);
        if (!ssl || SSL_set_fd(ssl, m->fd[p]) != 1)
            tls_die("SSL_new");
        if ((p < m->rank ? SSL_connect(ssl) : SSL_accept(ssl)) != 1)
            tls_die(p < m->rank ? "SSL_connect" : "SSL_accept");
        const char *suite = SSL_CIPHER_get_name(SSL_get_current_cipher(ssl));
        if (strcmp(suite, "TLS_AES_256_GCM_SHA384") != 0)
            bench_die(1, "rank %d: negotiated %s", p, suite);
        ctx->ssl[p] = ssl;
    }
    for (int p = 0; p < PARTIES; p++)
        if (p != m->rank && fcntl(m->fd[p], F_SETFL, O_NONBLOCK) < 0)
            bench_die(1, "O_NONBLOCK: %s", strerror(errno));
    SSL_CTX_free(server);
    SSL_CTX_free(client);
}

int main(int argc, char **argv)
{
    struct bench_args args = bench_parse_args(argc, argv, "tls_bench [--quick] [--wan]");

    struct tls_ctx ctx = {0};
    mesh_start(&ctx.mesh, tls_xfer);
    tls_connect(&ctx);

    struct transport t = {
        .system = "openssl_tls",
        .rank = ctx.mesh.rank,
        .ctx = &ctx,
        .barrier = mesh_barrier,
        .xfer = tls_xfer,
        .xfer_start = mesh_xfer_start,
        .xfer_wait = mesh_xfer_wait,
    };
    return mesh_run(&t, args);
}
