# weft overlay of musl 1.2.3 src/process/x86_64/vfork.s: when the PAL says
# a vfork child cannot share the caller's memory safely (pal.h:
# __pal_vfork_shares; under M:N once tasks run, the child would run on
# the caller's thread pointer, task and worker), vfork is _Fork, as
# POSIX allows and as musl's generic vfork.c is fork.
.global vfork
.type vfork,@function
vfork:
	.hidden __pal_vfork_shares
	call __pal_vfork_shares
	test %eax,%eax
	jz 1f
	pop %rdx
	mov $58,%eax
	syscall
	push %rdx
	mov %rax,%rdi
	.hidden __syscall_ret
	jmp __syscall_ret
1:	jmp _Fork
