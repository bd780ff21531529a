/*
 * arena — bump allocation in growing chunks. See arena.h.
 */
#include <pthread.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "arena.h"

#define ARENA_CHUNK 4096
#define ARENA_CHUNK_MAX (256 * 1024)
#define ARENA_SPARE 4

/* Under AddressSanitizer every chunk goes back to malloc, so a use after
 * arena_free() is still caught. */
#if defined(__SANITIZE_ADDRESS__)
#define ARENA_KEEP_SPARES false
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_KEEP_SPARES false
#endif
#endif
#ifndef ARENA_KEEP_SPARES
#define ARENA_KEEP_SPARES true
#endif

struct arena_chunk {
	struct arena_chunk *next;	/* older chunk */
	size_t size, used;
	max_align_t data[];
};

/*
 * First-size chunks freed by a thread wait for its next arenas (a request
 * makes two: its JSON tree and its classification), so a request's arenas
 * cost no malloc once the thread is warm. At most ARENA_SPARE per thread;
 * freed when the thread exits.
 */
static _Thread_local struct {
	struct arena_chunk *chunk[ARENA_SPARE];
	unsigned n;
	bool registered;	/* with spare_key, for the thread's exit */
} spare;
static pthread_key_t spare_key;
static pthread_once_t spare_once = PTHREAD_ONCE_INIT;

static void
spare_release(void *unused)
{
	while (spare.n > 0)
		free(spare.chunk[--spare.n]);
}

static void
spare_key_create(void)
{
	(void)pthread_key_create(&spare_key, spare_release);
}

/* Keeps c for this thread's next arena, or frees it. */
static void
spare_put(struct arena_chunk *c)
{
	if (!ARENA_KEEP_SPARES || c->size != ARENA_CHUNK ||
	    spare.n == ARENA_SPARE) {
		free(c);
		return;
	}
	if (!spare.registered) {
		/* a non-NULL value makes the key's destructor run at exit */
		pthread_once(&spare_once, spare_key_create);
		if (pthread_setspecific(spare_key, &spare) != 0) {
			free(c);
			return;
		}
		spare.registered = true;
	}
	spare.chunk[spare.n++] = c;
}

void
arena_free(struct arena *a)
{
	struct arena_chunk *c, *next;

	if (a == NULL)
		return;
	/* a itself is in the oldest chunk, the last one freed */
	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		spare_put(c);
	}
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
	if (size == ARENA_CHUNK && spare.n > 0)
		c = spare.chunk[--spare.n];
	else if ((c = malloc(sizeof(*c) + size)) == NULL)
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

struct arena *
arena_new(void)
{
	struct arena first = { NULL };
	struct arena *a;

	/* the arena lives at the start of its first chunk: one allocation,
	 * none at all with a spare chunk */
	if ((a = arena_take(&first, sizeof(*a), alignof(struct arena))) ==
	    NULL)
		return NULL;
	a->head = first.head;
	return a;
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
