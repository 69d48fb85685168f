/* Servers (asyncio.start_server): listening sockets, one task per connection.
 *
 * tulip accepts by itself (accept4 on a uv_poll of the listening socket)
 * instead of through uv_listen, for one reason: when accept fails for lack
 * of descriptors or memory, libuv's listener cannot be paused, so the loop
 * would spin on a socket that stays readable. Here the server stops polling,
 * retries after RETRY_DELAY_MS and says so in debug mode.
 *
 * The server's memory lives until the user has freed it, every handler has
 * returned and every handle has closed (a reference count covers all three). */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../tls/tls.h"
#include "io.h"

#define ACCEPT_BATCH    64 /* accepts per readiness: let the rest of the loop run */
#define RETRY_DELAY_MS  100
#define BACKLOG_DEFAULT 511

typedef struct listener {
    uv_poll_t poll;
    int fd;
    tl_server *srv;
} listener;

struct tl_server {
    tl_loop *loop;
    tl__attached attached;
    unsigned refs; /* the user, each handler, each open handle */
    tl_conn_fn fn;
    void *arg;
    size_t limit, stack_size;
    tl_tls_ctx *tls; /* retained */
    double tls_handshake_timeout;
    char *path; /* Unix server */
    int port;
    listener *ls;
    size_t nls;
    uv_timer_t retry;
    bool closed, freed, backing_off;
    tl_stream *conns; /* the running handlers' streams */
    size_t nconns;
    tl__wlist forever; /* serve_forever: until closed */
    tl__wlist idle;    /* wait_closed: until closed and no handler runs */
};

static void server_unref(tl_server *srv)
{
    if (--srv->refs)
        return;
    tl__free(srv->ls);
    tl__free(srv->path);
    tl_tls_ctx_release(srv->tls);
    tl__free(srv);
}

static void handle_closed(uv_handle_t *h)
{
    tl_server *srv = h->data;
    if (h->type == UV_POLL)
        srv = tl__container_of((uv_poll_t *)h, listener, poll)->srv;
    server_unref(srv);
}

/* Stops listening now: uv_close stops the poll at once, so the socket can
 * close at once too, and the port is free as soon as close returns. */
static void close_listeners(tl_server *srv)
{
    for (size_t i = 0; i < srv->nls; i++) {
        uv_close((uv_handle_t *)&srv->ls[i].poll, handle_closed);
        close(srv->ls[i].fd);
    }
}

static void wake_idle(tl_server *srv)
{
    if (srv->closed && !srv->nconns)
        tl__wlist_wake_all(&srv->idle, 0);
}

/* ---- connections ---- */

static void conn_unlink(tl_server *srv, tl_stream *s)
{
    if (s->conn_prev)
        s->conn_prev->conn_next = s->conn_next;
    else
        srv->conns = s->conn_next;
    if (s->conn_next)
        s->conn_next->conn_prev = s->conn_prev;
    srv->nconns--;
}

/* A handler's task: runs the handler, then closes its stream. It runs even
 * when cancelled before it starts, to do that cleanup. */
static int conn_main(void *arg)
{
    tl_stream *s = arg;
    tl_server *srv = s->server;
    tl_task *self = s->handler;
    int rc = (self->flags & TL__CANCEL_REQ) ? TL_ECANCELED : 0;
    /* A failed handshake never reaches the handler. */
    if (!rc && srv->tls)
        rc = tl__stream_start_tls_ex(s, srv->tls, NULL, true, srv->tls_handshake_timeout, 0);
    if (!rc)
        rc = srv->fn(s, srv->arg);
    else if (srv->tls)
        s->flags |= TL__S_ABORT;
    if (!(s->flags & TL__S_RELEASED))
        tl__stream_release(s);
    conn_unlink(srv, s);
    s->handler = NULL;
    s->server = NULL;
    tl__stream_unref(s);
    tl_task_release(self);
    wake_idle(srv);
    server_unref(srv);
    return rc;
}

