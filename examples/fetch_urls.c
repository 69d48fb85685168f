/* Fetching URLs concurrently, the seed's aiohttp example in C: one client
 * (the session, with its connection pool), one task per URL, tl_gather.
 *
 *     async with aiohttp.ClientSession() as session:
 *         results = await asyncio.gather(*(fetch(session, u) for u in urls))
 *
 * So that it runs anywhere, it first starts a small HTTP server of its own
 * on 127.0.0.1 (a free port) with three pages, and fetches those. Give URLs
 * as arguments to fetch them instead (`fetch_urls https://example.com`).
 * What to notice: tl_http_get suspends only its own task; the three
 * requests are in flight together over the client's pooled connections. */
#include <stdio.h>
#include <string.h>
#include <tulip.h>
#include <tulip/http.h>

typedef struct fetch_job {
    tl_http_client *client;
    const char *url;
} fetch_job;

/* The body's length, or an error. */
static int fetch(void *arg)
{
    fetch_job *job = arg;
    tl_http_response *resp;
    int rc = tl_http_get(job->client, job->url, &resp);
    if (rc < 0) {
        const char *detail = tl_error_detail();
        fprintf(stderr, "%s: %s%s%s\n", job->url, tl_strerror(rc), detail ? ": " : "",
                detail ? detail : "");
        return rc;
    }
    size_t len;
    tl_http_response_body(resp, &len);
    tl_http_response_free(resp);
    return (int)len;
}

/* The local server's pages: a few bytes, a kilobyte, ten. */
static int page(tl_http_req *req, tl_http_resp *resp, void *arg)
{
    (void)arg;
    static char big[10240];
    size_t n = strcmp(tl_http_req_path(req), "/") == 0      ? 13
               : strcmp(tl_http_req_path(req), "/get") == 0 ? 1024
               : strcmp(tl_http_req_path(req), "/big") == 0 ? sizeof big
                                                            : 0;
    if (!n)
        return tl_http_resp_send(resp, 404, "text/plain", "not found\n", 10);
    memset(big, 'x', sizeof big);
    return tl_http_resp_send(resp, 200, "text/plain", big, n);
}

typedef struct args {
    int argc;
    char **argv;
} args;

static int amain(void *arg)
{
    args *a = arg;
    tl_http_server *srv = NULL;
    char local[3][64];
    const char *urls[16];
    size_t n = 0;
    for (int i = 1; i < a->argc && n < 16; i++)
        urls[n++] = a->argv[i];
    if (n == 0) {
        int rc = tl_http_server_start(page, NULL, "127.0.0.1", 0, NULL, &srv);
        if (rc < 0)
            return rc;
        int port = tl_http_server_port(srv);
        snprintf(local[0], sizeof local[0], "http://127.0.0.1:%d/", port);
        snprintf(local[1], sizeof local[1], "http://127.0.0.1:%d/get", port);
        snprintf(local[2], sizeof local[2], "http://127.0.0.1:%d/big", port);
        for (n = 0; n < 3; n++)
            urls[n] = local[n];
    }

    tl_http_client *client = tl_http_client_new(NULL);
    fetch_job jobs[16];
    tl_task *tasks[16];
    int results[16];
    for (size_t i = 0; i < n; i++) {
        jobs[i] = (fetch_job){client, urls[i]};
        tasks[i] = tl_create_task(fetch, &jobs[i]);
    }
    int rc = tl_gather(tasks, n, results, TL_RETURN_EXCEPTIONS);
    for (size_t i = 0; i < n; i++) {
        if (results[i] >= 0)
            printf("Fetched %.30s... %d bytes\n", urls[i], results[i]);
        tl_task_release(tasks[i]);
    }
    tl_http_client_free(client);
    if (srv) {
        tl_http_server_shutdown(srv, 1);
        tl_http_server_free(srv);
    }
    return rc;
}

int main(int argc, char **argv)
{
    args a = {argc, argv};
    return tl_run(amain, &a) < 0;
}
