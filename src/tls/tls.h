/* The TLS layer's insides: the context (ctx.c), the transport that sits
 * between a stream and its socket (transport.c), and the calls that put it
 * there and wait for the handshake (start.c). */
#ifndef TL_TLS_INTERNAL_H
#define TL_TLS_INTERNAL_H

#include <openssl/ssl.h>
#include <stdatomic.h>

#include "../io/io.h"
#include "tulip/tls.h"

struct tl_tls_ctx {
    SSL_CTX *ssl;
    atomic_uint refs;
    bool server;
    unsigned char *alpn; /* the wire format (length-prefixed names), for a server's choice */
    size_t alpn_len;
};

/* Where a TLS connection is in its life. Only forward moves, and any state
 * may go to DEAD (a fatal error, an abort). */
typedef enum {
    TL__TLS_HANDSHAKE,
    TL__TLS_OPEN,
    TL__TLS_CLOSING, /* close_notify sent on close: discarding until the peer's, or a timeout */
    TL__TLS_DEAD,    /* no more OpenSSL calls except SSL_free */
} tl__tls_state;

typedef struct tl__tls {
    tl__transport base;   /* what the stream sees */
    tl__transport *lower; /* the socket under it, owned */
    tl_loop *loop;
    tl_tls_ctx *ctx;
    SSL *ssl;
    BIO *in, *out; /* ciphertext from the network, to the network */
    uint8_t state;
    bool server;
    bool up_reading;    /* the stream wants bytes */
    bool up_read_ended; /* the stream has had its end of reading */
    bool lower_reading;
    bool lower_eof;     /* the socket's reading has ended */
    bool lower_writing; /* obuf is the socket's write in flight */
    bool written_due;   /* the stream awaits a written event */
    bool shut_due;      /* write_eof: the socket's shutdown once ciphertext is out */
    bool allow_truncation;
    bool pumping, again;
    bool close_requested; /* the stream closed it: the socket closes once TLS is done */
    bool lower_closing;   /* the socket's close was called: nothing more goes to it */
    int error;            /* sticky: what broke the connection */
    int lower_error;      /* how the socket's reading ended, when not TL_EOF */
    char *obuf;
    size_t olen, ocap;
    const char *pw; /* a write SSL_write must retry (renegotiation wants a read) */
    size_t pwn;
    tl_task *hs_task; /* the task waiting for the handshake */
    int hs_result;
    double shutdown_timeout;
    tl__timer kick;     /* a pump on the next loop turn, never from inside a call */
    tl__timer deadline; /* the handshake's or the close's timeout */
    char detail[256];   /* OpenSSL's reason for error */
    char alpn[64];
} tl__tls;

/* A TLS transport over lower for the stream s (taking lower's events); NULL
 * when memory runs out. hostname must not be empty or start with a dot.
 * Starts no I/O. */
tl__tls *tl__tls_new(tl_stream *s, tl__transport *lower, const tl_tls_ctx *ctx, bool server,
                     const char *hostname, double shutdown_timeout);
/* Frees a TLS transport that never started (lower's events go back to s). */
void tl__tls_discard(tl__tls *t);
/* Feeds bytes read ahead as plaintext into TLS's input. */
int tl__tls_feed(tl__tls *t, const char *p, size_t n);
/* Starts the handshake and parks self until it ends, at most timeout
 * seconds: 0 or an error (detail in t->detail). */
int tl__tls_handshake(tl__tls *t, tl_task *self, double timeout);
/* The TLS transport under s, or NULL for a plain stream. */
tl__tls *tl__tls_of(const tl_stream *s);

/* Server side of an accepted stream: the handshake before the handler. */
int tl__stream_start_tls_ex(tl_stream *s, const tl_tls_ctx *ctx, const char *hostname,
                            bool server_side, double handshake_timeout, double shutdown_timeout);

#endif
