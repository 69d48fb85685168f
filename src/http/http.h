/* The HTTP/1.1 server's insides, shared by its files (server*.c) and by
 * nothing else: built on tulip's public stream, server and task API alone,
 * as a user's server would be, with parse.h for the bytes.
 *
 * A connection is one task (tl_start_server's handler) that owns a
 * tl__http_conn on its own stack: its input buffer, which keeps the bytes
 * after one request for the next (pipelining), the current request's head,
 * parsed in place, and the output buffer where a response is gathered so
 * that a small one leaves in one write. */
#ifndef TL_HTTP_H
#define TL_HTTP_H

#include <tulip.h>
#include <tulip/http.h>
#include <tulip/tls.h>

#include "../ctx/alloc.h"
#include "parse.h"

typedef struct tl__http_conn tl__http_conn;

struct tl_http_server {
    tl_http_handler handler;
    void *arg;
    tl_http_server_opts o; /* every default filled in */
    tl__http_limits lim;
    tl_server *srv;
    tl__http_conn *conns; /* the open connections, for shutdown */
    size_t nconns;
    unsigned refs; /* the owner's and one per connection: a connection outlives free */
    bool shutting_down;
};

typedef enum body_state {
    BODY_LENGTH,     /* remaining bytes of a Content-Length body (0: none) */
    BODY_CHUNK_SIZE, /* before a chunk-size line */
    BODY_CHUNK_DATA, /* remaining bytes of a chunk */
    BODY_CHUNK_END,  /* the CRLF after a chunk's data */
    BODY_TRAILERS,   /* the trailer section after the last chunk */
    BODY_DONE,
    BODY_FAILED /* error holds the read's result */
} body_state;

struct tl_http_req {
    tl__http_conn *c;
    tl__http_head head;
    tl__http_framing fr;
    const char *path, *query;
    body_state state;
    uint64_t remaining, total;
    size_t trailer_bytes;
    int error;
    bool continue_sent;
};

struct tl_http_resp {
    tl__http_conn *c;
    int status;
    char *hdrs; /* the handler's header lines, "Name: value\r\n" each */
    size_t hlen, hcap;
    uint64_t length, written; /* a Content-Length the handler added, and the bytes sent */
    bool started, ended, failed;
    bool has_length, user_date, user_close, chunked, no_body;
};

struct tl__http_conn {
    tl_http_server *hs;
    tl_stream *s;
    tl_task *task;
    tl__http_conn *prev, *next;
    char *buf; /* input: unread bytes are buf[start, end) */
    size_t cap, start, end;
    char *hbuf; /* the current head, copied out of buf and parsed in place */
    size_t hcap;
    tl__http_field *fields;
    char *obuf; /* a response head (and a small body) gathered for one write */
    size_t ocap;
    tl_timeout wait; /* the idle wait's scope: shutdown ends it early */
    bool idle;
    bool keep;   /* the connection stays open after this response */
    bool broken; /* framing failed or a write did: close after this response */
    int reject;  /* the status a failed body read leaves for the server to answer */
    unsigned nreq;
    double accepted;
    tl_http_req req;
    tl_http_resp resp;
};

/* The stream's high-water mark, set on every connection: a write waits (within
 * write_timeout) only above it. */
#define TL__HTTP_WRITE_HIGH ((size_t)64 * 1024)

/* server.c: the server's list of connections; unlinking drops the connection's
 * reference to the server, which may free it */
void tl__http_conn_link(tl_http_server *hs, tl__http_conn *c);
void tl__http_conn_unlink(tl_http_server *hs, tl__http_conn *c);

/* server_conn.c: the connection task (tl_conn_fn) */
int tl__http_conn_main(tl_stream *s, void *arg);

/* server_input.c: the input buffer */
/* suspends; reads more into c->buf, holding at most limit bytes unread: the count
 * (> 0), 0 at EOF, TL_ENOBUFS (limit reached), TL_ENOMEM, the stream's errors */
ssize_t tl__http_fill(tl__http_conn *c, size_t limit);
/* suspends; the next CRLF-ended line, at most max bytes without its CRLF: its length
 * with *line pointing at it in c->buf (valid until the next fill), the line consumed;
 * TL_EPROTO (a bare CR or LF, or a longer line), TL_EOF, errors as tl__http_fill */
ssize_t tl__http_line(tl__http_conn *c, size_t max, const char **line);

/* server_req.c */
void tl__http_req_init(tl_http_req *req, tl__http_conn *c);
/* suspends; reads and drops the unread body, at most max bytes: 0, or an error
 * (the body is longer, or broken: the connection must close) */
int tl__http_req_drain(tl_http_req *req, size_t max);
bool tl__http_req_body_done(const tl_http_req *req);

/* server_resp.c */
void tl__http_resp_init(tl_http_resp *resp, tl__http_conn *c);
void tl__http_resp_destroy(tl_http_resp *resp);
/* suspends; a response the server makes itself (a rejection, a 500): status, a short
 * text body, Connection: close when the connection will close */
int tl__http_resp_simple(tl_http_resp *resp, int status);
/* suspends; writes n bytes of c->obuf and waits (within write_timeout) while the
 * client is slow to take them */
int tl__http_write(tl__http_conn *c, const void *data, size_t n);
const char *tl__http_reason(int status);

/* server_date.c: "Date: <IMF-fixdate>\r\n", at most a second old */
const char *tl__http_date_line(size_t *len);

#endif
