/*
 * arena — bump allocation for data that dies all at once: the strings
 * and arrays of one classification result, the tree of one parsed JSON
 * body. Chunks double from 4 KiB up to 256 KiB (bigger requests get a
 * chunk of their own); nothing is freed before arena_free(). A few 4 KiB
 * chunks freed by a thread are kept for its next arenas (released when
 * the thread exits), and an arena lives in its own first chunk, so a warm
 * thread's arenas cost no malloc at all.
 */
#ifndef DDBGATE_ARENA_H
#define DDBGATE_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk *head;	/* newest chunk, where allocation goes */
};

/* A new empty arena, or NULL when memory is out. Free with arena_free. */
struct arena *arena_new(void);

/* Frees every chunk of a and a itself; a may be NULL. */
void arena_free(struct arena *a);

/*
 * n bytes aligned for any type (a zero-sized request still gets a unique
 * address), or NULL when memory is out. Not zeroed. Valid until
 * arena_free(a).
 */
void *arena_alloc(struct arena *a, size_t n);

/* n bytes with no alignment, for strings; NULL when memory is out. */
char *arena_alloc_bytes(struct arena *a, size_t n);

#endif
