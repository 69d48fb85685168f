/* echo_uv: the floor under bench/echo, a plain libuv callback echo server.
 *
 * tulip runs on libuv, so whatever it costs beyond this server is the price
 * of its tasks and streams. It is written the way one would write the
 * fastest echo server on libuv: one buffer per connection, reused for every
 * read; each read echoed with uv_try_write, straight from that buffer; only
 * when the socket does not take it all does a uv_write send the rest, from
 * the same buffer, with reading paused until it completes. So there is no
 * copy, no allocation per read, and a slow reader cannot make the server
 * buffer without bound.
 *
 * Prints {"port": N, "version": V} once it listens, then serves until SIGINT
 * or SIGTERM, at which it exits 0.
 *
 * usage: bench_echo_uv [port]    (0, the default, picks a free port)
 */
#define _GNU_SOURCE /* uv.h needs the POSIX types that plain -std=c11 hides */
#include <uv.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#define BUF_SIZE 65536
#define BACKLOG  1024

struct conn {
    uv_tcp_t tcp;
    uv_write_t req;
    char buf[BUF_SIZE];
};

static uv_tcp_t listener;
static uv_signal_t sigint, sigterm;

static void fatal(const char *what, int err)
{
    fprintf(stderr, "echo_uv: %s: %s\n", what, uv_strerror(err));
    exit(1);
}

static void on_close(uv_handle_t *h)
{
    free(h->data);
}

static void drop(struct conn *c)
{
    if (!uv_is_closing((uv_handle_t *)&c->tcp))
        uv_close((uv_handle_t *)&c->tcp, on_close);
}

/* Reads are stopped while a write is pending, so this buffer is never handed
 * out while part of it still waits to be sent. */
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct conn *c = h->data;
    *buf = uv_buf_init(c->buf, sizeof c->buf);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void on_written(uv_write_t *req, int status)
{
    struct conn *c = req->data;
    if (status < 0) {
        drop(c);
        return;
    }
    int err = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (err < 0)
        drop(c);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct conn *c = s->data;
    if (nread < 0) { /* UV_EOF or an error: either way the conversation is over */
        drop(c);
        return;
    }
    if (nread == 0)
        return;
    uv_buf_t rest = uv_buf_init(buf->base, (unsigned)nread);
    int n = uv_try_write(s, &rest, 1);
    if (n == nread)
        return;
    if (n < 0 && n != UV_EAGAIN) {
        drop(c);
        return;
    }
    if (n > 0) {
        rest.base += n;
        rest.len -= (size_t)n;
    }
    uv_read_stop(s);
    c->req.data = c;
    if (uv_write(&c->req, s, &rest, 1, on_written) < 0)
        drop(c);
}

static void on_connection(uv_stream_t *server, int status)
{
    if (status < 0)
        return; /* EMFILE and the like: this one is lost, the next may work */
    struct conn *c = malloc(sizeof *c);
    if (c == NULL)
        return;
    uv_tcp_init(server->loop, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0 || uv_tcp_nodelay(&c->tcp, 1) < 0 ||
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0)
        drop(c);
}

static void close_any(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, h == (uv_handle_t *)&listener || h->type == UV_SIGNAL ? NULL : on_close);
}

/* Closing every handle lets uv_run return, so the process ends normally. */
static void on_signal(uv_signal_t *h, int signum)
{
    (void)signum;
    uv_walk(h->loop, close_any, NULL);
}

static int listen_on(uv_loop_t *loop, int port)
{
    struct sockaddr_in addr;
    int err = uv_ip4_addr("127.0.0.1", port, &addr);
    if (err == 0)
        err = uv_tcp_init(loop, &listener);
    if (err == 0)
        err = uv_tcp_bind(&listener, (const struct sockaddr *)&addr, 0);
    if (err == 0)
        err = uv_listen((uv_stream_t *)&listener, BACKLOG, on_connection);
    if (err < 0)
        fatal("listen", err);
    struct sockaddr_storage name;
    int len = sizeof name;
    err = uv_tcp_getsockname(&listener, (struct sockaddr *)&name, &len);
    if (err < 0)
        fatal("getsockname", err);
    return ntohs(((struct sockaddr_in *)&name)->sin_port);
}

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 0;
    if (argc > 2 || port < 0 || port > 65535) {
        fprintf(stderr, "usage: bench_echo_uv [port]\n");
        return 2;
    }
    /* A peer that resets its end must cost a connection, not the process. */
    signal(SIGPIPE, SIG_IGN);
    uv_loop_t *loop = uv_default_loop();
    printf("{\"port\": %d, \"version\": \"libuv %s\"}\n", listen_on(loop, port),
           uv_version_string());
    fflush(stdout);
    uv_signal_init(loop, &sigint);
    uv_signal_init(loop, &sigterm);
    uv_signal_start(&sigint, on_signal, SIGINT);
    uv_signal_start(&sigterm, on_signal, SIGTERM);
    uv_run(loop, UV_RUN_DEFAULT);
    return uv_loop_close(loop) == 0 ? 0 : 1;
}
