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

/* ======================================================================
 * HTTP client
 *
 * aiohttp.ClientSession on libcurl's multi-socket API: a tl_http_client is a
 * session with its own connection pool (keep-alive reuse, HTTP/2 over TLS
 * when the server offers it), DNS and TLS-session caches, a cookie jar,
 * default headers, redirects and timeouts. Make one per program (or per
 * loop) and send every request through it: a client per request throws the
 * pool away. A client belongs to the loop it was made on.
 *
 * A request waits in tulip, not in libcurl, for one of the client's
 * max_in_flight slots: a million queued requests hold no easy handle, buffer
 * or socket each. tl_http_request suspends until the whole response has
 * arrived (or, for a stream request, its head); an HTTP status is never an
 * error unless raise_for_status asks. Cancellation, a timeout scope around
 * the call, or the request's own timeouts end the transfer cleanly.
 * Failures carry libcurl's message in tl_error_detail().
 * ====================================================================== */

typedef struct tl_http_client tl_http_client;
typedef struct tl_http_response tl_http_response;

/* Zeroed fields mean the defaults (in brackets). */
typedef struct tl_http_client_opts {
    unsigned max_connections;          /* open connections in all [100] */
    unsigned max_connections_per_host; /* [0: no limit beyond max_connections] */
    unsigned max_in_flight;            /* requests handed to libcurl at once [max_connections] */
    double timeout;                    /* a whole request, queue wait included [300 s]; < 0 none */
    double connect_timeout;            /* a connection's set-up, TLS included [30 s]; < 0 none */
    double read_timeout;               /* idle time between bytes of a response [60 s]; < 0 none */
    int max_redirects;                 /* followed [10]; < 0: redirects are not followed */
    const char *user_agent;            /* ["tulip/<version> libcurl/<version>"] */
    const char *const *headers;        /* "Name: value" sent with every request, NULL-ended */
    const char *ca_file;               /* trusted CAs (PEM) [the system's store] */
    bool insecure;                     /* no certificate or host name verification [false] */
    int http_version;                  /* 11: HTTP/1.1 only; 20: HTTP/2 also over plain http
                                          (prior knowledge) [0: HTTP/2 when TLS offers it] */
    bool no_decompress;                /* no Accept-Encoding, bodies as sent [false] */
    bool no_cookies;                   /* no cookie jar [false] */
    bool no_env_proxy;                 /* ignore http_proxy and friends [false] */
    size_t max_body;                   /* a whole (not streamed) body, bytes [64 MiB] */
    size_t max_head;                   /* a response's header bytes [256 KiB] */
    size_t stream_buffer;              /* a streamed body buffered ahead of the reader [64 KiB] */
    unsigned retries;                  /* extra tries of an idempotent request [0] */
    double retry_backoff;              /* the first retry's delay, doubling each time [0.1 s] */
    double retry_max_delay;            /* the longest delay, Retry-After included [30 s] */
    double rate;                       /* requests started per second [0: no limit] */
    double burst;                      /* requests that may start at once under rate [1] */
} tl_http_client_opts;

/* One request. Only url is needed. */
typedef struct tl_http_request_opts {
    const char *method;         /* ["GET"]; "HEAD" asks for no body */
    const char *url;            /* http:// or https:// */
    const char *const *headers; /* "Name: value", NULL-ended; one named as a default replaces it */
    const void *body;           /* sent as is (with Content-Length), valid until the call returns */
    size_t body_len;
    double timeout;        /* this request's total timeout [0: the client's]; < 0 none */
    bool stream;           /* return after the head; read the body with tl_http_response_read */
    bool raise_for_status; /* a 4xx or 5xx status is TL_EHTTP (the response still returned) */
} tl_http_request_opts;

/* Seconds. dns, connect, tls, first_byte and total count from the moment the
 * transfer left the queue, as libcurl's own times do (a reused connection has
 * connect and tls 0); queued is the wait for a slot (and the rate limit). */
typedef struct tl_http_timings {
    double queued, dns, connect, tls, first_byte, total;
    bool reused;        /* the request went over a connection opened before */
    unsigned redirects; /* followed */
    unsigned tries;     /* 1, plus the retries made */
} tl_http_timings;

/* never suspends; a session, or NULL when memory runs out or an option is invalid.
 * opts may be NULL. */
TL_EXTERN tl_http_client *tl_http_client_new(const tl_http_client_opts *opts);
/* never suspends; ends the requests still in flight (their callers get TL_ECANCELED),
 * closes every connection; responses still held stay readable up to what arrived */
TL_EXTERN void tl_http_client_free(tl_http_client *c);

/* suspends until the response is complete (or its head, for req->stream); 0 and the
 * response in *out, TL_EINVAL (no URL, a bad header), TL_EAI_NONAME (lookup),
 * TL_ECONNREFUSED and other connect errors, TL_ETIMEDOUT (a timeout or a scope),
 * TL_ECANCELED, TL_ECERT, TL_ETLS, TL_EOF (the body ended early), TL_EMSGSIZE (over
 * max_body or max_head), TL_EHTTP (a protocol error, too many redirects, or
 * raise_for_status: then *out is set too), TL_ESHUTDOWN (the client was freed),
 * TL_ENOMEM. On error *out is NULL unless said. */
TL_EXTERN int tl_http_request(tl_http_client *c, const tl_http_request_opts *req,
                              tl_http_response **out);
/* suspends as tl_http_request: a GET of url */
TL_EXTERN int tl_http_get(tl_http_client *c, const char *url, tl_http_response **out);

/* never suspend: the final response's status (200), its HTTP version (10, 11, 20, 30),
 * the URL it came from after redirects */
TL_EXTERN int tl_http_response_status(const tl_http_response *r);
TL_EXTERN int tl_http_response_version(const tl_http_response *r);
TL_EXTERN const char *tl_http_response_url(const tl_http_response *r);
/* the first header named name (case-insensitive), NULL when there is none */
TL_EXTERN const char *tl_http_response_header(const tl_http_response *r, const char *name);
/* how many header fields; the i-th (in order) in *name and *value: 0, TL_ERANGE */
TL_EXTERN size_t tl_http_response_header_count(const tl_http_response *r);
TL_EXTERN int tl_http_response_header_at(const tl_http_response *r, size_t i, const char **name,
                                         const char **value);
/* the whole body (NUL-terminated beyond *len; len may be NULL); for a stream
 * response, what is buffered and not yet read */
TL_EXTERN const char *tl_http_response_body(const tl_http_response *r, size_t *len);
/* suspends while no byte is buffered; up to n bytes of a stream response's body, 0 at
 * its end; the transfer pauses while the reader is stream_buffer behind; TL_ETIMEDOUT,
 * TL_ECANCELED, the transfer's errors as tl_http_request */
TL_EXTERN ssize_t tl_http_response_read(tl_http_response *r, void *buf, size_t n);
/* never suspends; the request's timings (complete once the body is) */
TL_EXTERN void tl_http_response_timings(const tl_http_response *r, tl_http_timings *t);
/* never suspends; ends a transfer still running and frees the response */
TL_EXTERN void tl_http_response_free(tl_http_response *r);

/* ---- end of the HTTP client section ---- */

#ifdef __cplusplus
}
#endif
#endif /* TULIP_HTTP_H */
