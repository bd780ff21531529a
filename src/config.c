/*
 * config — the YAML configuration file (DESIGN.md "Configuration") as a
 * validated struct config. See docs/configuration.md for every key.
 *
 * Loading runs in three phases, each a section of this file:
 *
 *  1. tree: libyaml events become a small tree of nodes that remember
 *     their line and column. Anchors, aliases, tags, a second document
 *     and syntax errors (libyaml's problem mark) are refused here.
 *  2. walk: keys[] is the only description of the file. Each mapping is
 *     matched against it; unknown and duplicate keys, wrong types and
 *     out-of-range values fail with "file:line:column: key: why".
 *     Defaults are text in the same table and go through the same
 *     converters as the file's values, so they obey the same rules.
 *  3. validate: rules that span keys (unique names, hosts and addresses;
 *     TLS material for sni listeners), while node positions are at hand.
 *
 * config_print() is driven by keys[] too, and docs/configuration.md
 * follows it key for key.
 * An empty document means the built-in defaults (config_defaults()).
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <yaml.h>

#include "config.h"
#include "log.h"
#include "xmalloc.h"

#define CONFIG_FILE_MAX (4u * 1024 * 1024)
#define CONFIG_DEPTH_MAX 32	/* far deeper than any key of ours */
#define CONFIG_PATH_LEN 256	/* "endpoints[12].allowed_cidrs[3]" */
#define KEY_NAME_MAX 96
#define BUILTIN_NAME "(built-in defaults)"
#define ROOT_STATE_DIR "/var/lib/ddbgate"

#define nitems(a) (sizeof(a) / sizeof((a)[0]))
#define FIELD(base, off, type) ((type *)(void *)((char *)(base) + (off)))
#define CFIELD(base, off, type) \
	((type const *)(const void *)((const char *)(base) + (off)))

_Static_assert(sizeof(enum listener_mode) == sizeof(int), "enum width");
_Static_assert(sizeof(enum endpoint_service) == sizeof(int), "enum width");
_Static_assert(sizeof(enum enforcement) == sizeof(int), "enum width");

/* ------------------------------------------------------------------ */
/* Phase 1: the node tree                                              */
/* ------------------------------------------------------------------ */

enum ynode_type {
	YNODE_SCALAR,
	YNODE_SEQUENCE,
	YNODE_MAPPING,
};

struct ynode {
	enum ynode_type type;
	char *text;		/* scalar text, NUL-terminated (may hold NULs) */
	size_t len;
	bool plain;		/* scalar written without quotes or | > */
	unsigned line, column;	/* 1-based start of the node */
	struct ynode **kids;	/* items; for a mapping key, value, key, ... */
	size_t nkids, cap;
};

/* Everything a load needs to say where it is. */
struct loader {
	const char *name;	/* file name in messages */
	char *err;
	size_t errlen;
	char path[CONFIG_PATH_LEN]; /* key path of the current node */
	size_t pathlen;
	bool in_default;	/* converting a default, not the file's text */
};

struct builder {
	struct loader *ld;
	struct ynode *root;
	struct ynode *stack[CONFIG_DEPTH_MAX];
	size_t depth;
	unsigned documents;
};

static void
ynode_free(struct ynode *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->nkids; i++)
		ynode_free(n->kids[i]);
	free(n->kids);
	free(n->text);
	free(n);
}

static struct ynode *
ynode_new(enum ynode_type type, unsigned line, unsigned column)
{
	struct ynode *n = xcalloc(1, sizeof(*n));

	n->type = type;
	n->line = line;
	n->column = column;
	return n;
}

static struct ynode *
ynode_scalar(const char *text, size_t len, bool plain, unsigned line,
    unsigned column)
{
	struct ynode *n = ynode_new(YNODE_SCALAR, line, column);

	n->text = xstrndup(text, len);
	n->len = len;
	n->plain = plain;
	return n;
}

static void
ynode_append(struct ynode *parent, struct ynode *kid)
{
	if (parent->nkids == parent->cap) {
		parent->cap = parent->cap ? parent->cap * 2 : 4;
		parent->kids = xreallocarray(parent->kids, parent->cap,
		    sizeof(*parent->kids));
	}
	parent->kids[parent->nkids++] = kid;
}

/* YAML's null: an empty plain scalar, ~ or null. */
static bool
ynode_is_null(const struct ynode *n)
{
	if (n->type != YNODE_SCALAR || !n->plain)
		return false;
	return n->len == 0 || strcmp(n->text, "~") == 0 ||
	    strcmp(n->text, "null") == 0 || strcmp(n->text, "Null") == 0 ||
	    strcmp(n->text, "NULL") == 0;
}

/* The value of key in a mapping node, or NULL. */
static const struct ynode *
ynode_get(const struct ynode *map, const char *key)
{
	size_t i, len = strlen(key);

	if (map == NULL || map->type != YNODE_MAPPING)
		return NULL;
	for (i = 0; i + 1 < map->nkids; i += 2) {
		if (map->kids[i]->type == YNODE_SCALAR &&
		    map->kids[i]->len == len &&
		    memcmp(map->kids[i]->text, key, len) == 0)
			return map->kids[i + 1];
	}
	return NULL;
}

/* Item i of a sequence node, or NULL. */
static const struct ynode *
ynode_item(const struct ynode *seq, size_t i)
{
	if (seq == NULL || seq->type != YNODE_SEQUENCE || i >= seq->nkids)
		return NULL;
	return seq->kids[i];
}

static const struct ynode *
ynode_or(const struct ynode *n, const struct ynode *fallback)
{
	return n != NULL ? n : fallback;
}

/* Copies at most 60 characters of s for a message, '?' for the unprintable. */
static const char *
printable(const char *s, size_t len, char *buf, size_t buflen)
{
	size_t i, o = 0, max = 60;

	for (i = 0; i < len && o + 4 < buflen; i++) {
		if (i == max) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		buf[o++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	}
	buf[o] = '\0';
	return buf;
}

__attribute__((format(printf, 4, 0))) static int
failv(struct loader *ld, unsigned line, unsigned column, const char *fmt,
    va_list ap)
{
	char msg[CONFIG_ERR_MAX];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (ld->errlen == 0)
		return -1;
	if (ld->pathlen > 0)
		snprintf(ld->err, ld->errlen, "%s:%u:%u: %s: %s%s", ld->name,
		    line, column, ld->path, msg,
		    ld->in_default ? " (default value)" : "");
	else
		snprintf(ld->err, ld->errlen, "%s:%u:%u: %s", ld->name, line,
		    column, msg);
	return -1;
}

/* Writes "name:line:column: path: message" for node at. Returns -1. */
__attribute__((format(printf, 3, 4))) static int
fail(struct loader *ld, const struct ynode *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	failv(ld, at->line, at->column, fmt, ap);
	va_end(ap);
	return -1;
}

__attribute__((format(printf, 4, 5))) static int
fail_mark(struct loader *ld, unsigned line, unsigned column,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	failv(ld, line, column, fmt, ap);
	va_end(ap);
	return -1;
}

/* Appends to the key path; returns the length to restore with path_pop. */
__attribute__((format(printf, 2, 3))) static size_t
path_push(struct loader *ld, const char *fmt, ...)
{
	size_t old = ld->pathlen;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(ld->path + old, sizeof(ld->path) - old, fmt, ap);
	va_end(ap);
	if (n > 0)
		ld->pathlen += (size_t)n;
	if (ld->pathlen >= sizeof(ld->path))
		ld->pathlen = sizeof(ld->path) - 1;
	return old;
}

static void
path_pop(struct loader *ld, size_t len)
{
	ld->pathlen = len;
	ld->path[len] = '\0';
}

/* Appends ".key" (or "key" at the top) with the key made printable. */
static size_t
path_push_key(struct loader *ld, const char *key, size_t len)
{
	char buf[80];

	printable(key, len, buf, sizeof(buf));
	return path_push(ld, "%s%s", ld->pathlen > 0 ? "." : "", buf);
}

/* Rebuilds the key path of the builder's position from its stack. */
static void
builder_path(struct builder *b)
{
	const struct ynode *n, *key;
	size_t i, index;

	path_pop(b->ld, 0);
	for (i = 0; i < b->depth; i++) {
		n = b->stack[i];
		if (n->type == YNODE_SEQUENCE) {
			index = n->nkids - (i + 1 < b->depth ? 1 : 0);
			path_push(b->ld, "[%zu]", index);
			continue;
		}
		index = i + 1 < b->depth ? 2 : 1;
		if (n->nkids < index || (n->nkids - index) % 2 != 0)
			continue;
		key = n->kids[n->nkids - index];
		if (key->type == YNODE_SCALAR)
			path_push_key(b->ld, key->text, key->len);
		else
			path_push(b->ld, ".?");
	}
}

/* libyaml's own message for a document it cannot read. */
static int
fail_syntax(struct builder *b, const yaml_parser_t *p, const char *buf,
    size_t len)
{
	unsigned line = 1, column = 1;
	size_t i;

	builder_path(b);
	if (p->error == YAML_MEMORY_ERROR)
		return fail_mark(b->ld, 1, 1, "out of memory parsing YAML");
	if (p->error == YAML_READER_ERROR) {
		/* The reader reports a byte offset, not a mark. */
		for (i = 0; i < p->problem_offset && i < len; i++) {
			column++;
			if (buf[i] == '\n') {
				line++;
				column = 1;
			}
		}
		return fail_mark(b->ld, line, column, "invalid input: %s",
		    p->problem != NULL ? p->problem : "unreadable");
	}
	if (p->context == NULL)
		return fail_mark(b->ld, (unsigned)p->problem_mark.line + 1,
		    (unsigned)p->problem_mark.column + 1,
		    "YAML syntax error: %s",
		    p->problem != NULL ? p->problem : "unknown problem");
	return fail_mark(b->ld, (unsigned)p->problem_mark.line + 1,
	    (unsigned)p->problem_mark.column + 1,
	    "YAML syntax error: %s (%s at line %u, column %u)",
	    p->problem != NULL ? p->problem : "unknown problem", p->context,
	    (unsigned)p->context_mark.line + 1,
	    (unsigned)p->context_mark.column + 1);
}

/* Refuses the YAML features a configuration has no use for. */
static int
build_check_props(struct builder *b, const yaml_event_t *ev,
    const yaml_char_t *anchor, const yaml_char_t *tag)
{
	unsigned line = (unsigned)ev->start_mark.line + 1;
	unsigned column = (unsigned)ev->start_mark.column + 1;

	if (anchor == NULL && tag == NULL && ev->type != YAML_ALIAS_EVENT)
		return 0;
	builder_path(b);
	if (ev->type == YAML_ALIAS_EVENT)
		return fail_mark(b->ld, line, column, "aliases are not allowed");
	if (anchor != NULL)
		return fail_mark(b->ld, line, column,
		    "anchors and aliases are not allowed");
	return fail_mark(b->ld, line, column,
	    "tags (such as !!str) are not allowed");
}

/* Attaches a new node to the open collection, or makes it the root. */
static int
build_attach(struct builder *b, struct ynode *n)
{
	if (b->depth > 0)
		ynode_append(b->stack[b->depth - 1], n);
	else {
		/* One root per document, and a second document is refused. */
		assert(b->root == NULL);
		b->root = n;
	}
	if (n->type == YNODE_SCALAR)
		return 0;
	if (b->depth == CONFIG_DEPTH_MAX) {
		builder_path(b);
		return fail_mark(b->ld, n->line, n->column,
		    "nested more than %d levels deep", CONFIG_DEPTH_MAX);
	}
	b->stack[b->depth++] = n;
	return 0;
}

static int
build_scalar(struct builder *b, const yaml_event_t *ev)
{
	if (build_check_props(b, ev, ev->data.scalar.anchor,
	    ev->data.scalar.tag) == -1)
		return -1;
	return build_attach(b, ynode_scalar((const char *)ev->data.scalar.value,
	    ev->data.scalar.length,
	    ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE,
	    (unsigned)ev->start_mark.line + 1,
	    (unsigned)ev->start_mark.column + 1));
}

static int
build_collection(struct builder *b, const yaml_event_t *ev,
    enum ynode_type type)
{
	const yaml_char_t *anchor, *tag;

	if (type == YNODE_SEQUENCE) {
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
	} else {
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
	}
	if (build_check_props(b, ev, anchor, tag) == -1)
		return -1;
	return build_attach(b, ynode_new(type,
	    (unsigned)ev->start_mark.line + 1,
	    (unsigned)ev->start_mark.column + 1));
}

static int
build_event(struct builder *b, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++b->documents > 1)
			return fail_mark(b->ld,
			    (unsigned)ev->start_mark.line + 1,
			    (unsigned)ev->start_mark.column + 1,
			    "only one document is allowed");
		return 0;
	case YAML_ALIAS_EVENT:
		return build_check_props(b, ev, NULL, NULL);
	case YAML_SCALAR_EVENT:
		return build_scalar(b, ev);
	case YAML_SEQUENCE_START_EVENT:
		return build_collection(b, ev, YNODE_SEQUENCE);
	case YAML_MAPPING_START_EVENT:
		return build_collection(b, ev, YNODE_MAPPING);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		if (b->depth > 0)
			b->depth--;
		return 0;
	default:
		return 0;
	}
}

