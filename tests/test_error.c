/* Error codes: libuv's numbers, names and messages from one table. */
#include <uv.h>

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
