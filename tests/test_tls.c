/* TLS streams: tulip against itself and against OpenSSL's own s_server and
 * s_client, with a throwaway CA per test (tls_util.h). Every connection is
 * on 127.0.0.1. */
#include "tls_util.h"

static certs C;

static void setup(void)
{
    make_certs(&C);
}

static void teardown(void)
{
    remove_certs(&C);
}

TestSuite(tls, .init = setup, .fini = teardown, .timeout = 60);

/* ---- a tulip TLS server ---- */

typedef struct tls_server {
    tl_server *srv;
    tl_tls_ctx *ctx;
    int port;
} tls_server;

static void tls_serve(tls_server *ts, tl_conn_fn fn, void *arg, tl_tls_ctx *ctx)
{
    ts->ctx = ctx ? ctx : server_ctx(&C);
    tl_server_opts o = {.tls = ts->ctx, .tls_handshake_timeout = 5};
    int rc = tl_start_server(fn, arg, "127.0.0.1", 0, &o, &ts->srv);
    cr_assert_eq(rc, 0, "%s", tl_strerror(rc));
    ts->port = tl_server_port(ts->srv);
}

static void tls_server_free(tls_server *ts)
{
    tl_server_free(ts->srv);
    tl_tls_ctx_release(ts->ctx);
}

static int tls_dial(int port, const char *name, tl_tls_ctx *ctx, tl_stream **out)
{
    tl_connect_opts o = {.tls = ctx, .server_hostname = name};
    return tl_open_connection_ex("127.0.0.1", port, &o, out);
}

/* ---- handshake, echo both ways, what the stream tells ---- */

#define BIG ((size_t)10 << 20)

typedef struct pump_job {
    tl_stream *s;
    unsigned char *buf;
    size_t n;
} pump_job;

static int write_all(void *arg)
{
    pump_job *j = arg;
    for (size_t off = 0; off < j->n; off += 65536) {
        size_t k = j->n - off < 65536 ? j->n - off : 65536;
        int rc = tl_stream_write(j->s, j->buf + off, k);
        if (!rc)
            rc = tl_stream_drain(j->s);
        if (rc)
            return rc;
    }
    return 0;
}

static int read_all(void *arg)
{
    pump_job *j = arg;
    return tl_stream_readexactly(j->s, j->buf, j->n, NULL);
}

static int echo_big(void *arg)
{
    (void)arg;
    tls_server ts;
    tls_serve(&ts, echo_handler, NULL, NULL);
    tl_tls_ctx *cc = client_ctx(&C);
    tl_stream *s;
    int rc = tls_dial(ts.port, NULL, cc, &s);
    cr_assert_eq(rc, 0, "%s: %s", tl_strerror(rc), tl_error_detail());
    cr_assert_str_eq(tl_stream_tls_version(s), "TLSv1.3");
    cr_assert_not_null(tl_stream_tls_cipher(s));
    char subject[128];
    cr_assert_gt(tl_stream_peer_subject(s, subject, sizeof subject), 0);
    cr_assert_str_eq(subject, "CN=localhost");
    /* a writer task and a reader task on the one stream at once */
    unsigned char *out = malloc(BIG), *in = malloc(BIG);
    fill_pattern(out, BIG, 7);
    pump_job w = {s, out, BIG}, r = {s, in, BIG};
    tl_task *wt = tl_create_task(write_all, &w);
    tl_task *rt = tl_create_task(read_all, &r);
    cr_assert_eq(tl_await(wt), 0);
    cr_assert_eq(tl_await(rt), 0);
    cr_assert(memcmp(in, out, BIG) == 0, "the echo differs");
    tl_task_release(wt);
    tl_task_release(rt);
    cr_assert_eq(tl_stream_write_eof(s), 0);
    char c;
    cr_assert_eq(tl_stream_read(s, &c, 1), 0, "the server's close_notify is a clean EOF");
    cr_assert_eq(tl_stream_wait_closed(s), 0);
    free(out);
    free(in);
    tl_tls_ctx_release(cc);
    tls_server_free(&ts);
    return 0;
}

Test(tls, echo_10_mib_both_ways_with_a_reader_and_a_writer_task)
{
    RUN(echo_big, NULL);
}

/* ---- verification ---- */

typedef struct verify_case {
    const char *cert, *key; /* the server's */
    bool system_store;      /* the client does not know our CA */
    const char *name;       /* server_hostname */
    const char *want;       /* in the detail */
} verify_case;

static int handler_ran;

