/* tl_http_server: a stream server (tl_start_server) whose connection tasks
 * speak HTTP/1.1 (server_conn.c), its options with their defaults filled
 * in, the list of open connections, and the graceful shutdown.
 *
 * Shutdown follows aiohttp's and Go's order: stop accepting; end the
 * connections that wait idle for a next request (their idle scope is moved
 * to now, so they close without a word, like a keep-alive timeout); let the
 * requests in flight finish, their responses saying Connection: close; when
 * the grace period runs out, cancel what is left and wait for it. */
#include <math.h>

#include "http.h"

static double or_default(double v, double d)
{
    return v > 0 && !isnan(v) ? v : d;
}

static void fill_defaults(tl_http_server_opts *o)
{
    if (!o->max_head)
        o->max_head = 16 * 1024;
    if (!o->max_line)
        o->max_line = 8 * 1024;
    if (o->max_line > o->max_head)
        o->max_line = o->max_head;
    if (!o->max_headers)
        o->max_headers = 100;
    if (!o->max_body)
        o->max_body = 1024 * 1024;
    if (!o->max_drain)
        o->max_drain = 256 * 1024;
    if (!o->max_requests)
        o->max_requests = 1000;
    o->head_timeout = or_default(o->head_timeout, 30);
    o->body_timeout = or_default(o->body_timeout, 30);
    o->idle_timeout = or_default(o->idle_timeout, 75);
    o->write_timeout = or_default(o->write_timeout, 30);
    o->linger = or_default(o->linger, 0.5);
}

int tl_http_server_start(tl_http_handler handler, void *arg, const char *host, int port,
                         const tl_http_server_opts *opts, tl_http_server **out)
{
    if (!out)
        return TL_EINVAL;
    *out = NULL;
    if (!handler)
        return TL_EINVAL;
    tl_http_server *hs = tl__calloc(1, sizeof *hs);
    if (!hs)
        return TL_ENOMEM;
    if (opts)
        hs->o = *opts;
    fill_defaults(&hs->o);
    hs->handler = handler;
    hs->arg = arg;
    hs->lim = (tl__http_limits){hs->o.max_head, hs->o.max_line, hs->o.max_headers};
    hs->refs = 1;
    tl_server_opts so = hs->o.server;
    if (!so.stack_size)
        so.stack_size = hs->o.stack_size;
    if (!so.tls)
        so.tls = hs->o.tls; /* HTTPS: the handshake before the first request's head */
    int rc = tl_start_server(tl__http_conn_main, hs, host, port, &so, &hs->srv);
    if (rc) {
        tl__free(hs);
        return rc;
    }
    *out = hs;
    return 0;
}

int tl_http_server_port(const tl_http_server *hs)
{
    return hs->srv ? tl_server_port(hs->srv) : 0;
}

size_t tl_http_server_connections(const tl_http_server *hs)
{
    return hs->nconns;
}

static void unref(tl_http_server *hs)
{
    if (--hs->refs == 0)
        tl__free(hs);
}

void tl__http_conn_link(tl_http_server *hs, tl__http_conn *c)
{
    hs->refs++;
    hs->nconns++;
    c->prev = NULL;
    c->next = hs->conns;
    if (hs->conns)
        hs->conns->prev = c;
    hs->conns = c;
}

void tl__http_conn_unlink(tl_http_server *hs, tl__http_conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        hs->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    hs->nconns--;
    unref(hs);
}

int tl_http_server_shutdown(tl_http_server *hs, double grace)
{
    hs->shutting_down = true;
    tl_server_close(hs->srv);
    for (tl__http_conn *c = hs->conns; c; c = c->next)
        if (c->idle)
            tl_timeout_reschedule(&c->wait, 0); /* expires now: a silent close */
    tl_timeout t;
    tl_timeout_enter(&t, grace);
    int rc = tl_server_wait_closed(hs->srv);
    bool late = tl_timeout_exit(&t) == TL_ETIMEDOUT;
    if (rc == TL_ECANCELED || !late)
        return rc;
    for (tl__http_conn *c = hs->conns; c; c = c->next)
        tl_task_cancel(c->task);
    rc = tl_server_wait_closed(hs->srv);
    return rc ? rc : TL_ETIMEDOUT;
}

void tl_http_server_free(tl_http_server *hs)
{
    if (!hs)
        return;
    tl_server_free(hs->srv);
    hs->srv = NULL;
    hs->shutting_down = true;
    unref(hs);
}
