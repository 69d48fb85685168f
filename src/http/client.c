/* tl_http_client: the session object, its defaults, its slots and its rate
 * limit.
 *
 * A client is reference-counted: its owner holds one reference and each
 * response another, so a response may outlive tl_http_client_free (its
 * transfer is ended, what arrived stays readable). The loop keeps a list of
 * its clients as per-loop state so that tl_loop_free can shut down those the
 * program left open: their libuv handles must close before the loop does. */
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "client.h"

typedef struct {
    tl__loop_state st;
    tl_http_client *list;
} tl__http_clients;

static const char clients_key = 0;

static void clients_teardown(tl__loop_state *st);

static tl__http_clients *loop_clients(tl_loop *loop, bool create)
{
    tl__loop_state *st = tl__loop_state_find(loop, &clients_key);
    if (st || !create)
        return st ? tl__container_of(st, tl__http_clients, st) : NULL;
    tl__http_clients *all = tl__calloc(1, sizeof *all);
    if (!all)
        return NULL;
    all->st.key = &clients_key;
    all->st.teardown = clients_teardown;
    tl__loop_state_add(loop, &all->st);
    return all;
}

static void unlink_client(tl_http_client *c)
{
    tl__http_clients *all = loop_clients(c->loop, false);
    if (!all)
        return;
    tl_http_client **pp = &all->list;
    while (*pp && *pp != c)
        pp = &(*pp)->loop_next;
    if (*pp)
        *pp = c->loop_next;
    if (!all->list) {
        tl__loop_state_remove(c->loop, &all->st);
        tl__free(all);
    }
}

static void free_strings(tl_http_client *c)
{
    if (c->o.headers)
        for (char **h = (char **)c->o.headers; *h; h++)
            tl__free(*h);
    tl__free((void *)c->o.headers);
    tl__free((char *)c->o.user_agent);
    tl__free((char *)c->o.ca_file);
}

static void client_destroy(tl_http_client *c)
{
    free_strings(c);
    tl__free(c->spares);
    tl__free(c->socks);
    tl__free(c);
}

void tl__http_client_unref(tl_http_client *c)
{
    if (--c->refs == 0)
        client_destroy(c);
}

/* Ends the client for its owner: the multi and its handles go now. */
static void client_close(tl_http_client *c)
{
    c->closed = true;
    unlink_client(c);
    tl__http_multi_shutdown(c);
}

/* tl_loop_free: clients the program never freed. Their tasks are gone. */
static void clients_teardown(tl__loop_state *st)
{
    tl__http_clients *all = tl__container_of(st, tl__http_clients, st);
    while (all->list) {
        tl_http_client *c = all->list;
        all->list = c->loop_next;
        c->closed = true;
        tl__http_multi_shutdown(c);
        tl__http_client_unref(c);
    }
    tl__free(all);
}

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

/* Once per process: libcurl's global state (thread-safe since 7.84). */
static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static char *dup_or_null(const char *s, bool *ok)
{
    if (!s)
        return NULL;
    char *d = tl__strdup(s);
    if (!d)
        *ok = false;
    return d;
}

/* Copies what the options point to: the caller's strings need not outlive
 * tl_http_client_new. */
static bool copy_strings(tl_http_client *c, const tl_http_client_opts *o)
{
    bool ok = true;
    char ua[96];
    snprintf(ua, sizeof ua, "tulip/%s libcurl/%s", tl_version(),
             curl_version_info(CURLVERSION_NOW)->version);
    c->o.user_agent = dup_or_null(o->user_agent ? o->user_agent : ua, &ok);
    c->o.ca_file = dup_or_null(o->ca_file, &ok);
    c->o.headers = NULL;
    if (!o->headers || !ok)
        return ok;
    size_t n = 0;
    while (o->headers[n])
        n++;
    char **h = tl__calloc(n + 1, sizeof *h);
    if (!h)
        return false;
    c->o.headers = (const char *const *)h;
    for (size_t i = 0; i < n && ok; i++)
        h[i] = dup_or_null(o->headers[i], &ok);
    return ok;
}