/*
 * Parses buf into a node tree. Returns 0 with *root set (NULL for a
 * stream without a document; the caller frees it), or -1 with ld->err.
 */
static int
build_tree(struct loader *ld, const char *buf, size_t len,
    struct ynode **root)
{
	struct builder b = { .ld = ld };
	yaml_parser_t parser;
	yaml_event_t ev;
	bool done = false;
	int rv = 0;

	if (!yaml_parser_initialize(&parser))
		return fail_mark(ld, 1, 1, "out of memory parsing YAML");
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	while (!done && rv == 0) {
		if (!yaml_parser_parse(&parser, &ev)) {
			rv = fail_syntax(&b, &parser, buf, len);
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		rv = build_event(&b, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	if (rv == -1) {
		ynode_free(b.root);
		return -1;
	}
	*root = b.root;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Value checks: validate (and normalise) one string in place          */
/* ------------------------------------------------------------------ */

static bool
is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
all_chars(const char *s, size_t len, const char *extra, bool upper,
    bool lower)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (is_digit(s[i]) || (lower && is_lower(s[i])) ||
		    (upper && s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] != '\0' && strchr(extra, s[i]) != NULL))
			continue;
		return false;
	}
	return true;
}

/* Region names: two letters, one or more words, a number: "us-gov-west-1". */
static bool
is_region(const char *s, size_t len)
{
	size_t i = 0, words = 0;

	if (len < 6 || !is_lower(s[0]) || !is_lower(s[1]) || s[2] != '-')
		return false;
	i = 3;
	for (;;) {
		if (i < len && is_digit(s[i]))
			break;
		if (i >= len || !is_lower(s[i]))
			return false;
		while (i < len && is_lower(s[i]))
			i++;
		if (i >= len || s[i] != '-')
			return false;
		i++;
		words++;
	}
	if (words == 0)
		return false;
	while (i < len && is_digit(s[i]))
		i++;
	return i == len;
}

static int
check_region(char *s, const char **why)
{
	if (is_region(s, strlen(s)))
		return 0;
	*why = "not a region name like us-east-1";
	return -1;
}

static bool
is_account(const char *s, size_t len)
{
	return len == 12 && all_chars(s, len, "", false, false);
}

static int
check_account(char *s, const char **why)
{
	if (is_account(s, strlen(s)))
		return 0;
	*why = "an account id is exactly 12 digits (quote it: \"111122223333\")";
	return -1;
}

/* Lower-cases a DNS name and strips one trailing dot, then checks it. */
static int
check_dnsname(char *s, const char **why)
{
	size_t len = strlen(s), i, label = 0;

	if (len > 0 && s[len - 1] == '.')
		s[--len] = '\0';
	for (i = 0; i < len; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			s[i] = (char)(s[i] - 'A' + 'a');
	*why = "not a DNS name (labels of a-z, 0-9 and '-', dot-separated)";
	if (len == 0 || len > 253) {
		*why = len == 0 ? "empty DNS name" : "DNS name over 253 characters";
		return -1;
	}
	for (i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			if (label == 0 || label > 63 || s[i - 1] == '-' ||
			    s[i - label] == '-')
				return -1;
			label = 0;
		} else if (is_lower(s[i]) || is_digit(s[i]) || s[i] == '-')
			label++;
		else
			return -1;
	}
	return 0;
}

/* A POSIX portable user or group name. */
static int
check_account_name(char *s, const char **why)
{
	size_t len = strlen(s);

	if (len <= 32 && s[0] != '-' && all_chars(s, len, "._-", true, true))
		return 0;
	*why = "a user or group name is at most 32 of A-Z, a-z, 0-9, '.', "
	    "'_' and '-', not starting with '-'";
	return -1;
}

static int
check_endpoint_name(char *s, const char **why)
{
	if (all_chars(s, strlen(s), "_.-", true, true))
		return 0;
	*why = "names use only A-Z, a-z, 0-9, '_', '.' and '-'";
	return -1;
}

static int
check_access_key(char *s, const char **why)
{
	size_t len = strlen(s);

	if (len >= 16 && len <= 128 && all_chars(s, len, "", true, false))
		return 0;
	*why = "an access key id is 16 to 128 characters of A-Z and 0-9";
	return -1;
}

/* aws:userid: "AIDA...", "AROA...:session", "111122223333", "acct:name". */
static int
check_userid(char *s, const char **why)
{
	size_t len = strlen(s);

	if (len <= 256 && all_chars(s, len, "+=,.@_:-", true, true))
		return 0;
	*why = "a user id is at most 256 characters of A-Z, a-z, 0-9 and "
	    "+=,.@_:-";
	return -1;
}

/* The id of an interface VPC endpoint: "vpce-" and 8 to 17 hex digits. */
static int
check_vpce(char *s, const char **why)
{
	size_t len = strlen(s);

	if (strncmp(s, "vpce-", 5) == 0 && len >= 5 + 8 && len <= 5 + 17 &&
	    all_chars(s + 5, len - 5, "abcdef", false, false))
		return 0;
	*why = "a VPC endpoint id is vpce- and 8 to 17 lower-case hex digits";
	return -1;
}

static int
check_arn(char *s, const char **why)
{
	if (strncmp(s, "arn:", 4) == 0 && s[4] != '\0')
		return 0;
	*why = "not an ARN (arn:PARTITION:SERVICE:...)";
	return -1;
}

/* arn:PARTITION:dynamodb:REGION:ACCOUNT:table/NAME */
static int
check_table_arn(char *s, const char **why)
{
	const char *p = s, *q;
	size_t len;

	*why = "not a table ARN: arn:aws:dynamodb:REGION:ACCOUNT:table/NAME";
	if (strncmp(p, "arn:", 4) != 0)
		return -1;
	p += 4;
	if ((q = strchr(p, ':')) == NULL || q == p ||
	    !all_chars(p, (size_t)(q - p), "-", false, true) ||
	    strncmp(q, ":dynamodb:", 10) != 0)
		return -1;
	p = q + 10;
	if ((q = strchr(p, ':')) == NULL || !is_region(p, (size_t)(q - p)))
		return -1;
	p = q + 1;
	if ((q = strchr(p, ':')) == NULL || !is_account(p, (size_t)(q - p)) ||
	    strncmp(q, ":table/", 7) != 0)
		return -1;
	p = q + 7;
	len = strlen(p);
	if (len < 3 || len > 255 || !all_chars(p, len, "_.-", true, true))
		return -1;
	return 0;
}

static int
check_attribute(char *s, const char **why)
{
	if (strlen(s) <= 255)
		return 0;
	*why = "attribute names are at most 255 bytes";
	return -1;
}

static int
check_listen_address(char *s, const char **why)
{
	struct sockaddr_storage ss;
	socklen_t len;

	return sockaddr_parse(s, 0, &ss, &len, why);
}

static int
check_resolver(char *s, const char **why)
{
	struct sockaddr_storage ss;
	socklen_t len;

	return sockaddr_parse(s, 53, &ss, &len, why);
}

/* "first-last": ports, first <= last, at most 64 of them. */
static int
parse_port_range(const char *s, uint16_t *first, uint16_t *last)
{
	unsigned long a, b;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	a = strtoul(s, &end, 10);
	if (*end != '-' || end[1] < '0' || end[1] > '9')
		return -1;
	b = strtoul(end + 1, &end, 10);
	if (*end != '\0' || a < 1 || b > 65535 || a > b || b - a >= 64)
		return -1;
	*first = (uint16_t)a;
	*last = (uint16_t)b;
	return 0;
}

static int
check_port_range(char *s, const char **why)
{
	uint16_t a, b;

	if (parse_port_range(s, &a, &b) == -1) {
		*why = "not first-last: two ports, first <= last, at most 64";
		return -1;
	}
	return 0;
}

static int
check_ip_literal(char *s, const char **why)
{
	unsigned char addr[16];

	if (inet_pton(AF_INET, s, addr) == 1 || inet_pton(AF_INET6, s, addr) ==
	    1)
		return 0;
	*why = "not a numeric IPv4 or IPv6 address";
	return -1;
}

/* arn:<partition>:dax:<region>:<12 digits>:cache/<name> */
static int
check_cluster_arn(char *s, const char **why)
{
	const char *p = s, *colon;
	int field;

	*why = "not arn:<partition>:dax:<region>:<account>:cache/<name>";
	for (field = 0; field < 5; field++) {
		if ((colon = strchr(p, ':')) == NULL)
			return -1;
		if (colon == p || (field == 0 && strncmp(p, "arn:", 4) != 0) ||
		    (field == 2 && strncmp(p, "dax:", 4) != 0) ||
		    (field == 4 && (colon - p != 12 ||
		    strspn(p, "0123456789") != 12)))
			return -1;
		p = colon + 1;
	}
	if (strncmp(p, "cache/", 6) != 0 || p[6] == '\0')
		return -1;
	for (p += 6; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '-'))
			return -1;
	return 0;
}

static int
check_metrics_address(char *s, const char **why)
{
	if (strcmp(s, "off") == 0)
		return 0;
	return check_listen_address(s, why);
}

/* ------------------------------------------------------------------ */
/* Computed defaults                                                   */
/* ------------------------------------------------------------------ */

/* AWS_REGION, else us-east-1. */
static char *
default_region(void)
{
	const char *env = getenv("AWS_REGION");

	return xstrdup(env != NULL && *env != '\0' ? env : "us-east-1");
}

/*
 * systemd's STATE_DIRECTORY (its first entry), else /var/lib/ddbgate for
 * root, else the XDG state directory of the user.
 */
static char *
default_state_dir(void)
{
	const char *env = getenv("STATE_DIRECTORY");
	char *s;

	if (env != NULL && *env != '\0' && *env != ':')
		return xstrndup(env, strcspn(env, ":"));
	if (geteuid() == 0)
		return xstrdup(ROOT_STATE_DIR);
	env = getenv("XDG_STATE_HOME");
	if (env != NULL && env[0] == '/') {
		xasprintf(&s, "%s/ddbgate", env);
		return s;
	}
	env = getenv("HOME");
	if (env != NULL && env[0] == '/') {
		xasprintf(&s, "%s/.local/state/ddbgate", env);
		return s;
	}
	return xstrdup(ROOT_STATE_DIR);
}

/* ------------------------------------------------------------------ */
/* The key table                                                       */
/* ------------------------------------------------------------------ */

enum key_type {
	KEY_SECTION,	/* a mapping of further keys: "limits" */
	KEY_ITEMS,	/* a list of mappings: "endpoints" -> "endpoints[]." */
	KEY_STRING,
	KEY_UINT,
	KEY_BOOL,
	KEY_ENUM,
	KEY_STRINGS,	/* a list of strings */
	KEY_CIDRS,	/* a list of CIDR prefixes */
	KEY_UPSTREAMS,	/* "host[:port]", or a list of them */
};

#define KEY_REQUIRED 0x01 /* no default: must be written */
#define KEY_OFF_NULL 0x02 /* the string "off" is stored as NULL */

struct key {
	const char *name; /* dotted; "[]." enters a list item */
	enum key_type type;
	size_t off;	/* value, list or host, in the scope's struct */
	size_t off2;	/* list count (size_t) or port (uint16_t) */
	size_t size;	/* KEY_UINT width; KEY_ITEMS element size */
	uint64_t min, max; /* KEY_UINT bounds; lists: fewest entries */
	const char *const *words; /* KEY_ENUM, indexed by value */
	int (*check)(char *, const char **); /* may normalise */
	int (*validate)(struct loader *, const struct ynode *, void *, size_t);
	const char *def;  /* default as text; lists are space-separated */
	char *(*def_fn)(void); /* computed default, newly allocated */
	uint16_t port;	/* KEY_UPSTREAMS default port */
	unsigned flags;
	const char *syntax; /* how a value is written, for the docs */
	const char *unit;
	const char *unset; /* printed when there is no value */
	const char *help;
};

