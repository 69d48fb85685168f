/* A connection's input buffer: the bytes read from the stream and not yet
 * consumed, kept across requests so that pipelined requests (and bytes that
 * arrive with a head) are never lost.
 *
 * It starts small and grows only as far as a caller's limit: the head limit
 * for a head, a chunk line's bound for a chunk line. Body bytes are copied
 * straight to the handler's buffer when nothing is buffered (server_req.c),
 * so a large body never passes through here. */
#include <string.h>

#include "http.h"

#define INITIAL_CAP ((size_t)4096)

/* Room for at least one more byte after end, within limit unread bytes. */
static int make_room(tl__http_conn *c, size_t limit)
{
    size_t unread = c->end - c->start;
    if (unread >= limit)
        return TL_ENOBUFS;
    if (c->end < c->cap)
        return 0;
    if (c->start > 0) {
        memmove(c->buf, c->buf + c->start, unread);
        c->start = 0;
        c->end = unread;
        return 0;
    }
    size_t cap = c->cap ? c->cap * 2 : INITIAL_CAP;
    if (cap > limit && limit > c->cap)
        cap = limit;
    char *p = tl__realloc(c->buf, cap);
    if (!p)
        return TL_ENOMEM;
    c->buf = p;
    c->cap = cap;
    return 0;
}

ssize_t tl__http_fill(tl__http_conn *c, size_t limit)
{
    int rc = make_room(c, limit);
    if (rc)
        return rc;
    if (c->start == c->end)
        c->start = c->end = 0;
    size_t room = c->cap - c->end;
    if (room > limit - (c->end - c->start))
        room = limit - (c->end - c->start);
    ssize_t n = tl_stream_read(c->s, c->buf + c->end, room);
    if (n > 0)
        c->end += (size_t)n;
    return n;
}

ssize_t tl__http_line(tl__http_conn *c, size_t max, const char **line)
{
    size_t scanned = 0;
    for (;;) {
        char *p = c->buf + c->start;
        size_t n = c->end - c->start;
        for (size_t i = scanned; i < n; i++) {
            if (p[i] == '\n')
                return TL_EPROTO; /* a bare LF: CR LF would have been seen at the CR */
            if (p[i] != '\r')
                continue;
            if (i + 1 == n)
                break;
            if (p[i + 1] != '\n' || i > max)
                return TL_EPROTO;
            *line = p;
            c->start += i + 2;
            return (ssize_t)i;
        }
        scanned = n && p[n - 1] == '\r' ? n - 1 : n;
        if (scanned > max)
            return TL_EPROTO;
        ssize_t r = tl__http_fill(c, max + 2);
        if (r == 0)
            return TL_EOF;
        if (r == TL_ENOBUFS)
            return TL_EPROTO;
        if (r < 0)
            return r;
    }
}
