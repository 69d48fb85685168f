/* The glue between libcurl's multi-socket API and tulip's loop.
 *
 * libcurl tells us which sockets to watch (socket_cb) and when to call it
 * back (timer_cb); we call curl_multi_socket_action when a socket is ready
 * (poll_cb) or the timer is due, and drain curl_multi_info_read after every
 * such call, whatever running_handles says. The callbacks themselves only
 * change watches and timers: nothing calls libcurl from inside libcurl
 * (7.82+ refuses it with CURLM_RECURSIVE_API_CALL), and a 0 ms timer goes to
 * the ready queue, never to a timer that libuv 1.44 would re-fire in the
 * same pass without polling I/O.
 *
 * Sockets are tracked by fd in the client's own table, never through
 * curl_multi_assign's pointer (stale after a close): REMOVE and
 * CLOSESOCKETFUNCTION both stop and close the fd's uv_poll before the fd
 * can close, so libuv never watches a closed or recycled descriptor. */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client.h"

/* Spare easy handles kept per client, at most. */
#define MAX_SPARES 1024u

/* Everything completed by the last socket_action: finish each transfer (the
 * CURLMsg dies with the handle's removal, so the result is read first). */
static void drain(tl_http_client *c)
{
    CURLMsg *m;
    int left;
    while (c->multi && (m = curl_multi_info_read(c->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        CURLcode cc = m->data.result;
        char *priv = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
        if (priv)
            tl__http_xfer_finish((tl_http_response *)priv, cc, 0);
    }
}

/* A socket the socket callback could not watch (no memory) stalls its
 * transfer: fail every transfer in flight, here, outside the callbacks.
 * Returning -1 from the callback instead would mark the whole multi dead,
 * and the client with it, for good. */
static void fail_on_oom(tl_http_client *c)
{
    if (!c->oom)
        return;
    c->oom = false;
    for (tl_http_response *r = c->live; r; r = r->next)
        if (r->in_multi)
            tl__http_xfer_finish(r, CURLE_OK, TL_ENOMEM);
}

static void action(tl_http_client *c, curl_socket_t fd, int flags)
{
    int running = 0; /* libcurl writes it without a NULL check */
    curl_multi_socket_action(c->multi, fd, flags, &running);
    drain(c);
    fail_on_oom(c);
}

/* ---- sockets ---- */

static tl__http_sock *sock_find(tl_http_client *c, curl_socket_t fd)
{
    return fd >= 0 && (size_t)fd < c->nsocks ? c->socks[fd] : NULL;
}

static void sock_close_cb(uv_handle_t *h)
{
    tl__free(tl__container_of((uv_poll_t *)h, tl__http_sock, poll));
}

/* Stops watching fd now (the memory goes in the close callback). */
static void sock_forget(tl_http_client *c, curl_socket_t fd)
{
    tl__http_sock *sk = sock_find(c, fd);
    if (!sk)
        return;
    c->socks[fd] = NULL;
    uv_poll_stop(&sk->poll);
    uv_close((uv_handle_t *)&sk->poll, sock_close_cb);
}

static void poll_cb(uv_poll_t *h, int status, int events)
{
    tl__http_sock *sk = tl__container_of(h, tl__http_sock, poll);
    tl_http_client *c = sk->c;
    curl_socket_t fd = sk->fd;
    int flags = 0;
    if (status < 0) {
        /* libuv reports POLLERR (a refused connect, an RST) as UV_EBADF and
         * stops the handle itself: libcurl must hear of it, or it waits on a
         * watch that no longer exists. ERR alone makes libcurl fail the
         * transfer outright ("select/poll returned error"); with what was
         * watched beside it, libcurl reads or writes, sees the reset itself,
         * and can retry a request on a reused connection that had died. */
        flags = CURL_CSELECT_ERR | (sk->events & UV_READABLE ? CURL_CSELECT_IN : 0) |
                (sk->events & UV_WRITABLE ? CURL_CSELECT_OUT : 0);
    } else {
        if (events & UV_READABLE)
            flags |= CURL_CSELECT_IN;
        if (events & UV_WRITABLE)
            flags |= CURL_CSELECT_OUT;
    }
    action(c, fd, flags);
    /* Still wanted after an error stopped it: watch again, as libcurl will
     * not repeat an unchanged request. */
    if (status < 0 && sock_find(c, fd) == sk && !uv_is_active((uv_handle_t *)&sk->poll))
        uv_poll_start(&sk->poll, sk->events, poll_cb);
}

static tl__http_sock *sock_new(tl_http_client *c, curl_socket_t fd)
{
    if ((size_t)fd >= c->nsocks) {
        size_t n = c->nsocks ? c->nsocks : 64;
        while (n <= (size_t)fd)
            n *= 2;
        tl__http_sock **t = tl__realloc(c->socks, n * sizeof *t);
        if (!t)
            return NULL;
        memset(t + c->nsocks, 0, (n - c->nsocks) * sizeof *t);
        c->socks = t;
        c->nsocks = n;
    }
    tl__http_sock *sk = tl__malloc(sizeof *sk);
    if (!sk)
        return NULL;
    if (uv_poll_init_socket(&c->loop->uv, &sk->poll, fd) != 0) {
        tl__free(sk);
        return NULL;
    }
    sk->fd = fd;
    sk->c = c;
    c->socks[fd] = sk;
    return sk;
}

/* CURLMOPT_SOCKETFUNCTION. socketp and easy are ignored: the pointer may be
 * stale, and easy may be an internal handle with no PRIVATE. */
static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    (void)socketp;
    tl_http_client *c = userp;
    if (what == CURL_POLL_REMOVE) {
        sock_forget(c, fd);
        return 0;
    }
    tl__http_sock *sk = sock_find(c, fd);
    if (!sk && !(sk = sock_new(c, fd))) {
        c->oom = true; /* see fail_on_oom */
        return 0;
    }
    sk->events = (what & CURL_POLL_IN ? UV_READABLE : 0) | (what & CURL_POLL_OUT ? UV_WRITABLE : 0);
    if (!sk->events)
        uv_poll_stop(&sk->poll);
    else if (uv_poll_start(&sk->poll, sk->events, poll_cb) != 0)
        c->oom = true;
    return 0;
}

/* CURLOPT_OPENSOCKETFUNCTION: close-on-exec, and counted. */
static curl_socket_t open_cb(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
    (void)purpose;
    tl_http_client *c = clientp;
    curl_socket_t fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
    if (fd != CURL_SOCKET_BAD && ++c->open_sockets > c->max_open_sockets)
        c->max_open_sockets = c->open_sockets;
    return fd;
}

/* CURLOPT_CLOSESOCKETFUNCTION: the watch goes before the fd does. */
static int close_cb(void *clientp, curl_socket_t fd)
{
    tl_http_client *c = clientp;
    sock_forget(c, fd);
    c->open_sockets--;
    return close(fd);
}

/* ---- libcurl's timer ---- */

static void timer_fire(void *t)
{
    tl_http_client *c = tl__container_of(t, tl_http_client, timer);
    action(c, CURL_SOCKET_TIMEOUT, 0);
}

static void soon_cb(void *arg)
{
    tl_http_client *c = arg;
    c->soon = NULL;
    action(c, CURL_SOCKET_TIMEOUT, 0);
}

static void timer_stop(tl_http_client *c)
{
    tl__timer_remove(c->loop, &c->timer);
    if (c->soon) {
        tl_handle_cancel(c->soon);
        c->soon = NULL;
    }
}

/* CURLMOPT_TIMERFUNCTION: one timer, each call replacing the last. */
static int timer_cb(CURLM *multi, long ms, void *userp)
{
    (void)multi;
    tl_http_client *c = userp;
    timer_stop(c);
    if (ms < 0)
        return 0;
    if (ms == 0 && (c->soon = tl_call_soon(soon_cb, c)))
        return 0;
    /* > 0, or no memory for the call_soon: the heap, at least 1 ms ahead */
    tl__timer_add(c->loop, &c->timer, uv_hrtime() + (uint64_t)(ms ? ms : 1) * 1000000u);
    return 0;
}

/* ---- set-up and shutdown ---- */

int tl__http_multi_init(tl_http_client *c)
{
    unsigned nspares = c->o.max_in_flight < MAX_SPARES ? c->o.max_in_flight : MAX_SPARES;
    if (tl__fault_point() || !(c->spares = tl__calloc(nspares, sizeof *c->spares)))
        return TL_ENOMEM;
    c->multi = curl_multi_init();
    c->share = curl_share_init();
    if (!c->multi || !c->share) {
        if (c->multi)
            curl_multi_cleanup(c->multi);
        if (c->share)
            curl_share_cleanup(c->share);
        c->multi = NULL;
        c->share = NULL;
        return TL_ENOMEM;
    }
    /* libcurl 7.88.1 keeps TLS sessions per easy handle: a share carries them
     * (and resolved names, and cookies) across the client's handles. */
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    if (!c->o.no_cookies)
        curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)c->o.max_connections);
    curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)c->o.max_connections_per_host);
    c->timer.fire = timer_fire;
    return 0;
}

