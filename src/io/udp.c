/* UDP sockets: tl_udp_sendto and tl_udp_recvfrom.
 *
 * Receiving lends the waiting reader's buffer to libuv, so a datagram goes
 * from the kernel straight to the caller. With no reader the socket stops
 * receiving and datagrams wait in the kernel's buffer, the only queue, which
 * bounds memory as the kernel does. Sending tries the socket at once; only
 * when its buffer is full does the caller wait, on a copy of its datagram
 * (the copy outlives a cancelled caller, as libuv's send cannot be stopped). */
#include <string.h>

#include "io.h"

struct tl_udp {
    uv_udp_t h;
    tl_loop *loop;
    tl__attached attached;
    unsigned refs; /* the owner, the open handle, a task parked on it */
    bool receiving, released;
    tl_task *reader;
    char *rbuf;
    size_t rcap;
    ssize_t got;
    bool truncated;
    struct sockaddr_storage from;
};

typedef struct send_req {
    uv_udp_send_t req;
    tl_udp *u;
    tl_task *waiter; /* NULL once the caller has left */
    int status;
    char data[];
} send_req;

static void udp_unref(tl_udp *u)
{
    if (--u->refs == 0)
        tl__free(u);
}

static void close_cb(uv_handle_t *h)
{
    tl_udp *u = h->data;
    udp_unref(u);
}

static void udp_close(tl_udp *u)
{
    if (u->released)
        tl__fatal("tl_udp_close: UDP socket %p closed twice", (void *)u);
    u->released = true;
    tl__loop_detach(u->loop, &u->attached);
    if (u->reader)
        tl__interrupt_wait(u->reader, TL_ECANCELED);
    uv_close((uv_handle_t *)&u->h, close_cb);
    udp_unref(u);
}

static void io_teardown(tl__attached *n)
{
    udp_close(tl__container_of(n, tl_udp, attached));
}

void tl_udp_close(tl_udp *u)
{
    tl__need_loop("tl_udp_close");
    udp_close(u);
}

int tl_udp_open(const char *host, int port, tl_udp **out)
{
    *out = NULL;
    tl_loop *loop = tl__need_loop("tl_udp_open");
    struct addrinfo *res = NULL;
    if (port < 0 || port > 65535)
        return TL_EINVAL;
    tl__wildcard any;
    const struct addrinfo *ai = tl__wildcard_list(&any, port);
    if (host && *host) {
        tl__need_task("tl_udp_open"); /* a name lookup suspends */
        int rc = tl__resolve(host, port, SOCK_DGRAM, AI_PASSIVE, &res);
        if (rc)
            return rc;
        ai = res;
    }
    tl_udp *u = tl__calloc(1, sizeof *u);
    if (!u) {
        tl_freeaddrinfo(res);
        return TL_ENOMEM;
    }
    u->loop = loop;
    u->refs = 2;
    u->attached.teardown = io_teardown;
    int rc = uv_udp_init(&loop->uv, &u->h);
    if (rc) {
        tl_freeaddrinfo(res);
        tl__free(u);
        return rc;
    }
    u->h.data = u;
    tl__loop_attach(loop, &u->attached);
    rc = uv_udp_bind(&u->h, ai->ai_addr, 0);
    if (rc == UV_EAFNOSUPPORT && ai == &any.a6)
        rc = uv_udp_bind(&u->h, any.a4.ai_addr, 0); /* no IPv6 here */
    tl_freeaddrinfo(res);
    if (rc) {
        udp_close(u);
        return rc;
    }
    *out = u;
    return 0;
}

int tl_udp_sockname(const tl_udp *u, struct sockaddr *addr, int *len)
{
    return uv_udp_getsockname(&u->h, addr, len);
}

/* ---- receiving ---- */

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    tl_udp *u = h->data;
    if (u->reader)
        *buf = uv_buf_init(u->rbuf, (unsigned)u->rcap);
    else
        *buf = uv_buf_init(NULL, 0); /* nobody reads: recv_cb stops receiving */
}

static void recv_cb(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *addr,
                    unsigned flags)
{
    (void)buf;
    tl_udp *u = h->data;
    if (!u->reader) {
        /* The datagram stays in the kernel until the next tl_udp_recvfrom. */
        uv_udp_recv_stop(h);
        u->receiving = false;
        return;
    }
    if (nread == 0 && !addr)
        return; /* nothing more to read this time */
    u->got = nread;
    u->truncated = (flags & UV_UDP_PARTIAL) != 0;
    if (addr)
        memcpy(&u->from, addr, tl__addr_len(addr));
    tl__wake_slot(&u->reader, 0);
}

static void reader_detach(tl_task *t, void *ctx)
{
    (void)t;
    tl_udp *u = ctx;
    u->reader = NULL;
}

ssize_t tl_udp_recvfrom(tl_udp *u, void *buf, size_t cap, struct sockaddr_storage *from,
                        bool *truncated)
{
    tl_task *self = tl__need_task("tl_udp_recvfrom");
    if (u->reader)
        return TL_EBUSY;
    int rc = tl__interrupt(self);
    if (rc)
        return rc;
    if (!u->receiving) {
        rc = uv_udp_recv_start(&u->h, alloc_cb, recv_cb);
        if (rc)
            return rc;
        u->receiving = true;
    }
    u->reader = self;
    u->rbuf = buf;
    u->rcap = cap > UINT32_MAX ? UINT32_MAX : cap;
    u->refs++;
    rc = tl__wait(self, "udp recvfrom", u, reader_detach, u);
    ssize_t got = u->got;
    if (!rc) {
        if (from)
            memcpy(from, &u->from, sizeof *from);
        if (truncated)
            *truncated = u->truncated;
    }
    udp_unref(u);
    return rc ? rc : got;
}

/* ---- sending ---- */

static void send_cb(uv_udp_send_t *req, int status)
{
    send_req *r = req->data;
    if (!r->waiter) {
        tl__free(r);
        return;
    }
    r->status = status;
    tl__wake_slot(&r->waiter, 0);
}

static void send_detach(tl_task *t, void *ctx)
{
    (void)t;
    send_req *r = ctx;
    r->waiter = NULL; /* send_cb frees it */
}

int tl_udp_sendto(tl_udp *u, const void *data, size_t n, const struct sockaddr *to)
{
    tl_task *self = tl__need_task("tl_udp_sendto");
    if (!to || n > UINT32_MAX)
        return TL_EINVAL;
    uv_buf_t b = uv_buf_init((char *)(uintptr_t)data, (unsigned)n);
    int rc = uv_udp_try_send(&u->h, &b, 1, to);
    if (rc >= 0)
        return 0;
    if (rc != UV_EAGAIN)
        return rc;
    if ((rc = tl__interrupt(self)))
        return rc;
    send_req *r = tl__malloc(sizeof *r + n);
    if (!r)
        return TL_ENOMEM;
    memcpy(r->data, data, n);
    r->req.data = r;
    r->u = u;
    b = uv_buf_init(r->data, (unsigned)n);
    rc = uv_udp_send(&r->req, &u->h, &b, 1, to, send_cb);
    if (rc) {
        tl__free(r);
        return rc;
    }
    r->waiter = self;
    rc = tl__wait(self, "udp sendto", u, send_detach, r);
    if (rc)
        return rc;
    rc = r->status;
    tl__free(r);
    return rc;
}
