/* pagefault: the kernel's floor under the sleepers benchmark. A guarded
 * stackful task costs at least one fresh stack page (a page fault: a page to
 * allocate, clear and charge) and one guard install. This does exactly that
 * for N slots spaced as tulip's default stacks are, with no tasks at all, so
 * the sleepers overhead can be read against what the machine allows.
 *
 * usage: bench_pagefault [n]   prints {"n": N, "fault_s": ..., "guard_s": ...}
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
    size_t guard = 16 * 1024, stride = 256 * 1024 + guard;
    char *p = mmap(NULL, n * stride, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return 1;
    double t0 = now();
    for (size_t i = 0; i < n; i++)
        p[i * stride + stride - 128] = 1;
    double t1 = now();
    int guards = 1;
    for (size_t i = 0; i < n; i++)
        guards &= madvise(p + i * stride, guard, MADV_GUARD_INSTALL) == 0;
    double t2 = now();
    printf("{\"n\": %zu, \"fault_s\": %.4f, \"guard_s\": %.4f, \"guards\": %s}\n", n, t1 - t0,
           t2 - t1, guards ? "true" : "false");
    return 0;
}
