/* The request as a handler sees it: the parsed head, and the body read
 * exactly as framed (Content-Length or chunked), never a byte further, so
 * the next pipelined request starts where this one ends.
 *
 * A body read that meets broken framing marks the connection broken and
 * leaves the status the server answers with if the handler does not
 * respond (400, 408, 413). Cancellation or the handler's own timeout scope
 * ending a read loses nothing: bytes stay buffered and the state is as it
 * was, so the handler may read on. */
#include <stdlib.h>
#include <string.h>

#include "http.h"

#define CHUNK_LINE_MAX ((size_t)4096) /* bounds a chunk's extensions */
#define DIRECT_MIN     ((size_t)1024) /* a read this big skips the input buffer */

void tl__http_req_init(tl_http_req *req, tl__http_conn *c)
{
    req->c = c;
    req->total = 0;
    req->trailer_bytes = 0;
    req->error = 0;
    req->continue_sent = false;
    if (req->fr.chunked) {
        req->state = BODY_CHUNK_SIZE;
        req->remaining = 0;
    } else {
        req->state = req->fr.content_length > 0 ? BODY_LENGTH : BODY_DONE;
        req->remaining = req->fr.content_length > 0 ? (uint64_t)req->fr.content_length : 0;
    }
}

const char *tl_http_req_method(const tl_http_req *req)
{
    return req->head.method;
}

const char *tl_http_req_target(const tl_http_req *req)
{
    return req->head.target;
}

const char *tl_http_req_path(const tl_http_req *req)
{
    return req->path;
}

const char *tl_http_req_query(const tl_http_req *req)
{
    return req->query;
}

int tl_http_req_version(const tl_http_req *req)
{
    return req->fr.version;
}

const char *tl_http_req_header(const tl_http_req *req, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < req->head.nfields; i++) {
        const tl__http_field *f = &req->head.fields[i];
        if (f->nlen == n && !strncasecmp(f->name, name, n))
            return f->value;
    }
    return NULL;
}

size_t tl_http_req_header_count(const tl_http_req *req)
{
    return req->head.nfields;
}

int tl_http_req_header_at(const tl_http_req *req, size_t i, const char **name, const char **value)
{
    if (i >= req->head.nfields)
        return TL_ERANGE;
    *name = req->head.fields[i].name;
    *value = req->head.fields[i].value;
    return 0;
}

int64_t tl_http_req_content_length(const tl_http_req *req)
{
    return req->fr.chunked ? -1 : req->fr.content_length > 0 ? req->fr.content_length : 0;
}

bool tl__http_req_body_done(const tl_http_req *req)
{
    return req->state == BODY_DONE;
}

static ssize_t fail(tl_http_req *req, int err, int status)
{
    req->state = BODY_FAILED;
    req->error = err;
    req->c->broken = true;
    req->c->reject = status;
    return err;
}

/* Up to n body bytes, at most want: from the input buffer if it holds any, else
 * straight from the stream into buf when the read is big enough to be worth it. */
static ssize_t body_bytes(tl_http_req *req, char *buf, size_t n, uint64_t want)
{
    tl__http_conn *c = req->c;
    if (n > want)
        n = (size_t)want;
    if (c->start == c->end) {
        ssize_t r;
        if (n >= DIRECT_MIN)
            r = tl_stream_read(c->s, buf, n);
        else
            r = tl__http_fill(c, c->cap ? c->cap : DIRECT_MIN);
        if (r == 0)
            return TL_EOF;
        if (r < 0 || n >= DIRECT_MIN)
            return r;
    }
    size_t have = c->end - c->start;
    if (n > have)
        n = have;
    memcpy(buf, c->buf + c->start, n);
    c->start += n;
    return (ssize_t)n;
}

/* 100 Continue goes out at the first read, as Go does: a handler that answers
 * without reading the body never makes the client send it. */
static int send_continue(tl_http_req *req)
{
    if (!req->fr.expect_continue || req->continue_sent || req->c->resp.started)
        return 0;
    static const char msg[] = "HTTP/1.1 100 Continue\r\n\r\n";
    int rc = tl__http_write(req->c, msg, sizeof msg - 1);
    if (!rc)
        req->continue_sent = true;
    return rc;
}

