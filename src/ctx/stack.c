/* Stack regions, guards and the pool. A region is one mapping cut into slots
 * of [guard | usable stack]; a slot is handed out fresh once, then lives on a
 * warm list (its top pages still resident, linked through a node stored at
 * its own top) or, once trimmed, on its region's cold list (no page resident,
 * nothing touched to list it). */
#include "stack.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "alloc.h"

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define TL_VALGRIND 1
#endif
#endif

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

#define GUARD_BYTES  ((size_t)16 * 1024)
#define WARM_DEPTH   ((size_t)32 * 1024) /* pages a pooled stack keeps */
#define REGION_BYTES ((size_t)64 * 1024 * 1024)
#define MAX_SLOTS    256

struct tl__region {
    char *base;
    size_t len;
    uint32_t nslots, carved, ncold;
    enum tl__guard guard;
    tl__region *next;
    tl__region *next_cold; /* in its class's list of regions with cold slots */
    tl__stack_class *cls;
#ifdef TL_VALGRIND
    unsigned *vg_ids;
#endif
    uint32_t cold[]; /* indexes of trimmed free slots */
};

struct tl__stack_class {
    size_t size, slot;
    tl__region *regions;
    tl__region *fresh; /* region with slots never handed out */
    tl__region *cold;  /* regions with trimmed free slots */
    struct warm *warm;
    size_t nwarm, nwarm_deep_unknown;
    tl__stack_class *next;
};

/* Kept in the top bytes of a pooled stack, which are resident anyway. */
struct warm {
    struct warm *next;
    tl__region *region;
    char *lo;
    bool checked; /* mincore already said it is shallow */
};

static size_t page_size;
static enum tl__guard forced_guard;
static int madvise_guard_works = -1; /* -1 unknown */
static long mprotect_budget = -1;    /* guards left before canaries */

void tl__stack_force_guard(enum tl__guard g)
{
    forced_guard = g;
}

static void init_globals(void)
{
    if (page_size)
        return;
    page_size = (size_t)sysconf(_SC_PAGESIZE);
    long maps = 65530;
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    if (f) {
        if (fscanf(f, "%ld", &maps) != 1)
            maps = 65530;
        fclose(f);
    }
    /* Each mprotect guard splits a mapping in two: let guards use a quarter of
     * the process's mappings and leave the rest to the program. */
    mprotect_budget = maps / 4;
}

void tl__stack_pool_init(tl__stack_pool *pool)
{
    init_globals();
    pool->classes = NULL;
    pool->warm_cap = 1024;
}

static size_t round_pages(size_t n)
{
    return (n + page_size - 1) & ~(page_size - 1);
}

static tl__stack_class *class_for(tl__stack_pool *pool, size_t size)
{
    for (tl__stack_class *c = pool->classes; c; c = c->next)
        if (c->size == size)
            return c;
    tl__stack_class *c = tl__calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->size = size;
    c->slot = size + GUARD_BYTES;
    c->next = pool->classes;
    pool->classes = c;
    return c;
}

static enum tl__guard region_guard(uint32_t nslots)
{
    if (forced_guard)
        return forced_guard;
    if (madvise_guard_works != 0)
        return TL__GUARD_MADVISE;
    if (mprotect_budget >= (long)nslots) {
        mprotect_budget -= nslots;
        return TL__GUARD_MPROTECT;
    }
    return TL__GUARD_CANARY;
}

