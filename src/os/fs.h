/* What file.c and fs.c share: one libuv file request in the caller's frame,
 * submitted to the thread pool and waited for under tulip.h's cancellation
 * rule (tl__pool_wait). Every file call is begin, one uv_fs_* call, end. */
#ifndef TL_OS_FS_H
#define TL_OS_FS_H

#include "os.h"

typedef struct tl__fsop {
    uv_fs_t req;
    tl__poolwait pw;
    tl_task *self;
    uv_loop_t *loop; /* to pass to uv_fs_* */
} tl__fsop;

/* Before the request is submitted: 0, or why it must not be: TL_EINVAL
 * when !valid (a NULL argument), TL_ECANCELED, TL_ETIMEDOUT, or an injected
 * TL_ENOMEM. fn names the public call for a misuse outside a task. */
int tl__fs_begin(tl__fsop *op, const char *fn, bool valid);
/* The callback to give every uv_fs_* call. */
void tl__fs_cb(uv_fs_t *req);
/* After the submission (uv_fs_*'s own result): what the call returns, that
 * is the request's result, the submission's error, or TL_ECANCELED /
 * TL_ETIMEDOUT. Either way op->req.result then says what happened to the
 * file, which an interrupted call may need to undo or account for:
 * UV_ECANCELED if the request never ran (refused, or withdrawn unstarted),
 * else its own result. The request is not cleaned up (stat and scandir
 * read it first). */
ssize_t tl__fs_wait(tl__fsop *op, int submitted);
/* tl__fs_wait, then uv_fs_req_cleanup. */
ssize_t tl__fs_end(tl__fsop *op, int submitted);

#endif
