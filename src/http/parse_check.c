/* The strict check in front of the parser: what RFC 9112 forbids in a request
 * head, rejected before llhttp sees it.
 *
 * llhttp 8.1 (Debian's) and http-parser both accept a CR inside a value as a
 * line end (the CVE-2023-30589 smuggling shape), obs-fold, and duplicate Host
 * fields; so every byte of the head is checked here first, and only a head
 * that passes goes to the parser. The scan runs while the head arrives, so a
 * bare LF or an over-long line is answered at once, not at the head timeout. */
#include <string.h>

#include "parse.h"

#define SP   ' '
#define HTAB '\t'

static const char tchar_extra[] = "!#$%&'*+-.^_`|~";

static bool is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && memchr(tchar_extra, c, sizeof tchar_extra - 1));
}

/* field-vchar, SP, HTAB and obs-text: everything but the other controls and DEL */
static bool is_value_byte(unsigned char c)
{
    return c == HTAB || (c >= SP && c != 0x7f);
}

bool tl__http_token_eq(const char *s, size_t n, const char *lower)
{
    size_t i;
    for (i = 0; i < n && lower[i]; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != lower[i])
            return false;
    }
    return i == n && !lower[i];
}

int tl__http_head_scan(const char *buf, size_t len, tl__http_scan *sc, const tl__http_limits *lim)
{
    size_t i;
    for (i = sc->pos; i < len; i++) {
        char c = buf[i];
        if (c == '\r') {
            if (i + 1 == len)
                break; /* its LF may be next */
            if (buf[i + 1] != '\n')
                return -400;
        } else if (c == '\n') {
            if (i == 0 || buf[i - 1] != '\r')
                return -400;
            if (!sc->line_ended) {
                sc->line_ended = true;
                if (i - 1 > lim->max_line)
                    return -414;
            } else if (buf[i - 2] == '\n') { /* CRLF CRLF: buf[i-3] is '\r', checked above */
                if (i + 1 > lim->max_head)
                    return -431;
                sc->pos = i + 1;
                return (int)(i + 1);
            }
        }
    }
    sc->pos = i;
    if (!sc->line_ended && len > lim->max_line)
        return -414;
    if (len >= lim->max_head)
        return -431;
    return 0;
}

/* method SP request-target SP HTTP-version */
static int check_request_line(const char *p, size_t n, int *version)
{
    size_t i = 0;
    while (i < n && is_tchar((unsigned char)p[i]))
        i++;
    if (i == 0 || i == n || p[i] != SP)
        return 400;
    size_t t = ++i;
    while (i < n && (unsigned char)p[i] > SP && (unsigned char)p[i] < 0x7f)
        i++;
    if (i == t || i == n || p[i] != SP)
        return 400;
    i++;
    if (n - i != 8 || memcmp(p + i, "HTTP/", 5) || p[i + 6] != '.')
        return 400;
    char major = p[i + 5], minor = p[i + 7];
    if (major < '0' || major > '9' || minor < '0' || minor > '9')
        return 400;
    if (major != '1' || minor > '1')
        return 505;
    *version = minor == '1' ? 11 : 10;
    return 0;
}

/* Splits a field line into its name and its value without the OWS around it; false
 * when the line is not field-name ":" OWS field-value OWS. */
static bool split_field(const char *p, size_t n, size_t *namelen, const char **v, size_t *vlen)
{
    size_t i = 0;
    while (i < n && is_tchar((unsigned char)p[i]))
        i++;
    /* no name, a line that starts with SP or HTAB (obs-fold), or space before ':' */
    if (i == 0 || i == n || p[i] != ':')
        return false;
    *namelen = i;
    for (size_t j = i + 1; j < n; j++)
        if (!is_value_byte((unsigned char)p[j]))
            return false;
    size_t a = i + 1, b = n;
    while (a < b && (p[a] == SP || p[a] == HTAB))
        a++;
    while (b > a && (p[b - 1] == SP || p[b - 1] == HTAB))
        b--;
    *v = p + a;
    *vlen = b - a;
    return true;
}

