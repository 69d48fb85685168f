/* Error names and messages, generated from the one table in tulip.h; and
 * the fatal path for misuse that would corrupt memory. libuv's own codes are
 * the same numbers, which the asserts below hold us to. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

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
#undef NAME
    }
    return "UNKNOWN";
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
