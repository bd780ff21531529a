/*
 * daxmap — which DAX cluster node each node listener stands for.
 *
 * A dax listener (config.h) owns a range of node ports; discovery
 * answers (spec 7.6) are rewritten so that every node a client learns
 * about is one of those ports, and a connection to a node port goes to
 * the node it was given for. The map is process-wide (every worker
 * rewrites answers and accepts node connections) and outlives reloads:
 * clients keep the addresses they were given. A node keeps its slot
 * while discovery names it; a slot whose node has not been named for
 * DAXMAP_KEEP_MS is given to the next new node. Locked inside.
 */
#ifndef DDBGATE_DAXMAP_H
#define DDBGATE_DAXMAP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define DAXMAP_KEEP_MS (10u * 60 * 1000)

struct daxmap;

struct daxmap *daxmap_new(void);
void daxmap_free(struct daxmap *m);

/*
 * The slot (0..nslots-1) of the cluster key (the dax listener's address
 * and endpoint) that stands for node: the one it has, else a free one,
 * else one unused for DAXMAP_KEEP_MS. -1 when all are taken.
 */
int daxmap_assign(struct daxmap *m, const char *key, unsigned nslots,
    const struct sockaddr_storage *node, uint64_t now_ms);

/* The node slot stands for: 0, or -1 when the slot was never given. */
int daxmap_lookup(struct daxmap *m, const char *key, unsigned slot,
    struct sockaddr_storage *node);

/* Nodes mapped now, over every cluster (for metrics). */
size_t daxmap_count(struct daxmap *m);

#endif
