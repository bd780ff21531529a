/*
 * arena — bump allocation in growing chunks. See arena.h.
 */
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "arena.h"

#define ARENA_CHUNK 4096
#define ARENA_CHUNK_MAX (256 * 1024)

struct arena_chunk {
	struct arena_chunk *next;	/* older chunk */
	size_t size, used;
	max_align_t data[];
};

struct arena *
arena_new(void)
{
	return calloc(1, sizeof(struct arena));
}

void
arena_free(struct arena *a)
{
	struct arena_chunk *c, *next;

	if (a == NULL)
		return;
	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(a);
}

/* A chunk that holds at least n bytes, put at the head; NULL if out. */
static struct arena_chunk *
arena_grow(struct arena *a, size_t n)
{
	struct arena_chunk *c;
	size_t size;

	size = a->head == NULL ? ARENA_CHUNK : a->head->size * 2;
	if (size > ARENA_CHUNK_MAX)
		size = ARENA_CHUNK_MAX;
	if (size < n)
		size = n;
	if ((c = malloc(sizeof(*c) + size)) == NULL)
		return NULL;
	c->size = size;
	c->used = 0;
	/*
	 * A request bigger than the usual chunk goes behind the head, so
	 * the space left in the head chunk is still used.
	 */
	if (a->head != NULL && size == n && n > ARENA_CHUNK_MAX) {
		c->next = a->head->next;
		a->head->next = c;
		return c;
	}
	c->next = a->head;
	a->head = c;
	return c;
}

/* n bytes at an offset that is a multiple of align (a power of two). */
static void *
arena_take(struct arena *a, size_t n, size_t align)
{
	struct arena_chunk *c = a->head;
	size_t at;
	void *p;

	if (n > SIZE_MAX / 4)
		return NULL;
	if (n == 0)
		n = 1;
	at = c == NULL ? 0 : (c->used + align - 1) & ~(align - 1);
	if (c == NULL || at > c->size || c->size - at < n) {
		if ((c = arena_grow(a, n)) == NULL)
			return NULL;
		at = 0;
	}
	p = (char *)c->data + at;
	c->used = at + n;
	return p;
}

void *
arena_alloc(struct arena *a, size_t n)
{
	return arena_take(a, n, alignof(max_align_t));
}

char *
arena_alloc_bytes(struct arena *a, size_t n)
{
	return arena_take(a, n, 1);
}
