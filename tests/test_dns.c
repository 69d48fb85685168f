/* Name lookups on libuv's thread pool, and leaving one midway. */
#include <arpa/inet.h>
#include <netdb.h>
#include <string.h>

#include "ctx/alloc.h"
#include "util.h"

static int lookups(void *arg)
{
    (void)arg;
    struct addrinfo *res, hints = {.ai_socktype = SOCK_STREAM};
    cr_assert_eq(tl_getaddrinfo("localhost", "80", &hints, &res), 0);
    cr_assert_not_null(res);
    bool loopback = false;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
        if (ai->ai_family == AF_INET &&
            ((struct sockaddr_in *)ai->ai_addr)->sin_addr.s_addr == htonl(INADDR_LOOPBACK))
            loopback = true;
    cr_assert(loopback, "localhost is 127.0.0.1");
    tl_freeaddrinfo(res);
    cr_assert_eq(tl_getaddrinfo("::1", NULL, NULL, &res), 0);
    cr_assert_eq(res->ai_family, AF_INET6);
    tl_freeaddrinfo(res);
    int rc = tl_getaddrinfo("no-such-host.invalid", NULL, NULL, &res);
    cr_assert(rc == TL_EAI_NONAME || rc == TL_EAI_AGAIN || rc == TL_EAI_FAIL, "%s",
              tl_err_name(rc));
    cr_assert_null(res);

    struct sockaddr_in sin = {
        .sin_family = AF_INET, .sin_port = htons(80), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    char host[NI_MAXHOST], serv[NI_MAXSERV];
    cr_assert_eq(tl_getnameinfo((struct sockaddr *)&sin, NI_NUMERICHOST | NI_NUMERICSERV, host,
                                sizeof host, serv, sizeof serv),
                 0);
    cr_assert_str_eq(host, "127.0.0.1");
    cr_assert_str_eq(serv, "80");
    char tiny[4];
    cr_assert_eq(
        tl_getnameinfo((struct sockaddr *)&sin, NI_NUMERICHOST, tiny, sizeof tiny, NULL, 0),
        TL_ENOBUFS);
    cr_assert_str_eq(tiny, "127", "cut, and terminated");
    cr_assert_eq(tl_getnameinfo(NULL, 0, host, sizeof host, NULL, 0), TL_EINVAL);
    return 0;
}

Test(dns, getaddrinfo_and_getnameinfo)
{
    RUN(lookups, NULL);
}

static int looker(void *arg)
{
    (void)arg;
    struct addrinfo *res;
    int rc = tl_getaddrinfo("localhost", "80", NULL, &res);
    if (rc == 0)
        tl_freeaddrinfo(res);
    return rc;
}

static int leave_midway(void *arg)
{
    (void)arg;
    /* Many at once, so that some run in the pool and some wait for it. */
    tl_task *t[64];
    for (int i = 0; i < 64; i++)
        t[i] = tl_create_task(looker, NULL);
    tl_sleep(0);
    double t0 = tl_time();
    for (int i = 0; i < 64; i++)
        tl_task_cancel(t[i]);
    for (int i = 0; i < 64; i++) {
        int rc = tl_await(t[i]);
        cr_assert(rc == TL_ECANCELED || rc == 0, "%s", tl_err_name(rc));
        tl_task_release(t[i]);
    }
    cr_assert_lt(elapsed_since(t0), TOL, "cancelled callers return at once");
    tl_timeout tm;
    tl_timeout_enter(&tm, 0);
    struct addrinfo *res;
    cr_assert_eq(tl_getaddrinfo("localhost", NULL, NULL, &res), TL_ETIMEDOUT);
    tl_timeout_exit(&tm);
    return 0;
}

Test(dns, a_cancelled_lookup_returns_at_once_and_its_result_is_freed)
{
    long live = tl__alloc_live();
    RUN(leave_midway, NULL);
    cr_assert_eq(tl__alloc_live(), live, "the orphaned requests were freed when they finished");
}
