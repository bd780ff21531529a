/*
 * replay — see replay.h. Each shard is an open-addressing table probed
 * linearly over a short window.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"

#define SHARDS 16
#define SLOTS (1u << 14) /* per shard: 16 x 16384 x 40 bytes ~ 10 MiB */
#define WINDOW 16

struct slot {
	uint8_t sig[32];
	time_t expires; /* 0 = empty */
};

struct shard {
	pthread_mutex_t lock;
	struct slot slots[SLOTS];
};

struct replay_cache {
	struct shard shards[SHARDS];
};

struct replay_cache *
replay_new(void)
{
	struct replay_cache *rc = calloc(1, sizeof(*rc));

	if (rc == NULL)
		return NULL;
	for (int i = 0; i < SHARDS; i++)
		pthread_mutex_init(&rc->shards[i].lock, NULL);
	return rc;
}

void
replay_free(struct replay_cache *rc)
{
	if (rc == NULL)
		return;
	for (int i = 0; i < SHARDS; i++)
		pthread_mutex_destroy(&rc->shards[i].lock);
	free(rc);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static bool
decode(const char *hex, uint8_t out[32])
{
	for (int i = 0; i < 32; i++) {
		int hi = hexval(hex[2 * i]), lo;

		if (hi < 0 || (lo = hexval(hex[2 * i + 1])) < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return hex[64] == '\0';
}

bool
replay_seen(struct replay_cache *rc, const char *signature, time_t expires,
    time_t now)
{
	uint8_t sig[32];
	uint32_t h;
	struct shard *sh;
	struct slot *victim = NULL;
	bool seen = false;

	if (strlen(signature) != 64 || !decode(signature, sig))
		return false;
	/* The signature is an HMAC: its bytes are already uniform. */
	memcpy(&h, sig, sizeof(h));
	sh = &rc->shards[sig[4] % SHARDS];
	pthread_mutex_lock(&sh->lock);
	for (unsigned i = 0; i < WINDOW; i++) {
		struct slot *s = &sh->slots[(h + i) % SLOTS];

		if (s->expires > now && memcmp(s->sig, sig, 32) == 0) {
			seen = true;
			break;
		}
		if (victim == NULL || s->expires < victim->expires)
			victim = s;
	}
	if (!seen) {
		memcpy(victim->sig, sig, 32);
		victim->expires = expires;
	}
	pthread_mutex_unlock(&sh->lock);
	return seen;
}
