/* The TLS transport: OpenSSL over two memory BIOs, between a stream and
 * its socket.
 *
 * Everything here runs in the socket's events or in a stream call, never
 * across a task switch: each OpenSSL step (clear the error queue, call,
 * SSL_get_error, read the queue) is one uninterrupted piece of C. So a
 * reader and a writer task on one stream cannot interleave inside OpenSSL,
 * and records reach the socket in the order OpenSSL wrote them: pump() is
 * the one place that moves bytes, and after every step it sends all of the
 * output BIO, one socket write in flight at a time.
 *
 * Events for the stream are never raised from inside the stream's own
 * calls (it may be half-way through changing its state): what a call makes
 * ready is delivered by a pump on the next loop turn (the kick timer). */
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "tls.h"

#define SCRATCH          ((size_t)64 * 1024)  /* one socket read, before it goes into the BIO */
#define IN_HIGH_WATER    ((size_t)256 * 1024) /* undecrypted input that pauses socket reads */
#define DISCARD_BUF_SIZE 4096

static void pump(tl__tls *t);
static void kick(tl__tls *t);
static void update_lower_reading(tl__tls *t);

static tl__tls *tls_of(tl__transport *tp)
{
    return tl__container_of(tp, tl__tls, base);
}

/* ---- the per-loop read buffer ----
 *
 * libuv calls a handle's read callback right after its alloc callback, with
 * nothing between, and the bytes go into the input BIO at once: so one
 * buffer per loop serves every TLS socket on it. */

typedef struct scratch_state {
    tl__loop_state base;
    char buf[SCRATCH];
} scratch_state;

static char scratch_key;

static void scratch_teardown(tl__loop_state *st)
{
    tl__free(st);
}

static char *scratch_for(tl_loop *loop)
{
    tl__loop_state *st = tl__loop_state_find(loop, &scratch_key);
    if (!st) {
        scratch_state *s = tl__malloc(sizeof *s);
        if (!s)
            return NULL;
        s->base.key = &scratch_key;
        s->base.teardown = scratch_teardown;
        tl__loop_state_add(loop, &s->base);
        st = &s->base;
    }
    return tl__container_of(st, scratch_state, base)->buf;
}

/* ---- errors ---- */

