/* echo_server: tulip's side of bench/echo, an echo server on tulip's streams.
 *
 * Written the way the asyncio streams server is (bench/peers/echo.py): a
 * task per connection reads what is there and writes it back. It calls
 * tl_stream_drain only when more than 64 KiB waits to be sent: below that,
 * drain would return at once, so the usual round is one read and one write;
 * above it, a client that stops reading holds the handler back instead of
 * growing its buffer. bench/peers/echo_uv.c is the same server on libuv
 * callbacks, the floor that this one's tasks and streams add their cost to.
 *
 * Prints {"port": N, "version": V} once it listens, then serves until SIGINT
 * (which tl_run turns into cancelling main) or SIGTERM, at which it exits 0.
 *
 * usage: bench_echo_server [port]    (0, the default, picks a free port)
 */
#define _POSIX_C_SOURCE 200809L
#include <tulip.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#define BUF_SIZE     65536
#define BACKLOG      1024 /* as the peers, so 1,000 clients connecting at once lose no SYN */
#define WRITE_BUFFER ((size_t)64 * 1024)

static int echo(tl_stream *s, void *arg)
{
    (void)arg;
    char buf[BUF_SIZE];
    for (;;) {
        ssize_t n = tl_stream_read(s, buf, sizeof buf);
        if (n <= 0) /* 0 at the end of the stream; a reset is the client's business */
            return n < 0 ? (int)n : 0;
        int rc = tl_stream_write(s, buf, (size_t)n);
        if (rc < 0)
            return rc;
        if (tl_stream_write_buffer_size(s) > WRITE_BUFFER && (rc = tl_stream_drain(s)) < 0)
            return rc;
    }
}

static void on_sigterm(int signum)
{
    (void)signum;
    /* tl_run only watches SIGINT; SIGTERM goes the same way. */
    raise(SIGINT);
}

static int serve(void *arg)
{
    int port = *(const int *)arg;
    tl_server_opts opts = {.backlog = BACKLOG};
    tl_server *srv;
    int rc = tl_start_server(echo, NULL, "127.0.0.1", port, &opts, &srv);
    if (rc < 0) {
        fprintf(stderr, "echo_server: listen: %s\n", tl_strerror(rc));
        return rc;
    }
    printf("{\"port\": %d, \"version\": \"tulip %s\"}\n", tl_server_port(srv), tl_version());
    fflush(stdout);
    rc = tl_server_serve_forever(srv);
    tl_server_free(srv);
    /* Cancelled by SIGINT is how this server is meant to end. */
    return rc == TL_ECANCELED ? 0 : rc;
}

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 0;
    if (argc > 2 || port < 0 || port > 65535) {
        fprintf(stderr, "usage: bench_echo_server [port]\n");
        return 2;
    }
    /* A client that resets its end must cost a connection, not the process. */
    signal(SIGPIPE, SIG_IGN);
    /* tl_run takes SIGINT over only from its default action: a shell that
     * starts this in the background has it ignored. */
    signal(SIGINT, SIG_DFL);
    struct sigaction term = {.sa_handler = on_sigterm, .sa_flags = SA_RESTART};
    sigemptyset(&term.sa_mask);
    sigaction(SIGTERM, &term, NULL);
    int rc = tl_run(serve, &port);
    if (rc < 0) {
        fprintf(stderr, "echo_server: %s\n", tl_strerror(rc));
        return 1;
    }
    return 0;
}
