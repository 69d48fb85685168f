/* Opening connections (asyncio.open_connection) and the options of a
 * connected TCP stream.
 *
 * The connect request lives in the stream, whose memory is freed only by
 * the handle's close callback: a caller cancelled mid-connect closes the
 * handle and leaves, and libuv's callbacks later find the memory still
 * there. */
#include <string.h>

#include "io.h"

static void connect_cb(uv_connect_t *req, int status)
{
    tl_stream *s = req->data;
    if (!s->connector)
        return; /* the caller left; the handle is closing */
    s->connect_status = status;
    tl__wake_slot(&s->connector, 0);
}

static void connect_detach(tl_task *t, void *ctx)
{
    (void)t;
    tl_stream *s = ctx;
    s->connector = NULL;
}

/* Waits for the connect issued on s; on success starts reading and stores s
 * in *out, else gives s up. */
static int finish_connect(tl_stream *s, tl_task *self, tl_stream **out)
{
    s->creq.data = s;
    s->connector = self;
    int rc = tl__wait(self, "connect", s, connect_detach, s);
    if (!rc)
        rc = s->connect_status;
    if (!rc)
        rc = tl__stream_start(s);
    if (rc) {
        tl__stream_release(s);
        return rc;
    }
    *out = s;
    return 0;
}

static int connect_tcp(tl_task *self, const struct sockaddr *sa, tl_stream **out)
{
    int rc = tl__interrupt(self);
    if (rc)
        return rc;
    tl_stream *s = tl__stream_new(self->loop, TL__STREAM_TCP, NULL);
    if (!s)
        return TL_ENOMEM;
    rc = uv_tcp_connect(&s->creq, &s->sock.uv.tcp, sa, connect_cb);
    if (rc) {
        tl__stream_release(s);
        return rc;
    }
    return finish_connect(s, self, out);
}

int tl_open_connection(const char *host, int port, tl_stream **out)
{
    tl_task *self = tl__need_task("tl_open_connection");
    *out = NULL;
    if (!host)
        return TL_EINVAL;
    struct addrinfo *res;
    int rc = tl__resolve(host, port, SOCK_STREAM, 0, &res);
    if (rc)
        return rc;
    /* The first address's error is the telling one (asyncio reports them all). */
    int first = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        rc = connect_tcp(self, ai->ai_addr, out);
        if (rc == 0 || rc == TL_ECANCELED || rc == TL_ETIMEDOUT || rc == TL_ENOMEM) {
            first = rc;
            break;
        }
        if (!first)
            first = rc;
    }
    tl_freeaddrinfo(res);
    return first;
}

int tl_open_unix_connection(const char *path, tl_stream **out)
{
    tl_task *self = tl__need_task("tl_open_unix_connection");
    *out = NULL;
    if (!path || !*path)
        return TL_EINVAL;
    if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
        return TL_ENAMETOOLONG;
    int rc = tl__interrupt(self);
    if (rc)
        return rc;
    tl_stream *s = tl__stream_new(self->loop, TL__STREAM_PIPE, NULL);
    if (!s)
        return TL_ENOMEM;
    uv_pipe_connect(&s->creq, &s->sock.uv.pipe, path, connect_cb);
    return finish_connect(s, self, out);
}

/* ---- a connected stream's socket ---- */

int tl_stream_peername(const tl_stream *s, struct sockaddr *addr, int *len)
{
    if (!(s->flags & TL__S_TCP))
        return TL_ENOTSUP;
    return uv_tcp_getpeername(&s->sock.uv.tcp, addr, len);
}

int tl_stream_sockname(const tl_stream *s, struct sockaddr *addr, int *len)
{
    if (!(s->flags & TL__S_TCP))
        return TL_ENOTSUP;
    return uv_tcp_getsockname(&s->sock.uv.tcp, addr, len);
}

int tl_stream_set_nodelay(tl_stream *s, bool on)
{
    if (!(s->flags & TL__S_TCP))
        return TL_ENOTSUP;
    return uv_tcp_nodelay(&s->sock.uv.tcp, on);
}

int tl_stream_set_keepalive(tl_stream *s, bool on, unsigned delay)
{
    if (!(s->flags & TL__S_TCP))
        return TL_ENOTSUP;
    if (on && delay == 0)
        return TL_EINVAL;
    return uv_tcp_keepalive(&s->sock.uv.tcp, on, delay);
}
