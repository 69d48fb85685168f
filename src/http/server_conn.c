/* One connection's task: its requests one after another, in order.
 *
 * Each turn waits for the next request (the keep-alive idle wait, or the
 * first request's head timeout from accept), reads its head up to the
 * server's limit within the head timeout, checks and parses it, runs the
 * handler, completes what the handler left (a 500, the end of a streamed
 * body) and drains an unread body before the next turn. The bytes after a
 * request stay in the input buffer for the next one (pipelining).
 *
 * Whatever the server rejects it answers itself with Connection: close,
 * then half-closes and lingers, reading, so the client gets the answer
 * rather than a reset (Go's closeWriteAndWait, golang.org/issue/3595).
 * After any framing error the connection is never reused. */
#include <string.h>

#include "http.h"

#define LINGER_MAX ((size_t)256 * 1024) /* bytes read and dropped while lingering */

/* Half-close, then read and drop what the client still sends for a while: closing a
 * socket with unread bytes would send a reset that can destroy our last response. */
static void linger(tl__http_conn *c)
{
    if (tl_stream_write_eof(c->s))
        return;
    char sink[2048];
    size_t dropped = 0;
    tl_timeout t;
    tl_timeout_enter(&t, c->hs->o.linger);
    while (dropped < LINGER_MAX) {
        ssize_t n = tl_stream_read(c->s, sink, sizeof sink);
        if (n <= 0)
            break;
        dropped += (size_t)n;
    }
    tl_timeout_exit(&t);
}

static void reject(tl__http_conn *c, int status)
{
    c->broken = true;
    tl__http_resp_init(&c->resp, c);
    if (!tl__http_resp_simple(&c->resp, status))
        linger(c);
}

/* Waits for the first byte of the next request (leading empty lines, which RFC 9112
 * §2.2 lets a server ignore, are dropped). true when it is there; false to close without
 * a word: the client left, stayed idle too long, or the server is shutting down. */
static bool wait_request(tl__http_conn *c)
{
    tl_http_server *hs = c->hs;
    size_t skipped = 0;
    for (;;) {
        while (c->end - c->start >= 2 && c->buf[c->start] == '\r' && c->buf[c->start + 1] == '\n') {
            c->start += 2;
            if ((skipped += 2) > hs->o.max_line)
                return false;
        }
        size_t have = c->end - c->start;
        if (have > 1 || (have == 1 && c->buf[c->start] != '\r'))
            return true; /* a lone CR may be the start of one more empty line */
        if (hs->shutting_down && !tl_stream_buffered(c->s))
            return false;
        double from = c->nreq ? tl_time() : c->accepted;
        tl_timeout_enter_at(&c->wait, from + (c->nreq ? hs->o.idle_timeout : hs->o.head_timeout));
        c->idle = true;
        ssize_t n = tl__http_fill(c, hs->o.max_head);
        c->idle = false;
        tl_timeout_exit(&c->wait);
        if (n <= 0)
            return false;
    }
}

/* The head's length; minus the status that rejects it; 0 to close without a word. */
static int read_head(tl__http_conn *c)
{
    tl_http_server *hs = c->hs;
    tl__http_scan sc = {0};
    int r = tl__http_head_scan(c->buf + c->start, c->end - c->start, &sc, &hs->lim);
    if (r)
        return r; /* the usual case: the whole head came at once, no timer needed */
    tl_timeout t;
    /* the first request's head counts from accept, later ones from their first byte */
    tl_timeout_enter_at(&t, (c->nreq ? tl_time() : c->accepted) + hs->o.head_timeout);
    for (;;) {
        ssize_t n = tl__http_fill(c, hs->o.max_head);
        if (n == TL_ENOBUFS) {
            r = -431;
            break;
        }
        if (n <= 0) {
            r = n == TL_ETIMEDOUT ? -408 : 0;
            break;
        }
        if ((r = tl__http_head_scan(c->buf + c->start, c->end - c->start, &sc, &hs->lim)))
            break;
    }
    tl_timeout_exit(&t);
    return r;
}

/* "/a?b" → "/a" and "b" after the head in c->hbuf; absolute-form targets lose their
 * scheme and authority. */
