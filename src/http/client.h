/* The HTTP client's insides, shared by client*.c and nothing else.
 *
 * A client owns one libcurl multi handle (its pool and limits), driven from
 * tulip's loop by client_multi.c. A request is a tl_http_response record: it
 * takes one of the client's slots (waiting in tulip's FIFO while none is
 * free), an easy handle from the client's spares, and is added to the multi.
 * libcurl's callbacks only copy bytes into the record and mark its task
 * ready; every curl_multi_* call is made outside them, from the loop (poll,
 * timer, call_soon) or from the requesting task itself. */
#ifndef TL_HTTP_CLIENT_H
#define TL_HTTP_CLIENT_H

#include <curl/curl.h>
#include <tulip.h>
#include <tulip/http.h>

#include "../core/internal.h"

typedef struct tl__http_sock tl__http_sock;

/* One socket libcurl asked us to watch: its uv_poll, keyed by fd in the
 * client's table. Freed in the poll handle's close callback only. */
struct tl__http_sock {
    uv_poll_t poll;
    curl_socket_t fd;
    int events; /* what libcurl last asked for, as UV_READABLE | UV_WRITABLE */
    tl_http_client *c;
};

typedef struct tl__http_hdr {
    size_t name, value; /* offsets into the response's hbuf */
} tl__http_hdr;

struct tl_http_client {
    tl_http_client_opts o; /* every default filled in */
    tl_loop *loop;
    CURLM *multi;
    CURLSH *share;
    unsigned refs; /* the owner's, and one per live response */
    bool closed;
    /* slots: at most o.max_in_flight requests in the multi; the rest wait here */
    unsigned in_flight;
    tl__wlist slot_waiters;
    /* easy handles of finished transfers, kept for reuse (their caches stay warm) */
    CURL **spares;
    unsigned nspares;
    unsigned neasy; /* easy handles alive (in the multi or spare): tests read it */
    /* the socket table, indexed by fd */
    tl__http_sock **socks;
    size_t nsocks;
    unsigned open_sockets, max_open_sockets; /* sockets libcurl opened (tests read these) */
    /* libcurl's one timer: in the loop's heap, or a call_soon for 0 ms */
    tl__timer timer;
    tl_handle *soon;
    bool oom; /* a callback could not allocate: transfers fail with TL_ENOMEM */
    /* the rate limit: a token bucket */
    double tokens, tokens_at;
    tl_http_response *live;    /* every response not yet freed */
    tl_http_client *loop_next; /* the loop's clients */
};

struct tl_http_response {
    tl_http_client *c;
    tl_http_response *prev, *next; /* the client's live list */
    CURL *easy;                    /* while in the multi */
    tl_task *waiter;               /* the task parked on this transfer */
    struct curl_slist *hlist;      /* the request's header lines */
    char *final_url;
    bool stream, raise, in_multi, head_done, done, paused, idempotent;
    int status, version, result, cb_error;
    /* the response head: "name\0value\0" pairs */
    char *hbuf;
    size_t hlen, hcap;
    tl__http_hdr *hdrs;
    size_t nhdrs, hdrcap;
    size_t head_bytes, max_head_bytes; /* this head's bytes so far, and the limit */
    /* the body: unread bytes are body[bstart, blen) */
    char *body;
    size_t blen, bcap, bstart;
    size_t max_body, high_water;
    /* the idle-read timeout: a heap timer, re-armed lazily from last_byte */
    tl__timer idle;
    uint64_t idle_ns, last_byte;
    uint64_t deadline; /* the total timeout, hrtime; UINT64_MAX none */
    tl_http_timings t;
    char errbuf[CURL_ERROR_SIZE];
    char cb_msg[96]; /* why a callback failed the transfer (libcurl overwrites errbuf) */
};

/* client.c */
void tl__http_client_unref(tl_http_client *c);
/* suspends while every slot is taken: 0 (a slot is the caller's), TL_ESHUTDOWN,
 * TL_ECANCELED, TL_ETIMEDOUT */
int tl__http_slot_acquire(tl_http_client *c, tl_task *self);
void tl__http_slot_release(tl_http_client *c);
/* the client is closing: every task waiting for a slot gets TL_ESHUTDOWN */
void tl__http_slots_end(tl_http_client *c);
/* suspends until the rate limit lets one more request start */
int tl__http_rate_wait(tl_http_client *c);

/* client_multi.c: the libcurl/libuv glue */
int tl__http_multi_init(tl_http_client *c);
/* Ends what is left: callers of requests in flight get TL_ECANCELED; then
 * the multi, the sockets, the timer, in that order (see design.md). */
void tl__http_multi_shutdown(tl_http_client *c);
/* curl_easy_init, or a spare (reset); NULL when memory runs out */
CURL *tl__http_easy_get(tl_http_client *c);
void tl__http_easy_put(tl_http_client *c, CURL *e);

/* client_request.c */
/* Called outside every libcurl callback when a transfer ends (done, failed or
 * abandoned with code): takes the easy handle out of the multi, records what
 * the response needs, gives the slot back and wakes the waiting task. */
void tl__http_xfer_finish(tl_http_response *r, CURLcode cc, int code);
int tl__http_map_error(tl_http_response *r, CURLcode cc);
/* The record and its easy handle, added to the multi (the caller holds a
 * slot, and frees *out on failure, then gives the slot back): 0, TL_EINVAL,
 * TL_ENOMEM. deadline: the total timeout (hrtime), UINT64_MAX for none. */
int tl__http_xfer_start(tl_http_client *c, const tl_http_request_opts *req, uint64_t deadline,
                        tl_http_response **out);

/* client_response.c */
/* suspends until the transfer is done, or (stream) its head has arrived:
 * 0, or the interruption (TL_ECANCELED, TL_ETIMEDOUT) */
int tl__http_xfer_wait(tl_http_response *r, tl_task *self);

#endif
