/* TLS tests' certificates: a throwaway CA made by each test with the
 * openssl command (the research note's recipe: leaves signed with
 * `x509 -req`, since `req -x509 -CA` would make them CAs too), and peers
 * run as child processes on the test's loop. */
#ifndef TL_TEST_TLS_UTIL_H
#define TL_TEST_TLS_UTIL_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <tulip/tls.h>

#include "net_util.h"

typedef struct certs {
    char dir[64];
    char ca[96], srv_cert[96], srv_key[96], other_cert[96], other_key[96];
    char expired_cert[96], client_cert[96], client_key[96];
} certs;

/* Makes the CA and its leaves in a fresh temporary folder. */
static inline void make_certs(certs *c)
{
    snprintf(c->dir, sizeof c->dir, "/tmp/tulip-tls-XXXXXX");
    cr_assert_not_null(mkdtemp(c->dir));
#define P(field, name) snprintf(c->field, sizeof c->field, "%s/" name, c->dir)
    P(ca, "ca.pem");
    P(srv_cert, "srv.pem");
    P(srv_key, "srv.key");
    P(other_cert, "other.pem");
    P(other_key, "other.key");
    P(expired_cert, "expired.pem");
    P(client_cert, "client.pem");
    P(client_key, "client.key");
#undef P
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "set -e; cd %s; exec 2>log\n"
             "EC='-newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc'\n"
             "openssl req -x509 $EC -days 2 -subj '/CN=tulip test CA' "
             "-addext 'basicConstraints=critical,CA:TRUE' "
             "-addext 'keyUsage=critical,keyCertSign,cRLSign' -keyout ca.key -out ca.pem\n"
             "leaf() { openssl req $EC -subj \"/CN=$2\" -addext \"subjectAltName=$3\" "
             "-addext \"extendedKeyUsage=$4\" -keyout $1.key -out $1.csr; "
             "openssl x509 -req -in $1.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
             "-copy_extensions copy -days $5 -out $1.pem; }\n"
             "leaf srv localhost DNS:localhost,IP:127.0.0.1 serverAuth 1\n"
             "leaf other other.example DNS:other.example serverAuth 1\n"
             "leaf expired localhost DNS:localhost,IP:127.0.0.1 serverAuth -1\n"
             "leaf client 'tulip client' DNS:client.example clientAuth 1\n",
             c->dir);
    cr_assert_eq(system(cmd), 0, "making the test certificates failed (see %s/log)", c->dir);
}

static inline void remove_certs(const certs *c)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", c->dir);
    cr_assert_eq(system(cmd), 0);
}

static inline tl_tls_ctx *client_ctx(const certs *c)
{
    tl_tls_ctx *ctx = tl_tls_client_ctx_new();
    cr_assert_not_null(ctx);
    cr_assert_eq(tl_tls_ctx_load_ca(ctx, c->ca, NULL), 0, "%s", tl_error_detail());
    return ctx;
}

static inline tl_tls_ctx *server_ctx(const certs *c)
{
    tl_tls_ctx *ctx = tl_tls_server_ctx_new(c->srv_cert, c->srv_key);
    cr_assert_not_null(ctx, "%s", tl_error_detail());
    return ctx;
}

/* A child process that runs on the loop while the test talks to it. */
typedef struct peer {
    tl_process *p;
} peer;

static inline void peer_start(peer *pr, char *const argv[])
{
    tl_process_opts o = {.argv = argv,
                         .stdin_mode = TL_STDIO_PIPE,
                         .stdout_mode = TL_STDIO_PIPE,
                         .stderr_mode = TL_STDIO_DEVNULL};
    int rc = tl_process_spawn(&o, &pr->p);
    cr_assert_eq(rc, 0, "%s: %s", argv[0], tl_strerror(rc));
}

/* Reads the peer's stdout until it holds want (or 10 s): asserts it came. */
static inline void peer_expect(peer *pr, const char *want)
{
    tl_stream *out = tl_process_stdout(pr->p);
    char buf[8192];
    size_t len = 0;
    tl_timeout t;
    tl_timeout_enter(&t, 10);
    while (len < sizeof buf - 1) {
        ssize_t n = tl_stream_read(out, buf + len, sizeof buf - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = '\0';
        if (strstr(buf, want))
            break;
    }
    tl_timeout_exit(&t);
    buf[len] = '\0';
    cr_assert(strstr(buf, want), "the peer never printed \"%s\"; it printed: %s", want, buf);
}

static inline void peer_stop(peer *pr)
{
    tl_process_kill(pr->p, SIGKILL);
    int status;
    tl_process_wait(pr->p, &status);
    tl_process_free(pr->p);
}

/* Connects to 127.0.0.1:port until something listens (a peer starting up). */
static inline tl_stream *dial_when_up(int port)
{
    for (int i = 0; i < 200; i++) {
        tl_stream *s;
        if (tl_open_connection("127.0.0.1", port, &s) == 0)
            return s;
        tl_sleep(0.025);
    }
    cr_assert_fail("nothing came to listen on port %d", port);
    return NULL;
}

#endif
