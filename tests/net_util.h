/* Shared by the networking tests: servers whose handlers do one simple thing,
 * started on 127.0.0.1 with an ephemeral port. */
#ifndef TL_TEST_NET_UTIL_H
#define TL_TEST_NET_UTIL_H

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

/* Echoes until EOF, then returns (the server closes the stream). */
static inline int echo_handler(tl_stream *s, void *arg)
{
    (void)arg;
    char buf[16384];
    for (;;) {
        ssize_t n = tl_stream_read(s, buf, sizeof buf);
        if (n <= 0)
            return (int)n;
        int rc = tl_stream_write(s, buf, (size_t)n);
        if (!rc)
            rc = tl_stream_drain(s);
        if (rc)
            return rc;
    }
}

/* Starts a server with handler on 127.0.0.1, port 0; asserts it started. */
static inline tl_server *serve(tl_conn_fn handler, void *arg)
{
    tl_server *srv = NULL;
    int rc = tl_start_server(handler, arg, "127.0.0.1", 0, NULL, &srv);
    cr_assert_eq(rc, 0, "tl_start_server: %s", tl_strerror(rc));
    cr_assert_gt(tl_server_port(srv), 0);
    return srv;
}

/* Connects to srv on 127.0.0.1; asserts it connected. */
static inline tl_stream *dial(tl_server *srv)
{
    tl_stream *s = NULL;
    int rc = tl_open_connection("127.0.0.1", tl_server_port(srv), &s);
    cr_assert_eq(rc, 0, "tl_open_connection: %s", tl_strerror(rc));
    return s;
}

/* A port nothing listens on: bound, then released. */
static inline int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sin;
    cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    close(fd);
    return ntohs(sin.sin_port);
}

/* A pattern that makes misplaced or lost bytes visible. */
static inline void fill_pattern(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)((i * 131 + seed * 7 + (i >> 8)) & 0xff);
}

#endif