/* Wraps an accepted socket in a stream and starts its handler. */
static int new_connection(tl_server *srv, int fd)
{
    tl_stream *s = tl__stream_new(srv->loop, srv->path ? TL__STREAM_PIPE : TL__STREAM_TCP, NULL);
    if (!s) {
        close(fd);
        return TL_ENOMEM;
    }
    int rc = srv->path ? uv_pipe_open(&s->sock.uv.pipe, fd) : uv_tcp_open(&s->sock.uv.tcp, fd);
    if (rc) {
        close(fd);
        tl__stream_release(s);
        return rc;
    }
    s->limit = srv->limit;
    tl_task_opts topts = {.stack_size = srv->stack_size};
    tl_task *t = tl_create_task_ex(conn_main, s, &topts);
    if (!t) {
        tl__stream_release(s);
        return TL_ENOMEM;
    }
    t->flags |= TL__ALWAYS_RUNS;
    s->server = srv;
    s->handler = t;
    s->conn_prev = NULL;
    s->conn_next = srv->conns;
    if (srv->conns)
        srv->conns->conn_prev = s;
    srv->conns = s;
    srv->nconns++;
    srv->refs++;
    tl__stream_ref(s);   /* the handler's, beside the owner's it may give up */
    tl__stream_start(s); /* an error here reaches the handler's first read */
    return 0;
}

/* ---- accepting ---- */

static void poll_all(tl_server *srv, bool on);

static void retry_cb(uv_timer_t *h)
{
    tl_server *srv = h->data;
    srv->backing_off = false;
    if (!srv->closed)
        poll_all(srv, true);
}

/* Out of descriptors or memory: stop accepting for a while instead of
 * spinning on a listening socket that stays readable. */
static void back_off(tl_server *srv, int err)
{
    if (tl__debug) {
        char where[32];
        snprintf(where, sizeof where, "port %d", srv->port);
        fprintf(stderr, "tulip: server on %s: accept failed: %s (%s); retrying in %d ms\n",
                srv->path ? srv->path : where, tl_err_name(err), tl_strerror(err), RETRY_DELAY_MS);
    }
    if (srv->backing_off)
        return;
    srv->backing_off = true;
    poll_all(srv, false);
    uv_timer_start(&srv->retry, retry_cb, RETRY_DELAY_MS, 0);
}

static bool transient(int e)
{
    return e == EINTR || e == ECONNABORTED || e == EPROTO || e == EPERM || e == ENETDOWN ||
           e == ENOPROTOOPT || e == EHOSTDOWN || e == ENONET || e == EHOSTUNREACH ||
           e == EOPNOTSUPP || e == ENETUNREACH;
}

static void on_readable(uv_poll_t *h, int status, int events)
{
    (void)events;
    listener *l = h->data;
    tl_server *srv = l->srv;
    if (status < 0) {
        back_off(srv, status);
        return;
    }
    for (int i = 0; i < ACCEPT_BATCH && !srv->closed; i++) {
        int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            if (transient(errno))
                continue; /* that connection is gone; the next may be fine */
            back_off(srv, -errno);
            return;
        }
        int rc = new_connection(srv, fd);
        if (rc == TL_ENOMEM) {
            back_off(srv, rc);
            return;
        }
    }
}

static void poll_all(tl_server *srv, bool on)
{
    for (size_t i = 0; i < srv->nls; i++) {
        if (on)
            uv_poll_start(&srv->ls[i].poll, UV_READABLE, on_readable);
        else
            uv_poll_stop(&srv->ls[i].poll);
    }
}

/* ---- listening sockets ---- */

static int listen_on(const struct sockaddr *sa, socklen_t len, const tl_server_opts *o)
{
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1, rc = 0;
    if (sa->sa_family != AF_UNIX) {
        /* asyncio's default on Unix: a restarted server can bind at once */
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
            (o->reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one)))
            rc = -errno;
    }
    if (!rc && sa->sa_family == AF_INET6) {
        int only = o->ipv6_only;
        if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &only, sizeof only))
            rc = -errno;
    }
    if (!rc && bind(fd, sa, len))
        rc = -errno;
    if (!rc && listen(fd, o->backlog > 0 ? o->backlog : BACKLOG_DEFAULT))
        rc = -errno;
    if (rc) {
        close(fd);
        return rc;
    }
    return fd;
}

