/* echo_client: the load generator for bench/echo, in plain C on epoll.
 *
 * It is deliberately neither tulip nor libuv: the servers under test are
 * measured against the same client, and a client built on one of them would
 * share its costs and its quirks.
 *
 * Each connection runs closed-loop: it sends one message, reads until the
 * whole echo is back (checking every byte), records the round trip and sends
 * the next. Requests are counted over `duration` seconds that start after
 * `warmup` seconds; at the end each connection finishes the request it has in
 * flight, so the server sees a clean end of stream rather than a reset.
 * Prints one JSON line.
 *
 * usage: bench_echo_client host port connections message_size duration [warmup]
 * exit status: 0 success, 1 a failed connection, a wrong echo or no echo at all, 2 usage
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNECTIONS 100000
#define MAX_MESSAGE     ((size_t)64 * 1024 * 1024)
/* Different requests of one connection start at different offsets into the
 * pattern, so an echo of the wrong request (or of stale bytes) fails the
 * check; 251 is prime, so neighbouring connections do not fall in step. */
#define PATTERN_SHIFTS  251
#define SCRATCH_SIZE    ((size_t)256 * 1024)
#define CONNECT_TIMEOUT 10.0 /* seconds, for the server to start listening */
#define DRAIN_TIMEOUT   5.0  /* seconds, for the requests in flight at the end */

/* Latency histogram: 32 buckets per power of two of nanoseconds, so a
 * percentile is within about 3% of the true value, over any range. */
#define SUB_BITS    5
#define SUB_BUCKETS (1 << SUB_BITS)
#define HIST_SIZE   ((64 - SUB_BITS + 1) * SUB_BUCKETS)

struct conn {
    int fd;
    bool want_out; /* EPOLLOUT is armed: the socket did not take the whole message */
    bool done;     /* closed after the run */
    size_t sent, received;
    uint64_t seq;      /* this connection's request count, which picks the pattern offset */
    const char *msg;   /* the request in flight: pattern + its offset */
    uint64_t start_ns; /* when its first byte was written */
};

struct client {
    struct conn *conns;
    int nconns, epfd, open;
    size_t size;
    char *pattern, *scratch;
    uint64_t measure_from, measure_until, drain_until; /* ns, CLOCK_MONOTONIC */
    uint64_t requests, requests_total;
    uint64_t hist[HIST_SIZE];
    uint64_t lat_sum_ns, lat_max_ns;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "echo_client: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void fail(const char *msg)
{
    fprintf(stderr, "echo_client: %s\n", msg);
    exit(1);
}

static int hist_index(uint64_t v)
{
    if (v < SUB_BUCKETS)
        return (int)v;
    int e = 63 - __builtin_clzll(v); /* >= SUB_BITS */
    int sub = (int)((v >> (e - SUB_BITS)) & (SUB_BUCKETS - 1));
    return (e - SUB_BITS + 1) * SUB_BUCKETS + sub;
}

/* The middle of bucket i, the inverse of hist_index. */
static double hist_value(int i)
{
    if (i < SUB_BUCKETS)
        return i;
    int e = i / SUB_BUCKETS + SUB_BITS - 1;
    uint64_t sub = (uint64_t)(i % SUB_BUCKETS);
    uint64_t low = (SUB_BUCKETS + sub) << (e - SUB_BITS);
    return (double)low + (double)((uint64_t)1 << (e - SUB_BITS)) / 2;
}

static double percentile_us(const struct client *c, double p)
{
    if (c->requests == 0)
        return 0;
    uint64_t rank = (uint64_t)(p * (double)c->requests);
    if (rank >= c->requests)
        rank = c->requests - 1;
    uint64_t seen = 0;
    for (int i = 0; i < HIST_SIZE; i++) {
        seen += c->hist[i];
        if (seen > rank)
            return hist_value(i) / 1e3;
    }
    return 0;
}

/* Bytes that are not all alike, so a misplaced byte shows. */
static void fill_pattern(char *p, size_t n)
{
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (char)(x >> 56);
    }
}

static void set_events(struct client *c, struct conn *k, bool want_out)
{
    struct epoll_event ev = {.events = EPOLLIN | (want_out ? EPOLLOUT : 0), .data.ptr = k};
    if (epoll_ctl(c->epfd, EPOLL_CTL_MOD, k->fd, &ev) < 0)
        die("epoll_ctl");
    k->want_out = want_out;
}

