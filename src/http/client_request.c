/* One transfer: its easy handle's options, the write and header callbacks
 * that fill the response, the idle-read timer, and the end of the transfer.
 *
 * The callbacks run inside libcurl, on whatever stack called it: they copy
 * bytes, note errors for later (cb_error) and mark the waiting task ready,
 * nothing more. The transfer ends in tl__http_xfer_finish, always called
 * from outside libcurl: the multi's message drain, the idle timer, the task
 * that gave up waiting, or the client's shutdown. */
#include <string.h>
#include <strings.h>

#include "client.h"

static void xfer_wake(tl_http_response *r)
{
    if (r->waiter)
        tl__wake_slot(&r->waiter, 0);
}

/* Room for n more body bytes plus a NUL; unread bytes moved to the front
 * once the read part is the bigger half. */
static bool body_reserve(tl_http_response *r, size_t n)
{
    if (r->bstart && r->bstart >= r->blen / 2) {
        memmove(r->body, r->body + r->bstart, r->blen - r->bstart);
        r->blen -= r->bstart;
        r->bstart = 0;
    }
    if (r->blen + n + 1 <= r->bcap)
        return true;
    size_t cap = r->bcap ? r->bcap : 16384;
    while (cap < r->blen + n + 1)
        cap *= 2;
    char *b = tl__realloc(r->body, cap);
    if (!b)
        return false;
    r->body = b;
    r->bcap = cap;
    return true;
}

static size_t write_cb(char *p, size_t size, size_t nmemb, void *ud)
{
    tl_http_response *r = ud;
    size_t n = size * nmemb;
    r->last_byte = uv_hrtime();
    if (r->stream && r->blen - r->bstart >= r->high_water) {
        /* The reader is behind: libcurl keeps these bytes and stops reading
         * the socket until tl_http_response_read resumes it. */
        r->paused = true;
        return CURL_WRITEFUNC_PAUSE;
    }
    if (!r->stream && r->blen + n > r->max_body) {
        r->cb_error = TL_EMSGSIZE;
        snprintf(r->cb_msg, sizeof r->cb_msg, "response body over max_body (%zu bytes)",
                 r->max_body);
        return CURL_WRITEFUNC_ERROR;
    }
    if (!body_reserve(r, n)) {
        r->cb_error = TL_ENOMEM;
        return CURL_WRITEFUNC_ERROR;
    }
    memcpy(r->body + r->blen, p, n);
    r->blen += n;
    r->body[r->blen] = 0;
    if (r->stream)
        xfer_wake(r);
    return n;
}

static bool hdr_append(tl_http_response *r, const char *name, size_t nlen, const char *value,
                       size_t vlen)
{
    size_t need = r->hlen + nlen + vlen + 2;
    if (need > r->hcap) {
        size_t cap = r->hcap ? r->hcap * 2 : 1024;
        while (cap < need)
            cap *= 2;
        char *b = tl__realloc(r->hbuf, cap);
        if (!b)
            return false;
        r->hbuf = b;
        r->hcap = cap;
    }
    if (r->nhdrs == r->hdrcap) {
        size_t cap = r->hdrcap ? r->hdrcap * 2 : 16;
        tl__http_hdr *h = tl__realloc(r->hdrs, cap * sizeof *h);
        if (!h)
            return false;
        r->hdrs = h;
        r->hdrcap = cap;
    }
    r->hdrs[r->nhdrs].name = r->hlen;
    memcpy(r->hbuf + r->hlen, name, nlen);
    r->hlen += nlen;
    r->hbuf[r->hlen++] = 0;
    r->hdrs[r->nhdrs].value = r->hlen;
    memcpy(r->hbuf + r->hlen, value, vlen);
    r->hlen += vlen;
    r->hbuf[r->hlen++] = 0;
    r->nhdrs++;
    return true;
}

