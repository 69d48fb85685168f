/* The request parser's three steps on their own (src/http/parse.h): the
 * scan that finds a head's end while it arrives, the strict check of the
 * whole head, llhttp's parse in place, and chunk-size lines. */
#include <string.h>

#include "http/parse.h"
#include "util.h"

static const tl__http_limits lim = {.max_head = 256, .max_line = 64, .max_headers = 4};

static int scan_all(const char *s)
{
    tl__http_scan sc = {0};
    return tl__http_head_scan(s, strlen(s), &sc, &lim);
}

Test(http_parse, the_scan_finds_the_end_of_a_head_byte_by_byte)
{
    const char h[] = "GET / HTTP/1.1\r\nHost: h\r\n\r\nBODY";
    tl__http_scan sc = {0};
    size_t end = sizeof h - 1 - 4;
    for (size_t n = 1; n < end; n++)
        cr_assert_eq(tl__http_head_scan(h, n, &sc, &lim), 0, "at %zu", n);
    cr_assert_eq(tl__http_head_scan(h, sizeof h - 1, &sc, &lim), (int)end);
}

Test(http_parse, the_scan_rejects_bare_cr_bare_lf_and_overlong_heads)
{
    cr_assert_eq(scan_all("GET / HTTP/1.1\nHost: h\r\n\r\n"), -400);
    cr_assert_eq(scan_all("GET / HTTP/1.1\r\nHost: h\rX\r\n\r\n"), -400);
    cr_assert_eq(scan_all("GET / HTTP/1.1\r\nHost: h\r\n\n"), -400);
    char line[128];
    memset(line, 'a', sizeof line - 1);
    line[sizeof line - 1] = 0;
    cr_assert_eq(scan_all(line), -414);
    char head[400];
    snprintf(head, sizeof head, "GET / HTTP/1.1\r\nX: %0300d\r\n", 0);
    cr_assert_eq(scan_all(head), -431);
    cr_assert_eq(scan_all("GET / HTTP/1.1\r\nHost: h\r"), 0, "the CR may be followed by LF");
}

static int check(const char *s, tl__http_framing *fr)
{
    return tl__http_head_check(s, strlen(s), &lim, fr);
}

Test(http_parse, the_check_learns_the_framing)
{
    tl__http_framing fr;
    cr_assert_eq(
        check("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 42\r\nConnection: x, close\r\n\r\n",
              &fr),
        0);
    cr_assert_eq(fr.version, 11);
    cr_assert_eq(fr.content_length, 42);
    cr_assert(fr.conn_close && !fr.chunked);
    cr_assert_eq(check("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: CHUNKED\r\nExpect: "
                       "100-continue\r\n\r\n",
                       &fr),
                 0);
    cr_assert(fr.chunked && fr.expect_continue && fr.content_length == -1);
    cr_assert_eq(
        check("GET / HTTP/1.0\r\nConnection: keep-alive\r\nExpect: 100-continue\r\n\r\n", &fr), 0);
    cr_assert(fr.version == 10 && fr.conn_keep_alive && !fr.expect_continue);
}

Test(http_parse, the_check_rejects_what_rfc_9112_forbids)
{
    tl__http_framing fr;
    const struct {
        const char *head;
        int status;
    } cases[] = {
        {"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: h\r\nX: \x01\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
         400},
        {"GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
        {"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1234567890123456789\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: h\r\nExpect: nothing\r\n\r\n", 417},
        {"GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", 431},
        {"GET / HTTP/3.0\r\nHost: h\r\n\r\n", 505},
        {"GET / HTTP/1.2\r\nHost: h\r\n\r\n", 505},
        {"GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
        {"GET / http/1.1\r\nHost: h\r\n\r\n", 400},
        {"GET /\x80 HTTP/1.1\r\nHost: h\r\n\r\n", 400},
        {": empty\r\n\r\n", 400},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        cr_assert_eq(check(cases[i].head, &fr), cases[i].status, "case %zu: %s", i, cases[i].head);
}

Test(http_parse, llhttp_parses_a_checked_head_in_place)
{
    char head[] = "PUT /p?q=1 HTTP/1.1\r\nHost: example\r\nX-Empty:\r\nX-Trail: v  \r\n\r\n";
    tl__http_framing fr;
    cr_assert_eq(tl__http_head_check(head, sizeof head - 1, &lim, &fr), 0);
    tl__http_field fields[4];
    tl__http_head h = {.fields = fields};
    cr_assert_eq(tl__http_head_parse(head, sizeof head - 1, &h, 4), 0);
    cr_assert_str_eq(h.method, "PUT");
    cr_assert_str_eq(h.target, "/p?q=1");
    cr_assert_eq(h.nfields, 3);
    cr_assert_str_eq(fields[0].name, "Host");
    cr_assert_str_eq(fields[0].value, "example");
    cr_assert_str_eq(fields[1].value, "");
    cr_assert_str_eq(fields[2].value, "v");
    char bad[] = "BREW /pot HTTP/1.1\r\nHost: h\r\n\r\n";
    cr_assert_eq(tl__http_head_parse(bad, sizeof bad - 1, &h, 4), 400, "llhttp knows the methods");
}

Test(http_parse, chunk_sizes_are_hex_digits_with_bounded_well_formed_extensions)
{
    uint64_t n;
    cr_assert_eq(tl__http_chunk_size("1aF", 3, &n), 0);
    cr_assert_eq(n, 0x1af);
    cr_assert_eq(tl__http_chunk_size("ffffffffffffffff", 16, &n), 0);
    cr_assert_eq(n, UINT64_MAX);
    const char *ok[] = {"0;a", "5 ; a = b", "5;a=\"q \\\" d\";b", "5;a=b;c=d"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        cr_assert_eq(tl__http_chunk_size(ok[i], strlen(ok[i]), &n), 0, "%s", ok[i]);
    const char *bad[] = {"",
                         "0x1",
                         "+1",
                         "-1",
                         " 1",
                         "1 ",
                         "g",
                         "1;",
                         "1;=",
                         "1;a=",
                         "1;a=\"x",
                         "1 2",
                         "10000000000000000",
                         "1;a b"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_eq(tl__http_chunk_size(bad[i], strlen(bad[i]), &n), -1, "%s", bad[i]);
}
