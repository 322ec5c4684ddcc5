/*
 * The backend's name, "weft backend: NAME (MODEL)" (WEFT_BACKEND_NOTE,
 * set by the Makefile), as an ELF note of owner "weft".  It is in libc.a,
 * libc.so and the start files, so every program weft-gcc links carries
 * it:  readelf -n prog,  or  strings prog | grep 'weft backend'.
 * A note, not a .comment string: ld --gc-sections and strip keep
 * allocated SHT_NOTE sections.
 */
	.section .note.weft, "a", @note
	.balign 4
	.long 2f - 1f		/* namesz */
	.long 4f - 3f		/* descsz */
	.long 1			/* type */
1:	.asciz "weft"
2:	.balign 4
3:	.asciz WEFT_BACKEND_NOTE
4:	.balign 4

	.section .note.GNU-stack, "", @progbits