static void split_target(tl__http_conn *c, size_t head_len)
{
    const char *t = c->req.head.target;
    const char *p = t;
    if (*t != '/' && strstr(t, "://")) {
        p = strchr(strstr(t, "://") + 3, '/');
        if (!p)
            p = "/";
    }
    char *w = c->hbuf + head_len;
    const char *q = strchr(p, '?');
    size_t pl = q ? (size_t)(q - p) : strlen(p);
    memcpy(w, p, pl);
    w[pl] = 0;
    c->req.path = w;
    w += pl + 1;
    size_t ql = q ? strlen(q + 1) : 0;
    if (q)
        memcpy(w, q + 1, ql);
    w[ql] = 0;
    c->req.query = w;
}

/* Takes the head out of the input buffer, checks and parses it: 0, or the status
 * that rejects it. */
static int prepare(tl__http_conn *c, size_t len)
{
    tl_http_server *hs = c->hs;
    if (c->hcap < 2 * len + 2) {
        char *p = tl__realloc(c->hbuf, 2 * len + 2);
        if (!p)
            return 500;
        c->hbuf = p;
        c->hcap = 2 * len + 2;
    }
    memcpy(c->hbuf, c->buf + c->start, len);
    c->start += len;
    tl_http_req *req = &c->req;
    int status = tl__http_head_check(c->hbuf, len, &hs->lim, &req->fr);
    if (status)
        return status;
    req->head.fields = c->fields;
    if ((status = tl__http_head_parse(c->hbuf, len, &req->head, hs->o.max_headers)))
        return status;
    split_target(c, len);
    if (req->fr.content_length > 0 && (uint64_t)req->fr.content_length > hs->o.max_body)
        return 413; /* before a byte of it is read */
    tl__http_req_init(req, c);
    tl__http_resp_init(&c->resp, c);
    return 0;
}

/* After the handler: what it left undone. true to serve the next request. */
static bool finish(tl__http_conn *c, int rc)
{
    tl_http_resp *resp = &c->resp;
    if (!resp->started) {
        int status = c->reject ? c->reject : 500;
        if (c->reject)
            c->broken = true;
        if (rc == TL_ECANCELED && c->hs->shutting_down)
            status = 503; /* shutdown's grace ran out: sent without waiting, then closed */
        if (tl__http_resp_simple(resp, status))
            return false;
    } else if (rc < 0) {
        return false; /* the client sees the response cut short, never a wrong one */
    } else if (!resp->ended && tl_http_resp_end(resp)) {
        return false;
    }
    if (resp->failed)
        return false;
    if (!c->keep) {
        linger(c);
        return false;
    }
    if (!tl__http_req_body_done(&c->req) && tl__http_req_drain(&c->req, c->hs->o.max_drain)) {
        linger(c);
        return false;
    }
    return true;
}

static void serve(tl__http_conn *c)
{
    tl_http_server *hs = c->hs;
    while (wait_request(c)) {
        c->req.head.method = NULL;
        c->reject = 0;
        int r = read_head(c);
        if (r == 0)
            return;
        if (r < 0) {
            reject(c, -r);
            return;
        }
        int status = prepare(c, (size_t)r);
        if (status) {
            reject(c, status);
            return;
        }
        c->nreq++;
        int rc = hs->handler(&c->req, &c->resp, hs->arg);
        if (!finish(c, rc))
            return;
    }
}

int tl__http_conn_main(tl_stream *s, void *arg)
{
    tl_http_server *hs = arg;
    tl__http_conn c = {.hs = hs, .s = s, .task = tl_current_task(), .accepted = tl_time()};
    tl__http_conn_link(hs, &c);
    tl_stream_set_write_limit(s, TL__HTTP_WRITE_HIGH);
    /* HTTPS: a client that closes without close_notify is ordinary; the
     * framing (Content-Length, chunked) tells a cut-off body itself. */
    tl_stream_allow_truncation(s, true);
    c.fields = tl__malloc(hs->o.max_headers * sizeof *c.fields);
    if (c.fields)
        serve(&c);
    tl__free(c.fields);
    tl__free(c.buf);
    tl__free(c.hbuf);
    tl__free(c.obuf);
    tl__http_resp_destroy(&c.resp);
    tl__http_conn_unlink(hs, &c);
    return 0;
}
