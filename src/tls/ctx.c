/* tl_tls_ctx: ssl.SSLContext over an OpenSSL SSL_CTX, reference-counted so
 * that every loop and thread can share one. */
#include <openssl/err.h>
#include <string.h>

#include "tls.h"

/* OpenSSL's first queued reason, as the detail of a failure. */
static int fail_with_detail(const char *what, const char *file)
{
    char reason[200];
    unsigned long e = ERR_peek_last_error();
    ERR_error_string_n(e, reason, sizeof reason);
    ERR_clear_error();
    tl__error_detail_set("%s%s%s: %s", what, file ? " " : "", file ? file : "",
                         e ? reason : "unknown error");
    return TL_ETLS;
}

static tl_tls_ctx *ctx_new(bool server)
{
    tl_tls_ctx *c = tl__calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->ssl = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (!c->ssl) {
        tl__free(c);
        return NULL;
    }
    atomic_init(&c->refs, 1);
    c->server = server;
    SSL_CTX_set_min_proto_version(c->ssl, TLS1_2_VERSION);
    /* Buffers move between calls (the stream's gathering); a renegotiation
     * needs SSL_write retried with the same bytes elsewhere. */
    SSL_CTX_set_mode(c->ssl, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_AUTO_RETRY);
    SSL_CTX_set_options(c->ssl, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    return c;
}

tl_tls_ctx *tl_tls_client_ctx_new(void)
{
    tl__error_detail_clear();
    tl_tls_ctx *c = ctx_new(false);
    if (!c)
        return NULL;
    SSL_CTX_set_verify(c->ssl, SSL_VERIFY_PEER, NULL);
    /* Debian's store: /etc/ssl/certs, or SSL_CERT_FILE / SSL_CERT_DIR. A
     * machine without one fails every verification, with a detail saying so. */
    SSL_CTX_set_default_verify_paths(c->ssl);
    ERR_clear_error();
    return c;
}

tl_tls_ctx *tl_tls_server_ctx_new(const char *cert_file, const char *key_file)
{
    tl__error_detail_clear();
    if (!cert_file || !key_file) {
        tl__error_detail_set("tl_tls_server_ctx_new: a certificate and a key are needed");
        return NULL;
    }
    tl_tls_ctx *c = ctx_new(true);
    if (!c)
        return NULL;
    SSL_CTX_set_verify(c->ssl, SSL_VERIFY_NONE, NULL);
    /* Client certificates and the session cache together need an id. */
    static const unsigned char sid[] = "tulip";
    SSL_CTX_set_session_id_context(c->ssl, sid, sizeof sid - 1);
    if (tl_tls_ctx_load_cert(c, cert_file, key_file)) {
        tl_tls_ctx_release(c);
        return NULL;
    }
    return c;
}

int tl_tls_ctx_load_ca(tl_tls_ctx *ctx, const char *cafile, const char *capath)
{
    tl__error_detail_clear();
    if (!cafile && !capath)
        return TL_EINVAL;
    ERR_clear_error();
    if (SSL_CTX_load_verify_locations(ctx->ssl, cafile, capath) != 1)
        return fail_with_detail("cannot load CA", cafile ? cafile : capath);
    if (ctx->server && cafile) /* the names a server asks client certificates for */
        SSL_CTX_set_client_CA_list(ctx->ssl, SSL_load_client_CA_file(cafile));
    return 0;
}

int tl_tls_ctx_load_cert(tl_tls_ctx *ctx, const char *cert_file, const char *key_file)
{
    tl__error_detail_clear();
    if (!cert_file || !key_file)
        return TL_EINVAL;
    ERR_clear_error();
    if (SSL_CTX_use_certificate_chain_file(ctx->ssl, cert_file) != 1)
        return fail_with_detail("cannot load certificate", cert_file);
    if (SSL_CTX_use_PrivateKey_file(ctx->ssl, key_file, SSL_FILETYPE_PEM) != 1)
        return fail_with_detail("cannot load key", key_file);
    if (SSL_CTX_check_private_key(ctx->ssl) != 1)
        return fail_with_detail("key does not match certificate", cert_file);
    return 0;
}

int tl_tls_ctx_set_verify(tl_tls_ctx *ctx, tl_tls_verify mode)
{
    int m;
    switch (mode) {
    case TL_TLS_VERIFY_NONE:
        m = SSL_VERIFY_NONE;
        break;
    case TL_TLS_VERIFY_OPTIONAL:
        m = SSL_VERIFY_PEER;
        break;
    case TL_TLS_VERIFY_REQUIRED:
        m = SSL_VERIFY_PEER | (ctx->server ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0);
        break;
    default:
        return TL_EINVAL;
    }
    SSL_CTX_set_verify(ctx->ssl, m, NULL);
    return 0;
}

/* A server's ALPN choice: its own first preference that the client offers. */
static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned inlen, void *arg)
{
    (void)ssl;
    tl_tls_ctx *c = arg;
    unsigned char *chosen;
    if (SSL_select_next_proto(&chosen, outlen, c->alpn, (unsigned)c->alpn_len, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = chosen;
    return SSL_TLSEXT_ERR_OK;
}

int tl_tls_ctx_set_alpn(tl_tls_ctx *ctx, const char *const *protocols, size_t n)
{
    if (!protocols || n == 0)
        return TL_EINVAL;
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = protocols[i] ? strlen(protocols[i]) : 0;
        if (k == 0 || k > 255)
            return TL_EINVAL;
        len += 1 + k;
    }
    unsigned char *wire = tl__malloc(len);
    if (!wire)
        return TL_ENOMEM;
    unsigned char *p = wire;
    for (size_t i = 0; i < n; i++) {
        size_t k = strlen(protocols[i]);
        *p++ = (unsigned char)k;
        memcpy(p, protocols[i], k);
        p += k;
    }
    if (!ctx->server && SSL_CTX_set_alpn_protos(ctx->ssl, wire, (unsigned)len) != 0) {
        tl__free(wire); /* set_alpn_protos: 0 is success */
        return TL_ENOMEM;
    }
    tl__free(ctx->alpn);
    ctx->alpn = wire;
    ctx->alpn_len = len;
    if (ctx->server)
        SSL_CTX_set_alpn_select_cb(ctx->ssl, select_alpn, ctx);
    return 0;
}

tl_tls_ctx *tl_tls_ctx_retain(tl_tls_ctx *ctx)
{
    atomic_fetch_add_explicit(&ctx->refs, 1, memory_order_relaxed);
    return ctx;
}

void tl_tls_ctx_release(tl_tls_ctx *ctx)
{
    if (!ctx || atomic_fetch_sub_explicit(&ctx->refs, 1, memory_order_acq_rel) != 1)
        return;
    SSL_CTX_free(ctx->ssl);
    tl__free(ctx->alpn);
    tl__free(ctx);
}
