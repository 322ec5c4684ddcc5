# weft: as musl's, but the parent then calls __pal_vfork_parent (pal.h):
# the child ran on the parent's memory and thread pointer, and may have
# changed the backend's record of the parent's signal mask.
.global vfork
.type vfork,@function
vfork:
	pop %rdx
	mov $58,%eax
	syscall
	push %rdx
	test %rax,%rax
	jle 1f
	push %rax
	.hidden __pal_vfork_parent
	call __pal_vfork_parent
	pop %rax
1:	mov %rax,%rdi
	.hidden __syscall_ret
	jmp __syscall_ret
