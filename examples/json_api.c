/* A small JSON API on tulip's HTTP server, with jansson for the JSON: a
 * to-do list in memory, one handler per route, as an aiohttp.web app would
 * have:
 *
 *     GET    /todos        the list
 *     POST   /todos        {"title": "..."} adds one (201)
 *     GET    /todos/<id>   one, or 404
 *     DELETE /todos/<id>   204, or 404
 *
 * What to notice: a handler is straight-line code that reads the whole body
 * (tl_http_req_body, bounded by the server's max_body) and answers in one
 * call (tl_http_resp_send); the server does the framing, keep-alive and the
 * errors it answers itself. Run with a port to serve until Ctrl-C
 * (`json_api 8080`); without one it serves itself a few requests and
 * prints what came back. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tulip.h>
#include <tulip/http.h>

static json_t *todos; /* id (as a string) -> {"id", "title", "done"} */
static int next_id = 1;

static int send_json(tl_http_resp *resp, int status, json_t *value)
{
    char *text = json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(value);
    if (!text)
        return TL_ENOMEM;
    int rc = tl_http_resp_send(resp, status, "application/json", text, strlen(text));
    free(text);
    return rc;
}

static int error(tl_http_resp *resp, int status, const char *why)
{
    return send_json(resp, status, json_pack("{s:s}", "error", why));
}

static int list(tl_http_req *req, tl_http_resp *resp)
{
    (void)req;
    json_t *all = json_array();
    const char *key;
    json_t *todo;
    json_object_foreach(todos, key, todo)
    {
        json_array_append(all, todo);
    }
    return send_json(resp, 200, all);
}

static int create(tl_http_req *req, tl_http_resp *resp)
{
    char *body;
    size_t len;
    int rc = tl_http_req_body(req, &body, &len);
    if (rc)
        return rc; /* a body over the limit: the server answers 413 */
    json_error_t err;
    json_t *in = json_loadb(body, len, 0, &err);
    free(body);
    json_t *title = json_object_get(in, "title");
    if (!json_is_string(title)) {
        json_decref(in);
        return error(resp, 400, "expected {\"title\": string}");
    }
    int id = next_id++;
    json_t *todo = json_pack("{s:i,s:O,s:b}", "id", id, "title", title, "done", 0);
    json_decref(in);
    char key[16];
    snprintf(key, sizeof key, "%d", id);
    json_object_set(todos, key, todo);
    char location[32];
    snprintf(location, sizeof location, "/todos/%d", id);
    tl_http_resp_add_header(resp, "Location", location);
    return send_json(resp, 201, todo);
}

static int one(tl_http_req *req, tl_http_resp *resp, const char *id)
{
    json_t *todo = json_object_get(todos, id);
    if (!todo)
        return error(resp, 404, "no such todo");
    if (!strcmp(tl_http_req_method(req), "DELETE")) {
        json_object_del(todos, id);
        return tl_http_resp_send(resp, 204, NULL, NULL, 0);
    }
    return send_json(resp, 200, json_incref(todo));
}

/* The router: a handler per route. */
static int app(tl_http_req *req, tl_http_resp *resp, void *arg)
{
    (void)arg;
    const char *m = tl_http_req_method(req), *path = tl_http_req_path(req);
    if (!strcmp(path, "/todos")) {
        if (!strcmp(m, "GET"))
            return list(req, resp);
        if (!strcmp(m, "POST"))
            return create(req, resp);
        tl_http_resp_add_header(resp, "Allow", "GET, POST");
        return error(resp, 405, "method not allowed");
    }
    if (!strncmp(path, "/todos/", 7) && (!strcmp(m, "GET") || !strcmp(m, "DELETE")))
        return one(req, resp, path + 7);
    return error(resp, 404, "not found");
}

/* A client for the demo: one request on its own connection, the answer's status
 * line and body printed. (tulip's HTTP client is another issue's.) */
static void request(int port, const char *method, const char *path, const char *body)
{
    tl_stream *s;
    if (tl_open_connection("127.0.0.1", port, &s))
        return;
    char req[512];
    int n = snprintf(req, sizeof req,
                     "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                     method, path, body ? strlen(body) : 0, body ? body : "");
    tl_stream_write(s, req, (size_t)n);
    char out[4096];
    size_t len = 0;
    ssize_t r;
    while ((r = tl_stream_read(s, out + len, sizeof out - 1 - len)) > 0)
        len += (size_t)r;
    out[len] = 0;
    tl_stream_close(s);
    char *eol = strstr(out, "\r\n"), *text = strstr(out, "\r\n\r\n");
    printf("%s %s -> %.*s %s\n", method, path, eol ? (int)(eol - out - 9) : 0, out + 9,
           text ? text + 4 : "");
}

static int main_task(void *arg)
{
    int port = *(int *)arg;
    todos = json_object();
    tl_http_server *srv;
    int rc = tl_http_server_start(app, NULL, "127.0.0.1", port, NULL, &srv);
    if (rc) {
        fprintf(stderr, "cannot listen: %s\n", tl_strerror(rc));
        return rc;
    }
    if (port) {
        printf("serving on http://127.0.0.1:%d/todos (Ctrl-C stops)\n", port);
        rc = tl_sleep(1e9); /* until Ctrl-C cancels this task */
    } else {
        port = tl_http_server_port(srv);
        request(port, "POST", "/todos", "{\"title\": \"write the server\"}");
        request(port, "POST", "/todos", "{\"title\": \"test it\"}");
        request(port, "POST", "/todos", "{\"name\": 1}");
        request(port, "GET", "/todos", NULL);
        request(port, "DELETE", "/todos/1", NULL);
        request(port, "GET", "/todos/1", NULL);
        request(port, "PUT", "/todos", NULL);
        rc = 0;
    }
    tl_http_server_shutdown(srv, 5);
    tl_http_server_free(srv);
    json_decref(todos);
    return rc == TL_ECANCELED ? 0 : rc;
}

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 0;
    return tl_run(main_task, &port) == 0 ? 0 : 1;
}
