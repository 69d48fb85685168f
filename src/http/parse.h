/* The HTTP/1.1 request parser's interface, inside the library.
 *
 * Three steps, each in its own file, none of which suspends or allocates:
 * parse_check.c finds the end of a request head in raw bytes and rejects, as
 * it goes and then on the whole head, what RFC 9112 forbids and parsers
 * accept (bare CR or LF, obs-fold, space before the colon, control bytes,
 * Host, Content-Length and Transfer-Encoding rules); parse_llhttp.c hands the
 * checked head to llhttp, the parser behind this interface, and collects
 * the fields; parse_chunk.c reads a chunk-size line. A rejection is the
 * status the server answers with (400, 413, 414, 417, 431, 501, 505). */
#ifndef TL_HTTP_PARSE_H
#define TL_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tl__http_limits {
    size_t max_head;    /* the head with its final CRLF CRLF */
    size_t max_line;    /* the request line */
    size_t max_headers; /* field lines */
} tl__http_limits;

/* Where tl__http_head_scan has got to in a head that is still arriving. */
typedef struct tl__http_scan {
    size_t pos;      /* bytes checked so far */
    bool line_ended; /* the request line's CRLF was seen */
} tl__http_scan;

/* Scans buf[0, len) from sc->pos on: the head's length (with its CRLF CRLF) once it is
 * complete, 0 when more bytes are needed, or minus the status that rejects it: 400 (a
 * CR not followed by LF, a bare LF), 414 (request line over max_line), 431 (head over
 * max_head). */
int tl__http_head_scan(const char *buf, size_t len, tl__http_scan *sc, const tl__http_limits *lim);

/* What the checks learn from the header fields. */
typedef struct tl__http_framing {
    int version;            /* 10, 11 */
    int64_t content_length; /* -1: none */
    bool chunked;
    bool expect_continue;
    bool conn_close, conn_keep_alive; /* Connection's tokens */
} tl__http_framing;

/* Checks a complete head (as tl__http_head_scan found it) line by line: the request
 * line's shape and version, each field line's name and value bytes, the field count,
 * then the framing rules. 0 with *fr filled, or the status that rejects it: 400, 417
 * (an expectation other than 100-continue), 431 (over max_headers), 501 (a transfer
 * coding other than one chunked), 505 (not HTTP/1.x). */
int tl__http_head_check(const char *head, size_t len, const tl__http_limits *lim,
                        tl__http_framing *fr);

typedef struct tl__http_field {
    const char *name, *value;
    size_t nlen, vlen;
} tl__http_field;

/* The parsed head: every string NUL-terminated inside the head's own bytes. */
typedef struct tl__http_head {
    const char *method, *target;
    tl__http_field *fields; /* the caller's array of max_headers entries */
    size_t nfields;
} tl__http_head;

/* Parses a head that passed tl__http_head_check, in place (it writes NULs over the
 * bytes after each part). 0, or 400 when the parser rejects it. */
int tl__http_head_parse(char *head, size_t len, tl__http_head *h, size_t max_fields);

/* One chunk-size line without its CRLF: 1*HEXDIG, then chunk extensions
 * (; name [= token / quoted-string]). 0 and the size in *size, or -1. */
int tl__http_chunk_size(const char *line, size_t len, uint64_t *size);

/* Whether one field line without its CRLF (a trailer's) is well formed, as
 * tl__http_head_check checks a header's. */
bool tl__http_field_ok(const char *line, size_t len);

/* Case-insensitive equality of an ASCII span and a NUL-terminated lower-case word. */
bool tl__http_token_eq(const char *s, size_t n, const char *lower);

#endif
