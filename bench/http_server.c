/* bench/http_server's tulip side: "Hello, World!" at / and 16 KiB at /16k,
 * keep-alive, on 127.0.0.1:PORT, until SIGTERM or SIGINT.
 *
 * usage: bench_http_server PORT */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tulip.h>
#include <tulip/http.h>

static char big[16384];

static int handler(tl_http_req *req, tl_http_resp *resp, void *arg)
{
    (void)arg;
    if (!strcmp(tl_http_req_path(req), "/16k"))
        return tl_http_resp_send(resp, 200, "application/octet-stream", big, sizeof big);
    return tl_http_resp_send(resp, 200, "text/plain", "Hello, World!", 13);
}

static int main_task(void *arg)
{
    int port = *(int *)arg;
    memset(big, 'x', sizeof big);
    tl_cancel_on_signal(SIGTERM, NULL);
    tl_http_server_opts o = {.server = {.backlog = 4096}, .max_requests = 1u << 30};
    tl_http_server *srv;
    int rc = tl_http_server_start(handler, NULL, "127.0.0.1", port, &o, &srv);
    if (rc) {
        fprintf(stderr, "bench_http_server: %s\n", tl_strerror(rc));
        return rc;
    }
    printf("{\"port\": %d}\n", tl_http_server_port(srv));
    fflush(stdout);
    tl_sleep(1e9);
    tl_http_server_free(srv);
    return 0;
}

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 0;
    tl_run(main_task, &port);
    return 0;
}