static bool is_ows(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* A head that libcurl will follow with another (1xx, a redirect it follows)
 * is not the response's. */
static bool head_is_final(tl_http_response *r)
{
    if (r->status >= 100 && r->status < 200)
        return false;
    bool redirect = r->status == 301 || r->status == 302 || r->status == 303 || r->status == 307 ||
                    r->status == 308;
    if (!redirect || r->c->o.max_redirects < 0 || !tl_http_response_header(r, "location"))
        return true;
    if (r->t.redirects >= (unsigned)r->c->o.max_redirects)
        return true; /* libcurl fails it: TL_EHTTP */
    r->t.redirects++;
    return false;
}

static long info_long(CURL *e, CURLINFO what)
{
    long v = 0;
    curl_easy_getinfo(e, what, &v);
    return v;
}

static int version_of(long v)
{
    switch (v) {
    case CURL_HTTP_VERSION_1_0:
        return 10;
    case CURL_HTTP_VERSION_1_1:
        return 11;
    case CURL_HTTP_VERSION_2_0:
        return 20;
    case CURL_HTTP_VERSION_3:
        return 30;
    default:
        return 0;
    }
}

static void head_end(tl_http_response *r)
{
    if (!head_is_final(r))
        return;
    r->head_done = true;
    r->version = version_of(info_long(r->easy, CURLINFO_HTTP_VERSION));
    char *url = NULL;
    curl_easy_getinfo(r->easy, CURLINFO_EFFECTIVE_URL, &url);
    if (url && !(r->final_url = tl__strdup(url)))
        r->cb_error = TL_ENOMEM;
    xfer_wake(r);
}

/* A status line's code: three digits after the version and one space, then
 * a space or the line's end; 0 when it is not that (libcurl lets through
 * control bytes and codes outside 100-999, the fuzzer found). */
static int status_of(const char *p, size_t n)
{
    const char *sp = memchr(p, ' ', n);
    if (!sp || (size_t)(sp - p) + 4 > n)
        return 0;
    const char *d = sp + 1;
    for (int i = 0; i < 3; i++)
        if (d[i] < '0' || d[i] > '9')
            return 0;
    size_t after = (size_t)(d + 3 - p);
    if (after < n && d[3] != ' ' && d[3] != '\r' && d[3] != '\n')
        return 0;
    int code = (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
    return code >= 100 ? code : 0;
}

/* One header line (or the status line, or the blank line) of one head. */
static size_t header_cb(char *p, size_t size, size_t nmemb, void *ud)
{
    tl_http_response *r = ud;
    size_t n = size * nmemb;
    r->last_byte = uv_hrtime();
    if (r->head_done)
        return n; /* trailers */
    if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        /* a new head: a redirect's, a 1xx's successor, the final one */
        r->status = status_of(p, n);
        if (!r->status) {
            r->cb_error = TL_EHTTP;
            snprintf(r->cb_msg, sizeof r->cb_msg, "malformed status line");
            return 0;
        }
        r->hlen = r->nhdrs = 0;
        r->head_bytes = n;
        return n;
    }
    if ((r->head_bytes += n) > r->max_head_bytes) {
        r->cb_error = TL_EMSGSIZE;
        snprintf(r->cb_msg, sizeof r->cb_msg, "response head over max_head (%zu bytes)",
                 r->max_head_bytes);
        return 0;
    }
    while (n && (p[n - 1] == '\n' || p[n - 1] == '\r'))
        n--;
    if (!n) {
        head_end(r);
        return size * nmemb;
    }
    const char *colon = memchr(p, ':', n);
    if (!colon)
        return size * nmemb; /* libcurl let it through; not a field */
    size_t nlen = (size_t)(colon - p);
    const char *v = colon + 1, *end = p + n;
    while (v < end && is_ows(*v))
        v++;
    while (end > v && is_ows(end[-1]))
        end--;
    if (!hdr_append(r, p, nlen, v, (size_t)(end - v))) {
        r->cb_error = TL_ENOMEM;
        return 0;
    }
    return size * nmemb;
}

/* ---- the idle-read timeout ---- */

static void idle_fire(void *t)
{
    tl_http_response *r = tl__container_of(t, tl_http_response, idle);
    uint64_t now = uv_hrtime();
    if (r->paused)
        r->last_byte = now; /* the reader is behind, not the server */
    if (r->last_byte + r->idle_ns > now) {
        tl__timer_add(r->c->loop, &r->idle, r->last_byte + r->idle_ns);
        return;
    }
    snprintf(r->errbuf, sizeof r->errbuf, "no byte from the server for %.3g s (read_timeout)",
             (double)r->idle_ns / 1e9);
    tl__http_xfer_finish(r, CURLE_OK, TL_ETIMEDOUT);
}

/* ---- errors ---- */

int tl__http_map_error(tl_http_response *r, CURLcode cc)
{
    long os = r->easy ? info_long(r->easy, CURLINFO_OS_ERRNO) : 0;
    if (r->cb_error)
        return r->cb_error;
    switch (cc) {
    case CURLE_OK:
        return 0;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return TL_EAI_NONAME;
    case CURLE_COULDNT_CONNECT:
        return os ? -(int)os : TL_ECONNREFUSED;
    case CURLE_OPERATION_TIMEDOUT:
        return TL_ETIMEDOUT;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
        return TL_ECERT;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_USE_SSL_FAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_CLIENTCERT:
        return TL_ETLS;
    case CURLE_RECV_ERROR:
        /* Debian's 7.88.1 carries the later 300 KiB cap on a response head */
        if (!strncmp(r->errbuf, "Too large response headers", 26))
            return TL_EMSGSIZE;
        return os ? -(int)os : TL_ECONNRESET;
    case CURLE_SEND_ERROR:
        return os ? -(int)os : TL_ECONNRESET;
    case CURLE_GOT_NOTHING:
        return TL_ECONNRESET;
    case CURLE_PARTIAL_FILE:
        return TL_EOF;
    case CURLE_OUT_OF_MEMORY:
        return TL_ENOMEM;
    case CURLE_UNSUPPORTED_PROTOCOL: {
        /* a scheme libcurl does not speak, or a server's reply that is no
         * HTTP at all ("Received HTTP/0.9 when not allowed") */
        char *ip = NULL;
        if (r->easy)
            curl_easy_getinfo(r->easy, CURLINFO_PRIMARY_IP, &ip);
        return ip && *ip ? TL_EHTTP : TL_EINVAL;
    }
    case CURLE_URL_MALFORMAT:
    case CURLE_BAD_FUNCTION_ARGUMENT:
        return TL_EINVAL;
    case CURLE_FILESIZE_EXCEEDED:
        return TL_EMSGSIZE;
    case CURLE_WRITE_ERROR:
    case CURLE_ABORTED_BY_CALLBACK:
        return r->c->oom ? TL_ENOMEM : TL_EIO;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_TOO_MANY_REDIRECTS:
    case CURLE_HTTP_RETURNED_ERROR:
    case CURLE_RANGE_ERROR:
    case CURLE_HTTP3:
        return TL_EHTTP;
    default:
        return r->c->oom ? TL_ENOMEM : TL_EIO;
    }
}

/* ---- the end of a transfer ---- */

static double info_secs(CURL *e, CURLINFO what)
{
    curl_off_t us = 0;
    curl_easy_getinfo(e, what, &us);
    return (double)us / 1e6;
}

static void collect_info(tl_http_response *r)
{
    CURL *e = r->easy;
    if (!r->status)
        r->status = (int)info_long(e, CURLINFO_RESPONSE_CODE);
    if (!r->version)
        r->version = version_of(info_long(e, CURLINFO_HTTP_VERSION));
    r->t.dns = info_secs(e, CURLINFO_NAMELOOKUP_TIME_T);
    r->t.connect = info_secs(e, CURLINFO_CONNECT_TIME_T);
    r->t.tls = info_secs(e, CURLINFO_APPCONNECT_TIME_T);
    r->t.first_byte = info_secs(e, CURLINFO_STARTTRANSFER_TIME_T);
    r->t.total = info_secs(e, CURLINFO_TOTAL_TIME_T);
    r->t.reused = info_long(e, CURLINFO_NUM_CONNECTS) == 0;
    if (!r->final_url) {
        char *url = NULL;
        curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &url);
        if (url)
            r->final_url = tl__strdup(url);
    }
}

