/* Downloading a big body with progress, in bounded memory: a stream
 * request returns after the head, and tl_http_response_read hands the body
 * over as it arrives. The client pauses the transfer whenever the reader is
 * 64 KiB behind, so an 8 MiB (or 8 GiB) download never holds more than that
 * much of it; here the "disk" is a checksum.
 *
 * So that it runs anywhere it serves itself 8 MiB on 127.0.0.1 first; give a
 * URL to download that instead (`download_progress https://...`). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tulip.h>
#include <tulip/http.h>

#define SIZE (8u << 20)

/* 8 MiB in 64 KiB writes, with a Content-Length so the client knows the total. */
static int serve_big(tl_http_req *req, tl_http_resp *resp, void *arg)
{
    (void)req;
    (void)arg;
    static char chunk[65536];
    memset(chunk, 'z', sizeof chunk);
    char len[32];
    snprintf(len, sizeof len, "%u", SIZE);
    tl_http_resp_add_header(resp, "Content-Length", len);
    for (unsigned sent = 0; sent < SIZE; sent += sizeof chunk) {
        int rc = tl_http_resp_write(resp, chunk, sizeof chunk);
        if (rc < 0)
            return rc;
    }
    return tl_http_resp_end(resp);
}

static int download(tl_http_client *client, const char *url)
{
    tl_http_request_opts req = {.url = url, .stream = true};
    tl_http_response *resp;
    int rc = tl_http_request(client, &req, &resp);
    if (rc < 0) {
        fprintf(stderr, "%s: %s\n", tl_strerror(rc), tl_error_detail());
        return rc;
    }
    const char *cl = tl_http_response_header(resp, "content-length");
    size_t total = cl ? strtoull(cl, NULL, 10) : 0, got = 0;
    unsigned long sum = 0;
    int shown = 0;
    char buf[16384];
    ssize_t n;
    while ((n = tl_http_response_read(resp, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++)
            sum += (unsigned char)buf[i];
        got += (size_t)n;
        /* a line at each quarter; a real program would draw a bar */
        while (total && shown < 4 && got * 4 >= total * (size_t)(shown + 1))
            printf("%3d%% %zu of %zu bytes\n", 25 * ++shown, got, total);
    }
    if (n < 0)
        fprintf(stderr, "%s: %s\n", tl_strerror((int)n), tl_error_detail());
    else
        printf("done: %zu bytes, status %d, checksum %lu\n", got, tl_http_response_status(resp),
               sum);
    tl_http_response_free(resp);
    return n < 0 ? (int)n : 0;
}

static int amain(void *arg)
{
    const char *url = arg;
    tl_http_server *srv = NULL;
    char local[64];
    if (!url) {
        int rc = tl_http_server_start(serve_big, NULL, "127.0.0.1", 0, NULL, &srv);
        if (rc < 0)
            return rc;
        snprintf(local, sizeof local, "http://127.0.0.1:%d/big", tl_http_server_port(srv));
        url = local;
    }
    tl_http_client *client = tl_http_client_new(NULL);
    int rc = client ? download(client, url) : TL_ENOMEM;
    tl_http_client_free(client);
    if (srv) {
        tl_http_server_shutdown(srv, 1);
        tl_http_server_free(srv);
    }
    return rc;
}

int main(int argc, char **argv)
{
    return tl_run(amain, argc > 1 ? argv[1] : NULL) < 0;
}
