/* The response: a head gathered in the connection's output buffer with the
 * body behind it, so that a small response is one tl_stream_write, which is
 * one send() on an idle socket.
 *
 * The framing is the server's, never the handler's: Content-Length for
 * tl_http_resp_send (and for a streamed body whose length the handler
 * declared), chunked for other streamed bodies on HTTP/1.1, the connection's
 * end for them on HTTP/1.0 (RFC 9112 §6.1 forbids chunked towards a 1.0
 * client). HEAD, 1xx, 204 and 304 responses carry no body; HEAD keeps the
 * length the GET would have had. Whether the connection stays open is
 * decided when the head goes out, and the head says so. */
#include <stdio.h>
#include <string.h>

#include "http.h"

#define GATHER_MAX ((size_t)64 * 1024) /* bodies up to this are copied behind the head */

const char *tl__http_reason(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 206:
        return "Partial Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 303:
        return "See Other";
    case 304:
        return "Not Modified";
    case 307:
        return "Temporary Redirect";
    case 308:
        return "Permanent Redirect";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 417:
        return "Expectation Failed";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Unknown";
    }
}

void tl__http_resp_init(tl_http_resp *resp, tl__http_conn *c)
{
    char *hdrs = resp->hdrs;
    size_t hcap = resp->hcap;
    *resp = (tl_http_resp){.c = c, .status = 200, .hdrs = hdrs, .hcap = hcap};
}

void tl__http_resp_destroy(tl_http_resp *resp)
{
    tl__free(resp->hdrs);
    resp->hdrs = NULL;
    resp->hcap = 0;
}

bool tl_http_resp_started(const tl_http_resp *resp)
{
    return resp->started;
}

int tl_http_resp_set_status(tl_http_resp *resp, int status)
{
    if (resp->started)
        return TL_EALREADY;
    if (status < 200 || status > 999)
        return TL_EINVAL;
    resp->status = status;
    return 0;
}

static bool is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* A value may not smuggle a line end (response splitting) or another control. */
static bool value_ok(const char *v)
{
    for (; *v; v++)
        if ((unsigned char)*v < ' ' ? *v != '\t' : *v == 0x7f)
            return false;
    return true;
}

static bool parse_length(const char *v, uint64_t *out)
{
    uint64_t x = 0;
    size_t i = 0;
    for (; v[i] >= '0' && v[i] <= '9' && i < 18; i++)
        x = x * 10 + (uint64_t)(v[i] - '0');
    *out = x;
    return i > 0 && !v[i];
}

int tl_http_resp_add_header(tl_http_resp *resp, const char *name, const char *value)
{
    if (resp->started)
        return TL_EALREADY;
    size_t nl = strlen(name), vl = strlen(value);
    for (size_t i = 0; i < nl; i++)
        if (!is_tchar((unsigned char)name[i]))
            return TL_EINVAL;
    if (!nl || !value_ok(value) || tl__http_token_eq(name, nl, "transfer-encoding"))
        return TL_EINVAL;
    if (tl__http_token_eq(name, nl, "connection")) {
        /* the server writes Connection itself: the handler may only ask for close */
        if (!tl__http_token_eq(value, vl, "close"))
            return TL_EINVAL;
        resp->user_close = true;
        return 0;
    }
    if (tl__http_token_eq(name, nl, "content-length")) {
        if (resp->has_length || !parse_length(value, &resp->length))
            return TL_EINVAL;
        resp->has_length = true;
    }
    if (tl__http_token_eq(name, nl, "date"))
        resp->user_date = true;
    size_t need = resp->hlen + nl + vl + 4;
    if (need > resp->hcap) {
        size_t cap = resp->hcap ? resp->hcap : 256;
        while (cap < need)
            cap *= 2;
        char *p = tl__realloc(resp->hdrs, cap);
        if (!p)
            return TL_ENOMEM;
        resp->hdrs = p;
        resp->hcap = cap;
    }
    char *w = resp->hdrs + resp->hlen;
    memcpy(w, name, nl);
    w[nl] = ':';
    w[nl + 1] = ' ';
    memcpy(w + nl + 2, value, vl);
    memcpy(w + nl + 2 + vl, "\r\n", 2);
    resp->hlen = need;
    return 0;
}

