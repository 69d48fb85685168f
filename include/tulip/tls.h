/* tulip/tls.h: TLS on tulip streams (asyncio's ssl= arguments), on OpenSSL.
 * Include it after <tulip.h>.
 *
 * A TLS stream is a tl_stream: every read, write, drain, write_eof and
 * close works on it as on a plain one. The handshake always completes
 * inside the call that makes the stream (tl_open_connection_ex, a server's
 * accept, tl_stream_start_tls), so a stream a program holds is either
 * verified and ready or was never handed out.
 *
 * EOF: the peer's close_notify is a clean EOF (reads return 0). A TCP close
 * without it is TL_ETRUNCATED (the peer may have been cut off mid-message)
 * unless tl_stream_allow_truncation was called, as HTTP does, whose framing
 * finds truncation itself. tl_stream_close sends close_notify and waits for
 * the peer's at most the shutdown timeout; tl_stream_abort sends nothing.
 * tl_stream_write_eof sends close_notify and then a TCP FIN, and reading goes
 * on (TLS 1.3's half-close, as Node.js does); nothing can be written after.
 *
 * Errors: TL_ECERT when the peer's certificate failed verification,
 * TL_ETLS for any other TLS failure, each with OpenSSL's reason in
 * tl_error_detail().
 */
#ifndef TULIP_TLS_H
#define TULIP_TLS_H

#include <tulip.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================
 * Contexts (ssl.SSLContext)
 *
 * A context holds the settings and certificates that connections share. It
 * is reference-counted and may be used by every loop and thread at once;
 * set it up before its first connection, since changing it while
 * connections are made from other threads is not safe.
 * ====================================================================== */

typedef struct tl_tls_ctx tl_tls_ctx;

/* ssl.create_default_context(): verification on, the system's CA store, TLS 1.2 at
 * least; NULL when memory runs out */
TL_EXTERN tl_tls_ctx *tl_tls_client_ctx_new(void);
/* a server's context with its certificate chain and key (PEM files): NULL on
 * failure, with OpenSSL's reason in tl_error_detail() */
TL_EXTERN tl_tls_ctx *tl_tls_server_ctx_new(const char *cert_file, const char *key_file);
/* trust the CAs in cafile and/or the hashed directory capath (either may be NULL) as
 * well; 0, TL_ETLS (unreadable: detail says why), TL_EINVAL (both NULL) */
TL_EXTERN int tl_tls_ctx_load_ca(tl_tls_ctx *ctx, const char *cafile, const char *capath);
/* the certificate chain and key this side presents (a client's certificate); 0, TL_ETLS */
TL_EXTERN int tl_tls_ctx_load_cert(tl_tls_ctx *ctx, const char *cert_file, const char *key_file);

typedef enum tl_tls_verify {
    TL_TLS_VERIFY_NONE,     /* no check at all: only when asked for (ssl.CERT_NONE) */
    TL_TLS_VERIFY_OPTIONAL, /* a server: asks for a client certificate, checks one if sent */
    TL_TLS_VERIFY_REQUIRED, /* the default for clients; a server: a client certificate required */
} tl_tls_verify;
/* 0, TL_EINVAL */
TL_EXTERN int tl_tls_ctx_set_verify(tl_tls_ctx *ctx, tl_tls_verify mode);
/* ALPN, most preferred first ("h2", "http/1.1"): a client offers them, a server picks
 * the first of its own the client offers (none in common: no ALPN, not an error);
 * 0, TL_EINVAL (an empty or over-255-byte name, n 0), TL_ENOMEM */
TL_EXTERN int tl_tls_ctx_set_alpn(tl_tls_ctx *ctx, const char *const *protocols, size_t n);
TL_EXTERN tl_tls_ctx *tl_tls_ctx_retain(tl_tls_ctx *ctx);
TL_EXTERN void tl_tls_ctx_release(tl_tls_ctx *ctx);

/* ======================================================================
 * TLS streams
 * ====================================================================== */

#define TL_TLS_HANDSHAKE_TIMEOUT 60.0 /* seconds, as asyncio and nginx */
#define TL_TLS_SHUTDOWN_TIMEOUT  30.0 /* seconds, as asyncio */

/* Zeroed fields mean the defaults. */
typedef struct tl_connect_opts {
    const tl_tls_ctx *tls;        /* TLS over the connection; NULL: plain TCP */
    const char *server_hostname;  /* checked against the certificate, and sent as SNI
                                     when a name (not an IP literal); NULL: host */
    double tls_handshake_timeout; /* 0: TL_TLS_HANDSHAKE_TIMEOUT */
    double tls_shutdown_timeout;  /* 0: TL_TLS_SHUTDOWN_TIMEOUT */
} tl_connect_opts;

/* suspends; as tl_open_connection, and with opts->tls the handshake completes before it
 * returns: TL_ECERT, TL_ETLS (detail in tl_error_detail()), TL_ETIMEDOUT (handshake
 * timeout or a scope), TL_ECONNRESET (closed in the handshake), TL_EINVAL (an empty
 * server_hostname, a timeout < 0 or NaN). opts may be NULL. */
TL_EXTERN int tl_open_connection_ex(const char *host, int port, const tl_connect_opts *opts,
                                    tl_stream **out);
/* suspends; upgrades s in place (STARTTLS): its buffered writes go out first, and
 * bytes already read ahead go to TLS, never to the reader as plaintext. 0, errors as
 * tl_open_connection_ex, TL_EBUSY (a task is reading s), TL_EINVAL (TLS already, a
 * file). On failure s stays the caller's, every call on it fails; close it. */
TL_EXTERN int tl_stream_start_tls(tl_stream *s, const tl_tls_ctx *ctx, const char *server_hostname,
                                  bool server_side);
/* a TCP close without close_notify reads as a clean EOF instead of TL_ETRUNCATED */
TL_EXTERN void tl_stream_allow_truncation(tl_stream *s, bool allow);
/* after the handshake: "TLSv1.3", the cipher's name, the ALPN protocol agreed; NULL on a
 * plain stream (or no ALPN agreed) */
TL_EXTERN const char *tl_stream_tls_version(const tl_stream *s);
TL_EXTERN const char *tl_stream_tls_cipher(const tl_stream *s);
TL_EXTERN const char *tl_stream_alpn(const tl_stream *s);
/* the peer certificate's subject, one line ("CN=localhost"), into buf; its length,
 * TL_ENOENT (no certificate, or a plain stream), TL_ENOBUFS (cap too small) */
TL_EXTERN ssize_t tl_stream_peer_subject(const tl_stream *s, char *buf, size_t cap);
/* whether the TLS session was resumed rather than negotiated in full */
TL_EXTERN bool tl_stream_tls_resumed(const tl_stream *s);

#ifdef __cplusplus
}
#endif

#endif
