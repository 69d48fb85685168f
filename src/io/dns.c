/* tl_getaddrinfo and tl_getnameinfo on libuv's thread pool.
 *
 * A lookup the pool has started cannot be stopped, so its request lives on
 * the heap, not in the caller's frame: a cancelled caller leaves at once and
 * the callback, finding nobody waiting, frees the request and its result. */
#include <stdio.h>
#include <string.h>

#include "io.h"

typedef struct gai_req {
    uv_getaddrinfo_t req;
    tl_task *waiter; /* NULL once the caller has left */
    int status;
    struct addrinfo *res;
} gai_req;

static void gai_cb(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    gai_req *g = req->data;
    if (!g->waiter) {
        uv_freeaddrinfo(res);
        tl__free(g);
        return;
    }
    g->status = status;
    g->res = res;
    tl__wake_slot(&g->waiter, 0);
}

/* The caller is cancelled or timed out: it leaves, the request stays. */
static void gai_detach(tl_task *t, void *ctx)
{
    (void)t;
    gai_req *g = ctx;
    g->waiter = NULL;
    uv_cancel((uv_req_t *)&g->req); /* only helps if the pool has not started it */
}

int tl_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                   struct addrinfo **res)
{
    tl_task *self = tl__need_task("tl_getaddrinfo");
    *res = NULL;
    int rc = tl__interrupt(self);
    if (rc)
        return rc;
    gai_req *g = tl__calloc(1, sizeof *g);
    if (!g)
        return TL_ENOMEM;
    g->req.data = g;
    rc = uv_getaddrinfo(&self->loop->uv, &g->req, gai_cb, node, service, hints);
    if (rc) {
        tl__free(g);
        return rc;
    }
    g->waiter = self;
    rc = tl__wait(self, "getaddrinfo", g, gai_detach, g);
    if (rc)
        return rc; /* the callback frees g */
    rc = g->status;
    *res = g->res;
    tl__free(g);
    return rc;
}

void tl_freeaddrinfo(struct addrinfo *res)
{
    uv_freeaddrinfo(res);
}

typedef struct gni_req {
    uv_getnameinfo_t req;
    tl_task *waiter;
    int status;
} gni_req;

static void gni_cb(uv_getnameinfo_t *req, int status, const char *host, const char *serv)
{
    (void)host;
    (void)serv; /* both point into req, read after the wake-up */
    gni_req *g = req->data;
    if (!g->waiter) {
        tl__free(g);
        return;
    }
    g->status = status;
    tl__wake_slot(&g->waiter, 0);
}

static void gni_detach(tl_task *t, void *ctx)
{
    (void)t;
    gni_req *g = ctx;
    g->waiter = NULL;
    uv_cancel((uv_req_t *)&g->req);
}

static void copy_name(char *dst, size_t cap, const char *src)
{
    if (dst && cap)
        snprintf(dst, cap, "%s", src);
}

int tl_getnameinfo(const struct sockaddr *addr, int flags, char *host, size_t hostlen, char *serv,
                   size_t servlen)
{
    tl_task *self = tl__need_task("tl_getnameinfo");
    if (!addr)
        return TL_EINVAL;
    int rc = tl__interrupt(self);
    if (rc)
        return rc;
    gni_req *g = tl__calloc(1, sizeof *g);
    if (!g)
        return TL_ENOMEM;
    g->req.data = g;
    rc = uv_getnameinfo(&self->loop->uv, &g->req, gni_cb, addr, flags);
    if (rc) {
        tl__free(g);
        return rc;
    }
    g->waiter = self;
    rc = tl__wait(self, "getnameinfo", g, gni_detach, g);
    if (rc)
        return rc;
    rc = g->status;
    if (rc == 0) {
        if ((host && hostlen && strlen(g->req.host) >= hostlen) ||
            (serv && servlen && strlen(g->req.service) >= servlen))
            rc = TL_ENOBUFS;
        copy_name(host, hostlen, g->req.host);
        copy_name(serv, servlen, g->req.service);
    }
    tl__free(g);
    return rc;
}

int tl__resolve(const char *host, int port, int socktype, int flags, struct addrinfo **res)
{
    *res = NULL;
    if (port < 0 || port > 65535)
        return TL_EINVAL;
    char service[8];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = socktype};
    /* A numeric address needs no lookup: resolve it here, off the pool. */
    hints.ai_flags = flags | AI_NUMERICHOST | AI_NUMERICSERV;
    int rc = getaddrinfo(host, service, &hints, res);
    if (rc == 0)
        return 0;
    if (rc == EAI_MEMORY)
        return TL_ENOMEM;
    hints.ai_flags = flags | AI_NUMERICSERV;
    return tl_getaddrinfo(host, service, &hints, res);
}

struct addrinfo *tl__wildcard_list(tl__wildcard *w, int port)
{
    memset(w, 0, sizeof *w);
    w->any6.sin6_family = AF_INET6;
    w->any6.sin6_addr = in6addr_any;
    w->any6.sin6_port = htons((uint16_t)port);
    w->any4.sin_family = AF_INET;
    w->any4.sin_addr.s_addr = htonl(INADDR_ANY);
    w->any4.sin_port = htons((uint16_t)port);
    w->a4 = (struct addrinfo){
        .ai_family = AF_INET, .ai_addr = (struct sockaddr *)&w->any4, .ai_addrlen = sizeof w->any4};
    w->a6 = (struct addrinfo){.ai_family = AF_INET6,
                              .ai_addr = (struct sockaddr *)&w->any6,
                              .ai_addrlen = sizeof w->any6,
                              .ai_next = &w->a4};
    return &w->a6;
}

socklen_t tl__addr_len(const struct sockaddr *sa)
{
    switch (sa->sa_family) {
    case AF_INET:
        return sizeof(struct sockaddr_in);
    case AF_INET6:
        return sizeof(struct sockaddr_in6);
    default:
        return sizeof(struct sockaddr_un);
    }
}
