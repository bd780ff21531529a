/*
 * daxmap — see daxmap.h. A handful of clusters of at most 64 slots each:
 * linear scans under one mutex.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "daxmap.h"
#include "xmalloc.h"

#define SLOTS_MAX 64

struct slot {
	bool used;
	struct sockaddr_storage node;
	uint64_t seen_ms;	/* last named by discovery */
};

struct cluster {
	char *key;
	struct slot slots[SLOTS_MAX];
	struct cluster *next;
};

struct daxmap {
	pthread_mutex_t mu;
	struct cluster *clusters;
};

struct daxmap *
daxmap_new(void)
{
	struct daxmap *m = xcalloc(1, sizeof(*m));

	pthread_mutex_init(&m->mu, NULL);
	return m;
}

void
daxmap_free(struct daxmap *m)
{
	struct cluster *c, *next;

	if (m == NULL)
		return;
	for (c = m->clusters; c != NULL; c = next) {
		next = c->next;
		free(c->key);
		free(c);
	}
	pthread_mutex_destroy(&m->mu);
	free(m);
}

static struct cluster *
find(struct daxmap *m, const char *key, bool create)
{
	struct cluster *c;

	for (c = m->clusters; c != NULL; c = c->next)
		if (strcmp(c->key, key) == 0)
			return c;
	if (!create)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->key = xstrdup(key);
	c->next = m->clusters;
	m->clusters = c;
	return c;
}

int
daxmap_assign(struct daxmap *m, const char *key, unsigned nslots,
    const struct sockaddr_storage *node, uint64_t now_ms)
{
	struct cluster *c;
	int found = -1, free_slot = -1, stale = -1;

	if (nslots > SLOTS_MAX)
		nslots = SLOTS_MAX;
	pthread_mutex_lock(&m->mu);
	c = find(m, key, true);
	for (unsigned i = 0; i < nslots && found < 0; i++) {
		struct slot *s = &c->slots[i];

		if (!s->used) {
			if (free_slot < 0)
				free_slot = (int)i;
		} else if (sockaddr_same((const struct sockaddr *)&s->node,
		    (const struct sockaddr *)node)) {
			found = (int)i;
		} else if (now_ms - s->seen_ms >= DAXMAP_KEEP_MS && (stale < 0 ||
		    s->seen_ms < c->slots[stale].seen_ms)) {
			stale = (int)i;
		}
	}
	if (found < 0)
		found = free_slot >= 0 ? free_slot : stale;
	if (found >= 0) {
		c->slots[found].used = true;
		c->slots[found].node = *node;
		c->slots[found].seen_ms = now_ms;
	}
	pthread_mutex_unlock(&m->mu);
	return found;
}

int
daxmap_lookup(struct daxmap *m, const char *key, unsigned slot,
    struct sockaddr_storage *node)
{
	struct cluster *c;
	int rv = -1;

	if (slot >= SLOTS_MAX)
		return -1;
	pthread_mutex_lock(&m->mu);
	c = find(m, key, false);
	if (c != NULL && c->slots[slot].used) {
		*node = c->slots[slot].node;
		rv = 0;
	}
	pthread_mutex_unlock(&m->mu);
	return rv;
}

size_t
daxmap_count(struct daxmap *m)
{
	struct cluster *c;
	size_t n = 0;

	pthread_mutex_lock(&m->mu);
	for (c = m->clusters; c != NULL; c = c->next)
		for (unsigned i = 0; i < SLOTS_MAX; i++)
			n += c->slots[i].used;
	pthread_mutex_unlock(&m->mu);
	return n;
}