static int count_handler(tl_stream *s, void *arg)
{
    (void)arg;
    handler_ran++;
    return echo_handler(s, NULL);
}

static int verify_fails(void *arg)
{
    verify_case *vc = arg;
    tls_server ts;
    tl_tls_ctx *sc = tl_tls_server_ctx_new(vc->cert, vc->key);
    cr_assert_not_null(sc, "%s", tl_error_detail());
    handler_ran = 0;
    tls_serve(&ts, count_handler, NULL, sc);
    tl_tls_ctx *cc = vc->system_store ? tl_tls_client_ctx_new() : client_ctx(&C);
    tl_stream *s = (tl_stream *)1;
    int rc = tls_dial(ts.port, vc->name, cc, &s);
    cr_assert_eq(rc, TL_ECERT, "%s", tl_strerror(rc));
    cr_assert_null(s);
    const char *d = tl_error_detail();
    cr_assert_not_null(d);
    cr_assert(strstr(d, vc->want), "detail: %s", d);
    tl_sleep(0.05);
    cr_assert_eq(handler_ran, 0, "a failed handshake reached the handler");
    tl_tls_ctx_release(cc);
    tls_server_free(&ts);
    return 0;
}

Test(tls, unknown_ca_is_ecert)
{
    verify_case vc = {C.srv_cert, C.srv_key, true, NULL, "unable to get local issuer certificate"};
    RUN(verify_fails, &vc);
}

Test(tls, wrong_hostname_is_ecert)
{
    verify_case vc = {C.other_cert, C.other_key, false, "localhost", "hostname mismatch"};
    RUN(verify_fails, &vc);
}

Test(tls, wrong_ip_literal_is_ecert)
{
    verify_case vc = {C.other_cert, C.other_key, false, NULL, "IP address mismatch"};
    RUN(verify_fails, &vc);
}

Test(tls, expired_certificate_is_ecert)
{
    verify_case vc = {C.expired_cert, C.srv_key, false, NULL, "certificate has expired"};
    /* the expired leaf was made with its own key */
    char key[128];
    snprintf(key, sizeof key, "%s/expired.key", C.dir);
    vc.key = key;
    RUN(verify_fails, &vc);
}

static int name_verified(void *arg)
{
    (void)arg;
    tls_server ts;
    tls_serve(&ts, echo_handler, NULL, NULL);
    tl_tls_ctx *cc = client_ctx(&C);
    tl_stream *s;
    int rc = tls_dial(ts.port, "localhost", cc, &s);
    cr_assert_eq(rc, 0, "%s: %s", tl_strerror(rc), tl_error_detail());
    cr_assert_null(tl_error_detail(), "a success leaves no detail");
    cr_assert_eq(tl_stream_write(s, "ping", 4), 0);
    char buf[4];
    cr_assert_eq(tl_stream_readexactly(s, buf, 4, NULL), 0);
    cr_assert(memcmp(buf, "ping", 4) == 0);
    tl_stream_close(s);
    tl_tls_ctx_release(cc);
    tls_server_free(&ts);
    return 0;
}

Test(tls, a_name_in_the_certificate_verifies)
{
    RUN(name_verified, NULL);
}

/* ---- timeouts and cancellation in the handshake ---- */

static int silent_handler(tl_stream *s, void *arg)
{
    (void)arg;
    (void)s;
    tl_sleep(10); /* never answers; tl_server_free cancels it */
    return 0;
}

static int handshake_timeout(void *arg)
{
    bool scope = arg != NULL;
    tl_server *srv = serve(silent_handler, NULL);
    tl_tls_ctx *cc = client_ctx(&C);
    tl_connect_opts o = {.tls = cc, .tls_handshake_timeout = scope ? 30 : 0.2};
    tl_stream *s;
    double t0 = tl_time();
    tl_timeout t;
    if (scope)
        tl_timeout_enter(&t, 0.2);
    int rc = tl_open_connection_ex("127.0.0.1", tl_server_port(srv), &o, &s);
    if (scope)
        cr_assert_eq(tl_timeout_exit(&t), TL_ETIMEDOUT);
    cr_assert_eq(rc, TL_ETIMEDOUT, "%s", tl_strerror(rc));
    ASSERT_ELAPSED(t0, 0.2);
    tl_tls_ctx_release(cc);
    tl_server_free(srv);
    return 0;
}

Test(tls, handshake_timeout_against_a_peer_that_never_speaks)
{
    RUN(handshake_timeout, NULL);
}

Test(tls, a_timeout_scope_in_the_middle_of_the_handshake)
{
    RUN(handshake_timeout, "scope");
}

