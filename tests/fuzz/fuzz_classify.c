/*
 * libFuzzer target for classify_request: the input is an HTTP/1.1
 * request, head and body ("...\r\n\r\n{...}"); the head is parsed with
 * http1_parse_request and everything after it is the body (whatever
 * Content-Length says, so bodies of any shape are reached). The Host
 * picks the service: "streams" in it means Streams, "dax" DAX, otherwise
 * DynamoDB. The clock is fixed at 20261124T020500Z, the time the seeds
 * are signed with.
 *
 * Checked: a refusal has a type and a NUL-terminated message and leaves
 * nothing to free; a result has an operation, pairs with an action and
 * a non-empty resource, keys with names and values, and
 * classify_policy_request covers every key. Leaks show up under ASan.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"

#define FUZZ_NOW ((time_t)1795485900)	/* 20261124T020500Z */
#define FUZZ_MAX_HEAD 16384
#define FUZZ_MAX_KEYS 256

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fuzz_config[] =
    "region: us-east-1\n"
    "account: \"111122223333\"\n"
    "listeners:\n"
    "  - {address: \"127.0.0.1:3128\", mode: connect}\n"
    "endpoints:\n"
    "  - {name: ddb, service: dynamodb,"
    " hosts: [dynamodb.us-east-1.amazonaws.com],"
    " source_vpce: vpce-0abc1234def567890}\n"
    "  - {name: streams, service: streams,"
    " hosts: [streams.dynamodb.us-east-1.amazonaws.com]}\n"
    "  - {name: dax, service: dax, hosts: [dax.us-east-1.amazonaws.com]}\n"
    "principals:\n"
    "  - {access_key_id: AKIAIOSFODNN7EXAMPLE,"
    " arn: 'arn:aws:iam::444455556666:role/orders-app',"
    " userid: 'AROAEXAMPLEROLEID0001:orders-app'}\n"
    "tables:\n"
    "  - {arn: 'arn:aws:dynamodb:us-east-1:444455556666:table/Orders',"
    " partition_key: customerId, sort_key: orderId}\n"
    "  - {arn: 'arn:aws:dynamodb:us-east-1:444455556666:table/Customers',"
    " partition_key: id}\n";

static struct config *cfg;

static const struct config *
config(void)
{
	char err[CONFIG_ERR_MAX];

	if (cfg == NULL) {
		cfg = config_load_buffer("fuzz.yaml", fuzz_config,
		    sizeof(fuzz_config) - 1, err, sizeof(err));
		CHECK(cfg != NULL);
	}
	return cfg;
}

static bool
contains(const char *s, size_t len, const char *word)
{
	size_t wl = strlen(word), i;

	for (i = 0; i + wl <= len; i++) {
		if (memcmp(s + i, word, wl) == 0)
			return true;
	}
	return false;
}

static void
check_keys(const struct policy_key *keys, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		CHECK(keys[i].name != NULL && keys[i].name[0] != '\0');
		for (j = 0; j < keys[i].nvalues; j++)
			CHECK(keys[i].values[j] != NULL);
		(void)strlen(keys[i].name);
	}
}

static void
check_result(const struct classify_result *out)
{
	struct policy_key keys[FUZZ_MAX_KEYS];
	struct policy_request req;
	const struct classify_authz *a;
	size_t i, k;

	CHECK(out->arena != NULL && out->operation != NULL);
	CHECK(out->nauthz > 0 && out->authz != NULL);
	CHECK(strlen(out->access_key_id) >= 16 && strlen(out->region) > 0);
	CHECK(strlen(out->signature) == 64);
	check_keys(out->keys, out->nkeys);
	for (i = 0; i < out->nauthz; i++) {
		a = &out->authz[i];
		CHECK(a->action != NULL && strchr(a->action, ':') != NULL);
		CHECK(a->resource != NULL && a->resource[0] != '\0');
		CHECK(strcmp(a->resource, "*") == 0 ||
		    strncmp(a->resource, "arn:", 4) == 0);
		check_keys(a->keys, a->nkeys);
		for (k = 0; k < a->nunknown_keys; k++)
			CHECK(a->unknown_keys[k] != NULL);
		if (a->nkeys + out->nkeys > FUZZ_MAX_KEYS)
			continue;
		classify_policy_request(out, i, keys, &req);
		CHECK(req.action == a->action && req.nkeys == a->nkeys +
		    out->nkeys);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct classify_input in = { 0 };
	struct classify_result out;
	struct classify_refusal why;
	struct http1_request req;
	enum http1_error err;

	if (http1_parse_request(buf, size, FUZZ_MAX_HEAD, &req, &err) !=
	    HTTP1_OK)
		return 0;
	sin.sin_addr.s_addr = htonl(0x0a010203);
	in.cfg = config();
	in.service = SERVICE_DYNAMODB;
	if (req.host != NULL && contains(req.host, req.host_len, "streams"))
		in.service = SERVICE_STREAMS;
	else if (req.host != NULL && contains(req.host, req.host_len, "dax"))
		in.service = SERVICE_DAX;
	in.endpoint = &in.cfg->endpoints[in.service == SERVICE_DYNAMODB ? 0 :
	    in.service == SERVICE_STREAMS ? 1 : 2];
	in.client = (const struct sockaddr *)&sin;
	in.secure_transport = true;
	in.now = FUZZ_NOW;
	in.headers = req.headers;
	in.nheaders = req.nheaders;
	in.body = buf + req.head_len;
	in.body_len = size - req.head_len;
	in.target = req.target;
	in.target_len = req.target_len;
	if (classify_request(&in, &out, &why) == CLASSIFY_OK) {
		check_result(&out);
		classify_result_free(&out);
		CHECK(out.arena == NULL);
	} else {
		CHECK(why.type[0] != '\0');
		CHECK(memchr(why.message, '\0', sizeof(why.message)) != NULL);
		CHECK(out.arena == NULL && out.nauthz == 0);
	}
	return 0;
}