bool tl__http_field_ok(const char *line, size_t len)
{
    size_t nl, vl;
    const char *v;
    return split_field(line, len, &nl, &v, &vl);
}

/* Content-Length = 1*DIGIT; 18 digits at most, so it fits an int64_t. */
static bool parse_length(const char *v, size_t n, int64_t *out)
{
    if (n == 0 || n > 18)
        return false;
    int64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return false;
        x = x * 10 + (v[i] - '0');
    }
    *out = x;
    return true;
}

/* Connection's comma-separated options: close and keep-alive matter here. */
static void connection_tokens(const char *v, size_t n, tl__http_framing *fr)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == SP || v[i] == HTAB || v[i] == ','))
            i++;
        size_t a = i;
        while (i < n && v[i] != ',' && v[i] != SP && v[i] != HTAB)
            i++;
        if (tl__http_token_eq(v + a, i - a, "close"))
            fr->conn_close = true;
        else if (tl__http_token_eq(v + a, i - a, "keep-alive"))
            fr->conn_keep_alive = true;
    }
}

typedef struct counts {
    unsigned host, length, te;
    bool te_chunked, expect_other, bad_host;
} counts;

static int check_field(const char *p, size_t n, tl__http_framing *fr, counts *k)
{
    size_t nl, vl;
    const char *v;
    if (!split_field(p, n, &nl, &v, &vl))
        return 400;
    if (tl__http_token_eq(p, nl, "host")) {
        k->host++;
        if (memchr(v, SP, vl) || memchr(v, HTAB, vl))
            k->bad_host = true;
    } else if (tl__http_token_eq(p, nl, "content-length")) {
        if (k->length++ || !parse_length(v, vl, &fr->content_length))
            return 400;
    } else if (tl__http_token_eq(p, nl, "transfer-encoding")) {
        k->te++;
        k->te_chunked = tl__http_token_eq(v, vl, "chunked");
    } else if (tl__http_token_eq(p, nl, "expect")) {
        if (tl__http_token_eq(v, vl, "100-continue"))
            fr->expect_continue = true;
        else
            k->expect_other = true;
    } else if (tl__http_token_eq(p, nl, "connection")) {
        connection_tokens(v, vl, fr);
    }
    return 0;
}

/* The framing rules of RFC 9112 §3.2 and §6, over the whole head. */
static int check_framing(tl__http_framing *fr, const counts *k)
{
    if (k->bad_host || k->host > 1 || (fr->version == 11 && k->host == 0))
        return 400;
    if (k->te) {
        if (fr->version == 10 || k->length)
            return 400; /* faulty framing (§6.1): answered, then closed */
        if (k->te != 1 || !k->te_chunked)
            return 501;
        fr->chunked = true;
    }
    if (k->expect_other)
        return 417;
    if (fr->version == 10)
        fr->expect_continue = false; /* §10.1.1: a 1.0 client does not wait for it */
    return 0;
}

int tl__http_head_check(const char *head, size_t len, const tl__http_limits *lim,
                        tl__http_framing *fr)
{
    memset(fr, 0, sizeof *fr);
    fr->content_length = -1;
    const char *end = head + len - 2; /* the final empty line's CRLF */
    const char *eol = memchr(head, '\r', len);
    int rc = check_request_line(head, (size_t)(eol - head), &fr->version);
    if (rc)
        return rc;
    counts k = {0};
    size_t nfields = 0;
    for (const char *p = eol + 2; p < end; p = eol + 2) {
        eol = memchr(p, '\r', (size_t)(end - p) + 1);
        if (++nfields > lim->max_headers)
            return 431;
        if ((rc = check_field(p, (size_t)(eol - p), fr, &k)))
            return rc;
    }
    return check_framing(fr, &k);
}
