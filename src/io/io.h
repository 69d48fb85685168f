/* What the I/O layer shares: the stream's insides (servers make streams from
 * accepted sockets, process pipes, file streams) and address helpers. */
#ifndef TL_IO_H
#define TL_IO_H

#include <netdb.h>
#include <netinet/in.h>
#include <sys/un.h>

#include "../core/internal.h"
#include "transport.h"

enum tl__stream_flags {
    TL__S_TCP = 1 << 0,
    TL__S_READING = 1 << 1,    /* the transport's reading is started */
    TL__S_EOF = 1 << 2,        /* reading has ended: EOF, an error, or close */
    TL__S_WRITE_EOF = 1 << 3,  /* tl_stream_write_eof was called */
    TL__S_SHUT_SENT = 1 << 4,  /* the transport's shutdown was issued */
    TL__S_CLOSING = 1 << 5,    /* close asked for: the transport closes once writes are sent */
    TL__S_TP_CLOSING = 1 << 6, /* the transport's close was called */
    TL__S_CLOSED = 1 << 7,     /* its closed event came */
    TL__S_RELEASED = 1 << 8,   /* the owner gave the handle up */
    TL__S_ABORT = 1 << 9,      /* aborted (or torn down): the transport closes without ceremony */
};

enum tl__need { TL__NEED_ANY, TL__NEED_EXACT, TL__NEED_SEP };

struct tl_stream {
    tl__transport *tp; /* what moves the bytes: &sock.base, or a file's or TLS's */
    tl__sock sock;     /* a TCP or pipe stream's socket */
    tl_loop *loop;
    tl__attached attached;
    unsigned refs; /* the owner, the open handle, each task parked on it */
    unsigned flags;
    int read_error;  /* what ended reading, when not a plain EOF */
    int write_error; /* sticky: the connection broke */

    /* read side: bytes rbuf[rstart, rend) are buffered */
    char *rbuf;
    size_t rstart, rend, rcap;
    size_t limit;
    tl_task *reader;
    uint8_t need_kind;
    size_t need;     /* NEED_EXACT: bytes */
    const char *sep; /* NEED_SEP */
    size_t seplen;
    size_t scan_max; /* NEED_SEP: the longest chunk allowed, separator included */
    size_t scanned;  /* NEED_SEP: bytes from rstart known not to start a match */
    size_t found;    /* NEED_SEP: the chunk's length once found, else 0 */
    char *direct;    /* tl_stream_read's buffer, read into without a copy */
    size_t direct_cap;
    ssize_t direct_got;
    bool hold; /* a direct read filled the reader's buffer: no read-ahead this turn */

    /* write side: at most one uv_write in flight (fbuf); later writes gather in wbuf */
    char *wbuf, *fbuf;
    size_t wlen, wcap, flen, fcap;
    size_t high_water;
    tl__wlist drainers;
    tl__wlist closers;

    /* connecting */
    uv_connect_t creq;
    tl_task *connector;
    int connect_status;

    /* a server's connection */
    tl_server *server;
    tl_stream *conn_prev, *conn_next;
    tl_task *handler;
};

typedef enum { TL__STREAM_TCP, TL__STREAM_PIPE, TL__STREAM_OVER } tl__stream_kind;
/* A new stream attached to its loop: over its own socket (TCP, with Nagle
 * off, or a pipe), initialized but not yet opened or connected; or OVER the
 * transport tp, which it then owns and closes. NULL when memory runs out.
 * The owner holds one reference and the transport another (dropped at its
 * closed event); tl__stream_release undoes it. */
tl_stream *tl__stream_new(tl_loop *loop, tl__stream_kind kind, tl__transport *tp);
/* Starts reading ahead (a connected stream); 0 or the transport's error. */
int tl__stream_start(tl_stream *s);
/* Closes s once its writes are sent (at once if none are, or it broke). */
void tl__stream_begin_close(tl_stream *s);
/* Closes the transport now, buffered writes or not. */
void tl__stream_close_now(tl_stream *s);
void tl__stream_ref(tl_stream *s);
void tl__stream_unref(tl_stream *s);
/* Gives up the owner's reference, closing the stream first. */
void tl__stream_release(tl_stream *s);
/* Suspends until every buffered write has been sent: 0, the write error,
 * TL_ECANCELED, TL_ETIMEDOUT. */
int tl__stream_flush(tl_stream *s, tl_task *self);
/* Stops reading ahead until tl__stream_start. */
void tl__stream_pause(tl_stream *s);
/* rc, with the transport's reason made tl_error_detail() when rc is one of
 * tulip's own codes (TLS's). */
int tl__stream_detail(const tl_stream *s, int rc);

/* Resolves host:port for socktype (getaddrinfo flags added): suspends unless
 * host is numeric, which skips the thread pool. 0 and a list to free with
 * tl_freeaddrinfo, TL_EINVAL (port), or as tl_getaddrinfo. */
int tl__resolve(const char *host, int port, int socktype, int flags, struct addrinfo **res);
socklen_t tl__addr_len(const struct sockaddr *sa);

/* Every interface on port, for a NULL or "" host: "::" first, then
 * "0.0.0.0" (for a system without IPv6, or beside an IPv6-only socket). */
typedef struct tl__wildcard {
    struct sockaddr_in6 any6;
    struct sockaddr_in any4;
    struct addrinfo a6, a4;
} tl__wildcard;
/* The list a6 -> a4, kept in *w. */
struct addrinfo *tl__wildcard_list(tl__wildcard *w, int port);

#endif