static int port_of(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len))
        return 0;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return 0;
}

static void set_port(struct sockaddr *sa, int port)
{
    if (sa->sa_family == AF_INET)
        ((struct sockaddr_in *)sa)->sin_port = htons((uint16_t)port);
    else if (sa->sa_family == AF_INET6)
        ((struct sockaddr_in6 *)sa)->sin6_port = htons((uint16_t)port);
}

static void io_teardown(tl__attached *n);

static tl_server *server_new(tl_conn_fn fn, void *arg, const tl_server_opts *o, size_t nls)
{
    tl_loop *loop = tl__need_loop("tl_start_server");
    tl_server *srv = tl__calloc(1, sizeof *srv);
    if (!srv)
        return NULL;
    srv->ls = tl__calloc(nls, sizeof *srv->ls);
    if (!srv->ls) {
        tl__free(srv);
        return NULL;
    }
    srv->loop = loop;
    srv->refs = 1;
    srv->fn = fn;
    srv->arg = arg;
    srv->limit = o->limit ? o->limit : TL_STREAM_LIMIT_DEFAULT;
    srv->stack_size = o->stack_size;
    srv->tls = o->tls ? tl_tls_ctx_retain((tl_tls_ctx *)o->tls) : NULL;
    srv->tls_handshake_timeout = o->tls_handshake_timeout;
    srv->attached.teardown = io_teardown;
    return srv;
}

/* Adds a listener on fd (which it now owns). */
static void add_listener(tl_server *srv, int fd)
{
    listener *l = &srv->ls[srv->nls++];
    l->fd = fd;
    l->srv = srv;
    uv_poll_init_socket(&srv->loop->uv, &l->poll, fd);
    l->poll.data = l;
    srv->refs++;
}

/* Starts a server listening on the fds added: links it and polls. */
static void server_start(tl_server *srv, tl_server **out)
{
    uv_timer_init(&srv->loop->uv, &srv->retry);
    srv->retry.data = srv;
    srv->refs++;
    tl__loop_attach(srv->loop, &srv->attached);
    poll_all(srv, true);
    *out = srv;
}

/* Undoes a server that failed to start: closes what it opened. */
static int server_abort(tl_server *srv, int err)
{
    srv->closed = true;
    close_listeners(srv);
    server_unref(srv);
    return err;
}

static const tl_server_opts no_opts;

int tl_start_server(tl_conn_fn handler, void *arg, const char *host, int port,
                    const tl_server_opts *opts, tl_server **out)
{
    *out = NULL;
    const tl_server_opts *o = opts ? opts : &no_opts;
    if (!handler || port < 0 || port > 65535 || (o->tls && !o->tls->server))
        return TL_EINVAL;
    tl__need_loop("tl_start_server");
    struct addrinfo *res = NULL;
    tl__wildcard any;
    struct addrinfo *list = tl__wildcard_list(&any, port);
    if (host && *host) {
        tl__need_task("tl_start_server"); /* a name lookup suspends */
        int rc = tl__resolve(host, port, SOCK_STREAM, AI_PASSIVE, &res);
        if (rc)
            return rc;
        list = res;
    }
    size_t n = 0;
    for (struct addrinfo *ai = list; ai; ai = ai->ai_next)
        n++;
    tl_server *srv = server_new(handler, arg, o, n);
    if (!srv) {
        tl_freeaddrinfo(res);
        return TL_ENOMEM;
    }
    int rc = 0;
    for (struct addrinfo *ai = list; ai; ai = ai->ai_next) {
        if (srv->port)
            set_port(ai->ai_addr, srv->port); /* port 0: every address on the first's port */
        int fd = listen_on(ai->ai_addr, ai->ai_addrlen, o);
        if (fd < 0) {
            /* The wildcard: no IPv6 here, then IPv4 alone; IPv4 refused
             * beside an IPv6-only socket, then IPv6 alone. */
            if (list == &any.a6 && ai == &any.a6 && fd == TL_EAFNOSUPPORT)
                continue;
            if (list == &any.a6 && ai == &any.a4 && srv->nls > 0)
                break;
            rc = fd;
            break;
        }
        add_listener(srv, fd);
        srv->port = port_of(fd);
        if (list == &any.a6 && !o->ipv6_only)
            break; /* dual-stack "::" serves IPv4 too */
    }
    tl_freeaddrinfo(res);
    if (rc || !srv->nls)
        return server_abort(srv, rc ? rc : TL_EADDRNOTAVAIL);
    server_start(srv, out);
    return 0;
}