static const char *const mode_words[] = {
	[LISTENER_CONNECT] = "connect",
	[LISTENER_SNI] = "sni",
	[LISTENER_TRANSPARENT] = "transparent",
	[LISTENER_DAX] = "dax",
	NULL,	/* LISTENER_DAX_NODE: made by the loader, never written */
};

static const char *const service_words[] = {
	[SERVICE_DYNAMODB] = "dynamodb",
	[SERVICE_STREAMS] = "streams",
	[SERVICE_DAX] = "dax",
	[SERVICE_DAX_CLUSTER] = "dax-cluster",
	NULL,
};

static const char *const enforcement_words[] = {
	[ENFORCEMENT_ENFORCE] = "enforce",
	[ENFORCEMENT_REPORT] = "report",
	NULL,
};

static int validate_listener(struct loader *, const struct ynode *, void *,
    size_t);
static int validate_endpoint(struct loader *, const struct ynode *, void *,
    size_t);
static int validate_principal(struct loader *, const struct ynode *, void *,
    size_t);
static int validate_table(struct loader *, const struct ynode *, void *,
    size_t);

#define CFG(m) offsetof(struct config, m)
#define CFGSZ(m) sizeof(((struct config *)0)->m)
#define LIS(m) offsetof(struct conf_listener, m)
#define CRT(m) offsetof(struct conf_certificate, m)
#define EPT(m) offsetof(struct conf_endpoint, m)
#define PRI(m) offsetof(struct conf_principal, m)
#define TBL(m) offsetof(struct conf_table, m)
#define LIMIT(m, lo, hi, d, u, h)                                         \
	{ .name = "limits." #m, .type = KEY_UINT, .off = CFG(limits.m),    \
	  .size = CFGSZ(limits.m), .min = lo, .max = hi, .def = d,         \
	  .unit = u, .help = h }

static const struct key keys[] = {
	{ .name = "region", .type = KEY_STRING, .off = CFG(region),
	  .check = check_region, .def_fn = default_region,
	  .syntax = "region name",
	  .help = "AWS region of the default endpoint names and ARNs; "
	  "default: $AWS_REGION, else us-east-1" },
	{ .name = "account", .type = KEY_STRING, .off = CFG(account),
	  .check = check_account, .syntax = "12 digits", .unset = "(not set)",
	  .help = "AWS account id for table ARNs built from plain table "
	  "names; quote it" },
	{ .name = "workers", .type = KEY_UINT, .off = CFG(workers),
	  .size = CFGSZ(workers), .min = 0, .max = 256, .def = "0",
	  .unit = "threads", .help = "worker threads; 0 = one per CPU core" },
	{ .name = "state_dir", .type = KEY_STRING, .off = CFG(state_dir),
	  .def_fn = default_state_dir, .syntax = "path",
	  .help = "directory for the gateway CA and other state; default: "
	  "$STATE_DIRECTORY, else /var/lib/ddbgate as root, else "
	  "$XDG_STATE_HOME/ddbgate or ~/.local/state/ddbgate" },
	{ .name = "user", .type = KEY_STRING, .off = CFG(user),
	  .check = check_account_name, .syntax = "user name",
	  .unset = "(keep the starting user)",
	  .help = "started as root: bind the listeners, then run as this "
	  "user" },
	{ .name = "group", .type = KEY_STRING, .off = CFG(group),
	  .check = check_account_name, .syntax = "group name",
	  .unset = "(the user's primary group)",
	  .help = "the group to run as with user" },
	{ .name = "sandbox", .type = KEY_BOOL, .off = CFG(sandbox),
	  .def = "true",
	  .help = "after start-up, limit file access (Landlock) and system "
	  "calls (seccomp) where the kernel supports them; read at start "
	  "only" },

	{ .name = "listeners", .type = KEY_ITEMS, .off = CFG(listeners),
	  .off2 = CFG(nlisteners), .size = sizeof(struct conf_listener),
	  .min = 1, .flags = KEY_REQUIRED, .validate = validate_listener,
	  .help = "sockets that accept client connections" },
	{ .name = "listeners[].address", .type = KEY_STRING,
	  .off = LIS(address), .check = check_listen_address,
	  .flags = KEY_REQUIRED, .syntax = "ip:port | [ipv6]:port",
	  .help = "numeric address and port to listen on; unique" },
	{ .name = "listeners[].mode", .type = KEY_ENUM, .off = LIS(mode),
	  .words = mode_words, .flags = KEY_REQUIRED,
	  .help = "connect: HTTP CONNECT proxy; sni: clients resolve the AWS "
	  "names to the gateway; transparent: redirected by the firewall" },
	{ .name = "listeners[].allow_clients", .type = KEY_CIDRS,
	  .off = LIS(allow_clients), .off2 = LIS(nallow_clients), .min = 1,
	  .unset = "(any client)",
	  .help = "source prefixes allowed to connect; omit to allow any" },
	{ .name = "listeners[].proxy_auth_users", .type = KEY_STRING,
	  .off = LIS(proxy_auth_users), .syntax = "path",
	  .unset = "(no proxy authentication)",
	  .help = "connect mode: require Proxy-Authorization Basic against "
	  "this users file (lines from `ddbgate passwd USER`)" },
	{ .name = "listeners[].http2", .type = KEY_BOOL, .off = LIS(http2),
	  .def = "true",
	  .help = "offer h2 by ALPN (before http/1.1) on the TLS the listener "
	  "terminates; false = http/1.1 only" },
	{ .name = "listeners[].endpoint", .type = KEY_STRING,
	  .off = LIS(endpoint), .syntax = "endpoint name",
	  .unset = "(not a dax listener)",
	  .help = "dax mode: the dax-cluster endpoint whose clients connect "
	  "here (its first host is the cluster endpoint name)" },
	{ .name = "listeners[].tls", .type = KEY_BOOL, .off = LIS(tls),
	  .def = "true",
	  .help = "dax mode: clients speak TLS (daxs://) and get a "
	  "certificate for the cluster name; false = plain TCP (dax://)" },
	{ .name = "listeners[].node_ports", .type = KEY_STRING,
	  .off = LIS(node_ports), .check = check_port_range,
	  .syntax = "first-last", .unset = "(not a dax listener)",
	  .help = "dax mode: one listener per cluster node on these ports of "
	  "the same address; discovery answers point clients at them" },
	{ .name = "listeners[].advertise", .type = KEY_STRING,
	  .off = LIS(advertise), .check = check_ip_literal,
	  .syntax = "ip", .unset = "(the listener's address)",
	  .help = "dax mode: the address discovery answers give clients; "
	  "required when the listener's address is a wildcard" },

	{ .name = "tls", .type = KEY_SECTION,
	  .help = "certificates the gateway presents to clients" },
	{ .name = "tls.ca_cert", .type = KEY_STRING, .off = CFG(tls.ca_cert),
	  .syntax = "path", .unset = "(none)",
	  .help = "gateway CA certificate (PEM) that mints certificates for "
	  "intercepted names; needs tls.ca_key" },
	{ .name = "tls.ca_key", .type = KEY_STRING, .off = CFG(tls.ca_key),
	  .syntax = "path", .unset = "(none)",
	  .help = "private key of the gateway CA (PEM); needs tls.ca_cert" },
	{ .name = "tls.certificates", .type = KEY_ITEMS,
	  .off = CFG(tls.certificates), .off2 = CFG(tls.ncertificates),
	  .size = sizeof(struct conf_certificate),
	  .help = "static certificates, chosen by name before minting" },
	{ .name = "tls.certificates[].cert", .type = KEY_STRING,
	  .off = CRT(cert), .flags = KEY_REQUIRED, .syntax = "path",
	  .help = "PEM certificate chain, leaf first" },
	{ .name = "tls.certificates[].key", .type = KEY_STRING,
	  .off = CRT(key), .flags = KEY_REQUIRED, .syntax = "path",
	  .help = "PEM private key of that certificate" },

	{ .name = "resolver", .type = KEY_SECTION,
	  .help = "how upstream names are resolved" },
	{ .name = "resolver.servers", .type = KEY_STRINGS,
	  .off = CFG(resolver.servers), .off2 = CFG(resolver.nservers),
	  .check = check_resolver, .syntax = "list of ip | ip:port | [ipv6]:port",
	  .unset = "(the servers of /etc/resolv.conf)",
	  .help = "DNS servers to ask, numeric, port 53 unless given" },
	{ .name = "resolver.timeout_ms", .type = KEY_UINT,
	  .off = CFG(resolver.timeout_ms), .size = CFGSZ(resolver.timeout_ms),
	  .min = 50, .max = 60000, .def = "1000", .unit = "milliseconds",
	  .help = "how long each server has to answer before the next one "
	  "is asked" },
	{ .name = "resolver.min_ttl_s", .type = KEY_UINT,
	  .off = CFG(resolver.min_ttl_s), .size = CFGSZ(resolver.min_ttl_s),
	  .min = 0, .max = 86400, .def = "1", .unit = "seconds",
	  .help = "cache answers at least this long, whatever their TTL" },
	{ .name = "resolver.max_ttl_s", .type = KEY_UINT,
	  .off = CFG(resolver.max_ttl_s), .size = CFGSZ(resolver.max_ttl_s),
	  .min = 1, .max = 86400, .def = "300", .unit = "seconds",
	  .help = "cache answers at most this long, whatever their TTL" },
	{ .name = "resolver.negative_ttl_s", .type = KEY_UINT,
	  .off = CFG(resolver.negative_ttl_s),
	  .size = CFGSZ(resolver.negative_ttl_s), .min = 0, .max = 3600,
	  .def = "5", .unit = "seconds",
	  .help = "cache NXDOMAIN and no-address answers this long; 0 = not "
	  "at all" },
	{ .name = "resolver.serve_stale_s", .type = KEY_UINT,
	  .off = CFG(resolver.serve_stale_s),
	  .size = CFGSZ(resolver.serve_stale_s), .min = 0, .max = 86400,
	  .def = "0", .unit = "seconds",
	  .help = "when every server fails, keep using an expired answer up "
	  "to this long past its TTL (logged); 0 = off" },

	{ .name = "endpoints", .type = KEY_ITEMS, .off = CFG(endpoints),
	  .off2 = CFG(nendpoints), .size = sizeof(struct conf_endpoint),
	  .min = 1, .flags = KEY_REQUIRED, .validate = validate_endpoint,
	  .help = "the AWS services clients may reach through the gateway" },
	{ .name = "endpoints[].name", .type = KEY_STRING, .off = EPT(name),
	  .check = check_endpoint_name, .flags = KEY_REQUIRED,
	  .syntax = "[A-Za-z0-9_.-]+",
	  .help = "unique name, used in logs, audit records and metrics" },
	{ .name = "endpoints[].service", .type = KEY_ENUM,
	  .off = EPT(service), .words = service_words, .flags = KEY_REQUIRED,
	  .help = "which AWS API the endpoint speaks" },
	{ .name = "endpoints[].hosts", .type = KEY_STRINGS, .off = EPT(hosts),
	  .off2 = EPT(nhosts), .min = 1, .check = check_dnsname,
	  .flags = KEY_REQUIRED, .syntax = "list of DNS names",
	  .help = "names clients ask for (SNI, Host, CONNECT); unique across "
	  "endpoints; matched without case" },
	{ .name = "endpoints[].upstream", .type = KEY_UPSTREAMS,
	  .off = EPT(upstreams), .off2 = EPT(nupstreams), .port = 443,
	  .min = 1, .max = 16, .syntax = "host[:port] | [ipv6]:port, or a list of them",
	  .unset = "(the requested host)",
	  .help = "where to connect: a VPC endpoint's regional or zonal name, "
	  "or fixed addresses; every address is tried; default: the "
	  "asked-for host and port (CONNECT), else port 443" },
	{ .name = "endpoints[].ca_file", .type = KEY_STRING,
	  .off = EPT(ca_file), .def = "/etc/ssl/certs/ca-certificates.crt",
	  .syntax = "path",
	  .help = "PEM bundle that verifies the upstream's certificate" },
	{ .name = "endpoints[].allowed_cidrs", .type = KEY_CIDRS,
	  .off = EPT(allowed_cidrs), .off2 = EPT(nallowed_cidrs), .min = 1,
	  .def = "10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 fc00::/7",
	  .help = "egress guard: resolved upstream addresses must lie in one "
	  "of these prefixes" },
	{ .name = "endpoints[].policy", .type = KEY_STRING, .off = EPT(policy),
	  .syntax = "path", .unset = "(none: allow all, audited)",
	  .help = "IAM endpoint policy (JSON) applied to every request" },
	{ .name = "endpoints[].enforcement", .type = KEY_ENUM,
	  .off = EPT(enforcement), .words = enforcement_words,
	  .def = "enforce",
	  .help = "enforce: deny what the policy denies; report: evaluate "
	  "and audit, but forward" },
	{ .name = "endpoints[].intercept", .type = KEY_BOOL,
	  .off = EPT(intercept), .def = "true",
	  .help = "connect mode: terminate TLS and check each request; false "
	  "= opaque tunnel to the allowed hosts" },
	{ .name = "endpoints[].source_vpce", .type = KEY_STRING,
	  .off = EPT(source_vpce), .check = check_vpce,
	  .syntax = "vpce-[0-9a-f]{8,17}", .unset = "(not set)",
	  .help = "the interface VPC endpoint id requests go through, as "
	  "aws:SourceVpce in policies; unset: the key is absent" },
	{ .name = "endpoints[].deny_replays", .type = KEY_BOOL,
	  .off = EPT(deny_replays), .def = "false",
	  .help = "refuse a request whose SigV4 signature was already seen "
	  "within the 15-minute window" },
	{ .name = "endpoints[].health_check_interval_s", .type = KEY_UINT,
	  .off = EPT(health_check_interval_s),
	  .size = sizeof(unsigned), .min = 0, .max = 3600, .def = "0",
	  .unit = "seconds",
	  .help = "active health check: a TLS handshake with verification to "
	  "every upstream address this often; 0 = off" },
	{ .name = "endpoints[].health_check_timeout_ms", .type = KEY_UINT,
	  .off = EPT(health_check_timeout_ms),
	  .size = sizeof(unsigned), .min = 50, .max = 60000, .def = "2000",
	  .unit = "milliseconds",
	  .help = "a health check's connect and handshake must end within "
	  "this long" },
	{ .name = "endpoints[].upstream_tls", .type = KEY_BOOL,
	  .off = EPT(upstream_tls), .def = "true",
	  .help = "dax-cluster: TLS to the nodes, verified against the "
	  "cluster name (daxs, port 9111); false = plain TCP (dax, 8111)" },
	{ .name = "endpoints[].cluster_arn", .type = KEY_STRING,
	  .off = EPT(cluster_arn), .check = check_cluster_arn,
	  .syntax = "arn:aws:dax:region:account:cache/name",
	  .unset = "(from region, account and the cluster name)",
	  .help = "dax-cluster: the resource policies name for this cluster" },

	{ .name = "principals", .type = KEY_ITEMS, .off = CFG(principals),
	  .off2 = CFG(nprincipals), .size = sizeof(struct conf_principal),
	  .validate = validate_principal,
	  .help = "SigV4 access key ids and the identity they stand for" },
	{ .name = "principals[].access_key_id", .type = KEY_STRING,
	  .off = PRI(access_key_id), .check = check_access_key,
	  .flags = KEY_REQUIRED, .syntax = "[A-Z0-9]{16,128}",
	  .help = "access key id as it appears in the Authorization header" },
	{ .name = "principals[].arn", .type = KEY_STRING, .off = PRI(arn),
	  .check = check_arn, .flags = KEY_REQUIRED, .syntax = "ARN",
	  .help = "the principal's ARN, for Principal and aws:Principal* keys" },
	{ .name = "principals[].userid", .type = KEY_STRING,
	  .off = PRI(userid), .check = check_userid,
	  .syntax = "unique id, e.g. AIDA... or AROA...:session",
	  .unset = "(not set)",
	  .help = "the principal's aws:userid; unset: the key is absent" },

	{ .name = "tables", .type = KEY_ITEMS, .off = CFG(tables),
	  .off2 = CFG(ntables), .size = sizeof(struct conf_table),
	  .validate = validate_table,
	  .help = "key schemas, for the dynamodb:LeadingKeys condition key" },
	{ .name = "tables[].arn", .type = KEY_STRING, .off = TBL(arn),
	  .check = check_table_arn, .flags = KEY_REQUIRED,
	  .syntax = "arn:PARTITION:dynamodb:REGION:ACCOUNT:table/NAME",
	  .help = "the table's ARN; unique" },
	{ .name = "tables[].partition_key", .type = KEY_STRING,
	  .off = TBL(partition_key), .check = check_attribute,
	  .flags = KEY_REQUIRED, .syntax = "attribute name",
	  .help = "name of the partition (hash) key attribute" },
	{ .name = "tables[].sort_key", .type = KEY_STRING,
	  .off = TBL(sort_key), .check = check_attribute,
	  .syntax = "attribute name", .unset = "(none)",
	  .help = "name of the sort (range) key attribute, if any" },

	{ .name = "audit", .type = KEY_SECTION,
	  .help = "the audit log: one JSON line per request decision" },
	{ .name = "audit.path", .type = KEY_STRING, .off = CFG(audit.path),
	  .def = "-", .syntax = "path | -",
	  .help = "file to append audit records to; - = standard output" },
	{ .name = "access_log", .type = KEY_SECTION,
	  .help = "the access log: one line per connection and request" },
	{ .name = "access_log.path", .type = KEY_STRING,
	  .off = CFG(access_log.path), .def = "-", .syntax = "path | - | off",
	  .help = "file to append access lines to; - = standard output; off "
	  "= none" },
	{ .name = "metrics", .type = KEY_SECTION,
	  .help = "the admin listener: Prometheus metrics" },
	{ .name = "metrics.address", .type = KEY_STRING,
	  .off = CFG(metrics.address), .check = check_metrics_address,
	  .flags = KEY_OFF_NULL, .def = "127.0.0.1:9145",
	  .syntax = "ip:port | [ipv6]:port | off",
	  .help = "where to serve /metrics over plain HTTP; off = nowhere" },

	{ .name = "limits", .type = KEY_SECTION,
	  .help = "resource limits and timeouts" },
	LIMIT(max_connections, 1, 1000000, "10000", "connections",
	    "client connections open at once; more wait in the backlog"),
	LIMIT(max_header_bytes, 1024, 1048576, "16384", "bytes",
	    "largest request or response header block"),
	LIMIT(max_body_bytes, 1024, 1073741824, "16777216", "bytes",
	    "largest request body; larger requests are refused"),
	LIMIT(client_idle_timeout_s, 1, 3600, "60", "seconds",
	    "close a client connection idle this long"),
	LIMIT(request_timeout_s, 1, 3600, "120", "seconds",
	    "a request must arrive whole this long after its first byte"),
	LIMIT(upstream_timeout_s, 1, 3600, "30", "seconds",
	    "give up on an upstream response after this long"),
	LIMIT(upstream_connect_timeout_ms, 100, 60000, "5000", "milliseconds",
	    "give up on an upstream TCP and TLS connect after this long"),
	LIMIT(upstream_idle_timeout_s, 1, 3600, "30", "seconds",
	    "close a pooled upstream connection idle this long"),
	LIMIT(upstream_pool_size, 0, 10000, "64", "connections",
	    "idle upstream connections kept per endpoint and name"),
	LIMIT(upstream_backoff_ms, 10, 600000, "1000", "milliseconds",
	    "an upstream address that fails to connect or to verify is not "
	    "tried again for this long"),
	LIMIT(upstream_backoff_max_ms, 10, 3600000, "30000", "milliseconds",
	    "the back-off doubles with each further failure up to this"),
	LIMIT(drain_timeout_s, 0, 3600, "30", "seconds",
	    "on SIGTERM, requests in flight get this long to finish before "
	    "their connections are cut"),
	LIMIT(h2_max_concurrent_streams, 1, 1000, "100", "streams",
	    "HTTP/2: requests one client connection may have open at once "
	    "(SETTINGS_MAX_CONCURRENT_STREAMS)"),
};

