/* tulip/http.h: HTTP on tulip streams. Include it after <tulip.h>.
 *
 * Each section is a part of the HTTP layer: the embedded HTTP/1.1 server
 * (aiohttp.web's job) and, beside it, the HTTP client. Every call follows
 * tulip's rules: negative TL_E* codes, suspension points that return
 * TL_ECANCELED and TL_ETIMEDOUT, one line per prototype that says so.
 */
#ifndef TULIP_HTTP_H
#define TULIP_HTTP_H

#include <tulip.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================
 * HTTP server
 *
 * aiohttp.web's server on tulip streams: one task per connection runs the
 * handler once per request, in order (keep-alive, pipelining). The server
 * parses and checks each request head itself and answers what it rejects
 * (400, 408, 413, 414, 417, 431, 501, 505, then closes): a handler only
 * ever sees a well-formed request. Inside the handler the body is read
 * streamed (tl_http_req_read) or whole (tl_http_req_body), and the response
 * goes out in one call (tl_http_resp_send) or streamed (tl_http_resp_write
 * and tl_http_resp_end: chunked for HTTP/1.1, up to the close for 1.0).
 *
 * A handler that returns without responding gets a 500 sent for it; one that
 * returns an error after its response began has its connection closed, so
 * the client sees the response cut short rather than a wrong one. A req or
 * resp pointer is valid only while its handler runs.
 *
 * Timeouts are the server's own timeout scopes around each wait: the request
 * head (408), the body between bytes, the keep-alive idle wait (a silent
 * close), each write. tl_http_server_shutdown closes gracefully.
 * ====================================================================== */

struct tl_tls_ctx;
typedef struct tl_http_server tl_http_server;
typedef struct tl_http_req tl_http_req;
typedef struct tl_http_resp tl_http_resp;

/* Runs in the connection's task, once per request. Its result: >= 0, or a negative
 * TL_E* code (after the response began, that closes the connection). */
typedef int (*tl_http_handler)(tl_http_req *req, tl_http_resp *resp, void *arg);

/* Zeroed fields mean the defaults (in brackets). */
typedef struct tl_http_server_opts {
    tl_server_opts server; /* the stream server's options (backlog, reuse_port, ...) */
    /* HTTPS: a server context (tulip/tls.h); each connection's handshake comes
     * before its first request, within server.tls_handshake_timeout [60 s] */
    const struct tl_tls_ctx *tls;
    size_t max_head;       /* request line and headers, bytes [16 KiB]; more is 431 */
    size_t max_line;       /* the request line alone [8 KiB]; more is 414 */
    size_t max_headers;    /* header fields [100]; more is 431 */
    size_t max_body;       /* a request body, bytes [1 MiB]; more is 413 */
    size_t max_drain;      /* an unread body read and dropped to keep the connection [256 KiB] */
    unsigned max_requests; /* per connection, then Connection: close [1000] */
    double head_timeout;   /* from accept (first request) or first byte, to the head's end [30 s] */
    double body_timeout;   /* idle time between body bytes [30 s] */
    double idle_timeout;   /* keep-alive wait for the next request [75 s] */
    double write_timeout;  /* one response write waiting for the client [30 s] */
    double linger;         /* after an error response, reading before the close [0.5 s] */
    size_t stack_size;     /* the connection tasks' stacks [TL_STACK_DEFAULT] */
} tl_http_server_opts;

/* never suspends (a host name suspends for its lookup); 0 and a serving server in *out,
 * errors as tl_start_server, TL_EINVAL
 * (handler NULL), TL_ENOMEM. opts may be NULL. */
TL_EXTERN int tl_http_server_start(tl_http_handler handler, void *arg, const char *host, int port,
                                   const tl_http_server_opts *opts, tl_http_server **out);
/* the port the server listens on */
TL_EXTERN int tl_http_server_port(const tl_http_server *srv);
/* connections open now */
TL_EXTERN size_t tl_http_server_connections(const tl_http_server *srv);
/* suspends until every connection has ended: stops accepting, closes idle keep-alive
 * connections, lets the requests in flight finish (their responses carry
 * Connection: close) for up to grace seconds, then cancels the rest and waits for them;
 * 0, TL_ETIMEDOUT (grace ran out and connections were cancelled), TL_ECANCELED */
TL_EXTERN int tl_http_server_shutdown(tl_http_server *srv, double grace);
/* never suspends; closes the server, cancels the connections still open (they end on
 * their own) and gives up the handle */
