/* Stack overflow reports. A task that runs off the bottom of its stack hits
 * the guard and takes SIGSEGV; the handler runs on an alternate signal stack
 * (the task's own is unusable), recognises a fault in the running task's
 * guard, names the task and its stack size, and aborts. Any other fault goes
 * to whoever handled SIGSEGV before us. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define ALTSTACK_BYTES (64 * 1024)

static struct sigaction old_segv, old_bus;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static __thread void *altstack;
static __thread unsigned loops_on_thread;

static void chain(int sig, siginfo_t *info, void *uctx)
{
    struct sigaction *old = sig == SIGSEGV ? &old_segv : &old_bus;
    if ((old->sa_flags & SA_SIGINFO) && old->sa_sigaction) {
        old->sa_sigaction(sig, info, uctx);
    } else if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
        old->sa_handler(sig);
    } else {
        /* Returning re-runs the faulting instruction under the default action. */
        sigaction(sig, old, NULL);
    }
}

int tl__overflow_message(const tl_task *t, char *buf, size_t cap)
{
    char name[40];
    int n =
        snprintf(buf, cap,
                 "stack overflow in task '%s' (id %llu, stack %zu bytes): give it a larger "
                 "stack_size in tl_task_opts",
                 tl__task_name_buf(t, name, sizeof name), (unsigned long long)t->id, t->stack.size);
    return n < 0 ? 0 : (size_t)n < cap ? n : (int)cap - 1;
}

static void on_fault(int sig, siginfo_t *info, void *uctx)
{
    tl_loop *loop = tl__loop;
    tl_task *t = loop ? loop->current : NULL;
    if (!t || !tl__stack_in_guard(&t->stack, info->si_addr)) {
        chain(sig, info, uctx);
        return;
    }
    char msg[256];
    int n = snprintf(msg, sizeof msg, "tulip: fatal: ");
    n += tl__overflow_message(t, msg + n, sizeof msg - (size_t)n - 1);
    msg[n++] = '\n';
    if (write(STDERR_FILENO, msg, (size_t)n) < 0)
        n = 0;
    signal(SIGABRT, SIG_DFL);
    abort();
}

static void install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &old_segv);
    sigaction(SIGBUS, &sa, &old_bus);
}

void tl__overflow_thread_init(void)
{
    pthread_once(&once, install);
    if (loops_on_thread++)
        return;
    stack_t cur;
    if (sigaltstack(NULL, &cur) == 0 && !(cur.ss_flags & SS_DISABLE))
        return; /* the program (or a sanitizer) has one already */
    altstack = tl__malloc(ALTSTACK_BYTES);
    if (!altstack)
        return; /* overflows then die without the report, nothing worse */
    stack_t ss = {.ss_sp = altstack, .ss_size = ALTSTACK_BYTES, .ss_flags = 0};
    if (sigaltstack(&ss, NULL) != 0) {
        tl__free(altstack);
        altstack = NULL;
    }
}

void tl__overflow_thread_done(void)
{
    /* A loop freed on another thread than the one that made it: that
     * thread's alternate stack stays; it is small and still useful there. */
    if (!loops_on_thread || --loops_on_thread || !altstack)
        return;
    stack_t ss = {.ss_flags = SS_DISABLE};
    sigaltstack(&ss, NULL);
    tl__free(altstack);
    altstack = NULL;
}
