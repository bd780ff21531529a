/*
 * libFuzzer target for config_load_buffer: any input either loads into a
 * config that keeps the validator's promises, or fails with a message
 * of the form "name:line:column: ...". Loaded configs are printed and
 * looked up, then freed, so leaks and stray reads anywhere show up.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define FUZZ_NAME "fuzz.yaml"
#define FUZZ_MAX_INPUT 65536

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Hosts are stored lower case, without a trailing dot, and found again. */
static void
check_endpoints(const struct config *cfg)
{
	const struct conf_endpoint *e;
	const char *h;
	size_t i, j, k;

	CHECK(cfg->nendpoints > 0);
	for (i = 0; i < cfg->nendpoints; i++) {
		e = &cfg->endpoints[i];
		CHECK(e->name != NULL && e->nhosts > 0);
		for (j = 0; j < e->nupstreams; j++)
			CHECK(e->upstreams[j].port != 0 &&
			    e->upstreams[j].host[0] != '\0');
		for (j = 0; j < e->nhosts; j++) {
			h = e->hosts[j];
			CHECK(h[0] != '\0' && h[strlen(h) - 1] != '.');
			for (k = 0; h[k] != '\0'; k++)
				CHECK(h[k] < 'A' || h[k] > 'Z');
			CHECK(config_endpoint_for_host(cfg, h, strlen(h)) == e);
		}
	}
}

static void
check_config(const struct config *cfg)
{
	char *text = NULL;
	size_t len = 0, i;
	FILE *f;

	CHECK(strcmp(cfg->path, FUZZ_NAME) == 0);
	CHECK(cfg->region != NULL && cfg->state_dir != NULL);
	CHECK(cfg->nlisteners > 0);
	for (i = 0; i < cfg->nlisteners; i++)
		CHECK(cfg->listeners[i].addrlen > 0);
	CHECK((cfg->tls.ca_cert == NULL) == (cfg->tls.ca_key == NULL));
	check_endpoints(cfg);
	f = open_memstream(&text, &len);
	CHECK(f != NULL);
	config_print(cfg, f);
	fclose(f);
	CHECK(len > 0);
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[CONFIG_ERR_MAX];
	struct config *cfg;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	cfg = config_load_buffer(FUZZ_NAME, (const char *)data, size, err,
	    sizeof(err));
	if (cfg == NULL) {
		CHECK(strncmp(err, FUZZ_NAME ":", strlen(FUZZ_NAME ":")) == 0 ||
		    strncmp(err, "(built-in defaults):", 20) == 0);
		return 0;
	}
	check_config(cfg);
	config_free(cfg);
	return 0;
}
