/* Context switching between stacks: the one idea is that a context is a
 * saved stack pointer. Switching pushes the callee-saved registers (and the
 * floating-point control words) onto the current stack, stores the stack
 * pointer, loads the other one and pops. A new context's stack is laid out
 * so that its first switch "returns" into a boot routine that calls entry.
 *
 * This layer knows nothing of libuv or tasks. It tells AddressSanitizer about
 * each switch, so ASan follows the program from stack to stack.
 */
#ifndef TL_CTX_H
#define TL_CTX_H

#include <stddef.h>

#if defined(TL_CTX_UCONTEXT)
#include <ucontext.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#define TL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TL_ASAN 1
#endif
#endif

typedef void (*tl__ctx_entry_fwd)(void *arg);

typedef struct tl__ctx {
#if defined(TL_CTX_UCONTEXT)
    ucontext_t uc;
    tl__ctx_entry_fwd boot_entry; /* set until the first switch-in */
    void *boot_arg;
#else
    void *sp;
#endif
    void *stack_lo; /* bounds, for ASan; NULL for a thread's own stack */
    size_t stack_size;
#ifdef TL_ASAN
    void *fake_stack;
#endif
} tl__ctx;

typedef void (*tl__ctx_entry)(void *arg);

/* Prepares ctx to run entry(arg) on [lo, lo + size) at its first switch-in.
 * entry must never return: it ends by switching away with tl__ctx_exit(). */
void tl__ctx_make(tl__ctx *ctx, void *lo, size_t size, tl__ctx_entry entry, void *arg);

/* Marks ctx as the thread's own stack (the one tl_loop_run was called on). */
void tl__ctx_init_thread(tl__ctx *ctx);

/* Saves the running context into from and resumes to. */
void tl__ctx_switch(tl__ctx *from, tl__ctx *to);

/* Like tl__ctx_switch, for a context that will never be resumed. */
void tl__ctx_exit(tl__ctx *from, tl__ctx *to) __attribute__((noreturn));

/* Called first thing by a new context's entry, before anything else. */
void tl__ctx_started(tl__ctx *self);

#endif
