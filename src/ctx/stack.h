/* Task stacks: carved from large MAP_NORESERVE regions so a stack costs only
 * the pages it touches, guarded below so an overflow faults instead of
 * corrupting its neighbour, and pooled so a new task reuses a warm stack.
 *
 * The guard is installed with MADV_GUARD_INSTALL, which marks pages without
 * splitting the mapping; kernels without it get an mprotect guard while the
 * mapping budget (a share of vm.max_map_count) lasts, then a canary word that
 * every switch checks. A pool belongs to one loop (one thread): no locks. */
#ifndef TL_STACK_H
#define TL_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tl__guard { TL__GUARD_MADVISE = 1, TL__GUARD_MPROTECT, TL__GUARD_CANARY };

#define TL__STACK_CANARY 0x74756c6970212121ULL

/* Bytes at the top of every stack that belong to the pool, not the task. */
#define TL__STACK_RESERVED 64

typedef struct tl__region tl__region;

typedef struct tl__stack {
    char *lo;    /* lowest usable byte; the guard lies just below */
    size_t size; /* usable bytes, a multiple of the page size */
    tl__region *region;
} tl__stack;

typedef struct tl__stack_class tl__stack_class;

typedef struct tl__stack_pool {
    tl__stack_class *classes;
    size_t warm_cap; /* pooled stacks kept warm before the surplus is trimmed */
} tl__stack_pool;

void tl__stack_pool_init(tl__stack_pool *pool);
/* Unmaps every region; stacks still handed out become invalid. */
void tl__stack_pool_destroy(tl__stack_pool *pool);

/* 0 or TL_ENOMEM. size is rounded up to whole pages. */
int tl__stack_alloc(tl__stack_pool *pool, size_t size, tl__stack *out);
/* Returns a stack to the pool. low_water is the deepest stack pointer seen in
 * it (NULL if unknown): pages below the warm depth are given back first. The
 * caller may still be running on the top of this stack. */
void tl__stack_free(tl__stack_pool *pool, tl__stack *st, const void *low_water);
/* Idle-time housekeeping: gives back the pages of pooled stacks beyond the
 * warm cap, and of pooled stacks that went deep. At most budget stacks. */
void tl__stack_pool_trim(tl__stack_pool *pool, size_t budget);

/* How the stack is guarded, and whether its canary is intact (true when it
 * has none). */
enum tl__guard tl__stack_guard(const tl__stack *st);
bool tl__stack_canary_ok(const tl__stack *st);
/* True if addr lies in the guard below st. */
bool tl__stack_in_guard(const tl__stack *st, const void *addr);

/* Tests force a guard strategy (0: choose), and read how many pages of a
 * stack are resident. */
void tl__stack_force_guard(enum tl__guard g);
size_t tl__stack_resident_pages(const tl__stack *st);

#endif
