/* The parser behind parse.h: llhttp 8.1, compiled from Debian's node-llhttp
 * sources into the library (hidden, as everything not TL_EXTERN is).
 *
 * Only the head goes through llhttp, in one call: it stops at the end of the
 * headers (on_headers_complete pauses it), so the body's bytes never reach
 * it and the connection reads them itself, exactly as framed. llhttp hands
 * back spans inside the head; they become NUL-terminated strings in place
 * once it has finished. A head reaches llhttp only after parse_check.c
 * passed it, so llhttp is the second line of defence, not the first. */
#include <llhttp.h>
#include <string.h>

#include "parse.h"

typedef struct span {
    char *p;
    size_t n;
} span;

typedef struct collect {
    span method, url, name, value;
    tl__http_head *h;
    size_t max_fields;
} collect;

static void extend(span *s, const char *at, size_t n)
{
    if (!s->p)
        s->p = (char *)at;
    s->n = (size_t)(at + n - s->p);
}

static int on_method(llhttp_t *p, const char *at, size_t n)
{
    extend(&((collect *)p->data)->method, at, n);
    return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t n)
{
    extend(&((collect *)p->data)->url, at, n);
    return 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t n)
{
    extend(&((collect *)p->data)->name, at, n);
    return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t n)
{
    extend(&((collect *)p->data)->value, at, n);
    return 0;
}

static int on_header_value_complete(llhttp_t *p)
{
    collect *c = p->data;
    tl__http_head *h = c->h;
    if (h->nfields == c->max_fields)
        return -1; /* the check counted them: cannot happen */
    /* Pointers and lengths only: a NUL written now would land on bytes llhttp has
     * still to read. */
    tl__http_field *f = &h->fields[h->nfields++];
    f->name = c->name.p;
    f->nlen = c->name.n;
    f->value = c->value.p;
    f->vlen = c->value.n;
    c->name = c->value = (span){0};
    return 0;
}

static int on_headers_complete(llhttp_t *p)
{
    (void)p;
    return HPE_PAUSED;
}

static const llhttp_settings_t settings = {
    .on_method = on_method,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_header_value_complete = on_header_value_complete,
    .on_headers_complete = on_headers_complete,
};

static const char *terminate(const char *p, size_t n, bool trim)
{
    if (!p)
        return "";
    char *w = (char *)p;
    while (trim && n && (w[n - 1] == ' ' || w[n - 1] == '\t'))
        n--;
    w[n] = 0; /* the byte after a span is a separator or the CR: never part of it */
    return w;
}

int tl__http_head_parse(char *head, size_t len, tl__http_head *h, size_t max_fields)
{
    collect c = {.h = h, .max_fields = max_fields};
    h->nfields = 0;
    llhttp_t parser;
    llhttp_init(&parser, HTTP_REQUEST, &settings);
    parser.data = &c;
    if (llhttp_execute(&parser, head, len) != HPE_PAUSED)
        return 400;
    h->method = terminate(c.method.p, c.method.n, false);
    h->target = terminate(c.url.p, c.url.n, false);
    for (size_t i = 0; i < h->nfields; i++) {
        tl__http_field *f = &h->fields[i];
        f->name = terminate(f->name, f->nlen, false);
        f->value = terminate(f->value, f->vlen, true);
        f->vlen = strlen(f->value);
    }
    if (!*h->method || !*h->target)
        return 400;
    return 0;
}