static int cancel_target(void *arg)
{
    int port = *(int *)arg;
    tl_tls_ctx *cc = client_ctx(&C);
    tl_connect_opts o = {.tls = cc};
    tl_stream *s;
    int rc = tl_open_connection_ex("127.0.0.1", port, &o, &s);
    tl_tls_ctx_release(cc);
    return rc;
}

static int cancel_handshake(void *arg)
{
    (void)arg;
    tl_server *srv = serve(silent_handler, NULL);
    int port = tl_server_port(srv);
    tl_task *t = tl_create_task(cancel_target, &port);
    tl_sleep(0.1);
    tl_task_cancel(t);
    cr_assert_eq(tl_await(t), TL_ECANCELED);
    tl_task_release(t);
    tl_server_free(srv);
    return 0;
}

Test(tls, cancellation_in_the_middle_of_the_handshake)
{
    RUN(cancel_handshake, NULL);
}

/* ---- the end of a TLS stream ---- */

static int abort_handler(tl_stream *s, void *arg)
{
    (void)arg;
    tl_stream_write(s, "cut", 3);
    tl_sleep(0.05);
    tl_stream_abort(s); /* TCP close, no close_notify */
    return 0;
}

static int close_handler(tl_stream *s, void *arg)
{
    (void)arg;
    tl_stream_write(s, "bye", 3);
    return tl_stream_wait_closed(s); /* close_notify */
}

static int ending(void *arg)
{
    const char *kind = arg;
    bool allow = strcmp(kind, "allowed") == 0;
    tls_server ts;
    tls_serve(&ts, strcmp(kind, "clean") == 0 ? close_handler : abort_handler, NULL, NULL);
    tl_tls_ctx *cc = client_ctx(&C);
    tl_stream *s;
    cr_assert_eq(tls_dial(ts.port, NULL, cc, &s), 0, "%s", tl_error_detail());
    tl_stream_allow_truncation(s, allow);
    char buf[8];
    cr_assert_eq(tl_stream_readexactly(s, buf, 3, NULL), 0);
    ssize_t n = tl_stream_read(s, buf, sizeof buf);
    if (strcmp(kind, "truncated") == 0) {
        cr_assert_eq(n, TL_ETRUNCATED, "%s", tl_strerror((int)n));
        cr_assert_not_null(tl_error_detail());
        cr_assert(strstr(tl_error_detail(), "close_notify"), "%s", tl_error_detail());
    } else {
        cr_assert_eq(n, 0, "%s", tl_strerror((int)n));
    }
    tl_stream_close(s);
    tl_tls_ctx_release(cc);
    tls_server_free(&ts);
    return 0;
}

Test(tls, close_notify_is_a_clean_eof)
{
    RUN(ending, "clean");
}

Test(tls, a_tcp_close_without_close_notify_is_truncated)
{
    RUN(ending, "truncated");
}

Test(tls, truncation_allowed_reads_as_eof)
{
    RUN(ending, "allowed");
}

static int deaf_handler(tl_stream *s, void *arg)
{
    (void)arg;
    tl_sleep(3); /* never reads, so never answers close_notify */
    tl_stream_abort(s);
    return 0;
}

static int shutdown_timeout(void *arg)
{
    (void)arg;
    tls_server ts;
    tls_serve(&ts, deaf_handler, NULL, NULL);
    tl_tls_ctx *cc = client_ctx(&C);
    tl_connect_opts o = {.tls = cc, .tls_shutdown_timeout = 0.2};
    tl_stream *s;
    cr_assert_eq(tl_open_connection_ex("127.0.0.1", ts.port, &o, &s), 0, "%s", tl_error_detail());
    double t0 = tl_time();
    cr_assert_eq(tl_stream_wait_closed(s), 0);
    ASSERT_ELAPSED(t0, 0.2);
    tl_tls_ctx_release(cc);
    tls_server_free(&ts);
    return 0;
}

Test(tls, close_against_a_peer_that_never_answers_is_bounded)
{
    RUN(shutdown_timeout, NULL);
}

/* ---- STARTTLS ---- */

static int starttls_handler(tl_stream *s, void *arg)
{
    tl_tls_ctx *sc = arg;
    tl_sleep(0.05); /* the line and the ClientHello are both in by now */
    char line[32];
    ssize_t n = tl_stream_readline(s, line, sizeof line);
    cr_assert_eq(n, 9);
    cr_assert(memcmp(line, "STARTTLS\n", 9) == 0);
    cr_assert_gt(tl_stream_buffered(s), 0, "the ClientHello was read ahead");
    int rc = tl_stream_start_tls(s, sc, NULL, true);
    cr_assert_eq(rc, 0, "%s: %s", tl_strerror(rc), tl_error_detail());
    cr_assert_eq(tl_stream_buffered(s), 0, "no ciphertext reached the reader");
    return echo_handler(s, NULL);
}

