/* A static file server on tulip's HTTP server: GET and HEAD of the files
 * under one directory, streamed from disk in 64 KiB pieces with their
 * Content-Length, so a large file never sits in memory whole. Ranges, index
 * pages and caching headers are left out.
 *
 * What to notice: the handler declares the length (tl_http_resp_add_header
 * with Content-Length) and then streams with tl_http_resp_write, which the
 * server then sends as is, not chunked; tl_file_read runs on the thread pool
 * while other connections are served; a path that could leave the directory
 * is refused before any file is opened. Run it as `file_server DIR PORT` to
 * serve DIR; without arguments it serves itself a few files from a
 * temporary directory and prints what came back. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tulip.h>
#include <tulip/http.h>

static const char *root;

static const char *content_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (dot && !strcmp(dot, ".html"))
        return "text/html; charset=utf-8";
    if (dot && !strcmp(dot, ".txt"))
        return "text/plain; charset=utf-8";
    if (dot && !strcmp(dot, ".json"))
        return "application/json";
    return "application/octet-stream";
}

static int plain(tl_http_resp *resp, int status, const char *text)
{
    return tl_http_resp_send(resp, status, "text/plain; charset=utf-8", text, strlen(text));
}

static int serve_file(tl_http_req *req, tl_http_resp *resp, void *arg)
{
    (void)arg;
    const char *m = tl_http_req_method(req), *path = tl_http_req_path(req);
    if (strcmp(m, "GET") && strcmp(m, "HEAD")) {
        tl_http_resp_add_header(resp, "Allow", "GET, HEAD");
        return plain(resp, 405, "GET or HEAD only\n");
    }
    /* no "..", no percent-escapes that could hide one, nothing outside root */
    if (path[0] != '/' || strstr(path, "..") || strchr(path, '%'))
        return plain(resp, 403, "forbidden\n");
    char full[1024];
    if (snprintf(full, sizeof full, "%s%s", root, path) >= (int)sizeof full)
        return plain(resp, 414, "path too long\n");
    struct stat st;
    if (tl_fs_stat(full, &st) || !S_ISREG(st.st_mode))
        return plain(resp, 404, "not found\n");
    tl_file *f;
    if (tl_file_open(full, O_RDONLY, 0, &f))
        return plain(resp, 404, "not found\n");
    char length[32];
    snprintf(length, sizeof length, "%lld", (long long)st.st_size);
    tl_http_resp_add_header(resp, "Content-Length", length);
    tl_http_resp_add_header(resp, "Content-Type", content_type(path));
    int rc = 0;
    static __thread char buf[64 * 1024]; /* one loop per thread, one read at a time each */
    for (off_t sent = 0; sent < st.st_size && !rc && strcmp(m, "HEAD");) {
        ssize_t n = tl_file_read(f, buf, sizeof buf);
        if (n <= 0) {
            rc = n < 0 ? (int)n : TL_EIO; /* the file shrank: the client sees it cut short */
            break;
        }
        rc = tl_http_resp_write(resp, buf, (size_t)n);
        sent += n;
    }
    tl_file_close(f);
    return rc ? rc : tl_http_resp_end(resp);
}

/* For the demo: one request on its own connection; the status line, the length and
 * what the body holds printed. */
static void request(int port, const char *method, const char *path)
{
    tl_stream *s;
    if (tl_open_connection("127.0.0.1", port, &s))
        return;
    char req[256];
    int n =
        snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
                 method, path);
    tl_stream_write(s, req, (size_t)n);
    static char out[1 << 20];
    size_t len = 0;
    ssize_t r;
    while ((r = tl_stream_read(s, out + len, sizeof out - 1 - len)) > 0)
        len += (size_t)r;
    out[len] = 0;
    tl_stream_close(s);
    char *eol = strstr(out, "\r\n"), *body = strstr(out, "\r\n\r\n");
    char *cl = strstr(out, "Content-Length: ");
    size_t blen = body ? len - (size_t)(body + 4 - out) : 0;
    int shown = blen < 40 ? (int)blen - (blen && body[4 + blen - 1] == '\n') : 0;
    printf("%s %s -> %.*s, Content-Length %ld, %zu body bytes%s%.*s\n", method, path,
           eol ? (int)(eol - out - 9) : 0, out + 9, cl ? atol(cl + 16) : -1L, blen,
           shown > 0 ? ": " : "", shown, body ? body + 4 : "");
}

static int write_demo_files(char *dir)
{
    if (!mkdtemp(dir))
        return TL_EIO;
    char path[256];
    snprintf(path, sizeof path, "%s/hello.txt", dir);
    int rc = tl_write_file(path, "Hello from disk\n", 16);
    char *big = malloc(300000);
    for (int i = 0; i < 300000; i++)
        big[i] = (char)('a' + i % 26);
    snprintf(path, sizeof path, "%s/big.bin", dir);
    if (!rc)
        rc = tl_write_file(path, big, 300000);
    free(big);
    return rc;
}

static void remove_demo_files(const char *dir)
{
    char path[256];
    snprintf(path, sizeof path, "%s/hello.txt", dir);
    tl_fs_unlink(path);
    snprintf(path, sizeof path, "%s/big.bin", dir);
    tl_fs_unlink(path);
    tl_fs_rmdir(dir);
}

typedef struct args {
    const char *dir;
    int port;
} args;

static int main_task(void *arg)
{
    args *a = arg;
    char tmp[] = "/tmp/tulip-files-XXXXXX";
    int rc = 0;
    if (!a->dir && (rc = write_demo_files(tmp)))
        return rc;
    root = a->dir ? a->dir : tmp;
    tl_http_server *srv;
    if ((rc = tl_http_server_start(serve_file, NULL, "127.0.0.1", a->port, NULL, &srv))) {
        fprintf(stderr, "cannot listen: %s\n", tl_strerror(rc));
        return rc;
    }
    if (a->dir) {
        printf("serving %s on http://127.0.0.1:%d/ (Ctrl-C stops)\n", root, a->port);
        rc = tl_sleep(1e9);
    } else {
        int port = tl_http_server_port(srv);
        request(port, "GET", "/hello.txt");
        request(port, "HEAD", "/hello.txt");
        request(port, "GET", "/big.bin");
        request(port, "GET", "/missing.txt");
        request(port, "GET", "/../etc/passwd");
        request(port, "POST", "/hello.txt");
        remove_demo_files(tmp);
    }
    tl_http_server_shutdown(srv, 5);
    tl_http_server_free(srv);
    return rc == TL_ECANCELED ? 0 : rc;
}

int main(int argc, char **argv)
{
    args a = {argc > 2 ? argv[1] : NULL, argc > 2 ? atoi(argv[2]) : 0};
    return tl_run(main_task, &a) == 0 ? 0 : 1;
}