static tl__region *region_new(tl__stack_class *c)
{
    size_t n = REGION_BYTES / c->slot;
    if (n < 1)
        n = 1;
    if (n > MAX_SLOTS)
        n = MAX_SLOTS;
    tl__region *r = tl__calloc(1, sizeof *r + n * sizeof(uint32_t));
    if (!r)
        return NULL;
#ifdef TL_VALGRIND
    r->vg_ids = tl__calloc(n, sizeof *r->vg_ids);
    if (!r->vg_ids) {
        tl__free(r);
        return NULL;
    }
#endif
    r->len = n * c->slot;
    void *base = tl__fault_point()
                     ? MAP_FAILED
                     : mmap(NULL, r->len, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (base == MAP_FAILED) {
#ifdef TL_VALGRIND
        tl__free(r->vg_ids);
#endif
        tl__free(r);
        return NULL;
    }
    r->base = base;
    r->nslots = (uint32_t)n;
    r->cls = c;
    r->guard = region_guard(r->nslots);
    r->next = c->regions;
    c->regions = r;
    return r;
}

/* Puts the guard below a slot the first time it is handed out. */
static void install_guard(tl__region *r, char *guard)
{
    if (r->guard == TL__GUARD_MADVISE) {
        if (madvise(guard, GUARD_BYTES, MADV_GUARD_INSTALL) == 0) {
            madvise_guard_works = 1;
            return;
        }
        /* An older kernel: from now on regions get mprotect guards. */
        madvise_guard_works = 0;
        r->guard = TL__GUARD_MPROTECT;
    }
    if (r->guard == TL__GUARD_MPROTECT && mprotect(guard, GUARD_BYTES, PROT_NONE) == 0)
        return;
    r->guard = TL__GUARD_CANARY;
}

static void set_canary(tl__region *r, char *lo)
{
    if (r->guard == TL__GUARD_CANARY)
        *(uint64_t *)lo = TL__STACK_CANARY;
}

static void fill(tl__stack *out, tl__region *r, uint32_t idx)
{
    tl__stack_class *c = r->cls;
    out->lo = r->base + (size_t)idx * c->slot + GUARD_BYTES;
    out->size = c->size;
    out->region = r;
}

int tl__stack_alloc(tl__stack_pool *pool, size_t size, tl__stack *out)
{
    if (size > ((size_t)1 << 40))
        return -ENOMEM;
    size = round_pages(size);
    tl__stack_class *c = class_for(pool, size);
    if (!c)
        return -ENOMEM;
    if (c->warm) {
        struct warm *w = c->warm;
        c->warm = w->next;
        c->nwarm--;
        c->nwarm_deep_unknown -= !w->checked;
        tl__region *r = w->region;
        out->lo = w->lo;
        out->size = c->size;
        out->region = r;
        set_canary(r, out->lo);
        return 0;
    }
    if (c->cold) {
        tl__region *r = c->cold;
        fill(out, r, r->cold[--r->ncold]);
        if (!r->ncold)
            c->cold = r->next_cold;
        set_canary(r, out->lo);
        return 0;
    }
    tl__region *r = c->fresh;
    if (!r || r->carved == r->nslots) {
        r = region_new(c);
        if (!r)
            return -ENOMEM;
        c->fresh = r;
    }
    uint32_t idx = r->carved++;
    fill(out, r, idx);
    install_guard(r, out->lo - GUARD_BYTES);
    set_canary(r, out->lo);
#ifdef TL_VALGRIND
    r->vg_ids[idx] = VALGRIND_STACK_REGISTER(out->lo, out->lo + out->size);
#endif
    return 0;
}

static void give_back(char *lo, size_t len)
{
    if (len)
        madvise(lo, len, MADV_DONTNEED);
}

void tl__stack_free(tl__stack_pool *pool, tl__stack *st, const void *low_water)
{
    (void)pool;
    tl__stack_class *c = st->region->cls;
    char *top = st->lo + st->size;
    char *keep = top - (WARM_DEPTH < st->size ? WARM_DEPTH : st->size);
    bool deep = low_water && (const char *)low_water < keep;
    if (deep)
        give_back(st->lo, (size_t)(keep - st->lo));
    struct warm *w = (struct warm *)(top - TL__STACK_RESERVED);
    w->region = st->region;
    w->lo = st->lo;
    w->checked = deep;
    w->next = c->warm;
    c->warm = w;
    c->nwarm++;
    c->nwarm_deep_unknown += !deep;
    st->lo = NULL;
}

static bool page_resident(char *p)
{
    unsigned char v = 0;
    return mincore(p, page_size, &v) == 0 && (v & 1);
}

void tl__stack_pool_trim(tl__stack_pool *pool, size_t budget)
{
    for (tl__stack_class *c = pool->classes; c && budget; c = c->next) {
        /* The surplus beyond the warm cap goes cold: every page given back. */
        while (c->nwarm > pool->warm_cap && budget) {
            struct warm *w = c->warm;
            c->warm = w->next;
            c->nwarm--;
            c->nwarm_deep_unknown -= !w->checked;
            tl__region *r = w->region;
            char *lo = w->lo;
            give_back(lo, c->size);
            if (!r->ncold) {
                r->next_cold = c->cold;
                c->cold = r;
            }
            r->cold[r->ncold++] = (uint32_t)((size_t)(lo - GUARD_BYTES - r->base) / c->slot);
            budget--;
        }
        /* A task can go deep and come back between two suspension points,
         * unseen: ask the kernel about the page just below the warm depth. */
        /* Only while some are unchecked: the list can be long (a server
         * that had thousands of connections), and this runs before every
         * poll that blocks. */
        for (struct warm *w = c->warm; w && budget && c->nwarm_deep_unknown; w = w->next) {
            if (w->checked)
                continue;
            w->checked = true;
            c->nwarm_deep_unknown--;
            budget--;
            char *top = w->lo + c->size;
            if (c->size > WARM_DEPTH && page_resident(top - WARM_DEPTH - page_size))
                give_back(w->lo, c->size - WARM_DEPTH);
        }
    }
}

void tl__stack_pool_destroy(tl__stack_pool *pool)
{
    tl__stack_class *c = pool->classes;
    while (c) {
        tl__region *r = c->regions;
        while (r) {
            tl__region *next = r->next;
#ifdef TL_VALGRIND
            for (uint32_t i = 0; i < r->carved; i++)
                VALGRIND_STACK_DEREGISTER(r->vg_ids[i]);
            tl__free(r->vg_ids);
#endif
            if (r->guard == TL__GUARD_MPROTECT)
                mprotect_budget += r->nslots;
            munmap(r->base, r->len);
            tl__free(r);
            r = next;
        }
        tl__stack_class *next = c->next;
        tl__free(c);
        c = next;
    }
    pool->classes = NULL;
}

enum tl__guard tl__stack_guard(const tl__stack *st)
{
    return st->region->guard;
}

bool tl__stack_canary_ok(const tl__stack *st)
{
    return st->region->guard != TL__GUARD_CANARY || *(const uint64_t *)st->lo == TL__STACK_CANARY;
}

bool tl__stack_in_guard(const tl__stack *st, const void *addr)
{
    const char *a = addr;
    return st->lo && a >= st->lo - GUARD_BYTES && a < st->lo;
}

size_t tl__stack_resident_pages(const tl__stack *st)
{
    size_t n = st->size / page_size, count = 0;
    unsigned char *v = malloc(n);
    if (!v)
        return 0;
    if (mincore(st->lo, st->size, v) == 0)
        for (size_t i = 0; i < n; i++)
            count += v[i] & 1;
    free(v);
    return count;
}