/* One step of the chunked framing that yields no data; 1 to go on, or the result. */
static ssize_t chunk_step(tl_http_req *req)
{
    tl__http_conn *c = req->c;
    const char *line;
    ssize_t n;
    switch (req->state) {
    case BODY_CHUNK_SIZE: {
        n = tl__http_line(c, CHUNK_LINE_MAX, &line);
        if (n < 0)
            return n == TL_EPROTO ? fail(req, n, 400) : n;
        uint64_t size;
        if (tl__http_chunk_size(line, (size_t)n, &size))
            return fail(req, TL_EPROTO, 400);
        if (size > c->hs->o.max_body || req->total + size > c->hs->o.max_body)
            return fail(req, TL_EMSGSIZE, 413);
        req->remaining = size;
        req->state = size ? BODY_CHUNK_DATA : BODY_TRAILERS;
        return 1;
    }
    case BODY_CHUNK_END:
        n = tl__http_line(c, 0, &line);
        if (n < 0)
            return n == TL_EPROTO ? fail(req, n, 400) : n;
        req->state = BODY_CHUNK_SIZE;
        return 1;
    case BODY_TRAILERS:
        n = tl__http_line(c, c->hs->o.max_line, &line);
        if (n < 0)
            return n == TL_EPROTO ? fail(req, n, 400) : n;
        if (n == 0) {
            req->state = BODY_DONE;
            return 0;
        }
        req->trailer_bytes += (size_t)n;
        if (req->trailer_bytes > c->hs->o.max_head || !tl__http_field_ok(line, (size_t)n))
            return fail(req, TL_EPROTO, 400);
        return 1;
    default:
        return 0;
    }
}

static ssize_t read_body(tl_http_req *req, char *buf, size_t n)
{
    for (;;) {
        ssize_t r;
        switch (req->state) {
        case BODY_DONE:
            return 0;
        case BODY_FAILED:
            return req->error;
        case BODY_LENGTH:
        case BODY_CHUNK_DATA:
            r = body_bytes(req, buf, n, req->remaining);
            if (r == TL_EOF || (r < 0 && r != TL_ECANCELED && r != TL_ETIMEDOUT))
                return fail(req, (int)r, 400);
            if (r < 0)
                return r;
            req->remaining -= (uint64_t)r;
            req->total += (uint64_t)r;
            if (!req->remaining)
                req->state = req->state == BODY_LENGTH ? BODY_DONE : BODY_CHUNK_END;
            return r;
        default:
            r = chunk_step(req);
            if (r <= 0)
                return r == TL_EOF ? fail(req, TL_EOF, 400) : r;
        }
    }
}

ssize_t tl_http_req_read(tl_http_req *req, void *buf, size_t n)
{
    if (!n || req->state == BODY_DONE)
        return 0;
    if (req->state == BODY_FAILED)
        return req->error;
    int rc = send_continue(req);
    if (rc)
        return rc;
    tl_timeout idle;
    tl_timeout_enter(&idle, req->c->hs->o.body_timeout);
    ssize_t r = read_body(req, buf, n);
    if (tl_timeout_exit(&idle) == TL_ETIMEDOUT && r == TL_ETIMEDOUT)
        return fail(req, TL_ETIMEDOUT, 408);
    return r;
}

/* realloc for the buffer the handler frees with free(): the C library's, behind the
 * fault seam all the same */
static void *user_realloc(void *p, size_t n)
{
    return tl__fault_point() ? NULL : realloc(p, n);
}

int tl_http_req_body(tl_http_req *req, char **data, size_t *len)
{
    size_t cap = req->state == BODY_LENGTH ? (size_t)req->remaining + 1 : 4096;
    size_t n = 0;
    char *p = user_realloc(NULL, cap);
    if (!p)
        return TL_ENOMEM;
    for (;;) {
        if (cap - n < 2) {
            char *q = user_realloc(p, cap * 2);
            if (!q) {
                free(p);
                return TL_ENOMEM;
            }
            p = q;
            cap *= 2;
        }
        ssize_t r = tl_http_req_read(req, p + n, cap - n - 1);
        if (r < 0) {
            free(p);
            return (int)r;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    p[n] = 0;
    *data = p;
    *len = n;
    return 0;
}

int tl__http_req_drain(tl_http_req *req, size_t max)
{
    char sink[4096];
    size_t dropped = 0;
    while (req->state != BODY_DONE) {
        if (dropped > max)
            return TL_EMSGSIZE;
        ssize_t r = tl_http_req_read(req, sink, sizeof sink);
        if (r < 0)
            return (int)r;
        dropped += (size_t)r;
    }
    return 0;
}