/* Writes what the socket takes; EPOLLOUT is armed only while a message is
 * unsent, which for small messages is never. */
static void send_some(struct client *c, struct conn *k)
{
    while (k->sent < c->size) {
        ssize_t n = send(k->fd, k->msg + k->sent, c->size - k->sent, MSG_NOSIGNAL);
        if (n > 0) {
            k->sent += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && errno == EAGAIN) {
            break;
        } else {
            die("send");
        }
    }
    bool unsent = k->sent < c->size;
    if (unsent != k->want_out)
        set_events(c, k, unsent);
}

static void start_request(struct client *c, struct conn *k, uint64_t t)
{
    k->msg = c->pattern + (size_t)((k->seq + (uint64_t)(k - c->conns) * 7) % PATTERN_SHIFTS);
    k->seq++;
    k->sent = k->received = 0;
    k->start_ns = t;
    send_some(c, k);
}

static void finish_conn(struct client *c, struct conn *k)
{
    if (k->want_out)
        set_events(c, k, false);
    close(k->fd); /* the whole echo was read, so this is a FIN, not a reset */
    k->done = true;
    c->open--;
}

static void record(struct client *c, uint64_t t, uint64_t lat)
{
    c->requests_total++;
    if (t < c->measure_from || t >= c->measure_until)
        return;
    c->requests++;
    c->hist[hist_index(lat)]++;
    c->lat_sum_ns += lat;
    if (lat > c->lat_max_ns)
        c->lat_max_ns = lat;
}

static void complete(struct client *c, struct conn *k)
{
    uint64_t t = now_ns();
    record(c, t, t - k->start_ns);
    if (t >= c->measure_until)
        finish_conn(c, k);
    else
        start_request(c, k, t);
}

/* Reads while whole reads come back; a short read means the socket is empty
 * and level-triggered epoll will say when there is more. */
static void receive_some(struct client *c, struct conn *k)
{
    for (;;) {
        size_t want = c->size - k->received;
        if (want > SCRATCH_SIZE)
            want = SCRATCH_SIZE;
        if (want == 0)
            fail("the server sent more than it was sent");
        ssize_t n = recv(k->fd, c->scratch, want, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n < 0)
            die("recv");
        if (n == 0)
            fail("the server closed a connection in the middle of a request");
        /* Only bytes already sent can be echoed, so received <= sent holds. */
        if ((size_t)n > k->sent - k->received ||
            memcmp(c->scratch, k->msg + k->received, (size_t)n) != 0)
            fail("the echo does not match the request");
        k->received += (size_t)n;
        if (k->received == c->size) {
            complete(c, k);
            return;
        }
        if ((size_t)n < want)
            return;
    }
}

static int connect_one(const struct sockaddr_in *addr, uint64_t give_up)
{
    for (;;) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            die("socket");
        int one = 1;
        if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
            die("setsockopt TCP_NODELAY");
        if (connect(fd, (const struct sockaddr *)addr, sizeof *addr) == 0) {
            if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
                die("fcntl O_NONBLOCK");
            return fd;
        }
        /* Refused: the server is not listening yet. EAGAIN: loopback is
         * short of ports for a moment. Both pass; anything else will not. */
        if ((errno != ECONNREFUSED && errno != EAGAIN && errno != EINTR) || now_ns() > give_up)
            die("connect");
        close(fd);
        nanosleep(&(struct timespec){.tv_nsec = 20 * 1000 * 1000}, NULL);
    }
}

/* 1,000 connections need more than the usual 1,024 descriptors' soft limit. */
static void raise_fd_limit(int nconns)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)nconns + 16) {
        fprintf(stderr, "echo_client: %d connections need more than the %lu open files allowed\n",
                nconns, (unsigned long)rl.rlim_cur);
        exit(1);
    }
}

static void open_all(struct client *c, const struct sockaddr_in *addr)
{
    uint64_t give_up = now_ns() + (uint64_t)(CONNECT_TIMEOUT * 1e9);
    for (int i = 0; i < c->nconns; i++) {
        struct conn *k = &c->conns[i];
        k->fd = connect_one(addr, give_up);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = k};
        if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, k->fd, &ev) < 0)
            die("epoll_ctl");
        c->open++;
    }
}

/* Milliseconds until the next phase boundary, rounded up so that epoll_wait
 * does not wake just before it and spin. */
