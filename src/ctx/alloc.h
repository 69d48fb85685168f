/* The one allocator every part of tulip goes through, and the fault seam
 * beside it: tests arm a countdown and the Nth allocation (or other call that
 * can fail and asks tl__fault_point()) fails, as curl's and SQLite's torture
 * tests do. The countdown is per thread, so loops on other threads are not
 * disturbed. Disarmed, the seam costs one thread-local load and a branch. */
#ifndef TL_ALLOC_H
#define TL_ALLOC_H

#include <stdbool.h>
#include <stddef.h>

extern __thread long tl__fault_countdown;

bool tl__fault_fire(void);

/* True if the caller must fail now, as if the system had said no. */
static inline bool tl__fault_point(void)
{
    return __builtin_expect(tl__fault_countdown != 0, 0) && tl__fault_fire();
}

/* The nth fault point from now fails (1: the next one); 0 disarms. */
void tl__fault_arm(long n);
/* Whether an armed fault has fired since tl__fault_arm. */
bool tl__fault_fired(void);

/* Allocations made and not yet freed by this thread (frees made by another
 * thread are counted there): tests compare it before and after a run. */
long tl__alloc_live(void);

void *tl__malloc(size_t n);
void *tl__calloc(size_t n, size_t size);
void *tl__realloc(void *p, size_t n);
char *tl__strdup(const char *s);
void tl__free(void *p);

#endif
