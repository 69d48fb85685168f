/* A server that stops cleanly on SIGTERM, as `kill PID` or `systemctl stop`
 * send it: it stops accepting, lets the open connections finish (within a
 * grace period), saves its state to a file, and exits 0. asyncio would write:
 *
 *     loop.add_signal_handler(signal.SIGTERM, main_task.cancel)
 *     try:
 *         await server.serve_forever()
 *     except asyncio.CancelledError:
 *         server.close()
 *         await asyncio.wait_for(server.wait_closed(), GRACE)
 *         await aiofiles.write(STATE, f"hits={hits}\n")
 *
 * The server counts "hit" lines. The demonstration around it: four clients
 * send ten hits each; a fifth, slower one is still sending when
 * `kill -TERM <our pid>` runs as a subprocess, and finishes within the grace
 * period; the saved file is read back. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tulip.h>
#include <unistd.h>

#define GRACE       0.5 /* seconds the open connections get at shutdown */
#define LINGER_HITS 5   /* the demonstration's client still busy at SIGTERM */

static long hits;

static int count_hits(tl_stream *s, void *arg)
{
    (void)arg;
    char line[64];
    ssize_t n;
    while ((n = tl_stream_readline(s, line, sizeof line)) > 0) {
        if (n == 4 && memcmp(line, "hit\n", 4) == 0) {
            char reply[32];
            int len = snprintf(reply, sizeof reply, "%ld\n", ++hits);
            tl_stream_write(s, reply, (size_t)len);
        }
    }
    return n < 0 && n != TL_ECANCELED ? (int)n : 0;
}

/* Serves until SIGTERM (or Ctrl-C), then shuts down and saves. */
static int serve(const char *state_path, int *port)
{
    tl_server *server;
    int rc = tl_start_server(count_hits, NULL, "127.0.0.1", 0, NULL, &server);
    if (rc < 0)
        return rc;
    *port = tl_server_port(server);
    printf("listening on 127.0.0.1\n");

    rc = tl_server_serve_forever(server); /* closed on cancellation */
    printf("stopping (%s), %zu connection(s) open\n", tl_err_name(rc),
           tl_server_connections(server));

    /* Cancelled, and cancellation is sticky: a shield lets the shutdown wait. */
    tl_shield_enter();
    tl_timeout grace;
    tl_timeout_enter(&grace, GRACE);
    tl_server_wait_closed(server);
    tl_timeout_exit(&grace);
    tl_server_free(server); /* cancels whoever is left */
    char state[32];
    int len = snprintf(state, sizeof state, "hits=%ld\n", hits);
    rc = tl_write_file(state_path, state, (size_t)len);
    tl_shield_exit();
    printf("saved %ld hits%s\n", hits, rc == 0 ? "" : " FAILED");
    return rc;
}

/* ---- the demonstration ---- */

static int port;

/* Sends *arg hits, one every 50 ms when lingering. */
static int client(void *arg)
{
    int n = *(int *)arg;
    tl_stream *s;
    int rc = tl_open_connection("127.0.0.1", port, &s);
    if (rc < 0)
        return rc;
    char reply[32];
    for (int i = 0; i < n && rc >= 0; i++) {
        if (n == LINGER_HITS)
            tl_sleep(0.05);
        rc = tl_stream_write(s, "hit\n", 4);
        if (rc == 0)
            rc = (int)tl_stream_readline(s, reply, sizeof reply);
    }
    tl_stream_close(s);
    return rc < 0 ? rc : 0;
}

/* Runs four clients, starts a fifth that lingers, then has `kill` send us
 * SIGTERM from outside. */
static int operator(void *arg)
{
    (void)arg;
    static int ten = 10, linger = LINGER_HITS;
    while (port == 0)
        tl_sleep(0.01);
    tl_task *c[4];
    for (int i = 0; i < 4; i++)
        c[i] = tl_create_task(client, &ten);
    int rc = tl_gather(c, 4, NULL, 0);
    for (int i = 0; i < 4; i++)
        tl_task_release(c[i]);
    printf("4 clients done: %s\n", rc == 0 ? "ok" : tl_strerror(rc));
    if (tl_spawn(client, &linger) < 0)
        return TL_ENOMEM;
    tl_sleep(0.02); /* connected, and busy when the signal comes */

    char cmd[64];
    snprintf(cmd, sizeof cmd, "kill -TERM %d", (int)getpid());
    tl_process *kill_cmd;
    if ((rc = tl_process_shell(cmd, NULL, &kill_cmd)) < 0)
        return rc;
    int status;
    rc = tl_process_wait(kill_cmd, &status);
    tl_process_free(kill_cmd);
    return rc;
}

static int main_task(void *arg)
{
    const char *state_path = arg;
    tl_cancel_on_signal(SIGTERM, NULL); /* SIGTERM as Ctrl-C: cancel this task */
    tl_task *op = tl_create_task(operator, NULL);
    int rc = serve(state_path, &port);
    tl_task_release(op);
    return rc;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    char dir[] = "/tmp/tulip-sigterm-XXXXXX", path[64];
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof path, "%s/state", dir);
    int rc = tl_run(main_task, path);

    FILE *f = fopen(path, "r");
    char saved[32] = "";
    if (f) {
        if (!fgets(saved, sizeof saved, f))
            saved[0] = 0;
        fclose(f);
    }
    printf("state file: %s", saved);
    unlink(path);
    rmdir(dir);
    return rc == 0 ? 0 : 1;
}