int tl__http_write(tl__http_conn *c, const void *data, size_t n)
{
    int rc = tl_stream_write(c->s, data, n);
    if (!rc && tl_stream_write_buffer_size(c->s) > TL__HTTP_WRITE_HIGH) {
        tl_timeout t;
        tl_timeout_enter(&t, c->hs->o.write_timeout);
        rc = tl_stream_drain(c->s);
        tl_timeout_exit(&t);
    }
    if (rc)
        c->broken = true;
    return rc;
}

static bool keep_alive(tl__http_conn *c, bool close_delimited)
{
    const tl_http_req *req = &c->req;
    if (c->broken || c->hs->shutting_down || close_delimited || req->fr.conn_close ||
        c->resp.user_close)
        return false;
    if (req->fr.version == 10 && !req->fr.conn_keep_alive)
        return false;
    if (c->nreq >= c->hs->o.max_requests)
        return false;
    if (req->state != BODY_DONE) {
        /* the client may never send a body it was not asked for (Go issue 11549) */
        if (req->fr.expect_continue && !req->continue_sent)
            return false;
        if (req->state == BODY_LENGTH && req->remaining > c->hs->o.max_drain)
            return false;
    }
    return true;
}

static bool bodiless_status(int status)
{
    return status < 200 || status == 204 || status == 304;
}

typedef enum framing { FRAME_LENGTH, FRAME_CHUNKED, FRAME_CLOSE, FRAME_NONE } framing;

/* The head into c->obuf, with room for extra bytes behind it; its length, or
 * TL_ENOMEM. */
static ssize_t build_head(tl_http_resp *resp, framing fr, uint64_t length, const char *content_type,
                          size_t extra)
{
    tl__http_conn *c = resp->c;
    size_t dlen;
    const char *date = tl__http_date_line(&dlen);
    size_t ctlen = content_type ? strlen(content_type) : 0;
    size_t need = 160 + dlen + resp->hlen + ctlen + extra;
    if (need > c->ocap) {
        size_t cap = c->ocap ? c->ocap : 1024;
        while (cap < need)
            cap *= 2;
        char *p = tl__realloc(c->obuf, cap);
        if (!p)
            return TL_ENOMEM;
        c->obuf = p;
        c->ocap = cap;
    }
    c->keep = keep_alive(c, fr == FRAME_CLOSE);
    char *w = c->obuf;
    w += sprintf(w, "HTTP/1.1 %d %s\r\n", resp->status, tl__http_reason(resp->status));
    if (!resp->user_date) {
        memcpy(w, date, dlen);
        w += dlen;
    }
    if (ctlen) {
        w += sprintf(w, "Content-Type: ");
        memcpy(w, content_type, ctlen);
        w += ctlen;
        *w++ = '\r';
        *w++ = '\n';
    }
    if (fr == FRAME_LENGTH)
        w += sprintf(w, "Content-Length: %llu\r\n", (unsigned long long)length);
    else if (fr == FRAME_CHUNKED)
        w += sprintf(w, "Transfer-Encoding: chunked\r\n");
    if (!c->keep)
        w += sprintf(w, "Connection: close\r\n");
    else if (c->req.fr.version == 10)
        w += sprintf(w, "Connection: keep-alive\r\n");
    if (resp->hlen) { /* hdrs may be NULL when there are none: no memcpy from NULL */
        memcpy(w, resp->hdrs, resp->hlen);
        w += resp->hlen;
    }
    *w++ = '\r';
    *w++ = '\n';
    return w - c->obuf;
}

static bool is_head_request(const tl__http_conn *c)
{
    return c->req.head.method && !strcmp(c->req.head.method, "HEAD");
}

static int start(tl_http_resp *resp, int status, bool whole)
{
    if (resp->started)
        return TL_EALREADY;
    if (status < 200 || status > 999 || (whole && resp->has_length))
        return TL_EINVAL;
    resp->status = status;
    resp->started = true;
    resp->no_body = is_head_request(resp->c) || bodiless_status(status);
    return 0;
}

