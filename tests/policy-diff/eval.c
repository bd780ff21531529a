/*
 * eval — the ddbgate side of the policy differential test.
 *
 * Reads cases.jsonl (one JSON object per line, see README.md) and prints one
 * line per case, in input order:
 *
 *	<id> TAB allow|implicit_deny|explicit_deny TAB <statement index>
 *	<id> TAB error TAB <policy_load_buffer message>
 *
 * Each case's policy text goes to policy_load_buffer unchanged; the request
 * is built from "principal", "action", "resource" and "context"
 * ({"key": ["value", ...]}: absent keys are omitted, [] is an empty set).
 *
 * usage: policy-eval [cases.jsonl]      (default: standard input)
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

static const char *
decision_word(enum policy_decision d)
{
	switch (d) {
	case POLICY_ALLOW:
		return "allow";
	case POLICY_DENY_IMPLICIT:
		return "implicit_deny";
	case POLICY_DENY_EXPLICIT:
		return "explicit_deny";
	}
	return "unknown";
}

/* Replaces tabs and newlines so that one result stays on one line. */
static void
print_flat(const char *s)
{
	for (; *s != '\0'; s++)
		putchar(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s);
}

static const char *
string_field(const json_t *c, const char *name)
{
	const json_t *v = json_object_get(c, name);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/*
 * Fills keys[] from the context object; the strings stay owned by the JSON
 * tree. Returns the number of keys, or -1 on a malformed context.
 */
static long
build_keys(const json_t *ctx, struct policy_key **keysp)
{
	struct policy_key *keys;
	const char *name;
	json_t *vals;
	size_t n = 0;

	*keysp = NULL;
	if (ctx == NULL)
		return 0;
	if (!json_is_object(ctx))
		return -1;
	keys = calloc(json_object_size(ctx) + 1, sizeof(*keys));
	if (keys == NULL)
		return -1;
	json_object_foreach((json_t *)ctx, name, vals) {
		const char **v;
		size_t i, nv;

		if (!json_is_array(vals))
			goto bad;
		nv = json_array_size(vals);
		v = calloc(nv + 1, sizeof(*v));
		if (v == NULL)
			goto bad;
		for (i = 0; i < nv; i++) {
			const json_t *s = json_array_get(vals, i);

			if (!json_is_string(s)) {
				free(v);
				goto bad;
			}
			v[i] = json_string_value(s);
		}
		keys[n].name = name;
		keys[n].values = v;
		keys[n].nvalues = nv;
		n++;
	}
	*keysp = keys;
	return (long)n;
bad:
	while (n > 0)
		free((void *)keys[--n].values);
	free(keys);
	return -1;
}

static void
free_keys(struct policy_key *keys, long n)
{
	while (n > 0)
		free((void *)keys[--n].values);
	free(keys);
}

static int
eval_line(const char *line, size_t len, unsigned long lineno)
{
	char err[512];
	json_error_t jerr;
	struct policy_request req;
	struct policy_result res;
	struct policy_key *keys;
	struct policy *p;
	const json_t *pol;
	const char *id;
	json_t *c;
	long nkeys;

	c = json_loadb(line, len, 0, &jerr);
	if (c == NULL) {
		fprintf(stderr, "policy-eval: line %lu: %s\n", lineno,
		    jerr.text);
		return -1;
	}
	id = string_field(c, "id");
	pol = json_object_get(c, "policy");
	if (id == NULL || !json_is_string(pol)) {
		fprintf(stderr, "policy-eval: line %lu: no id or policy\n",
		    lineno);
		json_decref(c);
		return -1;
	}
	nkeys = build_keys(json_object_get(c, "context"), &keys);
	if (nkeys < 0) {
		fprintf(stderr, "policy-eval: line %lu: bad context\n", lineno);
		json_decref(c);
		return -1;
	}

	printf("%s\t", id);
	p = policy_load_buffer(json_string_value(pol), json_string_length(pol),
	    err, sizeof(err));
	if (p == NULL) {
		fputs("error\t", stdout);
		print_flat(err);
		putchar('\n');
	} else {
		memset(&req, 0, sizeof(req));
		req.principal = string_field(c, "principal");
		req.action = string_field(c, "action");
		req.resource = string_field(c, "resource");
		req.keys = keys;
		req.nkeys = (size_t)nkeys;
		policy_evaluate(p, &req, &res);
		printf("%s\t%d\n", decision_word(res.decision), res.statement);
		policy_free(p);
	}
	free_keys(keys, nkeys);
	json_decref(c);
	return 0;
}

int
main(int argc, char **argv)
{
	unsigned long lineno = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *in = stdin;
	int rc = 0;

	if (argc > 2) {
		fprintf(stderr, "usage: policy-eval [cases.jsonl]\n");
		return 2;
	}
	if (argc == 2 && (in = fopen(argv[1], "r")) == NULL) {
		fprintf(stderr, "policy-eval: %s: %s\n", argv[1],
		    strerror(errno));
		return 2;
	}
	while ((n = getline(&line, &cap, in)) != -1) {
		lineno++;
		if (n <= 1)
			continue;
		if (eval_line(line, (size_t)n, lineno) == -1)
			rc = 1;
	}
	free(line);
	if (in != stdin)
		fclose(in);
	if (fflush(stdout) != 0)
		rc = 1;
	return rc;
}
