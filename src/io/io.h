/* What the I/O layer shares: the stream's insides (servers make streams from
 * accepted sockets, process pipes, file streams) and address helpers. */
#ifndef TL_IO_H
#define TL_IO_H

#include <netdb.h>
#include <netinet/in.h>
#include <sys/un.h>

#include "../core/internal.h"

enum tl__stream_flags {
    TL__S_TCP = 1 << 0,
    TL__S_READING = 1 << 1,    /* uv_read_start is in effect */
    TL__S_EOF = 1 << 2,        /* reading has ended: EOF, an error, or close */
    TL__S_WRITE_EOF = 1 << 3,  /* tl_stream_write_eof was called */
    TL__S_SHUT_SENT = 1 << 4,  /* uv_shutdown was issued */
    TL__S_CLOSING = 1 << 5,    /* close asked for: the socket closes once writes are sent */
    TL__S_UV_CLOSING = 1 << 6, /* uv_close was called */
    TL__S_CLOSED = 1 << 7,     /* its close callback ran */
    TL__S_RELEASED = 1 << 8,   /* the owner gave the handle up */
    TL__S_FILE = 1 << 9,       /* reads a file (src/os/file_stream.c): no libuv handle */
};

typedef struct tl__filesrc tl__filesrc;

enum tl__need { TL__NEED_ANY, TL__NEED_EXACT, TL__NEED_SEP };

struct tl_stream {
    union {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_tcp_t tcp;
        uv_pipe_t pipe;
    } uv;
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
    bool hold;     /* a direct read filled the reader's buffer: no read-ahead this turn */
    bool declined; /* alloc_cb declined on purpose: the UV_ENOBUFS that follows is not an error */

    /* write side: at most one uv_write in flight (fbuf); later writes gather in wbuf */
    char *wbuf, *fbuf;
    size_t wlen, wcap, flen, fcap;
    size_t high_water;
    uv_write_t wreq;
    uv_shutdown_t sreq;
    tl__wlist drainers;
    tl__wlist closers;

    /* connecting */
    uv_connect_t creq;
    tl_task *connector;
    int connect_status;

    /* TL__S_FILE: where the bytes come from */
    tl__filesrc *file;

    /* a server's connection */
    tl_server *server;
    tl_stream *conn_prev, *conn_next;
    tl_task *handler;
};

typedef enum { TL__STREAM_TCP, TL__STREAM_PIPE, TL__STREAM_FILE } tl__stream_kind;
/* A new stream attached to its loop, its handle initialized (a TCP socket
 * with Nagle off) but not yet opened or connected, or reading file (which it
 * then owns): NULL when memory runs out. The owner holds one reference and
 * the handle another; tl__stream_release undoes it. */
tl_stream *tl__stream_new(tl_loop *loop, tl__stream_kind kind, tl__filesrc *file);
/* Starts reading ahead (a connected stream); 0 or a libuv error. */
int tl__stream_start(tl_stream *s);
/* Closes s once its writes are sent (at once if none are, or it broke). */
void tl__stream_begin_close(tl_stream *s);
/* Closes the handle now, buffered writes or not. */
void tl__stream_close_now(tl_stream *s);
void tl__stream_ref(tl_stream *s);
void tl__stream_unref(tl_stream *s);
/* Gives up the owner's reference, closing the stream first. */
void tl__stream_release(tl_stream *s);

/* A file stream's source hands over what a read gave: n bytes of data, or
 * reading's end (0: the end of the file, < 0: an error). */
void tl__stream_feed(tl_stream *s, const char *data, ssize_t n);
/* The handle (or a file stream's file) is closed: as libuv's close callback. */
void tl__stream_closed(tl_stream *s);
/* TL__S_FILE: start a read unless one is in flight; closes the file once none
 * is (the source calls tl__stream_closed then). */
void tl__filesrc_read(tl_stream *s);
void tl__filesrc_close(tl_stream *s);

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
