/*
 * audit — see audit.h. Lines are built with jansson so every string is
 * escaped correctly whatever a client put in it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "audit.h"

FILE *
audit_open(const char *path)
{
	FILE *f;

	errno = 0;
	if (strcmp(path, "off") == 0)
		return NULL;
	if (strcmp(path, "-") == 0) {
		setvbuf(stdout, NULL, _IOLBF, 0);
		return stdout;
	}
	if ((f = fopen(path, "ae")) != NULL)
		setvbuf(f, NULL, _IOLBF, 0);
	return f;
}

static void
set_str(json_t *o, const char *k, const char *v)
{
	if (v != NULL)
		json_object_set_new(o, k, json_string(v));
}

static json_t *
resources_json(const struct audit_record *r)
{
	json_t *a = json_array();

	for (size_t i = 0; i < r->nresources; i++) {
		json_t *e = json_object();

		set_str(e, "action", r->actions[i]);
		set_str(e, "ARN", r->resources[i]);
		json_array_append_new(a, e);
	}
	return a;
}

int
audit_write(FILE *f, const struct audit_record *r)
{
	char ts[32];
	struct timespec now;
	struct tm tm;
	json_t *o;
	char *line;

	if (f == NULL)
		return 0;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	o = json_object();
	set_str(o, "eventTime", ts);
	set_str(o, "sourceIPAddress", r->source);
	set_str(o, "accessKeyId", r->access_key_id);
	set_str(o, "principal", r->principal);
	set_str(o, "eventSource", r->event_source);
	set_str(o, "eventName", r->event_name);
	json_object_set_new(o, "resources", resources_json(r));
	set_str(o, "decision", r->decision);
	set_str(o, "reason", r->reason);
	set_str(o, "decidingStatement", r->statement);
	set_str(o, "enforcement", r->enforcement);
	set_str(o, "endpoint", r->endpoint);
	set_str(o, "upstreamAddress", r->upstream);
	json_object_set_new(o, "status", json_integer(r->status));
	json_object_set_new(o, "latencyMs",
	    json_real((double)r->latency_us / 1000.0));
	if (r->replay)
		json_object_set_new(o, "replay", json_true());
	set_str(o, "proxyUser", r->user);
	if (r->tunnel_host != NULL) {
		set_str(o, "tunnelHost", r->tunnel_host);
		json_object_set_new(o, "bytesIn",
		    json_integer((json_int_t)r->bytes_in));
		json_object_set_new(o, "bytesOut",
		    json_integer((json_int_t)r->bytes_out));
	}
	line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (line == NULL)
		return -1;
	fprintf(f, "%s\n", line);
	free(line);
	return 0;
}
