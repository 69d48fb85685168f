/* Waiting on many tasks at once (gather, wait, as_completed): one waiter node
 * per task, all in one array the caller owns, each linked into its task's
 * awaiter list. A node does not wake anyone: when its task finishes it calls
 * the set's on_done with the task's index, and the set decides whether its
 * own waiter has seen enough. Nothing else is allocated per task. */
#ifndef TL_WAITSET_H
#define TL_WAITSET_H

#include "internal.h"

typedef struct tl__waitset tl__waitset;
/* Task i finished with code; runs on the finishing task's stack. */
typedef void (*tl__waitset_fn)(tl__waitset *ws, size_t i, int code);

#define TL__WAITSET_SMALL 8

struct tl__waitset {
    tl_task *const *tasks;
    size_t n;
    size_t left; /* tasks not yet finished */
    tl__waiter *nodes;
    tl__waitset_fn on_done;
    tl__waiter small[TL__WAITSET_SMALL]; /* nodes for small sets: no malloc */
};

/* Checks the tasks (TL_EINVAL for a NULL one; a task waiting on itself is
 * fatal, naming fn), allocates the nodes (TL_ENOMEM) and links one into each
 * task not done yet. On error nothing is linked. */
int tl__waitset_init(tl__waitset *ws, tl_task *const *tasks, size_t n, tl__waitset_fn on_done,
                     const char *fn);
/* Unlinks the nodes of tasks still running and frees the nodes. */
void tl__waitset_destroy(tl__waitset *ws);

#endif