void tl__http_xfer_finish(tl_http_response *r, CURLcode cc, int code)
{
    if (r->done)
        return;
    tl_http_client *c = r->c;
    tl__timer_remove(c->loop, &r->idle);
    if (!code && cc != CURLE_OK)
        code = tl__http_map_error(r, cc);
    if (!code && r->cb_error)
        code = r->cb_error;
    if (r->cb_msg[0])
        snprintf(r->errbuf, sizeof r->errbuf, "%s", r->cb_msg);
    else if (!r->errbuf[0] && cc != CURLE_OK)
        snprintf(r->errbuf, sizeof r->errbuf, "%s", curl_easy_strerror(cc));
    if (r->in_multi) {
        collect_info(r);
        curl_multi_remove_handle(c->multi, r->easy);
        r->in_multi = false;
        tl__http_easy_put(c, r->easy);
        r->easy = NULL;
        tl__http_slot_release(c);
    }
    r->result = code;
    r->done = true;
    r->paused = false;
    xfer_wake(r);
}

/* ---- setting a transfer up ---- */

static bool header_ok(const char *h)
{
    const char *colon = strchr(h, ':');
    if (!colon || colon == h)
        return false;
    for (const char *p = h; *p; p++)
        if (*p == '\r' || *p == '\n' || (p < colon && (*p == ' ' || *p == '\t')))
            return false;
    return true;
}

static bool named_in(const char *const *list, const char *h)
{
    size_t n = (size_t)(strchr(h, ':') - h);
    for (; list && *list; list++)
        if (strncasecmp(*list, h, n) == 0 && (*list)[n] == ':')
            return true;
    return false;
}

