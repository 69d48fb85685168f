/* libFuzzer target: raw bytes in as one client's whole stream, the server's
 * responses out. Checks, beyond "never crash" (ASan, UBSan):
 *   - every handler call answers once, and only the handler's answers carry
 *     its marker: so no request gets two answers;
 *   - the server's own answer (a rejection, a 500) comes at most once, last,
 *     with Connection: close: after it, nothing is served;
 *   - a request the server rejects never reaches a handler.
 * One loop lives across inputs, and one server on it; each input is a new
 * connection that sends the bytes, half-closes and reads to the end. The
 * handler's bodies are fixed, so no input byte can appear in the output and
 * the answers can be counted by their status lines. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <tulip.h>
#include <tulip/http.h>

static tl_loop *loop;
static tl_http_server *srv;
static int calls, answered, read_failed;

static int handler(tl_http_req *req, tl_http_resp *resp, void *arg)
{
    (void)arg;
    calls++;
    char sink[512];
    ssize_t n;
    while ((n = tl_http_req_read(req, sink, sizeof sink)) > 0)
        ;
    if (n < 0) {
        read_failed++;
        return (int)n; /* the server answers for it */
    }
    answered++;
    tl_http_resp_add_header(resp, "X-Handler", "1");
    if (tl_http_req_query(req)[0] == 's') {
        int rc = tl_http_resp_write(resp, "ok", 2);
        return rc ? rc : tl_http_resp_end(resp);
    }
    return tl_http_resp_send(resp, 200, "text/plain", "ok", 2);
}

typedef struct input {
    const uint8_t *data;
    size_t size;
} input;

static size_t count(const char *hay, size_t n, const char *needle)
{
    size_t k = 0, l = strlen(needle);
    for (const char *p = hay; (p = memmem(p, (size_t)(hay + n - p), needle, l)); p += l)
        k++;
    return k;
}

static int one_input(void *arg)
{
    input *in = arg;
    if (!srv) {
        tl_http_server_opts o = {.max_head = 2048,
                                 .max_body = 4096,
                                 .max_drain = 1024,
                                 .head_timeout = 2,
                                 .body_timeout = 2,
                                 .linger = 0.2};
        if (tl_http_server_start(handler, NULL, "127.0.0.1", 0, &o, &srv))
            abort();
    }
    tl_stream *s;
    if (tl_open_connection("127.0.0.1", tl_http_server_port(srv), &s))
        abort();
    tl_stream_write(s, in->data, in->size);
    tl_stream_write_eof(s);
    static char out[1 << 20];
    size_t n = 0;
    ssize_t r;
    tl_timeout t;
    tl_timeout_enter(&t, 10);
    while (n < sizeof out && (r = tl_stream_read(s, out + n, sizeof out - n)) > 0)
        n += (size_t)r;
    if (tl_timeout_exit(&t))
        abort(); /* the server never ended the connection */
    tl_stream_close(s);
    /* let the connection's task finish before the counts are read */
    for (int i = 0; i < 100 && tl_http_server_connections(srv); i++)
        tl_sleep(0.001);

    size_t heads = count(out, n, "HTTP/1.1 ") - count(out, n, "HTTP/1.1 100 Continue\r\n");
    size_t marked = count(out, n, "\r\nX-Handler: 1\r\n");
    if (marked != (size_t)answered)
        abort(); /* a handler's answer lost, or sent twice */
    if (heads < marked || heads > marked + 1)
        abort(); /* two answers from the server itself */
    if (heads == marked + 1) {
        /* the server's own answer: the last thing on the connection */
        const char *last = NULL;
        for (const char *p = out; (p = memmem(p, (size_t)(out + n - p), "HTTP/1.1 ", 9)); p += 9)
            if (strncmp(p, "HTTP/1.1 100 ", 13))
                last = p;
        if (!last || memmem(last, (size_t)(out + n - last), "X-Handler", 9) ||
            !memmem(last, (size_t)(out + n - last), "\r\nConnection: close\r\n", 21))
            abort();
    }
    if ((size_t)(answered + read_failed) != (size_t)calls)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!loop && !(loop = tl_loop_new()))
        abort();
    calls = answered = read_failed = 0;
    input in = {data, size};
    if (tl_loop_run(loop, one_input, &in))
        abort();
    return 0;
}
