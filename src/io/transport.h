/* A transport moves a stream's bytes; the stream (stream.c) keeps the read
 * buffer, the readers' needs, flow control and write gathering.
 *
 * Three transports: a libuv socket or pipe (sock.c), a file read on the
 * thread pool (src/os/file_stream.c), and TLS over another transport. A
 * transport talks to the layer above it only through the events that layer
 * registered, so TLS can sit between a socket and a stream, taking the
 * socket's events and giving the stream its own.
 *
 * Reads go straight into memory the layer above lends (read_buf): a
 * stream lends a waiting reader's own buffer when it has one, so the bytes
 * go from the kernel to the caller without a copy. At most one write is in
 * flight; the layer above keeps what gathers meanwhile. */
#ifndef TL_TRANSPORT_H
#define TL_TRANSPORT_H

#include <stdbool.h>
#include <sys/types.h>
#include <uv.h>

typedef struct tl__transport tl__transport;

/* read_buf's answer when the layer above wants nothing read this turn: the
 * bytes stay in the kernel and reading goes on at the next poll. */
#define TL__READ_DECLINE 1

typedef struct tl__transport_events {
    /* Where the next read goes: 0 with *base and *len set, TL_ENOMEM
     * (reading then ends with it), or, only when may_decline (the bytes can
     * stay where they are: in the kernel, in TLS's input), TL__READ_DECLINE. */
    int (*read_buf)(void *up, bool may_decline, char **base, size_t *len);
    /* n > 0 bytes arrived at base (from read_buf); n < 0: reading has ended
     * with TL_EOF or an error, and no further read event follows. */
    void (*read)(void *up, char *base, ssize_t n);
    /* What the transport took has all been sent (the write in flight, and
     * bytes counted in queued): 0 or an error. */
    void (*written)(void *up, int status);
    /* The shutdown has finished: 0 or an error. */
    void (*shut)(void *up, int status);
    /* The transport is closed and will call nothing again. */
    void (*closed)(void *up);
} tl__transport_events;

typedef struct tl__transport_ops {
    int (*read_start)(tl__transport *t); /* 0 or an error */
    void (*read_stop)(tl__transport *t);
    /* Writes what it can now without waiting: bytes taken (0: none), or an
     * error. Bytes taken but not yet sent are counted in queued, and a
     * written event follows once they are. NULL for a read-only transport,
     * as are write and shutdown. */
    ssize_t (*try_write)(tl__transport *t, const char *p, size_t n);
    /* Starts the one write in flight; p stays valid until written. 0 or an
     * error (then no written event follows). */
    int (*write)(tl__transport *t, const char *p, size_t n);
    /* Ends the write side once the write in flight is done: 0 or an error
     * (then no shut event follows). */
    int (*shutdown)(tl__transport *t);
    /* Starts closing; the closed event follows, never from inside close.
     * graceful: the peer is told properly (TLS's close_notify), at the cost
     * of a bounded wait; else the connection is dropped at once. Called
     * again, not graceful, it cuts a graceful close short (the loop is
     * going); any other second call does nothing. */
    void (*close)(tl__transport *t, bool graceful);
    /* The libuv stream under it, for addresses and socket options; NULL
     * when there is none. */
    uv_stream_t *(*socket)(tl__transport *t);
    /* The reason behind the last of tulip's own errors (TL_ETLS, ...) it
     * reported, for tl_error_detail(); NULL, or no such op: none. */
    const char *(*detail)(tl__transport *t);
} tl__transport_ops;

struct tl__transport {
    const tl__transport_ops *ops;
    const tl__transport_events *ev;
    void *up;      /* the layer above, passed to each event */
    size_t queued; /* bytes taken that wait inside the transport (TLS's ciphertext) */
};

/* For a transport whose bytes arrive in its own memory (a file's chunk):
 * copies n bytes through read_buf and read, as often as it takes. n <= 0
 * ends reading (0: TL_EOF). */
void tl__transport_deliver(tl__transport *t, const char *data, ssize_t n);

/* ---- the libuv socket or pipe (sock.c) ---- */

typedef struct tl__sock {
    tl__transport base;
    union {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_tcp_t tcp;
        uv_pipe_t pipe;
    } uv;
    uv_write_t wreq;
    uv_shutdown_t sreq;
    bool declined; /* read_buf declined on purpose: the UV_ENOBUFS that follows is not an error */
} tl__sock;

/* Initializes the handle (a TCP one with Nagle off, or a pipe), neither open
 * nor connected yet. */
void tl__sock_init(tl__sock *k, uv_loop_t *loop, bool tcp);

#endif
