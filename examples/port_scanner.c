/* A port scanner: 1,000 connection attempts, 100 at a time, each with its
 * own time limit, after the seed's semaphore-bounded scanner:
 *
 *     sem = asyncio.Semaphore(100)
 *     async def probe(port):
 *         async with sem:
 *             try:
 *                 async with asyncio.timeout(1.0):
 *                     reader, writer = await asyncio.open_connection("127.0.0.1", port)
 *             except ConnectionRefusedError: return "refused"
 *             except TimeoutError: return "timed out"
 *             writer.close()
 *             return "open"
 *     results = await asyncio.gather(*(probe(p) for p in range(BASE, BASE + 1000)))
 *
 * The program scans 127.0.0.1 only, and opens its own listening servers on
 * three ports of the range first (22, 80 and 443 past its start, in the
 * first range from port 20000 where they are free), so that it knows what it
 * should find.
 *
 * What to notice: the semaphore bounds the sockets open at once, not the
 * tasks (all 1,000 start at once and wait for a permit); the timeout scope
 * bounds one attempt, and its error (TL_ETIMEDOUT) is told apart from a
 * refusal (TL_ECONNREFUSED) by its code. On the loopback interface a port
 * with no listener refuses at once, so nothing times out here; against a
 * remote host whose firewall drops packets, the timeouts are what keeps the
 * scan short. */
#include <stdio.h>
#include <tulip.h>

#define FIRST_BASE 20000 /* below Linux's ephemeral ports: nothing else should listen there */
#define NPORTS     1000
#define LIMIT      100
#define TIMEOUT    1.0

static const int listening[] = {22, 80, 443}; /* offsets into the range */
#define NLISTEN (int)(sizeof listening / sizeof listening[0])

static int base; /* the range scanned: base .. base + NPORTS - 1 */
static tl_server *servers[NLISTEN];
static tl_semaphore sem;
static int in_flight, most_in_flight;

/* A server for the scanner to find: it takes the connection and does nothing. */
static int idle_handler(tl_stream *s, void *arg)
{
    (void)s;
    (void)arg;
    return 0;
}

/* Listens on the three ports of the first range of 1,000 where they are free
 * (another copy of this program may be running): 0, or an error. */
static int listen_in_a_free_range(void)
{
    int rc = 0;
    for (base = FIRST_BASE; base < FIRST_BASE + 10 * NPORTS; base += NPORTS) {
        int i;
        for (i = 0; i < NLISTEN; i++) {
            rc = tl_start_server(idle_handler, NULL, "127.0.0.1", base + listening[i], NULL,
                                 &servers[i]);
            if (rc < 0)
                break;
        }
        if (i == NLISTEN)
            return 0;
        while (i-- > 0)
            tl_server_free(servers[i]);
        if (rc != TL_EADDRINUSE)
            break;
    }
    return rc;
}

/* 0 when the port is open, else why not. */
static int probe(void *arg)
{
    int port = (int)(intptr_t)arg;
    int rc = tl_semaphore_acquire(&sem);
    if (rc < 0)
        return rc;
    if (++in_flight > most_in_flight)
        most_in_flight = in_flight;
    tl_timeout scope;
    tl_timeout_enter(&scope, TIMEOUT);
    tl_stream *s;
    rc = tl_open_connection("127.0.0.1", port, &s);
    tl_timeout_exit(&scope); /* the open already returned TL_ETIMEDOUT if it expired */
    in_flight--;
    tl_semaphore_release(&sem);
    if (rc == 0)
        tl_stream_close(s);
    return rc;
}

static int main_task(void *arg)
{
    (void)arg;
    int rc = listen_in_a_free_range();
    if (rc < 0) {
        fprintf(stderr, "cannot listen: %s\n", tl_strerror(rc));
        return rc;
    }
    tl_semaphore_init(&sem, LIMIT);

    static tl_coro probes[NPORTS];
    static int results[NPORTS];
    for (int i = 0; i < NPORTS; i++)
        probes[i] = TL_CORO(probe, (void *)(intptr_t)(base + i));
    double t0 = tl_time();
    rc = tl_gather_coros(probes, NPORTS, results, TL_RETURN_EXCEPTIONS);
    double took = tl_time() - t0;

    int refused = 0, timed_out = 0, other = 0;
    printf("open:");
    for (int i = 0; i < NPORTS; i++) {
        if (results[i] == 0)
            printf(" %d", base + i);
        else if (results[i] == TL_ECONNREFUSED)
            refused++;
        else if (results[i] == TL_ETIMEDOUT)
            timed_out++;
        else
            other++;
    }
    printf("\nclosed: %d (refused %d, timed out %d, other errors %d)\n",
           refused + timed_out + other, refused, timed_out, other);
    printf("scanned %d ports of 127.0.0.1, at most %d at once, in %s\n", NPORTS, most_in_flight,
           took < 2 * TIMEOUT ? "less than two timeouts" : "too long");

    for (int i = 0; i < NLISTEN; i++) {
        tl_server_close(servers[i]);
        tl_server_wait_closed(servers[i]);
        tl_server_free(servers[i]);
    }
    tl_semaphore_destroy(&sem);
    return rc; /* 0: TL_RETURN_EXCEPTIONS leaves each error in results[] */
}

int main(void)
{
    return tl_run(main_task, NULL) == 0 ? 0 : 1;
}
