/* A line-based chat server, with a queue per client to fan messages out, and
 * four scripted clients in the same program:
 *
 *     clients = {}                                  # name -> asyncio.Queue
 *
 *     async def writer_task(queue, writer):
 *         while True:
 *             line = await queue.get()              # QueueShutDown ends it
 *             writer.write(line)
 *             await writer.drain()
 *
 *     async def handle(reader, writer):
 *         name = (await reader.readline()).strip()
 *         queue = clients[name] = asyncio.Queue()
 *         out = asyncio.create_task(writer_task(queue, writer))
 *         await queue.put(b"welcome " + name + b"\n")
 *         while line := await reader.readline():
 *             for other, q in clients.items():
 *                 if other != name:
 *                     q.put_nowait(name + b": " + line)
 *         del clients[name]
 *         queue.shutdown()                          # the writer sends what is left
 *         await out
 *
 * What to notice: a slow client cannot hold up the others, because the
 * reader never writes to another client's socket; it puts into that client's
 * queue, and each client's own writer task waits in drain for it alone. When
 * a client leaves, shutting its queue down lets the writer finish sending
 * and stop; the handler waits for it before returning, because the server
 * closes the stream as soon as the handler returns.
 *
 * The clients wait for each other (a barrier) once welcomed, so that each of
 * them is there to hear the others; what each heard is printed sorted, since
 * the order in which lines from different clients arrive is up to the loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tulip.h>

#define NCLIENTS 4
#define MAX_LINE 256

/* ---- the server ---- */

struct member {
    char name[32];
    tl_queue *outbox; /* malloc'd lines for this client */
    struct member *next;
};

static struct member *members;
static int lines_relayed;

static int writer_task(void *arg)
{
    tl_stream *s = ((void **)arg)[0];
    tl_queue *q = ((void **)arg)[1];
    for (;;) {
        void *line;
        int rc = tl_queue_get(q, &line);
        if (rc == TL_ESHUTDOWN)
            return 0; /* shut down and sent: the client has left */
        if (rc < 0)
            return rc;
        rc = tl_stream_write(s, line, strlen(line));
        free(line);
        if (rc == 0)
            rc = tl_stream_drain(s); /* this client's pace, nobody else's */
        if (rc < 0)
            return rc;
    }
}

/* Puts a copy of "from: text" into every other member's outbox. */
static void broadcast(const struct member *from, const char *text)
{
    for (struct member *m = members; m; m = m->next) {
        if (m == from)
            continue;
        char *line = malloc(strlen(from->name) + strlen(text) + 3);
        if (!line)
            continue;
        sprintf(line, "%s: %s", from->name, text);
        if (tl_queue_put_nowait(m->outbox, line) < 0) /* unbounded: only ENOMEM */
            free(line);
        else
            lines_relayed++;
    }
}

static void unlink_member(struct member *me)
{
    for (struct member **p = &members; *p; p = &(*p)->next)
        if (*p == me) {
            *p = me->next;
            return;
        }
}

/* One connection: the first line is the client's name, every later line is
 * said to the others. */
static int handle(tl_stream *s, void *arg)
{
    (void)arg;
    struct member me = {0};
    char line[MAX_LINE];
    ssize_t n = tl_stream_readline(s, line, sizeof line - 1);
    if (n <= 1)
        return n < 0 ? (int)n : 0; /* gone before saying who it is */
    snprintf(me.name, sizeof me.name, "%.*s", (int)n - 1, line);
    tl_queue_opts o = {.drop = free}; /* lines still queued when it is freed */
    if (!(me.outbox = tl_queue_new_ex(&o)))
        return TL_ENOMEM;
    void *wargs[2] = {s, me.outbox};
    tl_task *writer = tl_create_task(writer_task, wargs);
    if (!writer) {
        tl_queue_free(me.outbox);
        return TL_ENOMEM;
    }
    char *welcome = malloc(sizeof me.name + 16);
    if (welcome) {
        sprintf(welcome, "welcome %s\n", me.name);
        tl_queue_put_nowait(me.outbox, welcome);
    }
    me.next = members;
    members = &me;

    while ((n = tl_stream_readline(s, line, sizeof line - 1)) > 0) {
        line[n] = '\0';
        broadcast(&me, line);
    }

    unlink_member(&me);
    tl_queue_shutdown(me.outbox, false); /* the writer sends what is queued, then stops */
    int rc = tl_await(writer);
    tl_task_release(writer);
    tl_queue_free(me.outbox);
    return n < 0 ? (int)n : rc;
}