static int starttls(void *arg)
{
    (void)arg;
    tl_tls_ctx *sc = server_ctx(&C);
    tl_server *srv = serve(starttls_handler, sc);
    tl_stream *s = dial(srv);
    tl_tls_ctx *cc = client_ctx(&C);
    cr_assert_eq(tl_stream_write(s, "STARTTLS\n", 9), 0);
    int rc = tl_stream_start_tls(s, cc, "localhost", false);
    cr_assert_eq(rc, 0, "%s: %s", tl_strerror(rc), tl_error_detail());
    cr_assert_eq(tl_stream_write(s, "secret", 6), 0);
    char buf[6];
    cr_assert_eq(tl_stream_readexactly(s, buf, 6, NULL), 0);
    cr_assert(memcmp(buf, "secret", 6) == 0);
    cr_assert_eq(tl_stream_start_tls(s, cc, "localhost", false), TL_EINVAL, "TLS twice");
    tl_stream_close(s);
    tl_tls_ctx_release(cc);
    tl_server_free(srv);
    tl_tls_ctx_release(sc);
    return 0;
}

Test(tls, start_tls_after_bytes_were_read_ahead)
{
    RUN(starttls, NULL);
}

/* ---- ALPN and client certificates ---- */

static int alpn(void *arg)
{
    (void)arg;
    tl_tls_ctx *sc = server_ctx(&C);
    const char *offer[] = {"h2", "http/1.1"};
    cr_assert_eq(tl_tls_ctx_set_alpn(sc, offer, 2), 0);
    tls_server ts;
    tls_serve(&ts, echo_handler, NULL, sc);
    const char *mine[] = {"http/1.1"}, *none[] = {"gopher"};
    tl_tls_ctx *cc = client_ctx(&C), *cn = client_ctx(&C);
    cr_assert_eq(tl_tls_ctx_set_alpn(cc, mine, 1), 0);
    cr_assert_eq(tl_tls_ctx_set_alpn(cn, none, 1), 0);
    const char *empty[] = {""};
    cr_assert_eq(tl_tls_ctx_set_alpn(cn, empty, 1), TL_EINVAL);
    tl_stream *s;
    cr_assert_eq(tls_dial(ts.port, NULL, cc, &s), 0, "%s", tl_error_detail());
    cr_assert_str_eq(tl_stream_alpn(s), "http/1.1");
    tl_stream_close(s);
    cr_assert_eq(tls_dial(ts.port, NULL, cn, &s), 0,
                 "no protocol in common is no ALPN, not an error");
    cr_assert_null(tl_stream_alpn(s));
    tl_stream_close(s);
    tl_tls_ctx_release(cc);
    tl_tls_ctx_release(cn);
    tls_server_free(&ts);
    return 0;
}

Test(tls, alpn_agreed_and_not_agreed)
{
    RUN(alpn, NULL);
}

static int subject_handler(tl_stream *s, void *arg)
{
    char *subject = arg;
    handler_ran++;
    cr_assert_gt(tl_stream_peer_subject(s, subject, 128), 0);
    return echo_handler(s, NULL);
}

static int client_certs(void *arg)
{
    (void)arg;
    tl_tls_ctx *sc = server_ctx(&C);
    cr_assert_eq(tl_tls_ctx_load_ca(sc, C.ca, NULL), 0, "%s", tl_error_detail());
    cr_assert_eq(tl_tls_ctx_set_verify(sc, TL_TLS_VERIFY_REQUIRED), 0);
    char subject[128] = "";
    handler_ran = 0;
    tls_server ts;
    tls_serve(&ts, subject_handler, subject, sc);
    /* without a certificate: TLS 1.3 finishes the client's side first, so the
     * server's refusal comes as the first read's error */
    tl_tls_ctx *cc = client_ctx(&C);
    tl_stream *s;
    int rc = tls_dial(ts.port, NULL, cc, &s);
    if (rc == 0) {
        char c;
        rc = (int)tl_stream_read(s, &c, 1);
        tl_stream_close(s);
    }
    cr_assert_eq(rc, TL_ETLS, "%s", tl_strerror(rc));
    cr_assert(strstr(tl_error_detail(), "certificate required"), "%s", tl_error_detail());
    cr_assert_eq(handler_ran, 0);
    /* with one */
    cr_assert_eq(tl_tls_ctx_load_cert(cc, C.client_cert, C.client_key), 0, "%s", tl_error_detail());
    cr_assert_eq(tls_dial(ts.port, NULL, cc, &s), 0, "%s", tl_error_detail());
    cr_assert_eq(tl_stream_write(s, "x", 1), 0);
    char c;
    cr_assert_eq(tl_stream_read(s, &c, 1), 1);
    cr_assert_eq(handler_ran, 1);
    cr_assert_str_eq(subject, "CN=tulip client");
    tl_stream_close(s);
    tl_tls_ctx_release(cc);
    tls_server_free(&ts);
    return 0;
}