#define DEFAULT(field, value)   \
    do {                        \
        if (!(c->o.field))      \
            c->o.field = value; \
    } while (0)

static void fill_defaults(tl_http_client *c)
{
    DEFAULT(max_connections, 100);
    DEFAULT(max_in_flight, c->o.max_connections);
    DEFAULT(timeout, 300);
    DEFAULT(connect_timeout, 30);
    DEFAULT(read_timeout, 60);
    DEFAULT(max_redirects, 10);
    DEFAULT(max_body, (size_t)64 << 20);
    DEFAULT(max_head, (size_t)256 << 10);
    DEFAULT(stream_buffer, (size_t)64 << 10);
    DEFAULT(retry_backoff, 0.1);
    DEFAULT(retry_max_delay, 30);
    DEFAULT(burst, 1);
}

static bool opts_valid(const tl_http_client_opts *o)
{
    return !isnan(o->timeout) && !isnan(o->connect_timeout) && !isnan(o->read_timeout) &&
           !isnan(o->retry_backoff) && !isnan(o->retry_max_delay) && !(o->rate < 0) &&
           !isnan(o->rate) && !(o->burst < 0) && !isnan(o->burst) &&
           (o->http_version == 0 || o->http_version == 11 || o->http_version == 20);
}

tl_http_client *tl_http_client_new(const tl_http_client_opts *opts)
{
    tl_loop *loop = tl__need_loop("tl_http_client_new");
    static const tl_http_client_opts zero;
    const tl_http_client_opts *o = opts ? opts : &zero;
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK || !opts_valid(o))
        return NULL;
    tl_http_client *c = tl__calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->o = *o;
    c->loop = loop;
    c->refs = 1;
    fill_defaults(c);
    c->tokens = c->o.burst;
    c->tokens_at = tl_time();
    tl__http_clients *all = NULL;
    if (!copy_strings(c, o) || !(all = loop_clients(loop, true)) || tl__http_multi_init(c) != 0) {
        if (all && !all->list) {
            tl__loop_state_remove(loop, &all->st);
            tl__free(all);
        }
        client_destroy(c);
        return NULL;
    }
    c->loop_next = all->list;
    all->list = c;
    return c;
}

void tl_http_client_free(tl_http_client *c)
{
    if (!c || c->closed)
        return;
    client_close(c);
    tl__http_client_unref(c);
}

/* ---- slots: a FIFO hand-off, as tl_semaphore's, that the client can end ---- */

static void slot_undo(tl_task *t, void *ctx)
{
    (void)t;
    tl__http_slot_release(ctx);
}

int tl__http_slot_acquire(tl_http_client *c, tl_task *self)
{
    int rc = tl__interrupt(self);
    if (rc)
        return rc;
    if (c->closed)
        return TL_ESHUTDOWN;
    if (c->in_flight < c->o.max_in_flight && !c->slot_waiters.head) {
        c->in_flight++;
        return 0;
    }
    return tl__wait_in(self, &c->slot_waiters, "http client slot", c);
}

void tl__http_slot_release(tl_http_client *c)
{
    tl__waiter *w = c->closed ? NULL : tl__wlist_pop(&c->slot_waiters);
    if (w)
        tl__wake_handoff(w->task, 0, slot_undo, c);
    else
        c->in_flight--;
}

void tl__http_slots_end(tl_http_client *c)
{
    tl__waiter *w;
    while ((w = tl__wlist_pop(&c->slot_waiters)))
        tl__wake(w->task, TL_ESHUTDOWN);
}

/* ---- the rate limit: a token bucket where each request reserves its token,
 * so waiters start in FIFO order at the rate, at most burst at once ---- */

int tl__http_rate_wait(tl_http_client *c)
{
    if (!(c->o.rate > 0))
        return 0;
    double now = tl_time();
    c->tokens = fmin(c->o.burst, c->tokens + (now - c->tokens_at) * c->o.rate);
    c->tokens_at = now;
    c->tokens -= 1;
    if (c->tokens >= 0)
        return 0;
    int rc = tl_sleep(-c->tokens / c->o.rate);
    if (rc)
        c->tokens += 1; /* a cancelled waiter gives its token back */
    return rc;
}
