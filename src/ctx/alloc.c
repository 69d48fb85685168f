/* The allocator and its fault seam (see alloc.h). */
#include "alloc.h"

#include <stdlib.h>
#include <string.h>

__thread long tl__fault_countdown;
static __thread bool fired;
static __thread long live; /* allocations not yet freed, on this thread */

long tl__alloc_live(void)
{
    return live;
}

static void *counted(void *p)
{
    if (p)
        live++;
    return p;
}

bool tl__fault_fire(void)
{
    if (--tl__fault_countdown == 0) {
        fired = true;
        return true;
    }
    return false;
}

void tl__fault_arm(long n)
{
    tl__fault_countdown = n;
    fired = false;
}

bool tl__fault_fired(void)
{
    return fired;
}

void *tl__malloc(size_t n)
{
    return tl__fault_point() ? NULL : counted(malloc(n));
}

void *tl__calloc(size_t n, size_t size)
{
    return tl__fault_point() ? NULL : counted(calloc(n, size));
}

void *tl__realloc(void *p, size_t n)
{
    if (!p)
        return tl__malloc(n);
    return tl__fault_point() ? NULL : realloc(p, n);
}

char *tl__strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = tl__malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

void tl__free(void *p)
{
    if (p)
        live--;
    free(p);
}