TL_EXTERN void tl_http_server_free(tl_http_server *srv);

/* never suspend: the request's head, as parsed ("GET"; the target as sent, "/a?b=1";
 * its path "/a" and query "b=1", "" when there is none) */
TL_EXTERN const char *tl_http_req_method(const tl_http_req *req);
TL_EXTERN const char *tl_http_req_target(const tl_http_req *req);
TL_EXTERN const char *tl_http_req_path(const tl_http_req *req);
TL_EXTERN const char *tl_http_req_query(const tl_http_req *req);
/* 10 for HTTP/1.0, 11 for HTTP/1.1 */
TL_EXTERN int tl_http_req_version(const tl_http_req *req);
/* the first header named name (case-insensitive), NULL when there is none */
TL_EXTERN const char *tl_http_req_header(const tl_http_req *req, const char *name);
/* how many header fields; the i-th (in order) in *name and *value: 0, TL_ERANGE */
TL_EXTERN size_t tl_http_req_header_count(const tl_http_req *req);
TL_EXTERN int tl_http_req_header_at(const tl_http_req *req, size_t i, const char **name,
                                    const char **value);
/* the declared Content-Length, -1 for a chunked body, 0 for none */
TL_EXTERN int64_t tl_http_req_content_length(const tl_http_req *req);
/* suspends while no body byte is there; up to n bytes of the body, 0 at its end; sends
 * 100 Continue first if the client waits for it; TL_EMSGSIZE (a chunked body over
 * max_body: the server answers 413 if the handler does not respond), TL_EPROTO (bad
 * chunked framing: the server answers 400), TL_EOF (the client closed mid-body),
 * TL_ETIMEDOUT (body_timeout, or a scope), TL_ECANCELED, a read error */
TL_EXTERN ssize_t tl_http_req_read(tl_http_req *req, void *buf, size_t n);
/* suspends; 0 and the whole body in *data (malloc'd, NUL-terminated beyond *len; free
 * it with free; an empty body is "" ), errors as tl_http_req_read, TL_ENOMEM */
TL_EXTERN int tl_http_req_body(tl_http_req *req, char **data, size_t *len);

/* never suspends; the status for tl_http_resp_write's head [200]; 0, TL_EINVAL (outside
 * 200..999), TL_EALREADY (the head went out) */
TL_EXTERN int tl_http_resp_set_status(tl_http_resp *resp, int status);
/* never suspends; adds "name: value" to the head; 0, TL_EINVAL (a name that is not a
 * token, a value with CR, LF or another control byte, or Transfer-Encoding, which the
 * server sets), TL_EALREADY (the head went out), TL_ENOMEM. A Content-Length added here
 * makes tl_http_resp_write send exactly that many bytes without chunking. */
TL_EXTERN int tl_http_resp_add_header(tl_http_resp *resp, const char *name, const char *value);
/* suspends while the client is slow to take it; the whole response: status, the added
 * headers, Content-Type (unless NULL), Content-Length and body (none for HEAD, 1xx, 204,
 * 304); 0, TL_EINVAL (status outside 200..999), TL_EALREADY (a response began), the
 * connection's error (TL_EPIPE, TL_ECONNRESET), TL_ETIMEDOUT (write_timeout),
 * TL_ECANCELED, TL_ENOMEM */
TL_EXTERN int tl_http_resp_send(tl_http_resp *resp, int status, const char *content_type,
                                const void *body, size_t len);
/* suspends as tl_http_resp_send; n bytes of a streamed body (the head goes out with the
 * first call); 0, TL_EALREADY (ended), TL_EMSGSIZE (past the Content-Length added),
 * errors as tl_http_resp_send */
TL_EXTERN int tl_http_resp_write(tl_http_resp *resp, const void *data, size_t n);
/* suspends as tl_http_resp_send; ends a streamed body (the head too, if nothing was
 * written); 0, TL_EALREADY, TL_EMSGSIZE (short of the Content-Length added: the
 * connection closes), errors as tl_http_resp_send */
TL_EXTERN int tl_http_resp_end(tl_http_resp *resp);
/* whether the head went out */
TL_EXTERN bool tl_http_resp_started(const tl_http_resp *resp);

/* ---- end of the HTTP server section ---- */

#ifdef __cplusplus
}
#endif
#endif /* TULIP_HTTP_H */