#define NKEYS nitems(keys)

/* Whether k is a key of the struct that scope ("" or "x[].") fills. */
static bool
key_in_scope(const struct key *k, const char *scope)
{
	size_t len = strlen(scope);

	return strncmp(k->name, scope, len) == 0 &&
	    strchr(k->name + len, '[') == NULL;
}

/* Whether k is written directly inside the mapping of prefix. */
static bool
key_is_child(const struct key *k, const char *prefix)
{
	size_t len = strlen(prefix);

	return strncmp(k->name, prefix, len) == 0 &&
	    strpbrk(k->name + len, ".[") == NULL;
}

/* The key named prefix + text, or NULL. */
static const struct key *
key_lookup(const char *prefix, const char *text, size_t len)
{
	size_t i, plen = strlen(prefix);

	for (i = 0; i < NKEYS; i++) {
		if (key_is_child(&keys[i], prefix) &&
		    strlen(keys[i].name + plen) == len &&
		    memcmp(keys[i].name + plen, text, len) == 0)
			return &keys[i];
	}
	return NULL;
}

/* "x[]." for an item list key. */
static void
items_scope(const struct key *k, char *buf, size_t len)
{
	snprintf(buf, len, "%s[].", k->name);
}

static void
items_get(const struct key *k, const void *base, char **v, size_t *n)
{
	memcpy(v, (const char *)base + k->off, sizeof(*v));
	*n = *CFIELD(base, k->off2, size_t);
}

static void
items_set(const struct key *k, void *base, void *v, size_t n)
{
	memcpy((char *)base + k->off, &v, sizeof(v));
	*FIELD(base, k->off2, size_t) = n;
}

/* ------------------------------------------------------------------ */
/* Freeing by the table                                                */
/* ------------------------------------------------------------------ */

static void free_scope(const char *scope, void *base);

static void
free_strings(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
free_upstreams(struct conf_upstream *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].host);
	free(v);
}

static void
free_items(const struct key *k, void *base)
{
	char scope[KEY_NAME_MAX], *v;
	size_t i, n;

	items_get(k, base, &v, &n);
	items_scope(k, scope, sizeof(scope));
	for (i = 0; i < n; i++)
		free_scope(scope, v + i * k->size);
	free(v);
	items_set(k, base, NULL, 0);
}

/* Releases the value of k in base and leaves it empty. */
static void
free_value(const struct key *k, void *base)
{
	switch (k->type) {
	case KEY_STRING:
		free(*FIELD(base, k->off, char *));
		*FIELD(base, k->off, char *) = NULL;
		break;
	case KEY_UPSTREAMS:
		free_upstreams(*FIELD(base, k->off, struct conf_upstream *),
		    *FIELD(base, k->off2, size_t));
		*FIELD(base, k->off, struct conf_upstream *) = NULL;
		*FIELD(base, k->off2, size_t) = 0;
		break;
	case KEY_STRINGS:
		free_strings(*FIELD(base, k->off, char **),
		    *FIELD(base, k->off2, size_t));
		*FIELD(base, k->off, char **) = NULL;
		*FIELD(base, k->off2, size_t) = 0;
		break;
	case KEY_CIDRS:
		free(*FIELD(base, k->off, struct cidr *));
		*FIELD(base, k->off, struct cidr *) = NULL;
		*FIELD(base, k->off2, size_t) = 0;
		break;
	case KEY_ITEMS:
		free_items(k, base);
		break;
	default:
		break;
	}
}

/* Frees every value of the keys in scope held by base (not base). */
static void
free_scope(const char *scope, void *base)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		if (key_in_scope(&keys[i], scope))
			free_value(&keys[i], base);
	}
}

/* ------------------------------------------------------------------ */
/* Phase 2: converting values                                          */
/* ------------------------------------------------------------------ */

static const char *
node_kind(const struct ynode *n)
{
	if (n->type == YNODE_SEQUENCE)
		return "a list";
	if (n->type == YNODE_MAPPING)
		return "a mapping";
	return ynode_is_null(n) ? "an empty value" : "a scalar";
}

/* Fails unless n is of type; what names the expected value. */
static int
expect(struct loader *ld, const struct ynode *n, enum ynode_type type,
    const char *what)
{
	if (n->type == type && !ynode_is_null(n))
		return 0;
	return fail(ld, n, "expected %s, got %s", what, node_kind(n));
}

/* The text of a scalar usable as a string, or NULL after failing. */
static const char *
scalar_text(struct loader *ld, const struct ynode *n, const char *what)
{
	size_t i;

	if (expect(ld, n, YNODE_SCALAR, what) == -1)
		return NULL;
	if (strlen(n->text) != n->len) {
		fail(ld, n, "contains a NUL character");
		return NULL;
	}
	for (i = 0; i < n->len; i++) {
		if ((unsigned char)n->text[i] < 0x20 || n->text[i] == 0x7f) {
			fail(ld, n, "contains a control character");
			return NULL;
		}
	}
	return n->text;
}

/*
 * A checked, normalised copy of a string scalar (caller frees), or NULL
 * after failing.
 */