/* The request's lines, then each default it does not name. */
static int build_headers(tl_http_response *r, const tl_http_request_opts *req)
{
    const char *const *lists[2] = {req->headers, r->c->o.headers};
    for (int k = 0; k < 2; k++)
        for (const char *const *h = lists[k]; h && *h; h++) {
            if (!header_ok(*h))
                return TL_EINVAL;
            if (k == 1 && named_in(req->headers, *h))
                continue;
            struct curl_slist *l = curl_slist_append(r->hlist, *h);
            if (!l)
                return TL_ENOMEM;
            r->hlist = l;
        }
    return 0;
}

static bool method_ok(const char *m)
{
    if (!*m)
        return false;
    for (; *m; m++)
        if (!((*m >= 'A' && *m <= 'Z') || (*m >= 'a' && *m <= 'z') || *m == '-' || *m == '_'))
            return false;
    return true;
}

static long ms_of(double secs)
{
    return secs > 0 ? (long)(secs * 1000 + 0.999) : 0;
}

static void set_options(tl_http_response *r, const tl_http_request_opts *req, CURL *e)
{
    const tl_http_client_opts *o = &r->c->o;
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)r);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(e, CURLOPT_USERAGENT, o->user_agent);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->hlist);
    curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
    if (o->max_redirects >= 0) {
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(e, CURLOPT_MAXREDIRS, (long)o->max_redirects);
    }
    long version = o->http_version == 11   ? CURL_HTTP_VERSION_1_1
                   : o->http_version == 20 ? CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE
                                           : CURL_HTTP_VERSION_2TLS;
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, version);
    if (o->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, o->ca_file);
    if (o->insecure) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (!o->no_decompress)
        curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    if (o->no_env_proxy)
        curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, ms_of(o->connect_timeout));
    /* libcurl's own total timeout, a backstop for streamed bodies: the
     * tulip scope in tl_http_request covers the rest */
    if (r->deadline != UINT64_MAX) {
        uint64_t now = uv_hrtime();
        long ms = r->deadline > now ? (long)((r->deadline - now) / 1000000u) + 1 : 1;
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, ms);
    }
    const char *m = req->method ? req->method : "GET";
    if (strcmp(m, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (req->body || strcmp(m, "POST") == 0) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        /* a stream request returns before its transfer ends: libcurl copies */
        curl_easy_setopt(e, r->stream ? CURLOPT_COPYPOSTFIELDS : CURLOPT_POSTFIELDS,
                         req->body ? req->body : "");
        if (strcmp(m, "POST") != 0)
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
    } else if (strcmp(m, "GET") != 0) {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
    }
}

int tl__http_xfer_start(tl_http_client *c, const tl_http_request_opts *req, uint64_t deadline,
                        tl_http_response **out)
{
    const char *m = req->method ? req->method : "GET";
    if (!method_ok(m))
        return TL_EINVAL;
    tl_http_response *r = tl__calloc(1, sizeof *r);
    if (!r)
        return TL_ENOMEM;
    r->c = c;
    c->refs++;
    if ((r->next = c->live))
        r->next->prev = r;
    c->live = r;
    r->stream = req->stream;
    r->raise = req->raise_for_status;
    r->max_body = c->o.max_body;
    r->max_head_bytes = c->o.max_head;
    r->high_water = c->o.stream_buffer;
    r->deadline = deadline;
    r->idempotent = !strcmp(m, "GET") || !strcmp(m, "HEAD") || !strcmp(m, "PUT") ||
                    !strcmp(m, "DELETE") || !strcmp(m, "OPTIONS") || !strcmp(m, "TRACE");
    r->done = true; /* until it is in the multi: free must not finish it */
    *out = r;
    int rc = build_headers(r, req);
    if (rc)
        return rc;
    if (!(r->easy = tl__http_easy_get(c)))
        return TL_ENOMEM;
    set_options(r, req, r->easy);
    if (curl_multi_add_handle(c->multi, r->easy) != CURLM_OK) {
        tl__http_easy_put(c, r->easy);
        r->easy = NULL;
        return TL_ENOMEM;
    }
    r->in_multi = true;
    r->done = false;
    r->last_byte = uv_hrtime();
    if (c->o.read_timeout > 0) {
        r->idle_ns = (uint64_t)(c->o.read_timeout * 1e9);
        r->idle.fire = idle_fire;
        tl__timer_add(c->loop, &r->idle, r->last_byte + r->idle_ns);
    }
    return 0;
}
