/* A chunk-size line of a chunked body (RFC 9112 §7.1), strictly.
 *
 * Lenient size parsing is a smuggling vector (a "0x" prefix, a sign, an
 * overflowing size that wraps, a bare LF): only hex digits, at most 16 of
 * them, then extensions made of tokens and quoted strings. The line's length
 * is bounded by the caller, which is what bounds the extensions. */
#include "parse.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool is_tchar(char c)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    for (const char *e = extra; *e; e++)
        if (*e == c)
            return true;
    return false;
}

static size_t skip_bws(const char *p, size_t i, size_t n)
{
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    return i;
}

static size_t skip_token(const char *p, size_t i, size_t n)
{
    while (i < n && is_tchar(p[i]))
        i++;
    return i;
}

/* quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE; the index after it, or 0 */
static size_t skip_quoted(const char *p, size_t i, size_t n)
{
    for (i++; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '"')
            return i + 1;
        if (c == '\\') {
            if (++i == n)
                return 0;
            c = (unsigned char)p[i];
            if (c != '\t' && (c < ' ' || c == 0x7f))
                return 0;
        } else if (c != '\t' && (c < ' ' || c == 0x7f)) {
            return 0;
        }
    }
    return 0;
}

int tl__http_chunk_size(const char *line, size_t len, uint64_t *size)
{
    size_t i = 0;
    uint64_t x = 0;
    for (; i < len && hexval(line[i]) >= 0; i++) {
        if (i == 16)
            return -1;
        x = x << 4 | (uint64_t)hexval(line[i]);
    }
    if (i == 0)
        return -1;
    while (i < len) {
        i = skip_bws(line, i, len);
        if (i == len || line[i] != ';')
            return -1;
        i = skip_bws(line, i + 1, len);
        size_t a = i;
        if ((i = skip_token(line, i, len)) == a)
            return -1;
        i = skip_bws(line, i, len);
        if (i < len && line[i] == '=') {
            i = skip_bws(line, i + 1, len);
            if (i < len && line[i] == '"') {
                if (!(i = skip_quoted(line, i, len)))
                    return -1;
            } else {
                a = i;
                if ((i = skip_token(line, i, len)) == a)
                    return -1;
            }
        }
    }
    *size = x;
    return 0;
}