static char *
string_value(struct loader *ld, const struct key *k, const struct ynode *n)
{
	const char *text = scalar_text(ld, n, "a string"), *why;
	char *s, buf[80];

	if (text == NULL)
		return NULL;
	s = xstrdup(text);
	if (k->check != NULL && k->check(s, &why) == -1) {
		fail(ld, n, "\"%s\": %s", printable(text, n->len, buf,
		    sizeof(buf)), why);
		free(s);
		return NULL;
	}
	return s;
}

static int
convert_string(struct loader *ld, const struct key *k, const struct ynode *n,
    void *base)
{
	char *s;

	if ((s = string_value(ld, k, n)) == NULL)
		return -1;
	if (*s == '\0') {
		free(s);
		return fail(ld, n, "must not be empty");
	}
	free_value(k, base);
	if ((k->flags & KEY_OFF_NULL) && strcmp(s, "off") == 0) {
		free(s);
		s = NULL;
	}
	*FIELD(base, k->off, char *) = s;
	return 0;
}

/* Plain decimal digits only: no sign, no 0x, no quotes. */
static int
convert_uint(struct loader *ld, const struct key *k, const struct ynode *n,
    void *base)
{
	const char *text = scalar_text(ld, n, "a number");
	uint64_t v = 0;
	size_t i;

	if (text == NULL)
		return -1;
	if (!n->plain)
		return fail(ld, n, "expected a number, not a quoted string");
	for (i = 0; i < n->len; i++) {
		if (!is_digit(text[i]))
			return fail(ld, n, "expected a whole number, got "
			    "\"%.40s\"", text);
		if (v > (UINT64_MAX - 9) / 10)
			v = UINT64_MAX;
		else
			v = v * 10 + (uint64_t)(text[i] - '0');
	}
	if (v < k->min || v > k->max)
		return fail(ld, n, "%.40s is out of range (%llu..%llu)", text,
		    (unsigned long long)k->min, (unsigned long long)k->max);
	if (k->size == sizeof(uint64_t))
		*FIELD(base, k->off, uint64_t) = v;
	else
		*FIELD(base, k->off, unsigned) = (unsigned)v;
	return 0;
}

static int
convert_bool(struct loader *ld, const struct key *k, const struct ynode *n,
    void *base)
{
	static const char *const yes[] = { "true", "True", "TRUE" };
	static const char *const no[] = { "false", "False", "FALSE" };
	const char *text = scalar_text(ld, n, "true or false");
	size_t i;

	if (text == NULL)
		return -1;
	for (i = 0; n->plain && i < nitems(yes); i++) {
		if (strcmp(text, yes[i]) == 0 || strcmp(text, no[i]) == 0) {
			*FIELD(base, k->off, bool) = strcmp(text, yes[i]) == 0;
			return 0;
		}
	}
	return fail(ld, n, "expected true or false");
}

/* "a, b or c" */
static void
join_words(const char *const *words, char *buf, size_t len)
{
	size_t i, o = 0;
	int w;

	buf[0] = '\0';
	for (i = 0; words[i] != NULL && o < len; i++) {
		w = snprintf(buf + o, len - o, "%s%s", i == 0 ? "" :
		    words[i + 1] == NULL ? " or " : ", ", words[i]);
		if (w < 0)
			break;
		o += (size_t)w;
	}
}

static int
convert_enum(struct loader *ld, const struct key *k, const struct ynode *n,
    void *base)
{
	const char *text = scalar_text(ld, n, "a word");
	char words[160], buf[80];
	int i;

	if (text == NULL)
		return -1;
	for (i = 0; k->words[i] != NULL; i++) {
		if (strcmp(text, k->words[i]) == 0) {
			*FIELD(base, k->off, int) = i;
			return 0;
		}
	}
	join_words(k->words, words, sizeof(words));
	return fail(ld, n, "\"%s\" is not %s",
	    printable(text, n->len, buf, sizeof(buf)), words);
}

/* Fails unless n is a list of at least k->min entries. */
static int
expect_list(struct loader *ld, const struct key *k, const struct ynode *n)
{
	if (expect(ld, n, YNODE_SEQUENCE, "a list") == -1)
		return -1;
	if (n->nkids < k->min)
		return fail(ld, n, k->min == 1 ? "must not be empty" :
		    "needs at least %llu entries", (unsigned long long)k->min);
	return 0;
}

static int
convert_strings(struct loader *ld, const struct key *k, const struct ynode *n,
    void *base)
{
	char **v;
	size_t i, mark;

	if (expect_list(ld, k, n) == -1)
		return -1;
	v = xcalloc(n->nkids, sizeof(*v));
	for (i = 0; i < n->nkids; i++) {
		mark = path_push(ld, "[%zu]", i);
		v[i] = string_value(ld, k, n->kids[i]);
		if (v[i] != NULL && v[i][0] == '\0') {
			free(v[i]);
			v[i] = NULL;
			fail(ld, n->kids[i], "must not be empty");
		}
		path_pop(ld, mark);
		if (v[i] == NULL) {
			free_strings(v, i);
			return -1;
		}
	}
	free_value(k, base);
	*FIELD(base, k->off, char **) = v;
	*FIELD(base, k->off2, size_t) = n->nkids;
	return 0;
}

static int
convert_cidr(struct loader *ld, const struct ynode *n, struct cidr *out)
{
	const char *text = scalar_text(ld, n, "a CIDR prefix"), *why;
	char buf[80];

	if (text == NULL)
		return -1;
	if (cidr_parse(text, out, &why) == -1)
		return fail(ld, n, "\"%s\": %s",
		    printable(text, n->len, buf, sizeof(buf)), why);
	return 0;
}

static int
convert_cidrs(struct loader *ld, const struct key *k, const struct ynode *n,
    void *base)
{
	struct cidr *v;
	size_t i, mark;
	int rv = 0;

	if (expect_list(ld, k, n) == -1)
		return -1;
	v = xcalloc(n->nkids, sizeof(*v));
	for (i = 0; i < n->nkids && rv == 0; i++) {
		mark = path_push(ld, "[%zu]", i);
		rv = convert_cidr(ld, n->kids[i], &v[i]);
		path_pop(ld, mark);
	}
	if (rv == -1) {
		free(v);
		return -1;
	}
	free_value(k, base);
	*FIELD(base, k->off, struct cidr *) = v;
	*FIELD(base, k->off2, size_t) = n->nkids;
	return 0;
}

/*
 * An upstream host is an IP literal or a DNS name (then lower-cased);
 * hostport_parse has already refused a malformed IPv6 literal.
 */
static int
check_upstream_host(char *host, const char **why)
{
	unsigned char addr[16];

	if (inet_pton(AF_INET, host, addr) == 1 ||
	    inet_pton(AF_INET6, host, addr) == 1)
		return 0;
	return check_dnsname(host, why);
}

static int
convert_upstream(struct loader *ld, const struct key *k,
    const struct ynode *n, struct conf_upstream *out)
{
	const char *text = scalar_text(ld, n, "host[:port]"), *why;
	unsigned char addr[16];
	char buf[80];

	if (text == NULL)
		return -1;
	if (hostport_parse(text, k->port, &out->host, &out->port, &why) == -1)
		return fail(ld, n, "\"%s\": %s",
		    printable(text, n->len, buf, sizeof(buf)), why);
	if (check_upstream_host(out->host, &why) == -1) {
		free(out->host);
		out->host = NULL;
		return fail(ld, n, "\"%s\": %s",
		    printable(text, n->len, buf, sizeof(buf)), why);
	}
	out->literal = inet_pton(AF_INET, out->host, addr) == 1 ||
	    inet_pton(AF_INET6, out->host, addr) == 1;
	return 0;
}

/* One "host[:port]", or a list of them; duplicates are refused. */
static int
convert_upstreams(struct loader *ld, const struct key *k,
    const struct ynode *n, void *base)
{
	const struct ynode *one[1] = { n };
	const struct ynode *const *items = one;
	struct conf_upstream *v;
	size_t i, j, count = 1, mark;
	int rv = 0;

	if (n->type == YNODE_SEQUENCE) {
		if (expect_list(ld, k, n) == -1)
			return -1;
		if (n->nkids > k->max)
			return fail(ld, n, "at most %llu entries",
			    (unsigned long long)k->max);
		items = (const struct ynode *const *)n->kids;
		count = n->nkids;
	}
	v = xcalloc(count, sizeof(*v));
	for (i = 0; i < count && rv == 0; i++) {
		mark = n->type == YNODE_SEQUENCE ?
		    path_push(ld, "[%zu]", i) : ld->pathlen;
		rv = convert_upstream(ld, k, items[i], &v[i]);
		for (j = 0; j < i && rv == 0; j++) {
			if (strcmp(v[j].host, v[i].host) == 0 &&
			    v[j].port == v[i].port)
				rv = fail(ld, items[i], "%s:%u is listed twice",
				    v[i].host, (unsigned)v[i].port);
		}
		path_pop(ld, mark);
	}
	if (rv == -1) {
		free_upstreams(v, count);
		return -1;
	}
	free_value(k, base);
	*FIELD(base, k->off, struct conf_upstream *) = v;
	*FIELD(base, k->off2, size_t) = count;
	return 0;
}

/* Stores the value of node n for key k into base. */
static int
convert(struct loader *ld, const struct key *k, const struct ynode *n,
    void *base)
{
	switch (k->type) {
	case KEY_STRING:
		return convert_string(ld, k, n, base);
	case KEY_UINT:
		return convert_uint(ld, k, n, base);
	case KEY_BOOL:
		return convert_bool(ld, k, n, base);
	case KEY_ENUM:
		return convert_enum(ld, k, n, base);
	case KEY_STRINGS:
		return convert_strings(ld, k, n, base);
	case KEY_CIDRS:
		return convert_cidrs(ld, k, n, base);
	case KEY_UPSTREAMS:
		return convert_upstreams(ld, k, n, base);
	default:
		return 0;
	}
}

/* The default of k as text (caller frees), or NULL if it has none. */
static char *
default_text(const struct key *k)
{
	if (k->def_fn != NULL)
		return k->def_fn();
	return k->def != NULL ? xstrdup(k->def) : NULL;
}

/* A node for a default: a plain scalar, or a list of its words. */
static struct ynode *
default_node(const struct key *k, const char *text, const struct ynode *at)
{
	struct ynode *n;
	const char *p = text;
	size_t len;

	if (k->type != KEY_STRINGS && k->type != KEY_CIDRS)
		return ynode_scalar(text, strlen(text), true, at->line,
		    at->column);
	n = ynode_new(YNODE_SEQUENCE, at->line, at->column);
	while (*(p += strspn(p, " ")) != '\0') {
		len = strcspn(p, " ");
		ynode_append(n, ynode_scalar(p, len, true, at->line,
		    at->column));
		p += len;
	}
	return n;
}

static int
apply_default(struct loader *ld, const struct key *k, const char *scope,
    void *base, const struct ynode *at)
{
	struct ynode *n;
	char *text;
	size_t mark;
	int rv;

	if ((text = default_text(k)) == NULL)
		return 0;
	n = default_node(k, text, at);
	mark = path_push(ld, "%s%s", ld->pathlen > 0 ? "." : "",
	    k->name + strlen(scope));
	ld->in_default = true;
	rv = convert(ld, k, n, base);
	ld->in_default = false;
	path_pop(ld, mark);
	ynode_free(n);
	free(text);
	return rv;
}

/*
 * Fills base with the defaults of the keys in scope that seen (NULL:
 * none) does not mark as written. Errors, which only computed defaults
 * from the environment can cause, point at node at.
 */
static int
apply_defaults(struct loader *ld, const char *scope, void *base,
    const struct ynode *at, const bool *seen)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		if (key_in_scope(&keys[i], scope) &&
		    (seen == NULL || !seen[i]) &&
		    apply_default(ld, &keys[i], scope, base, at) == -1)
			return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Phase 2: walking mappings against the table                         */
/* ------------------------------------------------------------------ */

static int walk_scope(struct loader *, const struct ynode *, const char *,
    void *);
static int walk_mapping(struct loader *, const struct ynode *, const char *,
    void *, bool *);

/*
 * "unknown key", with a hint: where a misplaced top-level or section key
 * belongs, else the keys allowed here.
 */
