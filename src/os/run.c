/* tl_run: asyncio.run for C. A fresh loop, main as a task, SIGINT turned
 * into cancelling main (the second SIGINT kills the program as usual, as in
 * asyncio 3.11+), leftovers cancelled and awaited, the loop closed. It
 * lives in src/os because the SIGINT part is signal.c's: the core knows no
 * signals but SIGPIPE. */
#include <signal.h>

#include "os.h"

int tl_run(tl_fn main, void *arg)
{
    if (tl__loop)
        return TL_EINVAL;
    tl_loop *loop = tl_loop_new();
    if (!loop)
        return TL_ENOMEM;
    /* Only take SIGINT over where the program has not set its own handler. */
    if (tl__signal_is_default(SIGINT)) {
        if (tl__signal_cancel_main(loop, SIGINT) != 0) {
            tl_loop_free(loop);
            return TL_ENOMEM;
        }
    }
    int result = tl_loop_run(loop, main, arg);
    tl_loop_free(loop);
    return result;
}
