/* A response: what the transfer recorded (status, head, body, timings),
 * the streamed read that resumes a paused transfer, and the wait a task
 * makes on its transfer.
 *
 * A waiting task is recorded in r->waiter; libcurl's callbacks and the end
 * of the transfer wake it through that slot. If the wait is ended by
 * cancellation or a timeout, the detach empties the slot and the task itself
 * decides what to do with the transfer, outside every libcurl callback. */
#include <string.h>
#include <strings.h>

#include "client.h"

static void xfer_detach(tl_task *t, void *ctx)
{
    (void)t;
    tl_http_response *r = ctx;
    r->waiter = NULL;
}

static int wait_once(tl_http_response *r, tl_task *self, const char *what)
{
    int rc = tl__interrupt(self);
    if (rc)
        return rc;
    r->waiter = self;
    return tl__wait(self, what, r, xfer_detach, r);
}

int tl__http_xfer_wait(tl_http_response *r, tl_task *self)
{
    while (!r->done && !(r->stream && r->head_done)) {
        int rc = wait_once(r, self, "http response");
        if (rc)
            return rc;
    }
    return 0;
}

/* Resumes a paused transfer once the reader has taken half the buffer. The
 * write callback may run inside curl_easy_pause and pause it again. */
static void maybe_resume(tl_http_response *r)
{
    if (!r->paused || !r->in_multi || r->blen - r->bstart > r->high_water / 2)
        return;
    r->paused = false;
    r->last_byte = uv_hrtime();
    curl_easy_pause(r->easy, CURLPAUSE_CONT);
}

ssize_t tl_http_response_read(tl_http_response *r, void *buf, size_t n)
{
    tl_task *self = tl__need_task("tl_http_response_read");
    tl__error_detail_clear();
    for (;;) {
        size_t avail = r->blen - r->bstart;
        if (avail && n) {
            size_t m = n < avail ? n : avail;
            memcpy(buf, r->body + r->bstart, m);
            r->bstart += m;
            if (r->bstart == r->blen)
                r->bstart = r->blen = 0;
            maybe_resume(r);
            return (ssize_t)m;
        }
        if (r->done || !n) {
            if (r->result && r->errbuf[0])
                tl__error_detail_set("%s", r->errbuf);
            return r->done ? r->result : 0;
        }
        maybe_resume(r);
        int rc = wait_once(r, self, "http body");
        if (rc)
            return rc;
    }
}

int tl_http_response_status(const tl_http_response *r)
{
    return r->status;
}

int tl_http_response_version(const tl_http_response *r)
{
    return r->version;
}

const char *tl_http_response_url(const tl_http_response *r)
{
    return r->final_url ? r->final_url : "";
}

const char *tl_http_response_header(const tl_http_response *r, const char *name)
{
    for (size_t i = 0; i < r->nhdrs; i++)
        if (strcasecmp(r->hbuf + r->hdrs[i].name, name) == 0)
            return r->hbuf + r->hdrs[i].value;
    return NULL;
}

size_t tl_http_response_header_count(const tl_http_response *r)
{
    return r->nhdrs;
}

int tl_http_response_header_at(const tl_http_response *r, size_t i, const char **name,
                               const char **value)
{
    if (i >= r->nhdrs)
        return TL_ERANGE;
    *name = r->hbuf + r->hdrs[i].name;
    *value = r->hbuf + r->hdrs[i].value;
    return 0;
}

const char *tl_http_response_body(const tl_http_response *r, size_t *len)
{
    if (len)
        *len = r->blen - r->bstart;
    return r->body ? r->body + r->bstart : "";
}

void tl_http_response_timings(const tl_http_response *r, tl_http_timings *t)
{
    *t = r->t;
}

void tl_http_response_free(tl_http_response *r)
{
    if (!r)
        return;
    tl_http_client *c = r->c;
    tl__http_xfer_finish(r, CURLE_OK, TL_ECANCELED);
    if (r->prev)
        r->prev->next = r->next;
    else
        c->live = r->next;
    if (r->next)
        r->next->prev = r->prev;
    curl_slist_free_all(r->hlist);
    tl__free(r->final_url);
    tl__free(r->hbuf);
    tl__free(r->hdrs);
    tl__free(r->body);
    tl__free(r);
    tl__http_client_unref(c);
}