static int
fail_unknown(struct loader *ld, const struct ynode *key, const char *prefix)
{
	char list[CONFIG_ERR_MAX / 2];
	const char *name, *last;
	size_t i, o = 0, plen = strlen(prefix);
	int w;

	for (i = 0; i < NKEYS && strchr(prefix, '[') == NULL; i++) {
		name = keys[i].name;
		if (strchr(name, '[') != NULL)
			continue;
		last = strrchr(name, '.');
		last = last != NULL ? last + 1 : name;
		if (strlen(last) == key->len &&
		    memcmp(last, key->text, key->len) == 0)
			return fail(ld, key, "unknown key (did you mean %s?)",
			    name);
	}
	list[0] = '\0';
	for (i = 0; i < NKEYS && o < sizeof(list); i++) {
		if (!key_is_child(&keys[i], prefix))
			continue;
		w = snprintf(list + o, sizeof(list) - o, "%s%s",
		    o > 0 ? ", " : "", keys[i].name + plen);
		if (w < 0)
			break;
		o += (size_t)w;
	}
	return fail(ld, key, "unknown key (expected %s)", list);
}

/* The key node before index i of map with the same text, or NULL. */
static const struct ynode *
earlier_key(const struct ynode *map, size_t i)
{
	const struct ynode *key = map->kids[i], *k;
	size_t j;

	for (j = 0; j < i; j += 2) {
		k = map->kids[j];
		if (k->type == YNODE_SCALAR && k->len == key->len &&
		    memcmp(k->text, key->text, key->len) == 0)
			return k;
	}
	return NULL;
}

static int
walk_item(struct loader *ld, const struct key *k, const struct ynode *n,
    char *items, size_t i)
{
	char scope[KEY_NAME_MAX];
	void *elem = items + i * k->size;

	if (expect(ld, n, YNODE_MAPPING, "a mapping of keys") == -1)
		return -1;
	items_scope(k, scope, sizeof(scope));
	if (walk_scope(ld, n, scope, elem) == -1)
		return -1;
	return k->validate != NULL ? k->validate(ld, n, items, i) : 0;
}

/*
 * A list of mappings: the array is stored (zeroed) before it is filled,
 * so that config_free releases a half-built list after an error.
 */
static int
walk_items(struct loader *ld, const struct key *k, const struct ynode *n,
    void *base)
{
	char *items;
	size_t i, mark;
	int rv = 0;

	if (expect_list(ld, k, n) == -1)
		return -1;
	free_value(k, base);
	items = xcalloc(n->nkids, k->size);
	items_set(k, base, items, n->nkids);
	for (i = 0; i < n->nkids && rv == 0; i++) {
		mark = path_push(ld, "[%zu]", i);
		rv = walk_item(ld, k, n->kids[i], items, i);
		path_pop(ld, mark);
	}
	return rv;
}

static int
walk_value(struct loader *ld, const struct key *k, const struct ynode *n,
    void *base, bool *seen)
{
	char prefix[KEY_NAME_MAX];

	switch (k->type) {
	case KEY_SECTION:
		if (expect(ld, n, YNODE_MAPPING, "a mapping of keys") == -1)
			return -1;
		snprintf(prefix, sizeof(prefix), "%s.", k->name);
		return walk_mapping(ld, n, prefix, base, seen);
	case KEY_ITEMS:
		return walk_items(ld, k, n, base);
	default:
		return convert(ld, k, n, base);
	}
}

/* One "key: value" of a mapping; seen records the keys written. */
static int
walk_pair(struct loader *ld, const struct ynode *map, size_t i,
    const char *prefix, void *base, bool *seen)
{
	const struct ynode *key = map->kids[i], *first;
	const struct key *k;
	size_t mark;
	int rv;

	if (key->type != YNODE_SCALAR) {
		mark = path_push(ld, "%s?", ld->pathlen > 0 ? "." : "");
		rv = fail(ld, key, "a key must be a name, not %s",
		    node_kind(key));
	} else {
		mark = path_push_key(ld, key->text, key->len);
		if ((first = earlier_key(map, i)) != NULL)
			rv = fail(ld, key, "duplicate key (first at line %u, "
			    "column %u)", first->line, first->column);
		else if ((k = key_lookup(prefix, key->text, key->len)) == NULL)
			rv = fail_unknown(ld, key, prefix);
		else {
			seen[k - keys] = true;
			rv = walk_value(ld, k, map->kids[i + 1], base, seen);
		}
	}
	path_pop(ld, mark);
	return rv;
}

static int
check_required(struct loader *ld, const struct ynode *map, const char *prefix,
    const bool *seen)
{
	size_t i, mark;

	for (i = 0; i < NKEYS; i++) {
		if (!(keys[i].flags & KEY_REQUIRED) || seen[i] ||
		    !key_is_child(&keys[i], prefix))
			continue;
		mark = path_push(ld, "%s%s", ld->pathlen > 0 ? "." : "",
		    keys[i].name + strlen(prefix));
		fail(ld, map, "required key is missing");
		path_pop(ld, mark);
		return -1;
	}
	return 0;
}

/*
 * Matches every key of map against the keys named prefix + key, stores
 * the values into base and marks them in seen. prefix is "" or ends in
 * "." (a section or a list item: "limits.", "endpoints[].").
 */
static int
walk_mapping(struct loader *ld, const struct ynode *map, const char *prefix,
    void *base, bool *seen)
{
	size_t i;

	for (i = 0; i + 1 < map->nkids; i += 2) {
		if (walk_pair(ld, map, i, prefix, base, seen) == -1)
			return -1;
	}
	return check_required(ld, map, prefix, seen);
}

/*
 * Fills base, the struct of scope ("" or "x[]."), from mapping map and
 * its sections, then gives every key left out its default: after the
 * file's values, so a bad default the file overrides is never looked at.
 */
static int
walk_scope(struct loader *ld, const struct ynode *map, const char *scope,
    void *base)
{
	bool seen[NKEYS] = { false };

	if (walk_mapping(ld, map, scope, base, seen) == -1)
		return -1;
	return apply_defaults(ld, scope, base, map, seen);
}

/* ------------------------------------------------------------------ */
/* Phase 3: rules across keys                                          */
/* ------------------------------------------------------------------ */

/* Fails at node at with the key path set to key (relative to the path). */
__attribute__((format(printf, 4, 5))) static int
fail_key(struct loader *ld, const struct ynode *at, const char *key,
    const char *fmt, ...)
{
	size_t mark = path_push(ld, "%s%s", ld->pathlen > 0 ? "." : "", key);
	va_list ap;

	va_start(ap, fmt);
	failv(ld, at->line, at->column, fmt, ap);
	va_end(ap);
	path_pop(ld, mark);
	return -1;
}

/* Parses the address (already checked) and refuses a repeated one. */
static uint16_t
sockaddr_port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)(const void *)ss)
		    ->sin_port);
	return ntohs(((const struct sockaddr_in6 *)(const void *)ss)
	    ->sin6_port);
}

static bool
is_wildcard(const struct sockaddr_storage *ss)
{
	static const struct in6_addr any6 = IN6ADDR_ANY_INIT;

	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)(const void *)ss)->sin_addr
		    .s_addr == htonl(INADDR_ANY);
	return memcmp(&((const struct sockaddr_in6 *)(const void *)ss)
	    ->sin6_addr, &any6, sizeof(any6)) == 0;
}

/* The keys of mode dax: required there, refused elsewhere. */
static int
validate_dax_listener(struct loader *ld, const struct ynode *n,
    struct conf_listener *l)
{
	static const char *const only_dax[] = { "endpoint", "node_ports",
	    "advertise", "tls" };
	const struct ynode *at;
	uint16_t port = sockaddr_port_of(&l->addr);
	const char *why;
	socklen_t len;

	if (l->mode != LISTENER_DAX) {
		for (size_t k = 0; k < nitems(only_dax); k++)
			if ((at = ynode_get(n, only_dax[k])) != NULL)
				return fail_key(ld, at, only_dax[k], "only dax "
				    "listeners take this key; this one is %s",
				    config_mode_name(l->mode));
		return 0;
	}
	if (l->endpoint == NULL)
		return fail_key(ld, n, "endpoint", "required in dax mode: the "
		    "dax-cluster endpoint whose clients connect here");
	if (l->node_ports == NULL)
		return fail_key(ld, n, "node_ports", "required in dax mode: "
		    "one port per cluster node, e.g. 9112-9119");
	at = ynode_or(ynode_get(n, "node_ports"), n);
	(void)parse_port_range(l->node_ports, &l->node_port_first,
	    &l->node_port_last);
	if (port >= l->node_port_first && port <= l->node_port_last)
		return fail_key(ld, at, "node_ports", "%s includes the "
		    "listener's own port %u", l->node_ports, (unsigned)port);
	if (l->advertise != NULL) {
		char buf[80];

		snprintf(buf, sizeof(buf), strchr(l->advertise, ':') ?
		    "[%s]:1" : "%s:1", l->advertise);
		if (sockaddr_parse(buf, 0, &l->advertise_addr, &len, &why) ==
		    -1 || is_wildcard(&l->advertise_addr))
			return fail_key(ld, ynode_or(ynode_get(n, "advertise"),
			    n), "advertise", "not an address clients can "
			    "connect to");
	} else if (is_wildcard(&l->addr)) {
		return fail_key(ld, n, "advertise", "required when a dax "
		    "listener's address is a wildcard: discovery answers "
		    "must name an address clients can reach");
	} else {
		l->advertise_addr = l->addr;
	}
	return 0;
}

static int
validate_listener(struct loader *ld, const struct ynode *n, void *items,
    size_t i)
{
	struct conf_listener *v = items, *l = &v[i];
	const struct ynode *at = ynode_or(ynode_get(n, "address"), n);
	const char *why;
	size_t j;

	if (sockaddr_parse(l->address, 0, &l->addr, &l->addrlen, &why) == -1)
		return fail_key(ld, at, "address", "%s", why);
	l->dax_seed = -1;
	if (validate_dax_listener(ld, n, l) == -1)
		return -1;
	if (l->proxy_auth_users != NULL && l->mode != LISTENER_CONNECT)
		return fail_key(ld, ynode_or(ynode_get(n, "proxy_auth_users"),
		    n), "proxy_auth_users", "only connect listeners "
		    "authenticate clients; this one is %s",
		    config_mode_name(l->mode));
	for (j = 0; j < i; j++) {
		if (sockaddr_same((const struct sockaddr *)&v[j].addr,
		    (const struct sockaddr *)&l->addr))
			return fail_key(ld, at, "address", "%s is already "
			    "used by listeners[%zu]", l->address, j);
	}
	return 0;
}

/* The endpoint (before index upto) that has host h, or -1. */
static long
endpoint_with_host(const struct conf_endpoint *v, size_t upto, const char *h)
{
	size_t i, j;

	for (i = 0; i < upto; i++) {
		for (j = 0; j < v[i].nhosts; j++) {
			if (strcmp(v[i].hosts[j], h) == 0)
				return (long)i;
		}
	}
	return -1;
}

static int
validate_endpoint_hosts(struct loader *ld, const struct ynode *n,
    const struct conf_endpoint *v, size_t i)
{
	const struct conf_endpoint *e = &v[i];
	const struct ynode *hosts = ynode_get(n, "hosts"), *at;
	char key[32];
	size_t j, k;
	long other;

	for (j = 0; j < e->nhosts; j++) {
		at = ynode_or(ynode_item(hosts, j), n);
		snprintf(key, sizeof(key), "hosts[%zu]", j);
		for (k = 0; k < j; k++) {
			if (strcmp(e->hosts[k], e->hosts[j]) == 0)
				return fail_key(ld, at, key, "%s is listed "
				    "twice", e->hosts[j]);
		}
		if ((other = endpoint_with_host(v, i, e->hosts[j])) >= 0)
			return fail_key(ld, at, key, "%s is already a host "
			    "of endpoints[%ld] (%s)", e->hosts[j], other,
			    v[other].name);
	}
	return 0;
}

/*
 * A fixed upstream address outside allowed_cidrs could never be used: the
 * egress guard would refuse it at every request. Say so at load time.
 */
static int
validate_endpoint_upstreams(struct loader *ld, const struct ynode *n,
    const struct conf_endpoint *e)
{
	const struct ynode *up = ynode_get(n, "upstream"), *at;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	const struct sockaddr *sa;
	char key[32];
	size_t j;

	for (j = 0; j < e->nupstreams; j++) {
		if (!e->upstreams[j].literal)
			continue;
		if (inet_pton(AF_INET, e->upstreams[j].host,
		    &sin.sin_addr) == 1)
			sa = (const struct sockaddr *)&sin;
		else if (inet_pton(AF_INET6, e->upstreams[j].host,
		    &sin6.sin6_addr) == 1)
			sa = (const struct sockaddr *)&sin6;
		else
			continue;
		if (cidr_list_contains(e->allowed_cidrs, e->nallowed_cidrs,
		    sa))
			continue;
		at = up != NULL && up->type == YNODE_SEQUENCE ?
		    ynode_or(ynode_item(up, j), n) : ynode_or(up, n);
		if (up != NULL && up->type == YNODE_SEQUENCE)
			snprintf(key, sizeof(key), "upstream[%zu]", j);
		else
			snprintf(key, sizeof(key), "upstream");
		return fail_key(ld, at, key, "%s is outside allowed_cidrs: the "
		    "egress guard would refuse it; add its prefix to "
		    "allowed_cidrs if it is a private endpoint address",
		    e->upstreams[j].host);
	}
	return 0;
}