Test(tls, client_certificate_required_missing_and_present)
{
    RUN(client_certs, NULL);
}

/* ---- OpenSSL's own peers ---- */

static int with_s_server(void *arg)
{
    (void)arg;
    int port = closed_port();
    char accept[16];
    snprintf(accept, sizeof accept, "%d", port);
    char *argv[] = {"openssl", "s_server", "-quiet", "-rev",    "-accept", accept,
                    "-cert",   C.srv_cert, "-key",   C.srv_key, NULL};
    peer pr;
    peer_start(&pr, argv);
    tl_stream *probe = dial_when_up(port);
    tl_stream_abort(probe); /* s_server serves one client at a time: let this one go */
    tl_tls_ctx *cc = client_ctx(&C);
    tl_stream *s;
    int rc = tls_dial(port, "localhost", cc, &s);
    cr_assert_eq(rc, 0, "%s: %s", tl_strerror(rc), tl_error_detail());
    cr_assert_eq(tl_stream_write(s, "hello\n", 6), 0);
    char line[16];
    cr_assert_eq(tl_stream_readline(s, line, sizeof line), 6);
    cr_assert(memcmp(line, "olleh\n", 6) == 0, "s_server -rev answers reversed lines");
    tl_stream_close(s);
    tl_tls_ctx_release(cc);
    peer_stop(&pr);
    return 0;
}

Test(tls, client_against_openssl_s_server)
{
    RUN(with_s_server, NULL);
}

static int with_s_client(void *arg)
{
    (void)arg;
    tls_server ts;
    tls_serve(&ts, echo_handler, NULL, NULL);
    char connect[32];
    snprintf(connect, sizeof connect, "127.0.0.1:%d", ts.port);
    char *argv[] = {"openssl",    "s_client",  "-quiet",  "-verify_return_error",
                    "-verify_ip", "127.0.0.1", "-CAfile", C.ca,
                    "-connect",   connect,     NULL};
    peer pr;
    peer_start(&pr, argv);
    tl_stream *in = tl_process_stdin(pr.p);
    cr_assert_eq(tl_stream_write(in, "ping from s_client\n", 19), 0);
    peer_expect(&pr, "ping from s_client\n");
    peer_stop(&pr);
    tls_server_free(&ts);
    return 0;
}

Test(tls, server_against_openssl_s_client)
{
    RUN(with_s_client, NULL);
}

/* ---- many at once ---- */

#define MANY 200

static int one_client(void *arg)
{
    int port = *(int *)arg;
    tl_tls_ctx *cc = client_ctx(&C);
    tl_stream *s;
    int rc = tls_dial(port, NULL, cc, &s);
    tl_tls_ctx_release(cc);
    if (rc)
        return rc;
    char msg[32], back[32];
    int len = snprintf(msg, sizeof msg, "client %p", (void *)&msg);
    rc = tl_stream_write(s, msg, (size_t)len);
    if (!rc)
        rc = tl_stream_readexactly(s, back, (size_t)len, NULL);
    if (!rc && memcmp(msg, back, (size_t)len) != 0)
        rc = TL_EIO;
    tl_stream_close(s);
    return rc;
}

static int many(void *arg)
{
    (void)arg;
    tls_server ts;
    tls_serve(&ts, echo_handler, NULL, NULL);
    tl_task *t[MANY];
    for (int i = 0; i < MANY; i++)
        t[i] = tl_create_task(one_client, &ts.port);
    for (int i = 0; i < MANY; i++) {
        int rc = tl_await(t[i]);
        cr_assert_eq(rc, 0, "client %d: %s", i, tl_strerror(rc));
        tl_task_release(t[i]);
    }
    tls_server_free(&ts);
    return 0;
}

Test(tls, two_hundred_connections_at_once)
{
    RUN(many, NULL);
}
