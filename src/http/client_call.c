/* tl_http_request and tl_http_get: a request's whole life as its task sees
 * it. Wait for a slot (and the rate limit), start the transfer, wait for
 * it; on an interruption end the transfer here, in the task, outside every
 * libcurl callback; try again if the client's retry policy says so.
 *
 * The total timeout is a tulip timeout scope around all of it, queue wait
 * and retries included, so it nests with the caller's own scopes. */
#include <math.h>
#include <string.h>
#include <time.h>

#include "client.h"

static void set_detail(tl_http_response *r, const char *url, int rc)
{
    if (r && r->errbuf[0])
        tl__error_detail_set("%s (%s)", r->errbuf, url);
    else if (rc == TL_ETIMEDOUT)
        tl__error_detail_set("request timed out (%s)", url);
}

/* One try: 0 and the response in *out, or an error (*out set only for
 * raise_for_status). */
static int one_try(tl_http_client *c, const tl_http_request_opts *req, tl_task *self,
                   uint64_t deadline, double queued0, tl_http_response **out)
{
    int rc = tl__http_slot_acquire(c, self);
    if (rc)
        return rc;
    if ((rc = tl__http_rate_wait(c)) != 0) {
        tl__http_slot_release(c);
        return rc;
    }
    tl_http_response *r = NULL;
    if ((rc = tl__http_xfer_start(c, req, deadline, &r)) != 0) {
        tl_http_response_free(r);
        tl__http_slot_release(c);
        return rc;
    }
    r->t.queued = tl_time() - queued0;
    if ((rc = tl__http_xfer_wait(r, self)) != 0)
        tl__http_xfer_finish(r, CURLE_OK, rc);
    else if (r->result)
        rc = r->result;
    else if (r->done || r->head_done)
        rc = r->raise && r->status >= 400 ? TL_EHTTP : 0;
    if (rc == TL_EHTTP && r->result == 0) {
        tl__error_detail_set("HTTP status %d (%s)", r->status, req->url);
        *out = r;
        return rc;
    }
    if (rc) {
        set_detail(r, req->url, rc);
        tl_http_response_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

/* A xorshift per thread: jitter needs no quality, only spread. */
static double jitter(void)
{
    static __thread uint64_t s;
    if (!s)
        s = uv_hrtime() | 1;
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return (double)(s >> 11) / 9007199254740992.0;
}

/* Retry-After: seconds, or an HTTP date; < 0 when absent or unreadable. */
static double retry_after(const tl_http_response *r)
{
    const char *v = r ? tl_http_response_header(r, "retry-after") : NULL;
    if (!v || !*v)
        return -1;
    char *end;
    double s = strtod(v, &end);
    if (end != v && *end == 0)
        return s >= 0 ? s : -1;
    time_t when = curl_getdate(v, NULL);
    return when < 0 ? -1 : fmax(0, difftime(when, time(NULL)));
}

static bool retryable(int rc, const tl_http_response *r)
{
    if (rc == TL_ECONNREFUSED || rc == TL_ECONNRESET || rc == TL_EAI_AGAIN ||
        rc == TL_ENETUNREACH || rc == TL_EHOSTUNREACH)
        return true;
    int st = r ? r->status : 0;
    return (rc == 0 || rc == TL_EHTTP) && (st == 429 || st == 502 || st == 503 || st == 504);
}

/* Whether to try again after try number tries, and after how long: backoff
 * doubling from retry_backoff, jittered over its upper half, or Retry-After;
 * never past retry_max_delay or the request's deadline. */
static bool retry_delay(const tl_http_client *c, const tl_http_request_opts *req, int rc,
                        const tl_http_response *r, unsigned tries, uint64_t deadline, double *delay)
{
    const char *m = req->method ? req->method : "GET";
    bool idempotent = !strcmp(m, "GET") || !strcmp(m, "HEAD") || !strcmp(m, "PUT") ||
                      !strcmp(m, "DELETE") || !strcmp(m, "OPTIONS");
    if (c->closed || tries > c->o.retries || !idempotent || !retryable(rc, r))
        return false;
    double base = c->o.retry_backoff * ldexp(1.0, (int)tries - 1);
    double d = base / 2 + jitter() * base / 2;
    double ra = retry_after(r);
    if (ra >= 0)
        d = ra;
    d = fmin(d, c->o.retry_max_delay);
    if (deadline != UINT64_MAX && uv_hrtime() + (uint64_t)(d * 1e9) >= deadline)
        return false;
    *delay = d;
    return true;
}

int tl_http_request(tl_http_client *c, const tl_http_request_opts *req, tl_http_response **out)
{
    tl_task *self = tl__need_task("tl_http_request");
    tl__error_detail_clear();
    if (!out)
        return TL_EINVAL;
    *out = NULL;
    if (!c || !req || !req->url || isnan(req->timeout))
        return TL_EINVAL;
    if (c->closed)
        return TL_ESHUTDOWN;
    double total = req->timeout ? req->timeout : c->o.timeout;
    tl_timeout scope;
    uint64_t deadline = UINT64_MAX;
    if (total > 0) {
        tl_timeout_enter(&scope, total);
        deadline = tl__deadline_after(total);
    }
    c->refs++; /* the owner may free the client while this call waits */
    double queued0 = tl_time();
    int rc;
    tl_http_response *r = NULL;
    for (unsigned tries = 1;; tries++) {
        r = NULL;
        rc = one_try(c, req, self, deadline, queued0, &r);
        if (r)
            r->t.tries = tries;
        double delay;
        if (!retry_delay(c, req, rc, r, tries, deadline, &delay))
            break;
        tl_http_response_free(r);
        r = NULL;
        if ((rc = tl_sleep(delay)) != 0)
            break;
        queued0 = tl_time();
    }
    /* A deadline that passed just as the response arrived keeps the response. */
    if (total > 0)
        tl_timeout_exit(&scope);
    tl__http_client_unref(c);
    *out = r;
    return rc;
}

int tl_http_get(tl_http_client *c, const char *url, tl_http_response **out)
{
    tl_http_request_opts req = {.url = url};
    return tl_http_request(c, &req, out);
}