/*
 * A dax-cluster endpoint: its first host is the cluster endpoint name
 * (SNI and the name verified on every node, as the official clients
 * do); an upstream written without a port goes to
 * the cluster's port, 9111 (daxs) or 8111 (dax), not 443.
 */
static int
validate_dax_endpoint(struct loader *ld, const struct ynode *n,
    struct conf_endpoint *e)
{
	const struct ynode *up = ynode_get(n, "upstream"), *at;
	static const char *const only[] = { "upstream_tls", "cluster_arn" };
	char *host;
	uint16_t port;
	const char *why;

	if (e->service != SERVICE_DAX_CLUSTER) {
		for (size_t k = 0; k < nitems(only); k++)
			if ((at = ynode_get(n, only[k])) != NULL)
				return fail_key(ld, at, only[k], "only "
				    "dax-cluster endpoints take this key");
		return 0;
	}
	if (!e->upstream_tls && e->health_check_interval_s > 0)
		return fail_key(ld, ynode_or(ynode_get(n,
		    "health_check_interval_s"), n), "health_check_interval_s",
		    "a health check is a verified TLS handshake; this cluster "
		    "is reached without TLS (upstream_tls: false)");
	for (size_t j = 0; up != NULL && j < e->nupstreams; j++) {
		at = up->type == YNODE_SEQUENCE ? ynode_item(up, j) : up;
		if (at == NULL || at->type != YNODE_SCALAR)
			continue;
		if (hostport_parse(at->text, 0, &host, &port, &why) == 0) {
			free(host);
			continue;	/* the port was written */
		}
		e->upstreams[j].port = e->upstream_tls ? 9111 : 8111;
	}
	return 0;
}

static int
validate_endpoint(struct loader *ld, const struct ynode *n, void *items,
    size_t i)
{
	const struct conf_endpoint *v = items;
	const struct ynode *at = ynode_or(ynode_get(n, "name"), n);
	size_t j;

	for (j = 0; j < i; j++) {
		if (strcmp(v[j].name, v[i].name) == 0)
			return fail_key(ld, at, "name", "\"%s\" is already the "
			    "name of endpoints[%zu]", v[i].name, j);
	}
	if (validate_endpoint_hosts(ld, n, v, i) == -1 ||
	    validate_dax_endpoint(ld, n, (struct conf_endpoint *)&v[i]) == -1)
		return -1;
	return validate_endpoint_upstreams(ld, n, &v[i]);
}

static int
validate_principal(struct loader *ld, const struct ynode *n, void *items,
    size_t i)
{
	const struct conf_principal *v = items;
	const struct ynode *at = ynode_or(ynode_get(n, "access_key_id"), n);
	size_t j;

	for (j = 0; j < i; j++) {
		if (strcmp(v[j].access_key_id, v[i].access_key_id) == 0)
			return fail_key(ld, at, "access_key_id", "already "
			    "listed in principals[%zu]", j);
	}
	return 0;
}

static int
validate_table(struct loader *ld, const struct ynode *n, void *items,
    size_t i)
{
	const struct conf_table *v = items;
	const struct ynode *at = ynode_or(ynode_get(n, "arn"), n);
	size_t j;

	for (j = 0; j < i; j++) {
		if (strcmp(v[j].arn, v[i].arn) == 0)
			return fail_key(ld, at, "arn", "already listed in "
			    "tables[%zu]", j);
	}
	return 0;
}

/* tls.ca_cert and tls.ca_key: both or neither. */
static int
validate_ca_pair(struct loader *ld, const struct ynode *root,
    const struct config *cfg)
{
	const struct ynode *tls = ynode_or(ynode_get(root, "tls"), root);

	if (cfg->tls.ca_cert != NULL && cfg->tls.ca_key == NULL)
		return fail_key(ld, tls, "tls.ca_key", "required when "
		    "tls.ca_cert is set");
	if (cfg->tls.ca_key != NULL && cfg->tls.ca_cert == NULL)
		return fail_key(ld, tls, "tls.ca_cert", "required when "
		    "tls.ca_key is set");
	return 0;
}

/*
 * Each dax listener names a dax-cluster endpoint, and gets one node
 * listener per port of node_ports, appended to the listeners: same
 * address, same clients allowed, same TLS setting.
 */
static int
validate_dax(struct loader *ld, const struct ynode *root, struct config *cfg)
{
	const struct ynode *list = ynode_get(root, "listeners"), *at;
	size_t nseed = cfg->nlisteners, extra = 0, i, j, k;
	struct conf_listener *v;
	char key[48];

	for (i = 0; i < nseed; i++) {
		struct conf_listener *l = &cfg->listeners[i];

		if (l->mode != LISTENER_DAX)
			continue;
		at = ynode_or(ynode_get(ynode_item(list, i), "endpoint"), root);
		snprintf(key, sizeof(key), "listeners[%zu].endpoint", i);
		for (j = 0; j < cfg->nendpoints; j++)
			if (strcmp(cfg->endpoints[j].name, l->endpoint) == 0)
				break;
		if (j == cfg->nendpoints)
			return fail_key(ld, at, key, "no endpoint is named "
			    "\"%s\"", l->endpoint);
		if (cfg->endpoints[j].service != SERVICE_DAX_CLUSTER)
			return fail_key(ld, at, key, "endpoint %s is a %s "
			    "endpoint; dax listeners serve dax-cluster "
			    "endpoints", l->endpoint, config_service_name(
			    cfg->endpoints[j].service));
		l->endpoint_index = j;
		extra += (size_t)(l->node_port_last - l->node_port_first) + 1;
	}
	if (extra == 0)
		return 0;
	v = xreallocarray(cfg->listeners, nseed + extra, sizeof(*v));
	memset(v + nseed, 0, extra * sizeof(*v));
	cfg->listeners = v;
	for (i = 0; i < nseed; i++) {
		const struct conf_listener *seed = &v[i];

		if (seed->mode != LISTENER_DAX)
			continue;
		for (unsigned p = seed->node_port_first;
		    p <= seed->node_port_last; p++) {
			struct conf_listener *nl = &v[cfg->nlisteners];
			char ip[INET6_ADDRSTRLEN];

			*nl = *seed;
			nl->mode = LISTENER_DAX_NODE;
			nl->dax_seed = (long)i;
			nl->dax_slot = p - seed->node_port_first;
			nl->node_ports = NULL;
			nl->advertise = NULL;
			nl->proxy_auth_users = NULL;
			nl->endpoint = xstrdup(seed->endpoint);
			if (seed->nallow_clients > 0) {
				nl->allow_clients = xreallocarray(NULL,
				    seed->nallow_clients,
				    sizeof(*nl->allow_clients));
				memcpy(nl->allow_clients, seed->allow_clients,
				    seed->nallow_clients *
				    sizeof(*nl->allow_clients));
			}
			if (nl->addr.ss_family == AF_INET) {
				struct sockaddr_in *sin = (struct sockaddr_in *)
				    (void *)&nl->addr;

				sin->sin_port = htons((uint16_t)p);
				inet_ntop(AF_INET, &sin->sin_addr, ip,
				    sizeof(ip));
				xasprintf(&nl->address, "%s:%u", ip, p);
			} else {
				struct sockaddr_in6 *sin6 = (struct
				    sockaddr_in6 *)(void *)&nl->addr;

				sin6->sin6_port = htons((uint16_t)p);
				inet_ntop(AF_INET6, &sin6->sin6_addr, ip,
				    sizeof(ip));
				xasprintf(&nl->address, "[%s]:%u", ip, p);
			}
			cfg->nlisteners++;
			for (k = 0; k + 1 < cfg->nlisteners; k++) {
				if (!sockaddr_same((const struct sockaddr *)
				    &v[k].addr, (const struct sockaddr *)
				    &nl->addr))
					continue;
				at = ynode_or(ynode_get(ynode_item(list, i),
				    "node_ports"), root);
				snprintf(key, sizeof(key),
				    "listeners[%zu].node_ports", i);
				return fail_key(ld, at, key, "%s is already "
				    "used by %s", nl->address, k < nseed ?
				    "another listener" : "another dax "
				    "listener's node_ports");
			}
		}
	}
	return 0;
}

/* Listeners that terminate TLS need something to present. */
static int
validate_listener_tls(struct loader *ld, const struct ynode *root,
    const struct config *cfg)
{
	const struct ynode *list = ynode_get(root, "listeners"), *at;
	const struct conf_listener *l;
	char key[48];
	size_t i;

	if (cfg->tls.ncertificates > 0 || cfg->tls.ca_cert != NULL)
		return 0;
	for (i = 0; i < cfg->nlisteners; i++) {
		l = &cfg->listeners[i];
		/* connect mode: the snapshot finds a certificate or says why */
		if (l->mode == LISTENER_CONNECT ||
		    ((l->mode == LISTENER_DAX || l->mode == LISTENER_DAX_NODE) &&
		    !l->tls))
			continue;
		at = ynode_or(ynode_get(ynode_item(list, i), "mode"), root);
		snprintf(key, sizeof(key), "listeners[%zu].mode", i);
		return fail_key(ld, at, key, "%s mode needs a certificate: "
		    "set tls.certificates or tls.ca_cert",
		    config_mode_name(l->mode));
	}
	return 0;
}

/* The admin listener must not take a client listener's address. */
static int
validate_metrics(struct loader *ld, const struct ynode *root,
    const struct config *cfg)
{
	const struct ynode *at = ynode_get(ynode_get(root, "metrics"),
	    "address");
	struct sockaddr_storage ss;
	socklen_t len;
	const char *why;
	size_t i;

	if (cfg->metrics.address == NULL ||
	    sockaddr_parse(cfg->metrics.address, 0, &ss, &len, &why) == -1)
		return 0;
	for (i = 0; i < cfg->nlisteners; i++) {
		if (sockaddr_same((const struct sockaddr *)&ss,
		    (const struct sockaddr *)&cfg->listeners[i].addr))
			return fail_key(ld, ynode_or(at, root),
			    "metrics.address", "%s is already used by "
			    "listeners[%zu]", cfg->metrics.address, i);
	}
	return 0;
}

/* A lower bound written above its upper bound (either may be a default). */
static int
validate_bounds(struct loader *ld, const struct ynode *root,
    const char *section, const char *lo_key, unsigned lo,
    const char *hi_key, unsigned hi)
{
	const struct ynode *sec = ynode_get(root, section);
	const struct ynode *at = ynode_get(sec, lo_key);
	char key[96];

	if (lo <= hi)
		return 0;
	if (at == NULL)
		at = ynode_get(sec, hi_key);
	snprintf(key, sizeof(key), "%s.%s", section, lo_key);
	return fail_key(ld, ynode_or(at, ynode_or(sec, root)), key, "%u is "
	    "above %s.%s (%u)", lo, section, hi_key, hi);
}

static int
validate_user_group(struct loader *ld, const struct ynode *root,
    const struct config *cfg)
{
	if (cfg->group == NULL || cfg->user != NULL)
		return 0;
	return fail_key(ld, ynode_or(ynode_get(root, "group"), root), "group",
	    "needs user: the group only applies when dropping to a user");
}

/* Loads a document's root mapping. Returns a config, or NULL. */
static struct config *
load_root(struct loader *ld, const struct ynode *root)
{
	struct config *cfg = xcalloc(1, sizeof(*cfg));

	cfg->path = xstrdup(ld->name);
	if (expect(ld, root, YNODE_MAPPING, "a mapping of keys at the top "
	    "level") == -1 ||
	    walk_scope(ld, root, "", cfg) == -1 ||
	    validate_dax(ld, root, cfg) == -1 ||
	    validate_ca_pair(ld, root, cfg) == -1 ||
	    validate_listener_tls(ld, root, cfg) == -1 ||
	    validate_metrics(ld, root, cfg) == -1 ||
	    validate_user_group(ld, root, cfg) == -1 ||
	    validate_bounds(ld, root, "resolver", "min_ttl_s",
	    cfg->resolver.min_ttl_s, "max_ttl_s", cfg->resolver.max_ttl_s) == -1 ||
	    validate_bounds(ld, root, "limits", "upstream_backoff_ms",
	    cfg->limits.upstream_backoff_ms, "upstream_backoff_max_ms",
	    cfg->limits.upstream_backoff_max_ms) == -1) {
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

/* ------------------------------------------------------------------ */
/* Built-in defaults                                                   */
/* ------------------------------------------------------------------ */

/* s as a YAML double-quoted scalar (caller frees). */
static char *
yaml_quote(const char *s)
{
	size_t i, o = 0, len = strlen(s);
	char *q = xmalloc(len * 4 + 3);

	q[o++] = '"';
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			q[o++] = '\\';
			q[o++] = (char)c;
		} else if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(q + o, 5, "\\x%02x", c);
		else
			q[o++] = (char)c;
	}
	q[o++] = '"';
	q[o] = '\0';
	return q;
}

