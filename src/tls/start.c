/* Putting TLS under a stream: tl_stream_start_tls (STARTTLS, and a
 * server's accept), tl_open_connection_ex, and what a TLS stream tells
 * after its handshake. */
#include <math.h>
#include <openssl/err.h>
#include <string.h>

#include "tls.h"

static bool bad_timeout(double t)
{
    return isnan(t) || t < 0;
}

/* Hands bytes the stream read ahead to TLS: they are the peer's first
 * records (its ClientHello after a STARTTLS line), never plaintext. */
static int hand_over_read_ahead(tl_stream *s, tl__tls *t)
{
    size_t have = s->rend - s->rstart;
    int rc = have ? tl__tls_feed(t, s->rbuf + s->rstart, have) : 0; /* rbuf may be NULL */
    s->rstart = s->rend = 0;
    if (s->flags & TL__S_EOF) { /* the socket's reading had ended already */
        t->lower_eof = true;
        t->lower_error = s->read_error;
        BIO_set_mem_eof_return(t->in, 0);
        s->flags &= ~(unsigned)TL__S_EOF;
        s->read_error = 0;
    }
    return rc;
}

int tl__stream_start_tls_ex(tl_stream *s, const tl_tls_ctx *ctx, const char *hostname,
                            bool server_side, double handshake_timeout, double shutdown_timeout)
{
    tl_task *self = tl__need_task("tl_stream_start_tls");
    tl__error_detail_clear();
    if (!ctx || ctx->server != server_side || s->tp != &s->sock.base ||
        (hostname && (!hostname[0] || hostname[0] == '.')) || bad_timeout(handshake_timeout) ||
        bad_timeout(shutdown_timeout))
        return TL_EINVAL;
    if (s->reader)
        return TL_EBUSY;
    if (s->flags & (TL__S_CLOSING | TL__S_WRITE_EOF))
        return TL_EPIPE;
    int rc = tl__stream_flush(s, self);
    if (rc)
        return rc;
    tl__stream_pause(s);
    tl__tls *t = tl__tls_new(s, s->tp, ctx, server_side, hostname,
                             shutdown_timeout > 0 ? shutdown_timeout : TL_TLS_SHUTDOWN_TIMEOUT);
    if (!t)
        return TL_ENOMEM;
    if (hand_over_read_ahead(s, t)) {
        tl__tls_discard(t);
        return TL_ENOMEM;
    }
    s->tp = &t->base;
    tl__stream_ref(s);
    rc = tl__tls_handshake(t, self,
                           handshake_timeout > 0 ? handshake_timeout : TL_TLS_HANDSHAKE_TIMEOUT);
    if (!rc && !(s->flags & TL__S_CLOSING))
        rc = tl__stream_start(s);
    if (rc && t->detail[0] && !(s->flags & TL__S_TP_CLOSING))
        tl__error_detail_set("%s", t->detail);
    tl__stream_unref(s);
    return rc;
}

int tl_stream_start_tls(tl_stream *s, const tl_tls_ctx *ctx, const char *server_hostname,
                        bool server_side)
{
    return tl__stream_start_tls_ex(s, ctx, server_hostname, server_side, 0, 0);
}

int tl_open_connection_ex(const char *host, int port, const tl_connect_opts *opts, tl_stream **out)
{
    tl__need_task("tl_open_connection_ex");
    static const tl_connect_opts none;
    if (!opts)
        opts = &none;
    tl__error_detail_clear();
    if (out)
        *out = NULL;
    if (!out || (opts->server_hostname && !opts->server_hostname[0]) ||
        bad_timeout(opts->tls_handshake_timeout) || bad_timeout(opts->tls_shutdown_timeout))
        return TL_EINVAL;
    tl_stream *s;
    int rc = tl_open_connection(host, port, &s);
    if (rc || !opts->tls) {
        *out = rc ? NULL : s;
        return rc;
    }
    const char *name = opts->server_hostname ? opts->server_hostname : host;
    rc = tl__stream_start_tls_ex(s, opts->tls, name, false, opts->tls_handshake_timeout,
                                 opts->tls_shutdown_timeout);
    if (rc) {
        tl_stream_abort(s);
        return rc;
    }
    *out = s;
    return 0;
}

void tl_stream_allow_truncation(tl_stream *s, bool allow)
{
    tl__tls *t = tl__tls_of(s);
    if (t)
        t->allow_truncation = allow;
}

static SSL *open_ssl(const tl_stream *s)
{
    tl__tls *t = tl__tls_of(s);
    return t && t->state != TL__TLS_HANDSHAKE ? t->ssl : NULL;
}

const char *tl_stream_tls_version(const tl_stream *s)
{
    SSL *ssl = open_ssl(s);
    return ssl ? SSL_get_version(ssl) : NULL;
}

const char *tl_stream_tls_cipher(const tl_stream *s)
{
    SSL *ssl = open_ssl(s);
    return ssl ? SSL_get_cipher_name(ssl) : NULL;
}

const char *tl_stream_alpn(const tl_stream *s)
{
    tl__tls *t = tl__tls_of(s);
    return t && t->alpn[0] ? t->alpn : NULL;
}

ssize_t tl_stream_peer_subject(const tl_stream *s, char *buf, size_t cap)
{
    SSL *ssl = open_ssl(s);
    X509 *peer = ssl ? SSL_get0_peer_certificate(ssl) : NULL;
    if (!peer)
        return TL_ENOENT;
    BIO *mem = BIO_new(BIO_s_mem());
    if (!mem)
        return TL_ENOMEM;
    X509_NAME_print_ex(mem, X509_get_subject_name(peer), 0, XN_FLAG_RFC2253);
    char *p;
    long n = BIO_get_mem_data(mem, &p);
    ssize_t rc = TL_ENOBUFS;
    if (n >= 0 && (size_t)n < cap) {
        memcpy(buf, p, (size_t)n);
        buf[n] = '\0';
        rc = n;
    }
    BIO_free(mem);
    ERR_clear_error();
    return rc;
}

bool tl_stream_tls_resumed(const tl_stream *s)
{
    SSL *ssl = open_ssl(s);
    return ssl && SSL_session_reused(ssl);
}
