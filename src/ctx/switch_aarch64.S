/* AArch64 (AAPCS64) context switch: x19-x30, d8-d15 and FPCR are saved;
 * everything else is the caller's to spill. */
#if defined(__aarch64__) && !defined(TL_CTX_UCONTEXT)
    .text
    .globl tl__ctx_jump
    .hidden tl__ctx_jump
    .type tl__ctx_jump, %function
    .p2align 2
/* void tl__ctx_jump(void **save_sp, void *new_sp) */
tl__ctx_jump:
    sub sp, sp, #176
    stp x19, x20, [sp, #0]
    stp x21, x22, [sp, #16]
    stp x23, x24, [sp, #32]
    stp x25, x26, [sp, #48]
    stp x27, x28, [sp, #64]
    stp x29, x30, [sp, #80]
    stp d8, d9, [sp, #96]
    stp d10, d11, [sp, #112]
    stp d12, d13, [sp, #128]
    stp d14, d15, [sp, #144]
    mrs x9, fpcr
    str x9, [sp, #160]
    mov x9, sp
    str x9, [x0]
    mov sp, x1
    ldp x19, x20, [sp, #0]
    ldp x21, x22, [sp, #16]
    ldp x23, x24, [sp, #32]
    ldp x25, x26, [sp, #48]
    ldp x27, x28, [sp, #64]
    ldp x29, x30, [sp, #80]
    ldp d8, d9, [sp, #96]
    ldp d10, d11, [sp, #112]
    ldp d12, d13, [sp, #128]
    ldp d14, d15, [sp, #144]
    ldr x9, [sp, #160]
    msr fpcr, x9
    add sp, sp, #176
    ret
    .size tl__ctx_jump, .-tl__ctx_jump

    .globl tl__ctx_boot
    .hidden tl__ctx_boot
    .type tl__ctx_boot, %function
    .p2align 2
/* First code a new context runs: entry (x19) with its argument (x20). */
tl__ctx_boot:
    .cfi_startproc
    .cfi_undefined x30
    mov x29, #0
    mov x0, x20
    blr x19
    brk #0
    .cfi_endproc
    .size tl__ctx_boot, .-tl__ctx_boot
#endif
    .section .note.GNU-stack,"",%progbits
