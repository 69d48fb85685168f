/* x86-64 System V context switch: only what a call may not clobber is saved
 * (rbx, rbp, r12-r15, MXCSR and the x87 control word); the caller of
 * tl__ctx_jump has already spilled everything else. */
#if defined(__x86_64__) && !defined(TL_CTX_UCONTEXT)
    .text
    .globl tl__ctx_jump
    .hidden tl__ctx_jump
    .type tl__ctx_jump, @function
/* void tl__ctx_jump(void **save_sp, void *new_sp) */
tl__ctx_jump:
    .cfi_startproc
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .cfi_endproc
    .size tl__ctx_jump, .-tl__ctx_jump

    .globl tl__ctx_boot
    .hidden tl__ctx_boot
    .type tl__ctx_boot, @function
/* First code a new context runs: entry (r12) with its argument (r13). */
tl__ctx_boot:
    .cfi_startproc
    .cfi_undefined rip
    xorl %ebp, %ebp
    movq %r13, %rdi
    call *%r12
    ud2
    .cfi_endproc
    .size tl__ctx_boot, .-tl__ctx_boot
#endif
    .section .note.GNU-stack,"",%progbits
