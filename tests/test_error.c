/* Error codes: libuv's numbers, names and messages from one table. */
#include <uv.h>

#include "core/internal.h"
#include "util.h"

Test(error, codes_are_libuvs)
{
    cr_assert_eq(TL_ECANCELED, UV_ECANCELED);
    cr_assert_eq(TL_ETIMEDOUT, UV_ETIMEDOUT);
    cr_assert_eq(TL_EOF, UV_EOF);
    cr_assert_eq(TL_EAI_NONAME, UV_EAI_NONAME);
    cr_assert_lt(TL_ENOMEM, 0);
}

Test(error, names_and_messages)
{
    cr_assert_str_eq(tl_err_name(TL_ECANCELED), "ECANCELED");
    cr_assert_str_eq(tl_strerror(TL_ECANCELED), "operation canceled");
    cr_assert_str_eq(tl_err_name(TL_EOF), "EOF");
    cr_assert_str_eq(tl_strerror(TL_ETIMEDOUT), "connection timed out");
    cr_assert_str_eq(tl_err_name(12345), "UNKNOWN");
    cr_assert_str_eq(tl_strerror(-99999), "unknown error");
}

Test(error, version)
{
    cr_assert_str_eq(tl_version(), TULIP_VERSION_STRING);
}

Test(error, own_codes_have_names_and_messages)
{
    cr_assert_str_eq(tl_err_name(TL_ETLS), "ETLS");
    cr_assert_str_eq(tl_err_name(TL_ECERT), "ECERT");
    cr_assert_str_eq(tl_err_name(TL_ETRUNCATED), "ETRUNCATED");
    cr_assert_str_eq(tl_err_name(TL_EHTTP), "EHTTP");
    cr_assert_str_eq(tl_strerror(TL_ECERT), "peer certificate failed verification");
    /* clear of libuv's codes: uv_err_name knows none of them */
    cr_assert_str_eq(uv_err_name(TL_ETLS), "Unknown system error -5001");
    cr_assert_neq(TL_ETLS, TL_EHTTP);
}

/* The detail is per task: another task's failure never overwrites it. */
static int set_detail_then_wait(void *arg)
{
    tl__error_detail_set("task %s failed", (const char *)arg);
    tl_sleep(0);
    tl_sleep(0);
    cr_assert_str_eq(tl_error_detail(), strcmp(arg, "a") == 0 ? "task a failed" : "task b failed");
    return 0;
}

static int two_details(void *arg)
{
    (void)arg;
    cr_assert_null(tl_error_detail());
    tl_task *a = tl_create_task(set_detail_then_wait, "a");
    tl_task *b = tl_create_task(set_detail_then_wait, "b");
    cr_assert_eq(tl_await(a), 0);
    cr_assert_eq(tl_await(b), 0);
    tl_task_release(a);
    tl_task_release(b);
    cr_assert_null(tl_error_detail(), "a child's detail is not the parent's");
    tl__error_detail_set("%d%s", 42, " long enough to need its own allocation");
    cr_assert_str_eq(tl_error_detail(), "42 long enough to need its own allocation");
    tl__error_detail_clear();
    cr_assert_null(tl_error_detail());
    tl__error_detail_set("left set when the task ends");
    return 0; /* freed with the task: ASan would see a leak */
}

Test(error, detail_is_per_task)
{
    cr_assert_eq(tl_run(two_details, NULL), 0);
}

Test(error, detail_outside_tasks_is_per_thread)
{
    cr_assert_null(tl_error_detail());
    tl__error_detail_set("outside %s", "tasks");
    cr_assert_str_eq(tl_error_detail(), "outside tasks");
    tl__error_detail_clear();
    cr_assert_null(tl_error_detail());
}
