/*
 * replay — remembers the SigV4 signatures seen while they are valid, so
 * the same signed request arriving twice (a replay) is noticed. Shared by
 * all workers: the table is split into independently locked shards, so
 * two workers rarely wait on each other. Memory is bounded: when a probe
 * window is full the entry that expires first gives way, so under a flood
 * of distinct signatures an old one may be forgotten early (then a replay
 * of it is not flagged; nothing is ever flagged wrongly).
 */
#ifndef DDBGATE_REPLAY_H
#define DDBGATE_REPLAY_H

#include <stdbool.h>
#include <time.h>

struct replay_cache;

struct replay_cache *replay_new(void);
void replay_free(struct replay_cache *rc);

/*
 * Records signature (64 lowercase hex digits) as valid until expires and
 * returns true when it was already recorded and has not expired by now.
 * A signature that is not 64 hex digits is never recorded (false).
 */
bool replay_seen(struct replay_cache *rc, const char *signature,
    time_t expires, time_t now);

#endif
