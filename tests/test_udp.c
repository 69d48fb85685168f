/* UDP sockets: datagrams both ways, truncation, one receiver at a time,
 * cancellation and closing while a receive waits. */
#include <netinet/in.h>
#include <string.h>

#include "ctx/alloc.h"
#include "util.h"

static tl_udp *open_loopback(void)
{
    tl_udp *u = NULL;
    int rc = tl_udp_open("127.0.0.1", 0, &u);
    cr_assert_eq(rc, 0, "tl_udp_open: %s", tl_strerror(rc));
    return u;
}

static struct sockaddr_storage addr_of(tl_udp *u)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    cr_assert_eq(tl_udp_sockname(u, (struct sockaddr *)&ss, &len), 0);
    return ss;
}

static int roundtrip(void *arg)
{
    (void)arg;
    tl_udp *a = open_loopback(), *b = open_loopback();
    struct sockaddr_storage to = addr_of(b), from;
    cr_assert_neq(((struct sockaddr_in *)&to)->sin_port, 0, "port 0 picked a port");
    cr_assert_eq(tl_udp_sendto(a, "ping", 4, (struct sockaddr *)&to), 0);
    cr_assert_eq(tl_udp_sendto(a, "", 0, (struct sockaddr *)&to), 0);
    char buf[16];
    bool cut = true;
    cr_assert_eq(tl_udp_recvfrom(b, buf, sizeof buf, &from, &cut), 4);
    cr_assert_arr_eq(buf, "ping", 4);
    cr_assert_not(cut);
    struct sockaddr_storage a_addr = addr_of(a);
    cr_assert_eq(((struct sockaddr_in *)&from)->sin_port, ((struct sockaddr_in *)&a_addr)->sin_port,
                 "the sender's address");
    cr_assert_eq(tl_udp_recvfrom(b, buf, sizeof buf, NULL, NULL), 0, "an empty datagram");
    /* and back, to the address it came from */
    cr_assert_eq(tl_udp_sendto(b, "pong!", 5, (struct sockaddr *)&from), 0);
    cr_assert_eq(tl_udp_recvfrom(a, buf, 3, NULL, &cut), 3);
    cr_assert(cut, "a datagram longer than the buffer is cut, and says so");
    cr_assert_arr_eq(buf, "pon", 3);
    tl_udp_close(a);
    tl_udp_close(b);
    return 0;
}

Test(udp, datagrams_go_both_ways_and_long_ones_are_cut)
{
    long live = tl__alloc_live();
    RUN(roundtrip, NULL);
    cr_assert_eq(tl__alloc_live(), live);
}

static int receiver(void *arg)
{
    char buf[8];
    return (int)tl_udp_recvfrom(arg, buf, sizeof buf, NULL, NULL);
}

static int waits(void *arg)
{
    (void)arg;
    tl_udp *u = open_loopback();
    tl_task *t = tl_create_task(receiver, u);
    tl_sleep(0.01);
    char buf[8];
    cr_assert_eq(tl_udp_recvfrom(u, buf, sizeof buf, NULL, NULL), TL_EBUSY);
    tl_task_cancel(t);
    cr_assert_eq(tl_await(t), TL_ECANCELED);
    tl_task_release(t);
    tl_timeout tm;
    double t0 = tl_time();
    tl_timeout_enter(&tm, 0.05);
    cr_assert_eq(tl_udp_recvfrom(u, buf, sizeof buf, NULL, NULL), TL_ETIMEDOUT);
    tl_timeout_exit(&tm);
    ASSERT_ELAPSED(t0, 0.05);
    /* a datagram that came while nobody received waits in the kernel */
    struct sockaddr_storage to = addr_of(u);
    tl_udp *s = open_loopback();
    cr_assert_eq(tl_udp_sendto(s, "kept", 4, (struct sockaddr *)&to), 0);
    tl_sleep(0.02);
    cr_assert_eq(tl_udp_recvfrom(u, buf, sizeof buf, NULL, NULL), 4);
    cr_assert_arr_eq(buf, "kept", 4);
    /* closing ends a waiting receive */
    t = tl_create_task(receiver, u);
    tl_sleep(0.01);
    tl_udp_close(u);
    cr_assert_eq(tl_await(t), TL_ECANCELED);
    tl_task_release(t);
    tl_udp_close(s);
    return 0;
}

Test(udp, one_receiver_cancellation_timeouts_and_close)
{
    long live = tl__alloc_live();
    RUN(waits, NULL);
    cr_assert_eq(tl__alloc_live(), live);
}

static int errors(void *arg)
{
    (void)arg;
    tl_udp *u = NULL, *v = NULL;
    cr_assert_eq(tl_udp_open("127.0.0.1", 70000, &u), TL_EINVAL);
    u = open_loopback();
    struct sockaddr_storage ss = addr_of(u);
    int port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    cr_assert_eq(tl_udp_open("127.0.0.1", port, &v), TL_EADDRINUSE);
    cr_assert_null(v);
    cr_assert_eq(tl_udp_sendto(u, "x", 1, NULL), TL_EINVAL);
    static char huge[70000];
    cr_assert_eq(tl_udp_sendto(u, huge, sizeof huge, (struct sockaddr *)&ss), TL_EMSGSIZE);
    tl_udp_close(u);
    /* the wildcard takes IPv4 and IPv6 */
    cr_assert_eq(tl_udp_open(NULL, 0, &u), 0);
    ss = addr_of(u);
    cr_assert_eq(ss.ss_family, AF_INET6);
    port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    tl_udp_close(u);
    cr_assert_eq(tl_udp_open("", port, &u), 0, "the wildcard binds the port asked for");
    ss = addr_of(u);
    cr_assert_eq(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), port);
    tl_udp_close(u);
    return 0;
}

Test(udp, bad_arguments_and_addresses_in_use)
{
    RUN(errors, NULL);
}