int tl_http_resp_send(tl_http_resp *resp, int status, const char *content_type, const void *body,
                      size_t len)
{
    int rc = start(resp, status, true);
    if (rc)
        return rc;
    tl__http_conn *c = resp->c;
    framing fr = bodiless_status(status) ? FRAME_NONE : FRAME_LENGTH;
    size_t copy = resp->no_body ? 0 : len;
    size_t gathered = copy <= GATHER_MAX ? copy : 0;
    ssize_t h = build_head(resp, fr, len, content_type, gathered);
    resp->ended = true;
    if (h < 0) {
        c->broken = true;
        return (int)h;
    }
    if (gathered)
        memcpy(c->obuf + h, body, gathered);
    rc = tl__http_write(c, c->obuf, (size_t)h + gathered);
    if (!rc && copy > gathered)
        rc = tl__http_write(c, body, copy);
    resp->written = copy;
    return rc;
}

static int start_stream(tl_http_resp *resp, bool empty)
{
    int rc = start(resp, resp->status, false);
    if (rc)
        return rc;
    framing fr;
    if (bodiless_status(resp->status) || resp->has_length)
        fr = FRAME_NONE; /* a declared length is among the handler's header lines */
    else if (empty)
        fr = FRAME_LENGTH;
    else if (resp->c->req.fr.version == 11)
        fr = FRAME_CHUNKED;
    else
        fr = FRAME_CLOSE;
    resp->chunked = fr == FRAME_CHUNKED && !resp->no_body;
    ssize_t h = build_head(resp, fr, 0, NULL, 0);
    if (h < 0) {
        resp->failed = resp->c->broken = true;
        return (int)h;
    }
    rc = tl__http_write(resp->c, resp->c->obuf, (size_t)h);
    if (rc)
        resp->failed = true;
    return rc;
}

int tl_http_resp_write(tl_http_resp *resp, const void *data, size_t n)
{
    if (resp->ended)
        return TL_EALREADY;
    if (!resp->started) {
        int rc = start_stream(resp, false);
        if (rc)
            return rc;
    }
    if (resp->failed)
        return TL_EPIPE;
    if (resp->has_length && resp->written + n > resp->length)
        return TL_EMSGSIZE;
    if (!n || resp->no_body)
        return 0;
    tl__http_conn *c = resp->c;
    int rc;
    if (resp->chunked) {
        char line[24];
        int l = sprintf(line, "%zx\r\n", n);
        rc = tl__http_write(c, line, (size_t)l);
        if (!rc)
            rc = tl__http_write(c, data, n);
        if (!rc)
            rc = tl__http_write(c, "\r\n", 2);
    } else {
        rc = tl__http_write(c, data, n);
    }
    if (rc)
        resp->failed = true;
    resp->written += n;
    return rc;
}

int tl_http_resp_end(tl_http_resp *resp)
{
    if (resp->ended)
        return TL_EALREADY;
    int rc = 0;
    if (!resp->started)
        rc = start_stream(resp, !resp->has_length);
    resp->ended = true;
    if (rc)
        return rc;
    if (resp->failed)
        return TL_EPIPE;
    if (resp->has_length && resp->written < resp->length && !resp->no_body) {
        resp->failed = resp->c->broken = true;
        return TL_EMSGSIZE;
    }
    if (resp->chunked && (rc = tl__http_write(resp->c, "0\r\n\r\n", 5)))
        resp->failed = true;
    return rc;
}

int tl__http_resp_simple(tl_http_resp *resp, int status)
{
    char body[64];
    int n = snprintf(body, sizeof body, "%s\n", tl__http_reason(status));
    resp->hlen = 0; /* whatever the handler added is not part of the server's answer */
    resp->has_length = resp->user_date = false;
    resp->started = resp->ended = false;
    return tl_http_resp_send(resp, status, "text/plain; charset=utf-8", body, (size_t)n);
}