/* A quoted "dir/file" for the YAML text of the defaults. */
static char *
state_file(const char *dir, const char *file)
{
	size_t len = strlen(dir);
	char *path, *q;

	xasprintf(&path, "%s%s%s", dir, len > 0 && dir[len - 1] == '/' ?
	    "" : "/", file);
	q = yaml_quote(path);
	free(path);
	return q;
}

/* A quoted "service.REGION.DNS-SUFFIX" for the region's partition. */
static char *
service_host(const char *service, const char *region)
{
	const char *suffix = strncmp(region, "cn-", 3) == 0 ?
	    "amazonaws.com.cn" : "amazonaws.com";
	char *host, *q;

	xasprintf(&host, "%s.%s.%s", service, region, suffix);
	q = yaml_quote(host);
	free(host);
	return q;
}

/*
 * The built-in configuration as YAML, so that it is loaded and validated
 * exactly like a file. Keys it leaves out take their table defaults.
 */
static char *
builtin_yaml(void)
{
	char *region = default_region(), *dir = default_state_dir();
	char *cert = state_file(dir, "ca.pem"), *key = state_file(dir, "ca.key");
	char *ddb = service_host("dynamodb", region);
	char *streams = service_host("streams.dynamodb", region);
	char *dax = service_host("dax", region), *qregion = yaml_quote(region);
	char *text;

	/* region first: a bad $AWS_REGION is reported as such. */
	xasprintf(&text,
	    "region: %s\n"
	    "listeners:\n"
	    "  - { address: \"127.0.0.1:3128\", mode: connect }\n"
	    "tls: { ca_cert: %s, ca_key: %s }\n"
	    "endpoints:\n"
	    "  - { name: dynamodb, service: dynamodb, hosts: [%s] }\n"
	    "  - { name: streams, service: streams, hosts: [%s] }\n"
	    "  - { name: dax, service: dax, hosts: [%s] }\n",
	    qregion, cert, key, ddb, streams, dax);
	free(qregion);
	free(region);
	free(dir);
	free(cert);
	free(key);
	free(ddb);
	free(streams);
	free(dax);
	return text;
}

/* ------------------------------------------------------------------ */
/* Public interface                                                    */
/* ------------------------------------------------------------------ */

struct config *
config_load_buffer(const char *name, const char *buf, size_t len, char *err,
    size_t errlen)
{
	struct loader ld = { .name = name, .err = err, .errlen = errlen };
	struct ynode *root = NULL;
	struct config *cfg;

	if (errlen > 0)
		err[0] = '\0';
	if (build_tree(&ld, buf, len, &root) == -1)
		return NULL;
	if (root == NULL || ynode_is_null(root)) {
		/* An empty file asks for nothing but the defaults. */
		ynode_free(root);
		cfg = config_defaults(err, errlen);
		if (cfg != NULL) {
			free(cfg->path);
			cfg->path = xstrdup(name);
		}
		return cfg;
	}
	cfg = load_root(&ld, root);
	ynode_free(root);
	return cfg;
}

/* Reads all of path, up to CONFIG_FILE_MAX. Returns 0, or -1 with err. */
static int
read_file(const char *path, char **out, size_t *outlen, char *err,
    size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t len = 0, n;

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	buf = xmalloc(CONFIG_FILE_MAX + 1);
	while ((n = fread(buf + len, 1, CONFIG_FILE_MAX + 1 - len, f)) > 0)
		len += n;
	if (ferror(f) || len > CONFIG_FILE_MAX) {
		snprintf(err, errlen, "%s: %s", path, ferror(f) ?
		    strerror(errno) : "larger than 4 MiB");
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	*out = buf;
	*outlen = len;
	return 0;
}

struct config *
config_load_file(const char *path, char *err, size_t errlen)
{
	struct config *cfg;
	char *buf;
	size_t len;

	if (read_file(path, &buf, &len, err, errlen) == -1)
		return NULL;
	cfg = config_load_buffer(path, buf, len, err, errlen);
	free(buf);
	return cfg;
}

struct config *
config_defaults(char *err, size_t errlen)
{
	char *text = builtin_yaml();
	struct loader ld = { .name = BUILTIN_NAME, .err = err,
	    .errlen = errlen };
	struct ynode *root = NULL;
	struct config *cfg = NULL;

	if (errlen > 0)
		err[0] = '\0';
	if (build_tree(&ld, text, strlen(text), &root) == 0)
		cfg = load_root(&ld, root);
	ynode_free(root);
	free(text);
	return cfg;
}

void
config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	free_scope("", cfg);
	free(cfg->path);
	free(cfg);
}

const struct conf_endpoint *
config_endpoint_for_host(const struct config *cfg, const char *name,
    size_t len)
{
	const struct conf_endpoint *e;
	size_t i, j;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0)
		return NULL;
	for (i = 0; i < cfg->nendpoints; i++) {
		e = &cfg->endpoints[i];
		for (j = 0; j < e->nhosts; j++) {
			if (strlen(e->hosts[j]) == len &&
			    strncasecmp(e->hosts[j], name, len) == 0)
				return e;
		}
	}
	return NULL;
}

bool
config_same_listener(const struct conf_listener *a,
    const struct conf_listener *b)
{
	return a->mode == b->mode &&
	    sockaddr_same((const struct sockaddr *)&a->addr,
	    (const struct sockaddr *)&b->addr);
}

const char *
config_mode_name(enum listener_mode mode)
{
	if (mode == LISTENER_DAX_NODE)
		return "dax-node";
	if ((size_t)mode >= nitems(mode_words) - 1)
		return "?";
	return mode_words[mode];
}

const char *
config_service_name(enum endpoint_service service)
{
	if ((size_t)service >= nitems(service_words) - 1)
		return "?";
	return service_words[service];
}

/* ------------------------------------------------------------------ */
/* config_print                                                        */
/* ------------------------------------------------------------------ */

/* Collects text in memory; out of memory is fatal, as for all loading. */
static FILE *
text_open(char **buf, size_t *len)
{
	FILE *f = open_memstream(buf, len);

	if (f == NULL)
		fatal("open_memstream");
	return f;
}

static char *
format_list(const struct key *k, const void *base)
{
	size_t i, n = *CFIELD(base, k->off2, size_t), len;
	char *buf, cidr[64];
	FILE *f;

	if (n == 0)
		return NULL;
	f = text_open(&buf, &len);
	for (i = 0; i < n; i++) {
		fputs(i == 0 ? "[" : ", ", f);
		if (k->type == KEY_STRINGS)
			fputs((*CFIELD(base, k->off, char **))[i], f);
		else
			fputs(cidr_format(&(*CFIELD(base, k->off,
			    struct cidr *))[i], cidr, sizeof(cidr)), f);
	}
	fputs("]", f);
	fclose(f);
	return buf;
}

static char *
format_upstreams(const struct key *k, const void *base)
{
	const struct conf_upstream *v =
	    *CFIELD(base, k->off, struct conf_upstream *);
	size_t i, n = *CFIELD(base, k->off2, size_t), len;
	char *buf;
	FILE *f;

	if (n == 0)
		return NULL;
	f = text_open(&buf, &len);
	for (i = 0; i < n; i++)
		fprintf(f, strchr(v[i].host, ':') != NULL ? "%s[%s]:%u" :
		    "%s%s:%u", n == 1 ? "" : i == 0 ? "[" : ", ", v[i].host,
		    (unsigned)v[i].port);
	if (n > 1)
		fputs("]", f);
	fclose(f);
	return buf;
}

static int
word_count(const char *const *words)
{
	int n = 0;

	while (words[n] != NULL)
		n++;
	return n;
}

/* The value of k in base as text (caller frees), NULL when unset. */
static char *
format_value(const struct key *k, const void *base)
{
	const char *s;
	char *out;
	int v;

	switch (k->type) {
	case KEY_STRING:
		s = *CFIELD(base, k->off, char *);
		if (s == NULL && (k->flags & KEY_OFF_NULL))
			s = "off";
		return s != NULL ? xstrdup(s) : NULL;
	case KEY_UINT:
		if (k->size == sizeof(uint64_t))
			xasprintf(&out, "%llu", (unsigned long long)
			    *CFIELD(base, k->off, uint64_t));
		else
			xasprintf(&out, "%u", *CFIELD(base, k->off, unsigned));
		return out;
	case KEY_BOOL:
		return xstrdup(*CFIELD(base, k->off, bool) ? "true" : "false");
	case KEY_ENUM:
		v = *CFIELD(base, k->off, int);
		if (k->words == mode_words)	/* dax-node is never written */
			return xstrdup(config_mode_name((enum listener_mode)v));
		return xstrdup(v >= 0 && v < word_count(k->words) ?
		    k->words[v] : "?");
	case KEY_STRINGS:
	case KEY_CIDRS:
		return format_list(k, base);
	case KEY_UPSTREAMS:
		return format_upstreams(k, base);
	default:
		return NULL;
	}
}

/* A struct of size bytes holding the defaults of scope (free_scope it). */
static void *
defaults_of(const char *scope, size_t size)
{
	char err[CONFIG_ERR_MAX];
	struct loader ld = { .name = "", .err = err, .errlen = sizeof(err) };
	struct ynode at = { .line = 1, .column = 1 };
	void *obj = xcalloc(1, size);

	(void)apply_defaults(&ld, scope, obj, &at, NULL);
	return obj;
}

/*
 * "label = value", marked "(default)" when the value is the one the key
 * gets when it is left out (for a key without a default: when unset).
 */
static void
print_key(FILE *out, const struct key *k, const char *label,
    const void *base, const void *def)
{
	char *v = format_value(k, base), *d = NULL;
	bool same;

	if (k->def != NULL || k->def_fn != NULL)
		d = format_value(k, def);
	same = (v == NULL && d == NULL) ||
	    (v != NULL && d != NULL && strcmp(v, d) == 0);

	fprintf(out, "%s = %s%s\n", label, v != NULL ? v :
	    k->unset != NULL ? k->unset : "(not set)",
	    same ? " (default)" : "");
	free(v);
	free(d);
}

static void print_scope(FILE *, const char *, const char *, const void *,
    size_t);

static void
print_items(FILE *out, const struct key *k, const void *base)
{
	char scope[KEY_NAME_MAX], *items;
	size_t i, n;

	items_get(k, base, &items, &n);
	if (n == 0) {
		fprintf(out, "%s = (none)\n", k->name);
		return;
	}
	items_scope(k, scope, sizeof(scope));
	for (i = 0; i < n; i++) {
		fprintf(out, "\n%s[%zu]:\n", k->name, i);
		print_scope(out, scope, "  ", items + i * k->size, k->size);
	}
}

/* Prints each key of scope held by base, lists of items as blocks. */
static void
print_scope(FILE *out, const char *scope, const char *indent,
    const void *base, size_t size)
{
	void *def = defaults_of(scope, size);
	char label[KEY_NAME_MAX + 8];
	bool after_block = false;
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		if (!key_in_scope(&keys[i], scope) ||
		    keys[i].type == KEY_SECTION)
			continue;
		if (keys[i].type == KEY_ITEMS) {
			print_items(out, &keys[i], base);
			after_block = true;
			continue;
		}
		if (after_block)
			fputs("\n", out);
		after_block = false;
		snprintf(label, sizeof(label), "%s%s", indent,
		    keys[i].name + strlen(scope));
		print_key(out, &keys[i], label, base, def);
	}
	free_scope(scope, def);
	free(def);
}

void
config_print(const struct config *cfg, FILE *out)
{
	fprintf(out, "# ddbgate configuration: %s\n", cfg->path);
	fprintf(out, "# every key with its effective value; \"(default)\" "
	    "marks built-in values\n");
	print_scope(out, "", "", cfg, sizeof(*cfg));
}