static int wait_ms(const struct client *c, uint64_t t)
{
    uint64_t until = t < c->measure_from    ? c->measure_from
                     : t < c->measure_until ? c->measure_until
                                            : c->drain_until;
    if (until <= t)
        return 0;
    return (int)((until - t + 999999) / 1000000);
}

static void run(struct client *c)
{
    enum { MAX_EVENTS = 256 };
    struct epoll_event evs[MAX_EVENTS];
    while (c->open > 0) {
        uint64_t t = now_ns();
        if (t >= c->drain_until)
            fail("the server did not answer the last requests in time");
        int n = epoll_wait(c->epfd, evs, MAX_EVENTS, wait_ms(c, t));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            die("epoll_wait");
        for (int i = 0; i < n; i++) {
            struct conn *k = evs[i].data.ptr;
            /* Read first: for large messages that frees the server to take more. */
            if (!k->done && (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                receive_some(c, k);
            if (!k->done && (evs[i].events & EPOLLOUT))
                send_some(c, k);
        }
    }
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

static void report(const struct client *c, double seconds, double cpu)
{
    double rate = (double)c->requests / seconds;
    /* mb_per_s counts the echo only, the bytes that came back per second, in
     * units of 10^6 bytes; as much again went out. */
    double mb = rate * (double)c->size / 1e6;
    double mean = c->requests ? (double)c->lat_sum_ns / (double)c->requests / 1e3 : 0;
    printf("{\"connections\": %d, \"message_size\": %zu, \"requests\": %llu, "
           "\"requests_total\": %llu, \"seconds\": %.6f, \"requests_per_s\": %.1f, "
           "\"mb_per_s\": %.2f, \"p50_us\": %.2f, \"p99_us\": %.2f, \"mean_us\": %.2f, "
           "\"max_us\": %.2f, \"client_cpu_s\": %.3f}\n",
           c->nconns, c->size, (unsigned long long)c->requests,
           (unsigned long long)c->requests_total, seconds, rate, mb, percentile_us(c, 0.50),
           percentile_us(c, 0.99), mean, (double)c->lat_max_ns / 1e3, cpu);
    fflush(stdout);
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_echo_client host port connections message_size "
                    "duration_s [warmup_s]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc != 6 && argc != 7)
        usage();
    struct sockaddr_in addr = {.sin_family = AF_INET};
    long port = strtol(argv[2], NULL, 10);
    long nconns = strtol(argv[3], NULL, 10);
    long long size = strtoll(argv[4], NULL, 10);
    double duration = strtod(argv[5], NULL);
    double warmup = argc == 7 ? strtod(argv[6], NULL) : 0;
    if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1 || port <= 0 || port > 65535 ||
        nconns <= 0 || nconns > MAX_CONNECTIONS || size <= 0 || (size_t)size > MAX_MESSAGE ||
        !(duration > 0 && duration < 3600) || !(warmup >= 0 && warmup < 3600))
        usage();
    addr.sin_port = htons((uint16_t)port);

    static struct client c;
    c.nconns = (int)nconns;
    c.size = (size_t)size;
    c.conns = calloc((size_t)nconns, sizeof *c.conns);
    c.pattern = malloc(c.size + PATTERN_SHIFTS);
    c.scratch = malloc(SCRATCH_SIZE);
    if (!c.conns || !c.pattern || !c.scratch)
        fail("out of memory");
    fill_pattern(c.pattern, c.size + PATTERN_SHIFTS);
    c.epfd = epoll_create1(EPOLL_CLOEXEC);
    if (c.epfd < 0)
        die("epoll_create1");

    raise_fd_limit(c.nconns);
    open_all(&c, &addr);
    double cpu0 = cpu_seconds();
    uint64_t t0 = now_ns();
    c.measure_from = t0 + (uint64_t)(warmup * 1e9);
    c.measure_until = c.measure_from + (uint64_t)(duration * 1e9);
    c.drain_until = c.measure_until + (uint64_t)(DRAIN_TIMEOUT * 1e9);
    for (int i = 0; i < c.nconns; i++)
        start_request(&c, &c.conns[i], t0);
    run(&c);
    double cpu = cpu_seconds() - cpu0;

    if (c.requests == 0)
        fail("no request completed within the measured time");
    report(&c, duration, cpu);
    return 0;
}
