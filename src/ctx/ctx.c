/* Context switch glue: the assembly jump (switch_*.S) or, where there is
 * none, glibc's ucontext; plus the AddressSanitizer fiber annotations that
 * must surround every switch so ASan knows which stack is live. */
#include "ctx.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef TL_ASAN
#include <sanitizer/common_interface_defs.h>
#define ASAN_START(save, to) \
    __sanitizer_start_switch_fiber((save), (to)->stack_lo, (to)->stack_size)
#define ASAN_FINISH(save) __sanitizer_finish_switch_fiber((save), NULL, NULL)
#else
#define ASAN_START(save, to) ((void)0)
#define ASAN_FINISH(save)    ((void)0)
#endif

#if defined(TL_CTX_UCONTEXT)

/* makecontext passes int arguments only: the context pointer goes in two. */
static __thread tl__ctx_entry boot_entry;
static __thread void *boot_arg;

static void boot(void)
{
    tl__ctx_entry entry = boot_entry;
    void *arg = boot_arg;
    entry(arg);
    abort();
}

void tl__ctx_make(tl__ctx *ctx, void *lo, size_t size, tl__ctx_entry entry, void *arg)
{
    memset(ctx, 0, sizeof *ctx);
    getcontext(&ctx->uc);
    ctx->uc.uc_stack.ss_sp = lo;
    ctx->uc.uc_stack.ss_size = size;
    ctx->uc.uc_link = NULL;
    ctx->stack_lo = lo;
    ctx->stack_size = size;
    /* The entry and argument travel through thread-locals read at boot; they
     * are set right before the first switch into this context. */
    makecontext(&ctx->uc, boot, 0);
    ctx->boot_entry = entry;
    ctx->boot_arg = arg;
}

static void jump(tl__ctx *from, tl__ctx *to)
{
    if (to->boot_entry) {
        boot_entry = to->boot_entry;
        boot_arg = to->boot_arg;
        to->boot_entry = NULL;
    }
    swapcontext(&from->uc, &to->uc);
}

#else

void tl__ctx_jump(void **save_sp, void *new_sp);
void tl__ctx_boot(void);

void tl__ctx_make(tl__ctx *ctx, void *lo, size_t size, tl__ctx_entry entry, void *arg)
{
    uintptr_t top = ((uintptr_t)lo + size) & ~(uintptr_t)15;
    memset(ctx, 0, sizeof *ctx);
    ctx->stack_lo = lo;
    ctx->stack_size = size;
#if defined(__x86_64__)
    /* The frame tl__ctx_jump pops: control words, r15, r14, r13, r12, rbx,
     * rbp, return address. After the pop the stack is 16-byte aligned, as
     * tl__ctx_boot's call needs. */
    uint64_t *sp = (uint64_t *)(top - 64);
    sp[0] = 0x1F80 | ((uint64_t)0x037F << 32); /* MXCSR and x87 control word at reset */
    sp[1] = 0;                                 /* r15 */
    sp[2] = 0;                                 /* r14 */
    sp[3] = (uint64_t)(uintptr_t)arg;          /* r13 */
    sp[4] = (uint64_t)(uintptr_t)entry;        /* r12 */
    sp[5] = 0;                                 /* rbx */
    sp[6] = 0;                                 /* rbp */
    sp[7] = (uint64_t)(uintptr_t)tl__ctx_boot; /* return address */
    ctx->sp = sp;
#elif defined(__aarch64__)
    /* x19..x28, x29, x30, d8..d15, fpcr, pad: 22 words. */
    uint64_t *sp = (uint64_t *)(top - 176);
    memset(sp, 0, 176);
    sp[0] = (uint64_t)(uintptr_t)entry;         /* x19 */
    sp[1] = (uint64_t)(uintptr_t)arg;           /* x20 */
    sp[11] = (uint64_t)(uintptr_t)tl__ctx_boot; /* x30 */
    ctx->sp = sp;
#else
#error "no assembly context switch for this architecture: configure with -DTULIP_UCONTEXT=ON"
#endif
}

static inline void jump(tl__ctx *from, tl__ctx *to)
{
    tl__ctx_jump(&from->sp, to->sp);
}

#endif

void tl__ctx_init_thread(tl__ctx *ctx)
{
    memset(ctx, 0, sizeof *ctx);
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        void *lo;
        size_t size;
        if (pthread_attr_getstack(&attr, &lo, &size) == 0) {
            ctx->stack_lo = lo;
            ctx->stack_size = size;
        }
        pthread_attr_destroy(&attr);
    }
}

void tl__ctx_switch(tl__ctx *from, tl__ctx *to)
{
#ifdef TL_ASAN
    ASAN_START(&from->fake_stack, to);
#endif
    jump(from, to);
#ifdef TL_ASAN
    ASAN_FINISH(from->fake_stack);
#endif
}

void tl__ctx_exit(tl__ctx *from, tl__ctx *to)
{
    /* A NULL save slot tells ASan this stack is gone for good. */
    ASAN_START(NULL, to);
    jump(from, to);
    abort();
}

void tl__ctx_started(tl__ctx *self)
{
    (void)self;
    ASAN_FINISH(NULL);
}