static void easy_cleanup(tl_http_client *c, CURL *e);
static void easy_forget(CURL *e);

/* The order (design.md, "The HTTP client"): transfers first (their tasks
 * woken), then the spare easy handles, then the multi, which may still call
 * socket_cb and timer_cb while it closes its connections, then whatever
 * watches are left (their fds are libcurl's: not touched), then the timer,
 * then the share the easy handles used. */
void tl__http_multi_shutdown(tl_http_client *c)
{
    if (!c->multi)
        return;
    tl__http_slots_end(c);
    for (tl_http_response *r = c->live; r; r = r->next)
        if (!r->done)
            tl__http_xfer_finish(r, CURLE_OK, TL_ECANCELED);
    while (c->nspares)
        easy_cleanup(c, c->spares[--c->nspares]);
    curl_multi_cleanup(c->multi);
    c->multi = NULL;
    for (size_t fd = 0; fd < c->nsocks; fd++)
        sock_forget(c, (curl_socket_t)fd);
    timer_stop(c);
    curl_share_cleanup(c->share);
    c->share = NULL;
}

CURL *tl__http_easy_get(tl_http_client *c)
{
    if (tl__fault_point())
        return NULL;
    CURL *e;
    if (c->nspares) {
        e = c->spares[--c->nspares];
        easy_forget(e);
        curl_easy_reset(e);
    } else if (!(e = curl_easy_init())) {
        return NULL;
    } else {
        c->neasy++;
    }
    /* "" turns the cookie engine on (the jar is the share's); see easy_forget */
    if (!c->o.no_cookies)
        curl_easy_setopt(e, CURLOPT_COOKIEFILE, "");
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_cb);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, c);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, close_cb);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, c);
    curl_easy_setopt(e, CURLOPT_SHARE, c->share);
    return e;
}

/* CURLOPT_COOKIEFILE appends to a list that libcurl 7.88.1 loses on
 * curl_easy_reset and curl_easy_cleanup; NULL frees it (and, as the jar is
 * shared, keeps the cookies). */
static void easy_forget(CURL *e)
{
    curl_easy_setopt(e, CURLOPT_COOKIEFILE, NULL);
}

static void easy_cleanup(tl_http_client *c, CURL *e)
{
    easy_forget(e);
    curl_easy_cleanup(e);
    c->neasy--;
}

void tl__http_easy_put(tl_http_client *c, CURL *e)
{

    unsigned cap = c->o.max_in_flight < MAX_SPARES ? c->o.max_in_flight : MAX_SPARES;
    if (c->multi && c->nspares < cap) {
        c->spares[c->nspares++] = e;
    } else {
        easy_cleanup(c, e);
    }
}