/* ---- the scripted clients ---- */

static const char *const names[NCLIENTS] = {"ada", "bob", "cy", "dee"};
static tl_barrier all_joined;
static int port;

struct heard {
    char lines[NCLIENTS][MAX_LINE];
    int n;
};
static struct heard heard[NCLIENTS];

static int cmp_lines(const void *a, const void *b)
{
    return strcmp(a, b);
}

static int chat_client(void *arg)
{
    int id = (int)(intptr_t)arg;
    struct heard *h = &heard[id];
    tl_stream *s;
    int rc = tl_open_connection("127.0.0.1", port, &s);
    if (rc < 0)
        return rc;
    char line[MAX_LINE];
    snprintf(line, sizeof line, "%s\n", names[id]);
    rc = tl_stream_write(s, line, strlen(line));
    ssize_t n = rc ? rc : tl_stream_readline(s, line, sizeof line); /* "welcome ...": joined */
    if (n > 0 && (n = tl_barrier_wait(&all_joined)) >= 0) {
        snprintf(line, sizeof line, "hello from %s\n", names[id]);
        n = tl_stream_write(s, line, strlen(line));
    }
    /* Each of the others says one line. */
    while (n >= 0 && h->n < NCLIENTS - 1) {
        n = tl_stream_readline(s, line, sizeof line - 1);
        if (n > 0) {
            line[n - 1] = '\0'; /* the newline */
            snprintf(h->lines[h->n++], MAX_LINE, "%s", line);
        } else if (n == 0) {
            n = TL_EOF; /* the server hung up early */
        }
    }
    int closed = tl_stream_wait_closed(s); /* leave */
    qsort(h->lines, (size_t)h->n, MAX_LINE, cmp_lines);
    return n < 0 ? (int)n : closed;
}

static int main_task(void *arg)
{
    (void)arg;
    tl_server *server;
    int rc = tl_start_server(handle, NULL, "127.0.0.1", 0, NULL, &server);
    if (rc < 0)
        return rc;
    port = tl_server_port(server);
    tl_barrier_init(&all_joined, NCLIENTS);

    tl_coro clients[NCLIENTS];
    int results[NCLIENTS];
    for (int i = 0; i < NCLIENTS; i++)
        clients[i] = TL_CORO(chat_client, (void *)(intptr_t)i);
    rc = tl_gather_coros(clients, NCLIENTS, results, TL_RETURN_EXCEPTIONS);

    for (int i = 0; i < NCLIENTS; i++) {
        printf("%s heard %d lines (%s):", names[i], heard[i].n,
               results[i] == 0 ? "left cleanly" : tl_err_name(results[i]));
        for (int j = 0; j < heard[i].n; j++)
            printf(" [%s]", heard[i].lines[j]);
        printf("\n");
    }

    tl_server_close(server);
    int waited = tl_server_wait_closed(server); /* every handler has returned */
    tl_server_free(server);
    tl_barrier_destroy(&all_joined);
    printf("server relayed %d lines, %s members left, closed: %s\n", lines_relayed,
           members ? "some" : "no", waited == 0 ? "yes" : tl_err_name(waited));
    return rc;
}

int main(void)
{
    return tl_run(main_task, NULL) == 0 ? 0 : 1;
}
