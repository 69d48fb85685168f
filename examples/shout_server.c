/* A line server that stops cleanly on Ctrl-C: the program docs/guide/servers.md
 * walks through. asyncio would write it:
 *
 *     async def shout(reader, writer):
 *         try:
 *             while True:
 *                 async with asyncio.timeout(IDLE):
 *                     line = await reader.readline()   # limit= on start_server
 *                     if not line:
 *                         return
 *                     writer.write(b"SHOUT: " + line.upper())
 *                     await writer.drain()
 *         except TimeoutError: writer.write(b"bye: idle\n")
 *         except ValueError: writer.write(b"error: line too long\n")
 *         except asyncio.CancelledError: writer.write(b"bye: server shutting down\n")
 *
 *     server = await asyncio.start_server(shout, "127.0.0.1", 0, limit=MAX_LINE)
 *     try:
 *         await server.serve_forever()      # Ctrl-C cancels main, and so this
 *     finally:
 *         try:
 *             async with asyncio.timeout(GRACE):
 *                 await server.wait_closed()
 *         except TimeoutError:
 *             server.abort_clients()
 *
 * What to notice: each line and its answer have a deadline (a client that
 * stops sending, or stops reading, is sent away), lines are bounded by the
 * stream's limit, a reply waits in drain only when the client reads slowly,
 * and Ctrl-C stops accepting at once, gives the open connections a grace
 * period, then cancels those left.
 *
 * serve() is the whole server. The rest is a demonstration: four scripted
 * clients (polite, too long, idle, lingering), and a task that presses
 * Ctrl-C (raises SIGINT) half a second in. */
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <tulip.h>

#define MAX_LINE     1024 /* the stream's limit: the longest line */
#define IDLE_TIMEOUT 0.2  /* seconds to send a line and take the answer */
#define GRACE        0.3  /* seconds open connections get to finish at shutdown */

/* ---- the server ---- */

/* Queues a last message; the server sends it before closing the stream. */
static int say_bye(tl_stream *s, const char *why)
{
    tl_stream_write(s, why, strlen(why));
    return 0;
}

/* Reads one line and shouts it back: 1, 0 when the client has left, or an error. */
static int shout_line(tl_stream *s)
{
    char line[MAX_LINE];
    ssize_t n = tl_stream_readline(s, line, sizeof line);
    if (n <= 0)
        return (int)n;
    for (ssize_t i = 0; i < n; i++)
        line[i] = (char)toupper((unsigned char)line[i]);
    int rc = tl_stream_write(s, "SHOUT: ", 7);
    if (rc == 0)
        rc = tl_stream_write(s, line, (size_t)n);
    if (rc == 0)
        rc = tl_stream_drain(s); /* waits only while the client lags */
    return rc < 0 ? rc : 1;
}

static int shout(tl_stream *s, void *arg)
{
    (void)arg;
    for (;;) {
        tl_timeout idle;
        tl_timeout_enter(&idle, IDLE_TIMEOUT); /* to send a line and take the answer */
        int rc = shout_line(s);
        tl_timeout_exit(&idle);
        if (rc == 0)
            return 0; /* the client left */
        if (rc == TL_ETIMEDOUT)
            return say_bye(s, "bye: idle\n");
        if (rc == TL_ENOBUFS)
            return say_bye(s, "error: line too long\n");
        if (rc == TL_ECANCELED)
            return say_bye(s, "bye: server shutting down\n");
        if (rc < 0)
            return rc; /* the connection broke */
    }
}

static int port; /* for the demo's clients */

/* Serves until Ctrl-C, then shuts down: TL_ECANCELED, or an error. */
static int serve(void)
{
    tl_server_opts opts = {.limit = MAX_LINE};
    tl_server *server;
    int rc = tl_start_server(shout, NULL, "127.0.0.1", 0, &opts, &server);
    if (rc < 0)
        return rc;
    port = tl_server_port(server);
    printf("listening on 127.0.0.1:%d\n", port);

    rc = tl_server_serve_forever(server); /* cancelled by Ctrl-C: closed, not accepting */
    printf("stopping: %s, %zu connection(s) open\n", tl_err_name(rc),
           tl_server_connections(server));

    /* main is cancelled, and cancellation is sticky: only a shield lets it
     * wait again, and the timeout scope inside bounds that wait. */
    tl_shield_enter();
    tl_timeout grace;
    tl_timeout_enter(&grace, GRACE);
    int waited = tl_server_wait_closed(server);
    tl_timeout_exit(&grace);
    tl_shield_exit();
    if (waited == TL_ETIMEDOUT)
        printf("grace period over: cancelling %zu connection(s)\n", tl_server_connections(server));
    tl_server_free(server); /* cancels the handlers still running */
    return rc;
}

