/* bench/http_client's tulip side: GET BASE?i=0 .. BASE?i=N-1 (N distinct URLs)
 * through one client, C tasks in flight (a pool of workers over a counter),
 * every response checked for status 200; prints the requests/s.
 *
 * usage: bench_http_client BASE_URL N C [http1.1] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tulip.h>
#include <tulip/http.h>

typedef struct run {
    tl_http_client *client;
    const char *base;
    long next, n, failed;
} run;

static int worker(void *arg)
{
    run *r = arg;
    char url[512];
    while (r->next < r->n) {
        snprintf(url, sizeof url, "%s?i=%ld", r->base, r->next++);
        tl_http_response *resp;
        int rc = tl_http_get(r->client, url, &resp);
        if (rc < 0 || tl_http_response_status(resp) != 200)
            r->failed++;
        if (rc == 0)
            tl_http_response_free(resp);
    }
    return 0;
}

static int amain(void *arg)
{
    run *r = arg;
    long c = r->failed; /* the concurrency, passed in failed */
    r->failed = 0;
    tl_http_client_opts o = {.max_connections = (unsigned)c, .http_version = 0};
    r->client = tl_http_client_new(&o);
    if (!r->client)
        return TL_ENOMEM;
    tl_task **t = calloc((size_t)c, sizeof *t);
    double t0 = tl_time();
    for (long i = 0; i < c; i++)
        t[i] = tl_create_task(worker, r);
    for (long i = 0; i < c; i++) {
        tl_await(t[i]);
        tl_task_release(t[i]);
    }
    double e = tl_time() - t0;
    printf("tulip: %ld requests, %ld failed, %.3f s, %.0f requests/s\n", r->n, r->failed, e,
           (double)r->n / e);
    free(t);
    tl_http_client_free(r->client);
    return r->failed ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s BASE_URL N C\n", argv[0]);
        return 2;
    }
    run r = {.base = argv[1], .n = atol(argv[2]), .failed = atol(argv[3])};
    return tl_run(amain, &r) == 0 ? 0 : 1;
}