int tl_start_unix_server(tl_conn_fn handler, void *arg, const char *path,
                         const tl_server_opts *opts, tl_server **out)
{
    *out = NULL;
    const tl_server_opts *o = opts ? opts : &no_opts;
    if (!handler || !path || !*path)
        return TL_EINVAL;
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sun.sun_path)
        return TL_ENAMETOOLONG;
    strcpy(sun.sun_path, path);
    tl_server *srv = server_new(handler, arg, o, 1);
    if (!srv || !(srv->path = tl__strdup(path))) {
        if (srv)
            server_unref(srv);
        return TL_ENOMEM;
    }
    /* A socket file left by an earlier server would make bind fail (asyncio
     * removes it too); anything else at path is left alone. */
    struct stat st;
    if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path);
    int fd = listen_on((struct sockaddr *)&sun, sizeof sun, o);
    if (fd < 0)
        return server_abort(srv, fd);
    add_listener(srv, fd);
    server_start(srv, out);
    return 0;
}

/* ---- the server's life ---- */

int tl_server_port(const tl_server *srv)
{
    return srv->port;
}

int tl_server_sockname(const tl_server *srv, struct sockaddr *addr, int *len)
{
    if (srv->path)
        return TL_ENOTSUP;
    if (srv->closed)
        return TL_EBADF;
    socklen_t sl = (socklen_t)*len;
    if (getsockname(srv->ls[0].fd, addr, &sl))
        return -errno;
    *len = (int)sl;
    return 0;
}

size_t tl_server_connections(const tl_server *srv)
{
    return srv->nconns;
}

bool tl_server_is_serving(const tl_server *srv)
{
    return !srv->closed;
}

void tl_server_close(tl_server *srv)
{
    if (srv->closed)
        return;
    srv->closed = true;
    close_listeners(srv);
    uv_close((uv_handle_t *)&srv->retry, handle_closed);
    if (srv->path)
        unlink(srv->path);
    tl__wlist_wake_all(&srv->forever, 0);
    wake_idle(srv);
}

static int park_in(tl_server *srv, tl_task *self, tl__wlist *list, const char *what)
{
    int rc = tl__interrupt(self);
    if (rc)
        return rc;
    srv->refs++;
    rc = tl__wait_in(self, list, what, srv);
    server_unref(srv);
    return rc;
}

int tl_server_serve_forever(tl_server *srv)
{
    tl_task *self = tl__need_task("tl_server_serve_forever");
    if (srv->closed)
        return 0;
    srv->refs++;
    int rc = park_in(srv, self, &srv->forever, "server");
    if (rc)
        tl_server_close(srv); /* as asyncio's serve_forever does, timeouts included */
    server_unref(srv);
    return rc;
}

int tl_server_wait_closed(tl_server *srv)
{
    tl_task *self = tl__need_task("tl_server_wait_closed");
    if (srv->closed && !srv->nconns)
        return 0;
    return park_in(srv, self, &srv->idle, "server close");
}

void tl_server_free(tl_server *srv)
{
    if (!srv)
        return;
    if (srv->freed)
        tl__fatal("tl_server_free: server %p freed twice", (void *)srv);
    srv->freed = true;
    tl__loop_detach(srv->loop, &srv->attached);
    tl_server_close(srv);
    for (tl_stream *s = srv->conns; s; s = s->conn_next)
        tl_task_cancel(s->handler);
    server_unref(srv);
}

static void io_teardown(tl__attached *n)
{
    tl_server_free(tl__container_of(n, tl_server, attached));
}
