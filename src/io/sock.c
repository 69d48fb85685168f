/* The socket transport: a libuv TCP socket or pipe under a stream (or
 * under TLS). Each operation is one libuv call; each libuv callback is one
 * event for the layer above. */
#include <stdint.h>
#include <string.h>

#include "../core/internal.h"
#include "transport.h"

static tl__sock *sock_of(tl__transport *t)
{
    return tl__container_of(t, tl__sock, base);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    tl__sock *k = h->data;
    char *base = NULL;
    size_t len = 0;
    int rc = k->base.ev->read_buf(k->base.up, true, &base, &len);
    if (rc == TL__READ_DECLINE)
        k->declined = true;
    if (rc) {
        *buf = uv_buf_init(NULL, 0); /* libuv reports UV_ENOBUFS */
        return;
    }
    *buf = uv_buf_init(base, len > UINT32_MAX ? UINT32_MAX : (unsigned)len);
}

static void read_cb(uv_stream_t *h, ssize_t nread, const uv_buf_t *buf)
{
    tl__sock *k = h->data;
    if (nread > 0) {
        k->base.ev->read(k->base.up, buf->base, nread);
        return;
    }
    if (nread == 0)
        return; /* EAGAIN: nothing this time */
    if (nread == UV_ENOBUFS) {
        if (k->declined) {
            k->declined = false;
            return;
        }
        nread = TL_ENOMEM;
    }
    k->base.ev->read(k->base.up, NULL, nread == UV_EOF ? TL_EOF : nread);
}

static int sock_read_start(tl__transport *t)
{
    return uv_read_start(&sock_of(t)->uv.stream, alloc_cb, read_cb);
}

static void sock_read_stop(tl__transport *t)
{
    uv_read_stop(&sock_of(t)->uv.stream);
}

static ssize_t sock_try_write(tl__transport *t, const char *p, size_t n)
{
    uv_buf_t ub = uv_buf_init((char *)(uintptr_t)p, n > UINT32_MAX ? UINT32_MAX : (unsigned)n);
    int w = uv_try_write(&sock_of(t)->uv.stream, &ub, 1);
    return w == UV_EAGAIN ? 0 : w;
}

static void write_cb(uv_write_t *req, int status)
{
    tl__sock *k = req->data;
    k->base.ev->written(k->base.up, status);
}

static int sock_write(tl__transport *t, const char *p, size_t n)
{
    tl__sock *k = sock_of(t);
    uv_buf_t ub = uv_buf_init((char *)(uintptr_t)p, (unsigned)n);
    k->wreq.data = k;
    return uv_write(&k->wreq, &k->uv.stream, &ub, 1, write_cb);
}

static void shutdown_cb(uv_shutdown_t *req, int status)
{
    tl__sock *k = req->data;
    k->base.ev->shut(k->base.up, status);
}

static int sock_shutdown(tl__transport *t)
{
    tl__sock *k = sock_of(t);
    k->sreq.data = k;
    return uv_shutdown(&k->sreq, &k->uv.stream, shutdown_cb);
}

static void close_cb(uv_handle_t *h)
{
    tl__sock *k = h->data;
    k->base.ev->closed(k->base.up);
}

static void sock_close(tl__transport *t, bool graceful)
{
    (void)graceful; /* a socket's close is the same either way */
    if (!uv_is_closing(&sock_of(t)->uv.handle))
        uv_close(&sock_of(t)->uv.handle, close_cb);
}

static uv_stream_t *sock_socket(tl__transport *t)
{
    return &sock_of(t)->uv.stream;
}

static const tl__transport_ops sock_ops = {
    .read_start = sock_read_start,
    .read_stop = sock_read_stop,
    .try_write = sock_try_write,
    .write = sock_write,
    .shutdown = sock_shutdown,
    .close = sock_close,
    .socket = sock_socket,
};

void tl__sock_init(tl__sock *k, uv_loop_t *loop, bool tcp)
{
    k->base.ops = &sock_ops;
    if (tcp) {
        uv_tcp_init(loop, &k->uv.tcp);
        uv_tcp_nodelay(&k->uv.tcp, 1); /* applied when the socket is made or opened */
    } else {
        uv_pipe_init(loop, &k->uv.pipe, 0);
    }
    k->uv.handle.data = k;
}

void tl__transport_deliver(tl__transport *t, const char *data, ssize_t n)
{
    if (n <= 0) {
        t->ev->read(t->up, NULL, n == 0 ? TL_EOF : n);
        return;
    }
    while (n > 0) {
        char *base;
        size_t len;
        int rc = t->ev->read_buf(t->up, false, &base, &len);
        if (rc) {
            t->ev->read(t->up, NULL, rc);
            return;
        }
        size_t k = len < (size_t)n ? len : (size_t)n;
        memcpy(base, data, k);
        data += k;
        n -= (ssize_t)k;
        t->ev->read(t->up, base, (ssize_t)k);
    }
}
