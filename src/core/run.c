/* tl_run: asyncio.run for C. A fresh loop, main as a task, SIGINT turned
 * into cancelling main (the second SIGINT kills the program as usual, as in
 * asyncio 3.11+), leftovers cancelled and awaited, the loop closed. */
#include <signal.h>

#include "internal.h"

int tl_run(tl_fn main, void *arg)
{
    if (tl__loop)
        return TL_EINVAL;
    tl_loop *loop = tl_loop_new();
    if (!loop)
        return TL_ENOMEM;
    /* Only take SIGINT over where the program has not set its own handler. */
    struct sigaction old;
    if (sigaction(SIGINT, NULL, &old) == 0 && !(old.sa_flags & SA_SIGINFO) &&
        old.sa_handler == SIG_DFL) {
        if (tl__signal_cancel_main(loop, SIGINT) != 0) {
            tl_loop_free(loop);
            return TL_ENOMEM;
        }
    }
    int result = tl_loop_run(loop, main, arg);
    tl_loop_free(loop);
    return result;
}
