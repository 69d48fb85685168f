/* Error names and messages, generated from the one table in tulip.h; and
 * the fatal path for misuse that would corrupt memory. libuv's own codes are
 * the same numbers, which the asserts below hold us to. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

/* tulip's own codes must stay clear of libuv's and of each other. */
#define CHECK_OWN(name, value, msg) \
    _Static_assert((value) <= -5000 && (value) > -6000, "TL_" #name " in tulip's range");
TL_OWN_ERRNO_MAP(CHECK_OWN)
#undef CHECK_OWN

#define CHECK_UV(name, value, msg) \
    _Static_assert((int)TL_##name == (int)UV_##name, "TL_" #name " is UV_" #name);
TL_ERRNO_MAP(CHECK_UV)
#undef CHECK_UV

const char *tl_strerror(int err)
{
    switch (err) {
#define MSG(name, value, msg) \
    case TL_##name:           \
        return msg;
        TL_ERRNO_MAP(MSG)
        TL_OWN_ERRNO_MAP(MSG)
#undef MSG
    }
    return "unknown error";
}

const char *tl_err_name(int err)
{
    switch (err) {
#define NAME(name, value, msg) \
    case TL_##name:            \
        return #name;
        TL_ERRNO_MAP(NAME)
        TL_OWN_ERRNO_MAP(NAME)
#undef NAME
    }
    return "UNKNOWN";
}

/* ---- error detail ----
 *
 * A task keeps its detail in a malloc'd string of its own, so another task's
 * failure never overwrites it; outside tasks a per-thread buffer holds it.
 * Setting a detail never fails the call that sets it: without memory the
 * detail is just NULL. */

static TL__TLS char thread_detail[512];
static TL__TLS bool thread_has_detail;

static void detail_clear_on(tl_task *t)
{
    if (t) {
        free(t->detail);
        t->detail = NULL;
    } else {
        thread_has_detail = false;
    }
}

static void detail_vset_on(tl_task *t, const char *fmt, va_list ap)
{
    detail_clear_on(t);
    if (!t) {
        vsnprintf(thread_detail, sizeof thread_detail, fmt, ap);
        thread_has_detail = true;
        return;
    }
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    if (n >= 0 && (t->detail = malloc((size_t)n + 1)))
        vsnprintf(t->detail, (size_t)n + 1, fmt, again);
    va_end(again);
}

void tl__error_detail_set_on(tl_task *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    detail_vset_on(t, fmt, ap);
    va_end(ap);
}

void tl__error_detail_set(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    detail_vset_on(tl_current_task(), fmt, ap);
    va_end(ap);
}

void tl__error_detail_clear_on(tl_task *t)
{
    detail_clear_on(t);
}

void tl__error_detail_clear(void)
{
    detail_clear_on(tl_current_task());
}

const char *tl_error_detail(void)
{
    tl_task *t = tl_current_task();
    if (t)
        return t->detail;
    return thread_has_detail ? thread_detail : NULL;
}

const char *tl_version(void)
{
    return TULIP_VERSION_STRING;
}

void tl__fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("tulip: fatal: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fflush(stderr);
    abort();
}
