/* An echo server and a hundred clients in one program, after the seed on
 * handling thousands of socket connections:
 *
 *     async def handle(reader, writer):
 *         while data := await reader.read(4096):
 *             writer.write(data)
 *             await writer.drain()
 *
 *     async def client(i):
 *         reader, writer = await asyncio.open_connection("127.0.0.1", port)
 *         for j in range(MESSAGES):
 *             msg = f"client {i:03} says {j:02}\n".encode()
 *             writer.write(msg)
 *             assert await reader.readexactly(len(msg)) == msg
 *         writer.close()
 *         await writer.wait_closed()
 *
 *     server = await asyncio.start_server(handle, "127.0.0.1", 0)
 *     await asyncio.gather(*(client(i) for i in range(100)))
 *     server.close()
 *     await server.wait_closed()
 *
 * What to notice: one task per connection, on each side, and no callbacks.
 * The handler does not close its stream: the server does when the handler
 * returns. tl_stream_write never waits (the socket takes what it can, the
 * rest is buffered); tl_stream_drain is where a writer faster than its peer
 * waits. tl_server_wait_closed returns once every handler has returned. */
#include <stdio.h>
#include <string.h>
#include <tulip.h>

#define CLIENTS  100
#define MESSAGES 10
#define MSG_LEN  22 /* "client 042 says 07\n" padded to a fixed size */

static tl_server *server;
static int served;         /* connections the handler saw */
static long bytes_echoed;  /* by the server */
static int intact_clients; /* clients whose every echo matched */

/* The server's side of one connection: echo until the client ends it. */
static int handle(tl_stream *s, void *arg)
{
    (void)arg;
    served++;
    char buf[4096];
    for (;;) {
        ssize_t n = tl_stream_read(s, buf, sizeof buf);
        if (n <= 0)
            return (int)n; /* 0: the client closed; < 0: an error */
        int rc = tl_stream_write(s, buf, (size_t)n);
        if (rc == 0)
            rc = tl_stream_drain(s);
        if (rc < 0)
            return rc;
        bytes_echoed += n;
    }
}

static int client(void *arg)
{
    int id = (int)(intptr_t)arg;
    tl_stream *s;
    int rc = tl_open_connection("127.0.0.1", tl_server_port(server), &s);
    if (rc < 0)
        return rc;
    bool intact = true;
    for (int j = 0; j < MESSAGES && rc == 0; j++) {
        char msg[MSG_LEN + 1], echo[MSG_LEN];
        snprintf(msg, sizeof msg, "client %03d says %02d   \n", id, j);
        rc = tl_stream_write(s, msg, MSG_LEN);
        if (rc == 0)
            rc = tl_stream_readexactly(s, echo, MSG_LEN, NULL);
        if (rc == 0 && memcmp(msg, echo, MSG_LEN) != 0)
            intact = false;
    }
    int closed = tl_stream_wait_closed(s); /* close() + wait_closed(): s is gone */
    if (rc == 0)
        rc = closed;
    if (rc == 0 && intact)
        intact_clients++;
    return rc;
}

static int main_task(void *arg)
{
    (void)arg;
    int rc = tl_start_server(handle, NULL, "127.0.0.1", 0, NULL, &server);
    if (rc < 0) {
        fprintf(stderr, "start_server: %s\n", tl_strerror(rc));
        return rc;
    }
    printf("serving on 127.0.0.1:%d\n", tl_server_port(server)); /* port 0: the system's pick */

    tl_coro clients[CLIENTS];
    int results[CLIENTS];
    for (int i = 0; i < CLIENTS; i++)
        clients[i] = TL_CORO(client, (void *)(intptr_t)i);
    double t0 = tl_time();
    rc = tl_gather_coros(clients, CLIENTS, results, TL_RETURN_EXCEPTIONS);
    int failed = 0;
    for (int i = 0; i < CLIENTS; i++)
        failed += results[i] != 0;

    /* Graceful: stop accepting, wait for the handlers, then free. */
    tl_server_close(server);
    int waited = tl_server_wait_closed(server);
    tl_server_free(server);

    printf("%d clients, %d failed, in %.2f s\n", CLIENTS, failed, tl_time() - t0);
    printf("connections served: %d\n", served);
    printf("bytes echoed: %ld (%d x %d messages of %d bytes)\n", bytes_echoed, CLIENTS, MESSAGES,
           MSG_LEN);
    printf("every echo intact: %s\n", intact_clients == CLIENTS ? "yes" : "no");
    printf("server closed: %s\n", waited == 0 ? "yes" : tl_err_name(waited));
    return rc < 0 ? rc : failed;
}

int main(void)
{
    return tl_run(main_task, NULL) == 0 ? 0 : 1;
}