/* ---- the demonstration ---- */

struct script {
    const char *name;
    const char *send; /* sent on connecting */
    bool then_eof;    /* half-close after it: "that is all I have to say" */
    bool ticking;     /* then a line every 0.1 s, for as long as the server listens */
    char heard[160];  /* what came back, but the ticks' echoes */
};

static struct script scripts[] = {
    {"polite", "hello\nbye\n", true, false, ""},
    {"too long", NULL, false, false, ""}, /* 2 KiB without a newline: set in demo() */
    {"idle", NULL, false, false, ""},
    {"lingering", "tick\n", false, true, ""},
};
#define NSCRIPTS (int)(sizeof scripts / sizeof scripts[0])

static void note(struct script *c, const char *line)
{
    size_t len = strlen(c->heard);
    snprintf(c->heard + len, sizeof c->heard - len, " [%s]", line);
}

/* Plays one client: connects, sends, reads every line back until EOF. */
static int play(void *arg)
{
    struct script *c = arg;
    tl_stream *s;
    int rc = tl_open_connection("127.0.0.1", port, &s);
    if (rc < 0)
        return rc;
    if (c->send)
        rc = tl_stream_write(s, c->send, strlen(c->send));
    if (rc == 0 && c->then_eof)
        rc = tl_stream_write_eof(s);
    char line[MAX_LINE];
    ssize_t n = rc;
    int ticks = 0;
    while (n >= 0 && (n = tl_stream_readline(s, line, sizeof line)) > 0) {
        line[n - 1] = '\0';
        if (c->ticking && strcmp(line, "SHOUT: TICK") == 0) {
            ticks++;
            if ((n = tl_sleep(0.1)) == 0)
                n = tl_stream_write(s, "tick\n", 5);
        } else {
            note(c, line);
        }
    }
    if (c->ticking)
        note(c, ticks >= 5 ? "5 or more ticks shouted back" : "fewer than 5 ticks");
    rc = tl_stream_wait_closed(s);
    return n < 0 ? (int)n : rc;
}

static int ctrl_c(void *arg)
{
    (void)arg;
    tl_sleep(0.5);
    raise(SIGINT); /* what Ctrl-C in the terminal does */
    return 0;
}

static int demo(void *arg)
{
    (void)arg;
    tl_sleep(0); /* let serve() start listening */
    static char big[2 * MAX_LINE + 1];
    memset(big, 'x', 2 * MAX_LINE);
    scripts[1].send = big;
    tl_coro coros[NSCRIPTS + 1];
    int results[NSCRIPTS + 1];
    for (int i = 0; i < NSCRIPTS; i++)
        coros[i] = TL_CORO(play, &scripts[i]);
    coros[NSCRIPTS] = TL_CORO(ctrl_c, NULL);
    tl_gather_coros(coros, NSCRIPTS + 1, results, TL_RETURN_EXCEPTIONS);
    for (int i = 0; i < NSCRIPTS; i++)
        printf("%s:%s%s%s\n", scripts[i].name, scripts[i].heard, results[i] ? " " : "",
               results[i] ? tl_err_name(results[i]) : "");
    return 0;
}

static int main_task(void *arg)
{
    (void)arg;
    tl_task *clients = tl_create_task(demo, NULL);
    if (!clients)
        return TL_ENOMEM;
    int rc = serve();
    /* The demo's clients report what they saw (shielded: main is cancelled). */
    tl_shield_enter();
    tl_await(clients);
    tl_shield_exit();
    tl_task_release(clients);
    return rc == TL_ECANCELED ? 0 : rc; /* Ctrl-C is how this server stops: a success */
}

int main(void)
{
    /* A shell script starts its background jobs with SIGINT ignored, and
     * tl_run leaves an ignored SIGINT alone; the demo raises SIGINT itself,
     * so it needs the default back for tl_run to take it over. */
    signal(SIGINT, SIG_DFL);
    return tl_run(main_task, NULL) == 0 ? 0 : 1;
}