/* What a failed step means, with OpenSSL's reason kept in t->detail. */
static int classify_failure(tl__tls *t, int ssl_error)
{
    unsigned long e = ERR_peek_error();
    char reason[160] = "";
    if (e)
        ERR_error_string_n(e, reason, sizeof reason);
    ERR_clear_error();
    if (ssl_error == SSL_ERROR_SYSCALL ||
        (ERR_GET_LIB(e) == ERR_LIB_SSL &&
         ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
        if (t->state == TL__TLS_HANDSHAKE) {
            snprintf(t->detail, sizeof t->detail,
                     "the peer closed the connection in the handshake");
            return t->lower_error ? t->lower_error : TL_ECONNRESET;
        }
        snprintf(t->detail, sizeof t->detail,
                 "the peer closed the connection without close_notify");
        return t->lower_error ? t->lower_error : TL_ETRUNCATED;
    }
    long v = SSL_get_verify_result(t->ssl);
    if (v != X509_V_OK && ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
        const char *host = SSL_get0_peername(t->ssl);
        snprintf(t->detail, sizeof t->detail, "certificate verify failed: %s%s%s%s",
                 X509_verify_cert_error_string(v), host ? " (hostname " : "", host ? host : "",
                 host ? ")" : "");
        return TL_ECERT;
    }
    snprintf(t->detail, sizeof t->detail, "%s", e ? reason : "TLS protocol error");
    return TL_ETLS;
}

static void hs_done(tl__tls *t, int rc)
{
    tl__timer_remove(t->loop, &t->deadline);
    if (t->hs_task) {
        t->hs_result = rc;
        tl__wake_slot(&t->hs_task, 0);
    }
}

/* The stream's reading is over: once, and only while it reads (a paused
 * stream gets it when it reads again). */
static void end_up_reading(tl__tls *t, int rc)
{
    if (t->up_read_ended || !t->up_reading)
        return;
    t->up_read_ended = true;
    t->base.ev->read(t->base.up, NULL, rc);
}

/* A fatal error: nothing more goes through OpenSSL, never SSL_shutdown. */
static void die(tl__tls *t, int err)
{
    if (t->state == TL__TLS_DEAD)
        return;
    bool in_handshake = t->state == TL__TLS_HANDSHAKE;
    t->state = TL__TLS_DEAD;
    if (!t->error)
        t->error = err;
    t->pw = NULL;
    if (in_handshake)
        hs_done(t, err);
    end_up_reading(t, err);
    update_lower_reading(t);
}

/* ---- sending ciphertext ---- */

static bool reserve_out(tl__tls *t, size_t n)
{
    if (t->ocap >= n)
        return true;
    size_t cap = t->ocap ? t->ocap : 16384;
    while (cap < n)
        cap *= 2;
    char *nb = tl__realloc(t->obuf, cap);
    if (!nb)
        return false;
    t->obuf = nb;
    t->ocap = cap;
    return true;
}

/* Sends all that OpenSSL wrote, unless the socket's write is in flight
 * (its written event sends the rest). */
static void flush(tl__tls *t)
{
    size_t pending = (size_t)BIO_ctrl_pending(t->out);
    if (!t->lower_writing && pending && !t->lower_closing) {
        if (!reserve_out(t, pending)) {
            die(t, TL_ENOMEM);
            return;
        }
        t->olen = (size_t)BIO_read(t->out, t->obuf, (int)pending);
        ssize_t w = t->lower->ops->try_write(t->lower, t->obuf, t->olen);
        if (w < 0) {
            t->olen = 0;
            die(t, (int)w);
        } else if ((size_t)w < t->olen) {
            memmove(t->obuf, t->obuf + w, t->olen - (size_t)w);
            t->olen -= (size_t)w;
            int rc = t->lower->ops->write(t->lower, t->obuf, t->olen);
            if (rc) {
                t->olen = 0;
                die(t, rc);
            } else {
                t->lower_writing = true;
            }
        } else {
            t->olen = 0;
        }
    }
    t->base.queued = t->olen + (size_t)BIO_ctrl_pending(t->out);
}

/* ---- the steps ---- */

static void step_handshake(tl__tls *t)
{
    ERR_clear_error();
    int r = SSL_do_handshake(t->ssl);
    if (r == 1) {
        t->state = TL__TLS_OPEN;
        const unsigned char *p;
        unsigned len;
        SSL_get0_alpn_selected(t->ssl, &p, &len);
        if (len && len < sizeof t->alpn) {
            memcpy(t->alpn, p, len);
            t->alpn[len] = '\0';
        }
        hs_done(t, 0);
        return;
    }
    int e = SSL_get_error(t->ssl, r);
    if (e == SSL_ERROR_WANT_READ) {
        ERR_clear_error();
        if (t->lower_eof) /* no more bytes will come */
            die(t, classify_failure(t, SSL_ERROR_SYSCALL));
        return;
    }
    die(t, classify_failure(t, e));
}

/* Retries the write that wanted a read: 0, or it is still waiting. */
static void step_write(tl__tls *t)
{
    ERR_clear_error();
    int r = SSL_write(t->ssl, t->pw, (int)t->pwn);
    if (r > 0) {
        t->pw = NULL;
        return;
    }
    int e = SSL_get_error(t->ssl, r);
    if (e == SSL_ERROR_WANT_READ) {
        ERR_clear_error();
        return;
    }
    die(t, classify_failure(t, e));
}

/* Decrypts into the stream's buffers while it wants bytes and TLS has them. */
static void step_read(tl__tls *t)
{
    while (t->up_reading && !t->up_read_ended && t->state == TL__TLS_OPEN) {
        if (!SSL_pending(t->ssl) && !BIO_ctrl_pending(t->in) && !t->lower_eof)
            return; /* nothing to decrypt: skip the costly WANT_READ */
        char *base;
        size_t len;
        int rc = t->base.ev->read_buf(t->base.up, true, &base, &len);
        if (rc == TL__READ_DECLINE) {
            kick(t); /* the bytes wait in TLS, not in the kernel: come back next turn */
            return;
        }
        if (rc) {
            end_up_reading(t, rc);
            return;
        }
        ERR_clear_error();
        int r = SSL_read(t->ssl, base, len > INT32_MAX ? INT32_MAX : (int)len);
        if (r > 0) {
            t->base.ev->read(t->base.up, base, r);
            continue;
        }
        int e = SSL_get_error(t->ssl, r);
        if (e == SSL_ERROR_WANT_READ) {
            ERR_clear_error();
            if (!t->lower_eof)
                return;
            e = SSL_ERROR_SYSCALL; /* the socket ended, and TLS wants more */
        }
        if (e == SSL_ERROR_ZERO_RETURN) {
            ERR_clear_error();
            end_up_reading(t, TL_EOF); /* close_notify: a clean end */
            return;
        }
        int err = classify_failure(t, e);
        if (err == TL_ETRUNCATED && t->allow_truncation) {
            t->state = TL__TLS_DEAD; /* no close_notify after that */
            end_up_reading(t, TL_EOF);
            return;
        }
        die(t, err);
        return;
    }
}

/* After our close_notify: the peer's data is dropped until its own
 * close_notify (or the socket's end), then the socket closes. */
static void step_closing(tl__tls *t)
{
    char sink[DISCARD_BUF_SIZE];
    for (;;) {
        ERR_clear_error();
        int r = SSL_shutdown(t->ssl);
        if (r == 1)
            break; /* both close_notify alerts are through */
        if (r < 0) {
            int e = SSL_get_error(t->ssl, r);
            ERR_clear_error();
            if (e != SSL_ERROR_WANT_READ || t->lower_eof)
                break;
        }
        ERR_clear_error();
        r = SSL_read(t->ssl, sink, sizeof sink);
        if (r > 0)
            continue;
        int e = SSL_get_error(t->ssl, r);
        ERR_clear_error();
        if (e == SSL_ERROR_WANT_READ && !t->lower_eof)
            return; /* wait for more */
        if (e != SSL_ERROR_ZERO_RETURN)
            break;
    }
    t->state = TL__TLS_DEAD;
}

/* Once close was asked for and the last ciphertext is out (or cannot go). */
static void close_lower(tl__tls *t, bool now)
{
    if (t->lower_closing || (!now && t->lower_writing))
        return;
    t->lower_closing = true;
    t->lower_reading = false;
    tl__timer_remove(t->loop, &t->kick);
    tl__timer_remove(t->loop, &t->deadline);
    t->lower->ops->close(t->lower, !now);
}

static void pump_once(tl__tls *t)
{
    if (t->state == TL__TLS_HANDSHAKE)
        step_handshake(t);
    if (t->state == TL__TLS_OPEN && t->pw)
        step_write(t);
    if (t->state == TL__TLS_OPEN)
        step_read(t);
    if (t->state == TL__TLS_DEAD && t->error)
        end_up_reading(t, t->error);
    flush(t);
    if (t->state == TL__TLS_CLOSING) {
        step_closing(t);
        flush(t);
    }
    if (t->close_requested && t->state == TL__TLS_DEAD)
        close_lower(t, false);
    if (t->lower_writing || t->base.queued || t->lower_closing)
        return;
    if (t->shut_due && t->state == TL__TLS_OPEN) {
        t->shut_due = false;
        int rc = t->lower->ops->shutdown(t->lower);
        if (rc)
            t->base.ev->shut(t->base.up, rc);
    }
    if (t->written_due && !t->pw) {
        t->written_due = false;
        t->base.ev->written(t->base.up, t->state == TL__TLS_DEAD ? t->error : 0);
    }
}

/* Moves every byte that can move. Re-entered from an event it raises (the
 * stream writing again from its written event), it runs once more instead. */
static void pump(tl__tls *t)
{
    if (t->pumping) {
        t->again = true;
        return;
    }
    t->pumping = true;
    do {
        t->again = false;
        pump_once(t);
    } while (t->again);
    t->pumping = false;
    update_lower_reading(t);
}

static void kick_fire(void *timer)
{
    pump(tl__container_of(timer, tl__tls, kick));
}

static void kick(tl__tls *t)
{
    if (!tl__timer_pending(&t->kick))
        tl__timer_add(t->loop, &t->kick, 0);
}

/* The socket reads while TLS needs ciphertext and its input is not piling up. */
static void update_lower_reading(tl__tls *t)
{
    if (t->lower_closing)
        return;
    bool want = !t->lower_eof && t->state != TL__TLS_DEAD &&
                (t->state == TL__TLS_HANDSHAKE || t->state == TL__TLS_CLOSING || t->pw ||
                 (t->up_reading && !t->up_read_ended)) &&
                BIO_ctrl_pending(t->in) < IN_HIGH_WATER;
    if (want == t->lower_reading)
        return;
    t->lower_reading = want;
    if (!want) {
        t->lower->ops->read_stop(t->lower);
        return;
    }
    int rc = t->lower->ops->read_start(t->lower);
    if (rc) {
        t->lower_reading = false;
        t->lower_eof = true;
        t->lower_error = rc;
        die(t, rc);
    }
}

/* ---- the socket's events ---- */

static int lower_read_buf(void *up, bool may_decline, char **base, size_t *len)
{
    (void)may_decline;
    tl__tls *t = up;
    char *buf = scratch_for(t->loop);
    if (!buf)
        return TL_ENOMEM;
    *base = buf;
    *len = SCRATCH;
    return 0;
}

static void lower_read(void *up, char *base, ssize_t n)
{
    tl__tls *t = up;
    if (n > 0) {
        if (t->state != TL__TLS_DEAD && BIO_write(t->in, base, (int)n) != (int)n)
            die(t, TL_ENOMEM);
        pump(t);
        return;
    }
    t->lower_eof = true;
    t->lower_reading = false;
    if (n != TL_EOF)
        t->lower_error = (int)n;
    BIO_set_mem_eof_return(t->in, 0); /* an empty input BIO now reads as the end */
    pump(t);
}

static void lower_written(void *up, int status)
{
    tl__tls *t = up;
    t->lower_writing = false;
    t->olen = 0;
    if (status < 0)
        die(t, status);
    pump(t);
}

static void lower_shut(void *up, int status)
{
    tl__tls *t = up;
    t->base.ev->shut(t->base.up, status);
}

static void lower_closed(void *up)
{
    tl__tls *t = up;
    tl__timer_remove(t->loop, &t->kick);
    tl__timer_remove(t->loop, &t->deadline);
    const tl__transport_events *ev = t->base.ev;
    void *above = t->base.up;
    SSL_free(t->ssl); /* and both BIOs */
    tl_tls_ctx_release(t->ctx);
    tl__free(t->obuf);
    tl__free(t);
    ev->closed(above);
}

static const tl__transport_events lower_events = {
    .read_buf = lower_read_buf,
    .read = lower_read,
    .written = lower_written,
    .shut = lower_shut,
    .closed = lower_closed,
};

/* ---- what the stream calls ---- */

static int tls_read_start(tl__transport *tp)
{
    tl__tls *t = tls_of(tp);
    t->up_reading = true;
    kick(t); /* plaintext or an error may be waiting in TLS already */
    update_lower_reading(t);
    return 0;
}

static void tls_read_stop(tl__transport *tp)
{
    tl__tls *t = tls_of(tp);
    t->up_reading = false;
    update_lower_reading(t);
}

/* Encrypts p (all of it: the output BIO grows) unless a write waits. */
static ssize_t encrypt(tl__tls *t, const char *p, size_t n)
{
    ERR_clear_error();
    int r = SSL_write(t->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
    if (r > 0)
        return r;
    int e = SSL_get_error(t->ssl, r);
    if (e == SSL_ERROR_WANT_READ) {
        ERR_clear_error();
        return 0;
    }
    die(t, classify_failure(t, e));
    return t->error;
}

static int write_state(tl__tls *t)
{
    if (t->state == TL__TLS_DEAD)
        return t->error ? t->error : TL_EPIPE;
    return t->state == TL__TLS_OPEN ? 0 : TL_EPIPE;
}

static ssize_t tls_try_write(tl__transport *tp, const char *p, size_t n)
{
    tl__tls *t = tls_of(tp);
    int rc = write_state(t);
    if (rc)
        return rc;
    if (t->pw || t->lower_writing || t->base.queued)
        return 0; /* the stream gathers behind what waits */
    ssize_t w = encrypt(t, p, n);
    if (w <= 0)
        return w;
    flush(t);
    if (t->base.queued) {
        t->written_due = true; /* taken, not yet sent: the stream counts it in queued */
        kick(t);
    }
    return w;
}

static int tls_write(tl__transport *tp, const char *p, size_t n)
{
    tl__tls *t = tls_of(tp);
    int rc = write_state(t);
    if (rc)
        return rc;
    t->written_due = true;
    if (!t->pw) {
        ssize_t w = encrypt(t, p, n);
        if (w < 0)
            return (int)w;
        if (w == 0) { /* renegotiation: retried after a read */
            t->pw = p;
            t->pwn = n;
            update_lower_reading(t);
        }
    }
    flush(t);
    kick(t); /* the written event comes from a pump, never from inside this call */
    return 0;
}

static int tls_shutdown(tl__transport *tp)
{
    tl__tls *t = tls_of(tp);
    int rc = write_state(t);
    if (rc)
        return rc;
    ERR_clear_error();
    SSL_shutdown(t->ssl); /* 0: close_notify is in the output BIO */
    ERR_clear_error();
    t->shut_due = true;
    flush(t);
    kick(t);
    return 0;
}

static void deadline_fire(void *timer)
{
    tl__tls *t = tl__container_of(timer, tl__tls, deadline);
    if (t->state == TL__TLS_HANDSHAKE) {
        snprintf(t->detail, sizeof t->detail, "the TLS handshake took too long");
        die(t, TL_ETIMEDOUT);
        return;
    }
    /* closing: the peer never answered our close_notify */
    t->state = TL__TLS_DEAD;
    close_lower(t, true);
}

static void tls_close(tl__transport *tp, bool graceful)
{
    tl__tls *t = tls_of(tp);
    if (t->close_requested) {
        if (!graceful) /* cut a graceful close short */
            close_lower(t, true);
        return;
    }
    t->up_reading = false;
    t->close_requested = true;
    if (t->state == TL__TLS_HANDSHAKE) {
        hs_done(t, TL_ECANCELED); /* close in the handshake is an abort */
        graceful = false;
    }
    tl__timer_remove(t->loop, &t->kick);
    if (graceful && t->state == TL__TLS_OPEN && !t->pw) {
        t->state = TL__TLS_CLOSING;
        t->written_due = false;
        t->shut_due = false;
        ERR_clear_error();
        SSL_shutdown(t->ssl); /* close_notify out, then wait for the peer's */
        ERR_clear_error();
        tl__timer_remove(t->loop, &t->deadline);
        tl__timer_add(t->loop, &t->deadline, tl__deadline_after(t->shutdown_timeout));
        pump(t);
        return;
    }
    t->state = TL__TLS_DEAD;
    close_lower(t, true);
}

static uv_stream_t *tls_socket(tl__transport *tp)
{
    tl__tls *t = tls_of(tp);
    return t->lower->ops->socket ? t->lower->ops->socket(t->lower) : NULL;
}

static const char *tls_detail(tl__transport *tp)
{
    tl__tls *t = tls_of(tp);
    return t->detail[0] ? t->detail : NULL;
}

static const tl__transport_ops tls_ops = {
    .detail = tls_detail,
    .read_start = tls_read_start,
    .read_stop = tls_read_stop,
    .try_write = tls_try_write,
    .write = tls_write,
    .shutdown = tls_shutdown,
    .close = tls_close,
    .socket = tls_socket,
};

/* ---- making one ---- */

/* SNI goes only with a name; the certificate is checked against the name
 * or the IP literal (as CPython does). False when memory runs out. */
static bool set_peer_name(tl__tls *t, const char *hostname)
{
    X509_VERIFY_PARAM *param = SSL_get0_param(t->ssl);
    if (X509_VERIFY_PARAM_set1_ip_asc(param, hostname) == 1)
        return true;
    SSL_set_hostflags(t->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    return SSL_set1_host(t->ssl, hostname) == 1 && SSL_set_tlsext_host_name(t->ssl, hostname) == 1;
}

tl__tls *tl__tls_new(tl_stream *s, tl__transport *lower, const tl_tls_ctx *ctx, bool server,
                     const char *hostname, double shutdown_timeout)
{
    tl__tls *t = tl__calloc(1, sizeof *t);
    if (!t)
        return NULL;
    ERR_clear_error();
    t->ssl = SSL_new(ctx->ssl);
    t->in = BIO_new(BIO_s_mem());
    t->out = BIO_new(BIO_s_mem());
    if (!t->ssl || !t->in || !t->out) {
        SSL_free(t->ssl);
        BIO_free(t->in);
        BIO_free(t->out);
        tl__free(t);
        ERR_clear_error();
        return NULL;
    }
    BIO_set_mem_eof_return(t->in, -1);  /* empty means "wait for more" until the socket ends */
    SSL_set_bio(t->ssl, t->in, t->out); /* the SSL owns both BIOs now */
    t->server = server;
    if (server) {
        SSL_set_accept_state(t->ssl);
    } else {
        SSL_set_connect_state(t->ssl);
        if (hostname && !set_peer_name(t, hostname)) {
            SSL_free(t->ssl);
            tl__free(t);
            ERR_clear_error();
            return NULL;
        }
    }
    t->ctx = tl_tls_ctx_retain((tl_tls_ctx *)ctx);
    t->loop = s->loop;
    t->shutdown_timeout = shutdown_timeout;
    t->kick.fire = kick_fire;
    t->deadline.fire = deadline_fire;
    t->base.ops = &tls_ops;
    t->base.ev = lower->ev; /* the stream's events, now raised by TLS */
    t->base.up = lower->up;
    t->lower = lower;
    lower->ev = &lower_events;
    lower->up = t;
    return t;
}

void tl__tls_discard(tl__tls *t)
{
    t->lower->ev = t->base.ev;
    t->lower->up = t->base.up;
    SSL_free(t->ssl);
    tl_tls_ctx_release(t->ctx);
    tl__free(t);
}

int tl__tls_feed(tl__tls *t, const char *p, size_t n)
{
    return n && BIO_write(t->in, p, (int)n) != (int)n ? TL_ENOMEM : 0;
}

static void hs_detach(tl_task *task, void *ctx)
{
    (void)task;
    tl__tls *t = ctx;
    t->hs_task = NULL;
}

int tl__tls_handshake(tl__tls *t, tl_task *self, double timeout)
{
    tl__timer_remove(t->loop, &t->deadline);
    tl__timer_add(t->loop, &t->deadline, tl__deadline_after(timeout));
    pump(t); /* the ClientHello, or what the bytes read ahead answer */
    if (t->state != TL__TLS_HANDSHAKE) {
        tl__timer_remove(t->loop, &t->deadline);
        return t->state == TL__TLS_DEAD ? t->error : 0;
    }
    t->hs_task = self;
    int rc = tl__wait(self, "TLS handshake", t, hs_detach, t);
    if (rc) { /* cancelled, or a scope ran out: the connection cannot be used */
        tl__timer_remove(t->loop, &t->deadline);
        snprintf(t->detail, sizeof t->detail, "the TLS handshake was interrupted");
        die(t, rc);
        return rc;
    }
    return t->hs_result;
}

tl__tls *tl__tls_of(const tl_stream *s)
{
    return s->tp->ops == &tls_ops ? tls_of(s->tp) : NULL;
}
