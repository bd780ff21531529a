/*
 * classify — what a DynamoDB, DynamoDB Streams or DAX management request
 * asks to do (spec sections 2-4, 6, 8.2). See classify.h and
 * docs/classify.md, which lists what comes from which field.
 *
 * A request goes through these phases, each a section below:
 *
 *  1. headers: Content-Type, X-Amz-Target (one, exact, known), no query
 *     string, SigV4 (sigv4.c) with the endpoint's service and region;
 *  2. body: strict JSON (json.c: what jansson accepts with duplicate
 *     keys refused at any depth, read into an arena of its own), an object;
 *  3. the operation's handler from ops[] turns fields into (action,
 *     resource) pairs, each an authz_b with its condition keys; item
 *     operations share one table-driven FGAC reader (struct fgac), and
 *     PartiQL statements have a small strict reader of their own;
 *  4. request-wide keys (aws:...) and the result, copied into the
 *     result's arena.
 *
 * Everything a handler cannot read with certainty is refused: the first
 * refusal is kept in cx->why and every function returns -1 after it.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "arena.h"
#include "classify.h"
#include "json.h"
#include "sigv4.h"

#define nitems(a) (sizeof(a) / sizeof((a)[0]))

#define TYPE_DENIED "com.amazon.coral.service#AccessDeniedException"
#define TYPE_UNKNOWN_OP "com.amazon.coral.service#UnknownOperationException"
#define TYPE_SERIALIZATION "com.amazon.coral.service#SerializationException"
#define TYPE_INVALID_SIG "com.amazon.coral.service#InvalidSignatureException"
#define TYPE_INTERNAL "com.amazon.coral.service#InternalFailure"

#define WHERE_MAX 192		/* "TransactItems[99].ConditionCheck" */

#define K_LEADING "dynamodb:LeadingKeys"
#define K_FIRST_PK "dynamodb:FirstPartitionKeyValues"
#define K_RESOURCE_ACCOUNT "aws:ResourceAccount"

/* Keys of multi-attribute partition keys (spec 6.1), never derived. */
static const char *const multi_pk[] = {
	"dynamodb:SecondPartitionKeyValues",
	"dynamodb:ThirdPartitionKeyValues",
	"dynamodb:FourthPartitionKeyValues",
};
#define K_ATTRIBUTES "dynamodb:Attributes"
#define K_SELECT "dynamodb:Select"
#define K_RETURN_VALUES "dynamodb:ReturnValues"
#define K_RCC "dynamodb:ReturnConsumedCapacity"
#define K_ENCLOSING "dynamodb:EnclosingOperation"
#define K_FULL_SCAN "dynamodb:FullTableScan"
#define K_TAG_KEYS "aws:TagKeys"
#define K_DAX_TABLE "ddbgate:TableName"
#define K_DAX_ENCLOSING "dax:EnclosingOperation"

/* ------------------------------------------------------------------ */
/* The classification context                                          */
/* ------------------------------------------------------------------ */

/* A growable array in the arena. */
struct vec {
	void *items;
	size_t n, cap;
};

struct tag {
	const char *key, *value;
};

/* One (action, resource) pair being built, with its condition keys. */
struct authz_b {
	const char *action;
	const char *resource;
	const char *pk;			/* partition key of the table, or NULL */
	struct vec leading;		/* const char *: LeadingKeys values */
	bool has_leading, leading_unknown;
	struct vec attrs;		/* const char *: Attributes */
	bool attrs_unknown;
	const char *select, *return_values, *rcc, *enclosing, *full_scan;
	bool full_scan_unknown;
	bool returns_old_on_failure;	/* ReturnValuesOnConditionCheckFailure
					   ALL_OLD: the old item comes back */
	struct vec tags;		/* struct tag: aws:RequestTag/... */
	struct vec tag_keys;		/* const char *: aws:TagKeys */
	bool has_tag_keys;
	bool dax_item;			/* a DAX data-plane pair: its item keys
					   are not derived */
	const char *dax_table;		/* ddbgate:TableName */
	const char *dax_enclosing;	/* dax:EnclosingOperation */
};

struct op;

struct cx {
	const struct classify_input *in;
	struct classify_refusal *why;
	struct arena *arena;
	const struct op *op;
	const struct json_value *body;
	struct arena *body_arena;	/* the body's tree; freed with cx */
	struct sigv4_request sig;
	const struct conf_principal *principal;
	const char *partition;
	const char *account;		/* for ARNs built from names; may be NULL */
	bool account_unknown;		/* an ARN was built without an account */
	const char *rcc;		/* ReturnConsumedCapacity, or NULL */
	struct vec authz;		/* struct authz_b */
};

__attribute__((format(printf, 3, 0))) static int
refusev(struct cx *cx, const char *type, const char *fmt, va_list ap)
{
	snprintf(cx->why->type, sizeof(cx->why->type), "%s", type);
	vsnprintf(cx->why->message, sizeof(cx->why->message), fmt, ap);
	return -1;
}

/* Records the refusal (type and message) and returns -1. */
__attribute__((format(printf, 3, 4))) static int
refuse(struct cx *cx, const char *type, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	refusev(cx, type, fmt, ap);
	va_end(ap);
	return -1;
}

/* An AccessDeniedException: the gateway cannot read the request. */
__attribute__((format(printf, 2, 3))) static int
deny(struct cx *cx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	refusev(cx, TYPE_DENIED, fmt, ap);
	va_end(ap);
	return -1;
}

static int
out_of_memory(struct cx *cx)
{
	return refuse(cx, TYPE_INTERNAL, "out of memory classifying the "
	    "request");
}

static void *
cx_alloc(struct cx *cx, size_t n)
{
	void *p = arena_alloc(cx->arena, n);

	if (p == NULL)
		out_of_memory(cx);
	else
		memset(p, 0, n);
	return p;
}

static char *
cx_strndup(struct cx *cx, const char *s, size_t len)
{
	char *p = arena_alloc(cx->arena, len + 1);

	if (p == NULL) {
		out_of_memory(cx);
		return NULL;
	}
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

static char *
cx_strdup(struct cx *cx, const char *s)
{
	return cx_strndup(cx, s, strlen(s));
}

/*
 * The strings of the list (ended by NULL) one after the other, in the
 * arena: the ARNs built on every request, without a format to interpret.
 */
__attribute__((sentinel)) static char *
cx_cat(struct cx *cx, ...)
{
	const char *s;
	size_t n = 0;
	va_list ap;
	char *p, *q;

	va_start(ap, cx);
	while ((s = va_arg(ap, const char *)) != NULL)
		n += strlen(s);
	va_end(ap);
	if ((p = arena_alloc(cx->arena, n + 1)) == NULL) {
		out_of_memory(cx);
		return NULL;
	}
	q = p;
	va_start(ap, cx);
	while ((s = va_arg(ap, const char *)) != NULL) {
		size_t len = strlen(s);

		memcpy(q, s, len);
		q += len;
	}
	va_end(ap);
	*q = '\0';
	return p;
}

__attribute__((format(printf, 2, 3))) static char *
cx_printf(struct cx *cx, const char *fmt, ...)
{
	char local[256];
	va_list ap;
	char *p;
	int n;

	/* Most results (ARNs) fit the local buffer: one formatting pass. */
	va_start(ap, fmt);
	n = vsnprintf(local, sizeof(local), fmt, ap);
	va_end(ap);
	if (n < 0 || (p = arena_alloc(cx->arena, (size_t)n + 1)) == NULL) {
		out_of_memory(cx);
		return NULL;
	}
	if ((size_t)n < sizeof(local)) {
		memcpy(p, local, (size_t)n + 1);
		return p;
	}
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

/* A new zeroed slot of size bytes at the end of v, or NULL. */
static void *
vec_add(struct cx *cx, struct vec *v, size_t size)
{
	size_t cap;
	void *items;

	if (v->n == v->cap) {
		cap = v->cap == 0 ? 4 : v->cap * 2;
		if ((items = cx_alloc(cx, cap * size)) == NULL)
			return NULL;
		if (v->n > 0)
			memcpy(items, v->items, v->n * size);
		v->items = items;
		v->cap = cap;
	}
	return memset((char *)v->items + v->n++ * size, 0, size);
}

/* Adds s to a set of strings (a vec of const char *) unless it is there. */
static int
set_add(struct cx *cx, struct vec *set, const char *s)
{
	const char **items = set->items, **slot;
	size_t i;

	for (i = 0; i < set->n; i++) {
		if (strcmp(items[i], s) == 0)
			return 0;
	}
	if ((slot = vec_add(cx, set, sizeof(*slot))) == NULL)
		return -1;
	*slot = s;
	return 0;
}

static struct authz_b *
authz_add(struct cx *cx, const char *action, const char *resource)
{
	struct authz_b *b = vec_add(cx, &cx->authz, sizeof(*b));

	if (b == NULL)
		return NULL;
	b->action = action;
	b->resource = resource;
	return b;
}

/* ------------------------------------------------------------------ */
/* Characters and names                                                */
/* ------------------------------------------------------------------ */

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool
is_alpha(char c)
{
	return is_lower(c) || (c >= 'A' && c <= 'Z');
}

static bool
is_word_char(char c)
{
	return is_alpha(c) || is_digit(c) || c == '_';
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* 3-255 of [a-zA-Z0-9_.-]: table and index names (spec 4.4). */
static bool
is_table_name(const char *s, size_t len)
{
	size_t i;

	if (len < 3 || len > 255)
		return false;
	for (i = 0; i < len; i++) {
		if (!is_word_char(s[i]) && s[i] != '.' && s[i] != '-')
			return false;
	}
	return true;
}

/* "us-east-1", "us-gov-west-1": two letters, words, a number. */
static bool
is_region(const char *s, size_t len)
{
	size_t i = 3, words = 0;

	if (len < 6 || len > 32 || !is_lower(s[0]) || !is_lower(s[1]) ||
	    s[2] != '-')
		return false;
	while (i < len && !is_digit(s[i])) {
		if (!is_lower(s[i]))
			return false;
		while (i < len && is_lower(s[i]))
			i++;
		if (i >= len || s[i] != '-')
			return false;
		i++;
		words++;
	}
	if (words == 0 || i == len)
		return false;
	while (i < len && is_digit(s[i]))
		i++;
	return i == len;
}

static bool
is_account(const char *s, size_t len)
{
	size_t i;

	if (len != 12)
		return false;
	for (i = 0; i < len; i++) {
		if (!is_digit(s[i]))
			return false;
	}
	return true;
}

/* The ARN partition of a region (spec 1.1). */
static const char *
region_partition(const char *region)
{
	static const struct {
		const char *prefix, *partition;
	} map[] = {
		{ "cn-", "aws-cn" },
		{ "us-gov-", "aws-us-gov" },
		{ "eusc-", "aws-eusc" },
		{ "us-isob-", "aws-iso-b" },
		{ "us-isof-", "aws-iso-f" },
		{ "eu-isoe-", "aws-iso-e" },
		{ "us-iso-", "aws-iso" },
	};
	size_t i;

	for (i = 0; i < nitems(map); i++) {
		if (strncmp(region, map[i].prefix, strlen(map[i].prefix)) == 0)
			return map[i].partition;
	}
	return "aws";
}

/* ------------------------------------------------------------------ */
/* ARNs (spec 4.5)                                                     */
/* ------------------------------------------------------------------ */

enum arn_kind {
	ARN_TABLE = 0x01,
	ARN_INDEX = 0x02,
	ARN_STREAM = 0x04,
	ARN_BACKUP = 0x08,
	ARN_EXPORT = 0x10,
	ARN_IMPORT = 0x20,
	ARN_GLOBAL_TABLE = 0x40,
	ARN_DAX_CACHE = 0x80,
};

#define ARN_ANY_DYNAMODB (ARN_TABLE | ARN_INDEX | ARN_STREAM | ARN_BACKUP | \
	ARN_EXPORT | ARN_IMPORT | ARN_GLOBAL_TABLE)

struct arn {
	const char *service, *region, *account, *resource;
	size_t service_len, region_len, account_len, resource_len;
};

/* Splits "arn:p:service:region:account:resource"; -1 if it is not one. */
static int
arn_split(const char *s, struct arn *a)
{
	const char *f[5];
	size_t i;

	if (strncmp(s, "arn:", 4) != 0)
		return -1;
	f[0] = s + 4;
	for (i = 1; i < 5; i++) {
		if ((f[i] = strchr(f[i - 1], ':')) == NULL)
			return -1;
		f[i]++;
	}
	/* partition: lower-case letters and '-' */
	for (i = 0; f[0] + i < f[1] - 1; i++) {
		if (!is_lower(f[0][i]) && f[0][i] != '-')
			return -1;
	}
	if (i == 0 || i > 16)
		return -1;
	a->service = f[1];
	a->service_len = (size_t)(f[2] - f[1] - 1);
	a->region = f[2];
	a->region_len = (size_t)(f[3] - f[2] - 1);
	a->account = f[3];
	a->account_len = (size_t)(f[4] - f[3] - 1);
	a->resource = f[4];
	a->resource_len = strlen(f[4]);
	return 0;
}

/* [A-Za-z0-9._-]{1,255}: backup, export and import ids. */
static bool
is_id(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 255)
		return false;
	for (i = 0; i < len; i++) {
		if (!is_word_char(s[i]) && s[i] != '.' && s[i] != '-')
			return false;
	}
	return true;
}

/* A stream label: "2015-05-20T20:51:10.252". */
static bool
is_stream_label(const char *s, size_t len)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.ddd";
	size_t i;

	if (len != sizeof(shape) - 1)
		return false;
	for (i = 0; i < len; i++) {
		if (shape[i] == 'd' ? !is_digit(s[i]) : s[i] != shape[i])
			return false;
	}
	return true;
}

/* DAX cluster names: a letter, then letters, digits, single hyphens. */
static bool
is_cluster_name(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 20 || !is_alpha(s[0]) || s[len - 1] == '-')
		return false;
	for (i = 1; i < len; i++) {
		if (s[i] == '-' && s[i - 1] == '-')
			return false;
		if (!is_alpha(s[i]) && !is_digit(s[i]) && s[i] != '-')
			return false;
	}
	return true;
}

/* The kind of a dynamodb resource "table/T[/kind/X]" or "global-table/T". */
static enum arn_kind
dynamodb_resource_kind(const char *r, size_t len, bool regional)
{
	static const struct {
		const char *word;
		enum arn_kind kind;
	} sub[] = {
		{ "/index/", ARN_INDEX }, { "/stream/", ARN_STREAM },
		{ "/backup/", ARN_BACKUP }, { "/export/", ARN_EXPORT },
		{ "/import/", ARN_IMPORT },
	};
	const char *slash, *rest;
	size_t i, n, wl;

	if (!regional) {
		return len > 13 && memcmp(r, "global-table/", 13) == 0 &&
		    is_table_name(r + 13, len - 13) ? ARN_GLOBAL_TABLE : 0;
	}
	if (len < 6 || memcmp(r, "table/", 6) != 0)
		return 0;
	slash = memchr(r + 6, '/', len - 6);
	n = slash != NULL ? (size_t)(slash - r) - 6 : len - 6;
	if (!is_table_name(r + 6, n))
		return 0;
	if (slash == NULL)
		return ARN_TABLE;
	for (i = 0; i < nitems(sub); i++) {
		wl = strlen(sub[i].word);
		if ((size_t)(r + len - slash) <= wl ||
		    memcmp(slash, sub[i].word, wl) != 0)
			continue;
		rest = slash + wl;
		n = (size_t)(r + len - rest);
		if (sub[i].kind == ARN_INDEX)
			return is_table_name(rest, n) ? ARN_INDEX : 0;
		if (sub[i].kind == ARN_STREAM)
			return is_stream_label(rest, n) ? ARN_STREAM : 0;
		return is_id(rest, n) ? sub[i].kind : 0;
	}
	return 0;
}

/* The kind of ARN s (0: none we know), checked field by field. */
static enum arn_kind
arn_kind(const char *s)
{
	struct arn a;

	if (arn_split(s, &a) == -1 || !is_account(a.account, a.account_len))
		return 0;
	if (a.service_len == 3 && memcmp(a.service, "dax", 3) == 0) {
		if (!is_region(a.region, a.region_len) ||
		    a.resource_len <= 6 || memcmp(a.resource, "cache/", 6) != 0 ||
		    !is_cluster_name(a.resource + 6, a.resource_len - 6))
			return 0;
		return ARN_DAX_CACHE;
	}
	if (a.service_len != 8 || memcmp(a.service, "dynamodb", 8) != 0)
		return 0;
	if (a.region_len == 0)
		return dynamodb_resource_kind(a.resource, a.resource_len, false);
	if (!is_region(a.region, a.region_len))
		return 0;
	return dynamodb_resource_kind(a.resource, a.resource_len, true);
}

/* The account for ARNs built from names, or a refusal naming what. */
static int
need_account(struct cx *cx, const char *what, const char *name)
{
	if (cx->account != NULL)
		return 0;
	/*
	 * Not a refusal yet: the ARN gets an empty account segment and the
	 * result says so; the caller refuses only when the policy's
	 * decision could depend on the account (enforce.c).
	 */
	cx->account_unknown = true;
	cx->account = "";
	return 0;
}

/* ------------------------------------------------------------------ */
/* JSON fields                                                         */
/* ------------------------------------------------------------------ */

/* Every member name a handler reads, to refuse case variants of them. */
#define F(s) { s, sizeof(s) - 1 }
static const struct {
	const char *name;
	size_t len;
} known_fields[] = {
	F("TableName"), F("IndexName"), F("Key"), F("Keys"), F("Item"),
	F("RequestItems"), F("PutRequest"), F("DeleteRequest"),
	F("TransactItems"), F("Get"), F("Put"), F("Update"), F("Delete"),
	F("ConditionCheck"), F("ProjectionExpression"), F("AttributesToGet"),
	F("UpdateExpression"), F("ConditionExpression"), F("FilterExpression"),
	F("KeyConditionExpression"), F("ExpressionAttributeNames"),
	F("ExpressionAttributeValues"), F("AttributeUpdates"), F("Expected"),
	F("QueryFilter"), F("ScanFilter"), F("KeyConditions"),
	F("ComparisonOperator"), F("AttributeValueList"), F("Select"),
	F("ReturnValues"), F("ReturnConsumedCapacity"), F("Statement"),
	F("Statements"), F("TransactStatements"), F("StreamArn"),
	F("ShardIterator"), F("BackupArn"), F("ExportArn"), F("ImportArn"),
	F("ResourceArn"), F("TableArn"), F("SourceTableArn"),
	F("SourceTableName"), F("TargetTableName"),
	F("TableCreationParameters"), F("GlobalTableName"),
	F("ReplicationGroup"), F("RegionName"), F("ReplicaUpdates"),
	F("ReplicaSettingsUpdate"), F("Create"), F("ResourcePolicy"), F("Tags"),
	F("TagKeys"), F("Value"), F("ClusterName"), F("ResourceName"),
};
#undef F

/* Whether v is there and of kind k. */
static bool
is(const struct json_value *v, enum json_kind k)
{
	return v != NULL && v->kind == k;
}

/* The items or members of v, an array or object; 0 for an absent field. */
static size_t
nchildren(const struct json_value *v)
{
	return v != NULL ? v->len : 0;
}

/*
 * Refuses a member of obj that differs from a field we read only in
 * case: if AWS matched member names without case, "indexName" would
 * query an index the gateway never looked at.
 */
static int
check_case(struct cx *cx, const struct json_value *obj, const char *where)
{
	const struct json_member *m;
	const char *known;
	size_t i, k;

	for (k = 0; k < obj->len; k++) {
		m = &obj->u.members[k];
		for (i = 0; i < nitems(known_fields); i++) {
			known = known_fields[i].name;
			/* Cheap tests first: this runs for every member. */
			if (m->name_len != known_fields[i].len ||
			    (m->name[0] | 0x20) != (known[0] | 0x20) ||
			    memcmp(m->name, known, m->name_len) == 0)
				continue;
			if (strcasecmp(m->name, known) == 0)
				return deny(cx, "%s%smember %s differs from %s "
				    "only in case", where, *where ? ": " : "",
				    known, known);
		}
	}
	return 0;
}

static const char *
type_name(enum json_kind t)
{
	switch (t) {
	case JSON_KIND_OBJECT:
		return "an object";
	case JSON_KIND_ARRAY:
		return "an array";
	case JSON_KIND_STRING:
		return "a string";
	case JSON_KIND_INTEGER:
	case JSON_KIND_REAL:
		return "a number";
	default:
		return "a boolean";
	}
}

/*
 * Member field of obj, which must have type t when present. Returns 1
 * with *out set, 0 when absent (and not required), -1 refused. where
 * names obj in messages ("" for the body).
 */
static int
field(struct cx *cx, const struct json_value *obj, const char *where,
    const char *name, enum json_kind t, bool required,
    const struct json_value **out)
{
	const struct json_value *v = json_get(obj, name);

	*out = NULL;
	if (v == NULL) {
		if (required)
			return deny(cx, "%s%s%s is required", where,
			    *where ? "." : "", name);
		return 0;
	}
	if (v->kind != t)
		return deny(cx, "%s%s%s must be %s", where, *where ? "." : "",
		    name, type_name(t));
	*out = v;
	return 1;
}

static int
string_field(struct cx *cx, const struct json_value *obj, const char *where,
    const char *name, bool required, const char **out)
{
	const struct json_value *v;
	int rv = field(cx, obj, where, name, JSON_KIND_STRING, required, &v);

	*out = rv == 1 ? v->u.string : NULL;
	return rv;
}

/* A string field whose value must be one of words (NULL-terminated). */
static int
enum_field(struct cx *cx, const struct json_value *obj, const char *where,
    const char *name, const char *const *words, const char **out)
{
	const char *s;
	size_t i;
	int rv;

	*out = NULL;
	if ((rv = string_field(cx, obj, where, name, false, &s)) != 1)
		return rv;
	for (i = 0; words[i] != NULL; i++) {
		if (strcmp(s, words[i]) == 0) {
			*out = words[i];
			return 1;
		}
	}
	return deny(cx, "%s%s%s is not a value the gateway knows", where,
	    *where ? "." : "", name);
}

/*
 * Paths for messages are built on every request, so without snprintf:
 * where_put appends len bytes of s to the path of *n bytes in buf
 * (WHERE_MAX), *n counting what did not fit too; where_end terminates
 * it, a cut path ending in "...".
 */
static void
where_put(char *buf, size_t *n, const char *s, size_t len)
{
	size_t room = *n < WHERE_MAX - 1 ? WHERE_MAX - 1 - *n : 0;

	memcpy(buf + (*n < WHERE_MAX - 1 ? *n : WHERE_MAX - 1), s,
	    len < room ? len : room);
	*n += len;
}

static const char *
where_end(char *buf, size_t n)
{
	if (n >= WHERE_MAX)
		memcpy(buf + WHERE_MAX - 4, "...", 4);
	else
		buf[n] = '\0';
	return buf;
}

/* "where.name" or "where[i]" into buf, for messages. */
static const char *
where_join(char *buf, const char *where, const char *name)
{
	size_t n = 0;

	where_put(buf, &n, where, strlen(where));
	if (*where != '\0')
		where_put(buf, &n, ".", 1);
	where_put(buf, &n, name, strlen(name));
	return where_end(buf, n);
}

static const char *
where_index(char *buf, const char *where, size_t i)
{
	char digits[24];
	size_t n = 0, d = sizeof(digits);

	digits[--d] = ']';
	do {
		digits[--d] = (char)('0' + i % 10);
		i /= 10;
	} while (i > 0);
	digits[--d] = '[';
	where_put(buf, &n, where, strlen(where));
	where_put(buf, &n, digits + d, sizeof(digits) - d);
	return where_end(buf, n);
}

/* ------------------------------------------------------------------ */
/* Resources from fields (spec 4.4)                                    */
/* ------------------------------------------------------------------ */

/* The table ARN for s, a table name or a table ARN (used as is). */
static const char *
table_arn(struct cx *cx, const char *what, const char *s)
{
	if (strncmp(s, "arn:", 4) == 0) {
		if (arn_kind(s) != ARN_TABLE) {
			deny(cx, "%s is not a table ARN", what);
			return NULL;
		}
		return cx_strdup(cx, s);
	}
	if (!is_table_name(s, strlen(s))) {
		deny(cx, "%s is not a valid table name or table ARN", what);
		return NULL;
	}
	if (need_account(cx, "table", s) == -1)
		return NULL;
	return cx_cat(cx, "arn:", cx->partition, ":dynamodb:",
	    cx->sig.auth.region, ":", cx->account, ":table/", s, (char *)NULL);
}

/* The table ARN of field name in obj; NULL and *present false if absent. */
static int
table_field(struct cx *cx, const struct json_value *obj, const char *where,
    const char *name, bool required, const char **arn)
{
	char buf[WHERE_MAX];
	const char *s;
	int rv;

	*arn = NULL;
	if ((rv = string_field(cx, obj, where, name, required, &s)) != 1)
		return rv;
	if ((*arn = table_arn(cx, where_join(buf, where, name), s)) == NULL)
		return -1;
	return 1;
}

static const char *
index_arn(struct cx *cx, const char *table, const char *what,
    const char *index)
{
	if (!is_table_name(index, strlen(index))) {
		deny(cx, "%s is not a valid index name", what);
		return NULL;
	}
	return cx_cat(cx, table, "/index/", index, (char *)NULL);
}

/* An ARN field that must be of one of kinds; used as is. */
static int
arn_field(struct cx *cx, const struct json_value *obj, const char *name,
    unsigned kinds, const char *what, bool required, const char **arn)
{
	const char *s;
	int rv;

	*arn = NULL;
	if ((rv = string_field(cx, obj, "", name, required, &s)) != 1)
		return rv;
	if ((arn_kind(s) & kinds) == 0)
		return deny(cx, "%s is not %s", name, what);
	if ((*arn = cx_strdup(cx, s)) == NULL)
		return -1;
	return 1;
}

/* The configured partition key of the table with this ARN, or NULL. */
static const char *
partition_key(const struct cx *cx, const char *arn)
{
	const struct config *cfg = cx->in->cfg;
	size_t i;

	for (i = 0; i < cfg->ntables; i++) {
		if (strcmp(cfg->tables[i].arn, arn) == 0)
			return cfg->tables[i].partition_key;
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* DynamoDB expressions: the heads of attribute paths                  */
/* ------------------------------------------------------------------ */

enum etok {
	ET_NAME,	/* an attribute name written as it is */
	ET_HASH,	/* #placeholder */
	ET_VALUE,	/* :value */
	ET_KEYWORD,	/* AND OR NOT BETWEEN IN SET REMOVE ADD DELETE */
	ET_FUNC,	/* a function name (followed by '(') */
	ET_DOT,
	ET_INDEX,	/* [n] */
	ET_EQ,
	ET_OTHER,	/* ( ) , + - < <= <> > >= */
};

struct etoken {
	enum etok kind;
	const char *p;
	size_t len;
};

static bool
word_in(const char *p, size_t len, const char *const *words, bool nocase)
{
	size_t i;

	for (i = 0; words[i] != NULL; i++) {
		if (strlen(words[i]) != len)
			continue;
		if (nocase ? strncasecmp(p, words[i], len) == 0 :
		    memcmp(p, words[i], len) == 0)
			return true;
	}
	return false;
}

static const char *const expr_keywords[] = { "AND", "OR", "NOT", "BETWEEN",
    "IN", "SET", "REMOVE", "ADD", "DELETE", NULL };
static const char *const expr_functions[] = { "attribute_exists",
    "attribute_not_exists", "attribute_type", "begins_with", "contains",
    "size", "if_not_exists", "list_append", NULL };

/* An identifier at s[i]: keyword, function or attribute name. */
static int
expr_word(const char *s, size_t len, size_t i, struct etoken *t, size_t *end)
{
	size_t j = i, k;

	while (j < len && is_word_char(s[j]))
		j++;
	*end = j;
	if (word_in(s + i, j - i, expr_keywords, true)) {
		t->kind = ET_KEYWORD;
		return 0;
	}
	for (k = j; k < len && is_space(s[k]); k++)
		;
	if (k < len && s[k] == '(') {
		t->kind = ET_FUNC;
		return word_in(s + i, j - i, expr_functions, false) ? 0 : -1;
	}
	t->kind = ET_NAME;
	return 0;
}

/* The next token from *pos: 1, 0 at the end, -1 for what we cannot read. */
static int
expr_next(const char *s, size_t len, size_t *pos, struct etoken *t)
{
	size_t i = *pos, j = i + 1;

	while (i < len && is_space(s[i]))
		i++;
	if (i == len)
		return 0;
	t->p = s + i;
	j = i + 1;
	if (s[i] == '#' || s[i] == ':') {
		t->kind = s[i] == '#' ? ET_HASH : ET_VALUE;
		while (j < len && is_word_char(s[j]))
			j++;
		if (j == i + 1)
			return -1;
	} else if (is_alpha(s[i]) || s[i] == '_') {
		if (expr_word(s, len, i, t, &j) == -1)
			return -1;
	} else if (s[i] == '[') {
		while (j < len && is_digit(s[j]))
			j++;
		if (j == i + 1 || j == len || s[j] != ']')
			return -1;
		j++;
		t->kind = ET_INDEX;
	} else if (s[i] == '.' || s[i] == '=') {
		t->kind = s[i] == '.' ? ET_DOT : ET_EQ;
	} else if (s[i] == '<' || s[i] == '>') {
		if (j < len && (s[j] == '=' || (s[i] == '<' && s[j] == '>')))
			j++;
		t->kind = ET_OTHER;
	} else if (strchr("(),+-", s[i]) != NULL) {
		t->kind = ET_OTHER;
	} else
		return -1;
	t->len = j - i;
	*pos = j;
	return 1;
}

/* The attribute name a NAME or HASH token stands for, or NULL. */
static const char *
expr_name(struct cx *cx, const struct etoken *t, const struct json_value *names,
    const char *field)
{
	const struct json_value *v;
	char *key;

	if ((key = cx_strndup(cx, t->p, t->len)) == NULL)
		return NULL;
	if (t->kind == ET_NAME)
		return key;
	if (names == NULL || (v = json_get(names, key)) == NULL) {
		deny(cx, "%s uses a placeholder that ExpressionAttributeNames "
		    "does not define", field);
		return NULL;
	}
	return v->u.string;
}

/*
 * Adds the head of every attribute path in expression text to attrs:
 * "a.b[1] = :v AND size(#c) > :n" names a and what #c stands for.
 */
static int
expr_attributes(struct cx *cx, const char *field, const char *text,
    const struct json_value *names, struct vec *attrs)
{
	size_t pos = 0, len = strlen(text);
	bool in_path = false, want_elem = false;
	const char *name;
	struct etoken t;
	int r;

	while ((r = expr_next(text, len, &pos, &t)) == 1) {
		if (t.kind == ET_NAME || t.kind == ET_HASH) {
			if ((name = expr_name(cx, &t, names, field)) == NULL)
				return -1;
			if (!want_elem && in_path)
				break;
			if (!want_elem && set_add(cx, attrs, name) == -1)
				return -1;
			in_path = true;
			want_elem = false;
		} else if (t.kind == ET_DOT || t.kind == ET_INDEX) {
			if (!in_path || want_elem)
				break;
			want_elem = t.kind == ET_DOT;
		} else {
			if (want_elem)
				break;
			in_path = false;
		}
	}
	if (r != 0 || want_elem)
		return deny(cx, "cannot read %s", field);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Condition keys of item operations (spec 6.1)                        */
/* ------------------------------------------------------------------ */

enum select_rule {
	SELECT_NONE,
	SELECT_IMPLIED,	/* GetItem, BatchGetItem: by the projection */
	SELECT_FIELD,	/* Query, Scan: Select, else by projection and index */
};

enum rv_rule {
	RV_NONE,	/* no dynamodb:ReturnValues */
	RV_FIELD,	/* ReturnValues, NONE when absent */
	RV_DEFAULT,	/* always NONE */
};

enum lk_rule {
	LK_NONE,	/* no dynamodb:LeadingKeys (Scan) */
	LK_KEY,		/* the partition key of key_field (an object) */
	LK_KEYS,	/* ... of each object of the array key_field */
	LK_QUERY,	/* the equality of the key condition */
};

/* What the keys of one item-level request come from. */
struct fgac {
	const char *key_field;		/* "Key", "Item", "Keys" or NULL */
	enum lk_rule leading;
	const char *const *exprs;	/* expressions naming attributes */
	const char *const *maps;	/* legacy maps keyed by attribute */
	bool attributes_to_get;
	enum select_rule select;
	enum rv_rule rv;
};

static const char *const ex_projection[] = { "ProjectionExpression", NULL };
static const char *const ex_condition[] = { "ConditionExpression", NULL };
static const char *const ex_update[] = { "UpdateExpression",
    "ConditionExpression", NULL };
static const char *const ex_query[] = { "KeyConditionExpression",
    "FilterExpression", "ProjectionExpression", NULL };
static const char *const ex_scan[] = { "FilterExpression",
    "ProjectionExpression", NULL };
static const char *const mp_none[] = { NULL };
static const char *const mp_expected[] = { "Expected", NULL };
static const char *const mp_update[] = { "AttributeUpdates", "Expected",
    NULL };
static const char *const mp_query[] = { "KeyConditions", "QueryFilter", NULL };
static const char *const mp_scan[] = { "ScanFilter", NULL };

static const struct fgac fg_get = { "Key", LK_KEY, ex_projection, mp_none,
    true, SELECT_IMPLIED, RV_NONE };
static const struct fgac fg_put = { "Item", LK_KEY, ex_condition,
    mp_expected, false, SELECT_NONE, RV_FIELD };
static const struct fgac fg_update = { "Key", LK_KEY, ex_update, mp_update,
    false, SELECT_NONE, RV_FIELD };
static const struct fgac fg_delete = { "Key", LK_KEY, ex_condition,
    mp_expected, false, SELECT_NONE, RV_FIELD };
static const struct fgac fg_query = { NULL, LK_QUERY, ex_query, mp_query,
    true, SELECT_FIELD, RV_NONE };
static const struct fgac fg_scan = { NULL, LK_NONE, ex_scan, mp_scan, true,
    SELECT_FIELD, RV_NONE };
static const struct fgac fg_batch_get = { "Keys", LK_KEYS, ex_projection,
    mp_none, true, SELECT_IMPLIED, RV_NONE };
static const struct fgac fg_batch_put = { "Item", LK_KEY, NULL, mp_none,
    false, SELECT_NONE, RV_NONE };
static const struct fgac fg_batch_delete = { "Key", LK_KEY, NULL, mp_none,
    false, SELECT_NONE, RV_NONE };
static const struct fgac fg_transact_get = { "Key", LK_KEY, ex_projection,
    mp_none, false, SELECT_IMPLIED, RV_NONE };
static const struct fgac fg_transact_put = { "Item", LK_KEY, ex_condition,
    mp_none, false, SELECT_NONE, RV_DEFAULT };
static const struct fgac fg_transact_update = { "Key", LK_KEY, ex_update,
    mp_none, false, SELECT_NONE, RV_DEFAULT };
static const struct fgac fg_transact_delete = { "Key", LK_KEY, ex_condition,
    mp_none, false, SELECT_NONE, RV_DEFAULT };
static const struct fgac fg_check = { "Key", LK_KEY, ex_condition, mp_none,
    false, SELECT_NONE, RV_DEFAULT };

static const char *const select_words[] = { "ALL_ATTRIBUTES",
    "ALL_PROJECTED_ATTRIBUTES", "SPECIFIC_ATTRIBUTES", "COUNT", NULL };
static const char *const rv_words[] = { "NONE", "ALL_OLD", "UPDATED_OLD",
    "ALL_NEW", "UPDATED_NEW", NULL };
static const char *const rcc_words[] = { "INDEXES", "TOTAL", "NONE", NULL };

/* One item-level request object and what it may refer to. */
struct item {
	const struct json_value *obj;
	const char *where;		/* names obj in messages */
	const struct json_value *names;	/* ExpressionAttributeNames or NULL */
	const struct json_value *values; /* ExpressionAttributeValues or NULL */
	bool index;			/* the request reads an index */
};

static int
load_placeholders(struct cx *cx, struct item *it)
{
	const struct json_value *v;
	size_t i;

	if (field(cx, it->obj, it->where, "ExpressionAttributeNames",
	    JSON_KIND_OBJECT, false, &it->names) == -1 ||
	    field(cx, it->obj, it->where, "ExpressionAttributeValues",
	    JSON_KIND_OBJECT, false, &it->values) == -1)
		return -1;
	v = it->names;
	if (v == NULL)
		return 0;
	for (i = 0; i < v->len; i++) {
		if (!is(&v->u.members[i].value, JSON_KIND_STRING))
			return deny(cx, "%s%sExpressionAttributeNames must map "
			    "placeholders to strings", it->where,
			    *it->where ? "." : "");
	}
	return 0;
}

/*
 * The string a partition-key value stands for in LeadingKeys: an
 * AttributeValue with exactly one of S, N (the number's text) or B (the
 * base64 text).
 */
static const char *
key_value(struct cx *cx, const struct json_value *av, const char *where)
{
	const struct json_member *m;

	if (is(av, JSON_KIND_OBJECT) && av->len == 1) {
		m = &av->u.members[0];
		if ((strcmp(m->name, "S") == 0 || strcmp(m->name, "N") == 0 ||
		    strcmp(m->name, "B") == 0) && is(&m->value,
		    JSON_KIND_STRING))
			return m->value.u.string;
	}
	deny(cx, "%s: the partition key value must be one S, N or B", where);
	return NULL;
}

/* LeadingKeys and attribute names of one key or item object. */
static int
key_object(struct cx *cx, struct authz_b *b, const struct json_value *key,
    const char *where, bool leading)
{
	const struct json_value *m;
	const char *v;
	size_t i;

	for (i = 0; i < key->len; i++) {
		if (set_add(cx, &b->attrs, key->u.members[i].name) == -1)
			return -1;
	}
	if (!leading || b->pk == NULL)
		return 0;
	if ((m = json_get(key, b->pk)) == NULL)
		return deny(cx, "%s has no value for the partition key of the "
		    "table", where);
	if ((v = key_value(cx, m, where)) == NULL)
		return -1;
	b->has_leading = true;
	return set_add(cx, &b->leading, v);
}

static int
fgac_keys(struct cx *cx, struct authz_b *b, const struct fgac *fg,
    const struct item *it)
{
	const struct json_value *v, *k;
	char buf[WHERE_MAX], ibuf[WHERE_MAX];
	size_t i;

	if (fg->key_field == NULL)
		return 0;
	where_join(buf, it->where, fg->key_field);
	if (fg->leading == LK_KEY) {
		if (field(cx, it->obj, it->where, fg->key_field,
		    JSON_KIND_OBJECT, true, &v) == -1)
			return -1;
		return key_object(cx, b, v, buf, true);
	}
	if (field(cx, it->obj, it->where, fg->key_field, JSON_KIND_ARRAY, true,
	    &v) == -1)
		return -1;
	for (i = 0; i < nchildren(v); i++) {
		k = &v->u.items[i];
		where_index(ibuf, buf, i);
		if (!is(k, JSON_KIND_OBJECT))
			return deny(cx, "%s must be an object", ibuf);
		if (key_object(cx, b, k, ibuf, true) == -1)
			return -1;
	}
	return 0;
}

static int
fgac_exprs(struct cx *cx, struct authz_b *b, const struct fgac *fg,
    const struct item *it)
{
	const char *text;
	char buf[WHERE_MAX];
	size_t i;
	int rv;

	for (i = 0; fg->exprs != NULL && fg->exprs[i] != NULL; i++) {
		rv = string_field(cx, it->obj, it->where, fg->exprs[i], false,
		    &text);
		if (rv == -1)
			return -1;
		if (rv == 1 && expr_attributes(cx, where_join(buf, it->where,
		    fg->exprs[i]), text, it->names, &b->attrs) == -1)
			return -1;
	}
	return 0;
}

static int
fgac_maps(struct cx *cx, struct authz_b *b, const struct fgac *fg,
    const struct item *it)
{
	const struct json_value *v, *s;
	const struct json_member *m;
	size_t i, k;

	for (i = 0; fg->maps[i] != NULL; i++) {
		if (field(cx, it->obj, it->where, fg->maps[i],
		    JSON_KIND_OBJECT, false, &v) == -1)
			return -1;
		for (k = 0; k < nchildren(v); k++) {
			m = &v->u.members[k];
			/* Each entry's members ({ComparisonOperator, ...}) are
			 * read by DynamoDB too: no case variants of them. */
			if ((is(&m->value, JSON_KIND_OBJECT) && check_case(cx,
			    &m->value, fg->maps[i]) == -1) ||
			    set_add(cx, &b->attrs, m->name) == -1)
				return -1;
		}
	}
	if (!fg->attributes_to_get)
		return 0;
	if (field(cx, it->obj, it->where, "AttributesToGet", JSON_KIND_ARRAY,
	    false, &v) == -1)
		return -1;
	for (i = 0; i < nchildren(v); i++) {
		s = &v->u.items[i];
		if (!is(s, JSON_KIND_STRING))
			return deny(cx, "%s%sAttributesToGet must hold strings",
			    it->where, *it->where ? "." : "");
		if (set_add(cx, &b->attrs, s->u.string) == -1)
			return -1;
	}
	return 0;
}

static bool
has_projection(const struct item *it)
{
	return json_get(it->obj, "ProjectionExpression") != NULL ||
	    json_get(it->obj, "AttributesToGet") != NULL;
}

static int
fgac_select(struct cx *cx, struct authz_b *b, const struct fgac *fg,
    const struct item *it)
{
	const char *sel = NULL;

	if (fg->select == SELECT_NONE)
		return 0;
	if (fg->select == SELECT_FIELD && enum_field(cx, it->obj, it->where,
	    "Select", select_words, &sel) == -1)
		return -1;
	if (sel == NULL && has_projection(it))
		sel = "SPECIFIC_ATTRIBUTES";
	if (sel == NULL)
		sel = it->index ? "ALL_PROJECTED_ATTRIBUTES" : "ALL_ATTRIBUTES";
	b->select = sel;
	return 0;
}

/*
 * ReturnValuesOnConditionCheckFailure: ALL_OLD returns the whole old item
 * when the condition fails, which ReturnValues and Attributes conditions
 * mean to prevent; whether AWS feeds it into dynamodb:ReturnValues is
 * unconfirmed (spec 6.1), so both keys become unknown for this pair.
 */
static int
on_failure_returns(struct cx *cx, struct authz_b *b, const struct item *it)
{
	const struct json_value *v = json_get(it->obj,
	    "ReturnValuesOnConditionCheckFailure");

	if (v == NULL)
		return 0;
	if (!is(v, JSON_KIND_STRING))
		return deny(cx, "%s%sReturnValuesOnConditionCheckFailure must "
		    "be a string", it->where, it->where[0] ? "." : "");
	if (strcmp(v->u.string, "ALL_OLD") == 0)
		b->returns_old_on_failure = true;
	else if (strcmp(v->u.string, "NONE") != 0)
		return deny(cx, "ReturnValuesOnConditionCheckFailure must be "
		    "NONE or ALL_OLD");
	return 0;
}

static int
fgac_return_values(struct cx *cx, struct authz_b *b, const struct fgac *fg,
    const struct item *it)
{
	const char *rv = NULL;

	if (fg->rv == RV_NONE)
		return 0;
	if (fg->rv == RV_FIELD && enum_field(cx, it->obj, it->where,
	    "ReturnValues", rv_words, &rv) == -1)
		return -1;
	b->return_values = rv != NULL ? rv : "NONE";
	return on_failure_returns(cx, b, it);
}

/* Adds the value of ExpressionAttributeValues[t] to LeadingKeys. */
static int
leading_from_value(struct cx *cx, struct authz_b *b, const struct item *it,
    const struct etoken *t)
{
	const struct json_value *av;
	const char *v;
	char *key;

	if ((key = cx_strndup(cx, t->p, t->len)) == NULL)
		return -1;
	if (it->values == NULL || (av = json_get(it->values, key)) ==
	    NULL)
		return deny(cx, "KeyConditionExpression uses a value that "
		    "ExpressionAttributeValues does not define");
	if ((v = key_value(cx, av, "ExpressionAttributeValues")) == NULL)
		return -1;
	b->has_leading = true;
	return set_add(cx, &b->leading, v);
}

/* Whether token t (a NAME or HASH) stands for the attribute pk. */
static int
names_pk(struct cx *cx, const struct etoken *t, const struct item *it,
    const char *pk, bool *yes)
{
	const char *name;

	*yes = false;
	if (t->kind != ET_NAME && t->kind != ET_HASH)
		return 0;
	if ((name = expr_name(cx, t, it->names, "KeyConditionExpression")) ==
	    NULL)
		return -1;
	*yes = strcmp(name, pk) == 0;
	return 0;
}

/* The tokens of a key condition, refusing OR, NOT and IN in it. */
static int
key_condition_tokens(struct cx *cx, const char *text, struct vec *toks)
{
	size_t pos = 0, len = strlen(text);
	struct etoken t, *slot;
	int r;

	while ((r = expr_next(text, len, &pos, &t)) == 1) {
		if (t.kind == ET_KEYWORD && (t.len != 3 ||
		    strncasecmp(t.p, "AND", 3) != 0) && (t.len != 7 ||
		    strncasecmp(t.p, "BETWEEN", 7) != 0))
			return deny(cx, "KeyConditionExpression may only join "
			    "conditions with AND");
		if ((slot = vec_add(cx, toks, sizeof(*slot))) == NULL)
			return -1;
		*slot = t;
	}
	return r == 0 ? 0 : deny(cx, "cannot read KeyConditionExpression");
}

/* LeadingKeys from "pk = :v" (or ":v = pk") in KeyConditionExpression. */
static int
leading_from_expression(struct cx *cx, struct authz_b *b,
    const struct item *it, const char *text)
{
	struct vec toks = { NULL, 0, 0 };
	const struct etoken *t;
	size_t i;
	bool a, c;

	if (key_condition_tokens(cx, text, &toks) == -1)
		return -1;
	t = toks.items;
	for (i = 0; i + 2 < toks.n; i++) {
		if (t[i + 1].kind != ET_EQ || (i > 0 && t[i - 1].kind == ET_DOT))
			continue;
		if (i + 3 < toks.n && (t[i + 3].kind == ET_DOT ||
		    t[i + 3].kind == ET_INDEX))
			continue;
		if (names_pk(cx, &t[i], it, b->pk, &a) == -1 ||
		    names_pk(cx, &t[i + 2], it, b->pk, &c) == -1)
			return -1;
		if (a && t[i + 2].kind == ET_VALUE &&
		    leading_from_value(cx, b, it, &t[i + 2]) == -1)
			return -1;
		if (c && t[i].kind == ET_VALUE &&
		    leading_from_value(cx, b, it, &t[i]) == -1)
			return -1;
	}
	return 0;
}

/* LeadingKeys from legacy KeyConditions: {"pk": {EQ, [value]}}. */
static int
leading_from_conditions(struct cx *cx, struct authz_b *b,
    const struct json_value *conds)
{
	const struct json_value *c = json_get(conds, b->pk), *list;
	const char *op, *v;

	if (c == NULL)
		return 0;
	if (is(c, JSON_KIND_OBJECT) && check_case(cx, c, "KeyConditions") == -1)
		return -1;
	if (!is(c, JSON_KIND_OBJECT) || string_field(cx, c, "KeyConditions",
	    "ComparisonOperator", true, &op) == -1 ||
	    field(cx, c, "KeyConditions", "AttributeValueList", JSON_KIND_ARRAY,
	    true, &list) == -1)
		return is(c, JSON_KIND_OBJECT) ? -1 : deny(cx, "KeyConditions "
		    "must map attributes to conditions");
	if (strcmp(op, "EQ") != 0 || list->len != 1)
		return deny(cx, "KeyConditions: the partition key condition "
		    "must be EQ with one value");
	if ((v = key_value(cx, &list->u.items[0], "KeyConditions")) ==
	    NULL)
		return -1;
	b->has_leading = true;
	return set_add(cx, &b->leading, v);
}

static int
leading_from_query(struct cx *cx, struct authz_b *b, const struct item *it)
{
	const struct json_value *conds;
	const char *text;

	if (string_field(cx, it->obj, it->where, "KeyConditionExpression",
	    false, &text) == -1 || field(cx, it->obj, it->where,
	    "KeyConditions", JSON_KIND_OBJECT, false, &conds) == -1)
		return -1;
	if (text != NULL && leading_from_expression(cx, b, it, text) == -1)
		return -1;
	if (conds != NULL && leading_from_conditions(cx, b, conds) == -1)
		return -1;
	if (!b->has_leading)
		return deny(cx, "the key condition has no equality on the "
		    "partition key of the table");
	return 0;
}

/*
 * All item-level keys of one request object into b. LeadingKeys need
 * the table's key schema: without one, or for an index query (whose
 * partition key may be another attribute), they are unknown.
 */
static int
fgac_apply(struct cx *cx, struct authz_b *b, const struct fgac *fg,
    struct item *it)
{
	bool leading = fg->leading != LK_NONE;

	if (load_placeholders(cx, it) == -1)
		return -1;
	if (leading && (b->pk == NULL || it->index)) {
		b->leading_unknown = true;
		b->pk = NULL;
	}
	if (fgac_keys(cx, b, fg, it) == -1 || fgac_exprs(cx, b, fg, it) == -1 ||
	    fgac_maps(cx, b, fg, it) == -1 || fgac_select(cx, b, fg, it) == -1 ||
	    fgac_return_values(cx, b, fg, it) == -1)
		return -1;
	if (fg->leading == LK_QUERY && b->pk != NULL &&
	    leading_from_query(cx, b, it) == -1)
		return -1;
	b->rcc = cx->rcc;
	return 0;
}

/* A new pair for an item operation on table arn (index: may be NULL). */
static struct authz_b *
item_authz(struct cx *cx, const char *action, const char *table,
    const char *index)
{
	struct authz_b *b = authz_add(cx, action, index != NULL ? index : table);

	if (b != NULL)
		b->pk = partition_key(cx, table);
	return b;
}

/* ------------------------------------------------------------------ */
/* PartiQL: the verb, the table and what the WHERE clause pins down     */
/* ------------------------------------------------------------------ */

enum ptok {
	PT_WORD,	/* unquoted identifier or keyword */
	PT_QUOTED,	/* "identifier" ("" inside for ") */
	PT_STRING,	/* 'literal' */
	PT_NUMBER,
	PT_PARAM,	/* ? */
	PT_PUNCT,	/* one character */
};

struct ptoken {
	enum ptok kind;
	const char *p;	/* for QUOTED and STRING: inside the quotes */
	size_t len;
	int depth;	/* bracket depth before this token */
};

struct pq_stmt {
	const char *action;
	const char *table;	/* table ARN */
	const char *resource;	/* table or index ARN */
	bool index, select_all;
	const char *returning;	/* ReturnValues from RETURNING, or NULL */
	size_t where, where_end; /* token range of the WHERE condition */
	bool has_where;
};

struct pq {
	struct cx *cx;
	const char *what;	/* "Statement", "Statements[2].Statement" */
	const struct ptoken *t;
	size_t n;
	size_t start, end;	/* the statement (inside EXISTS( )) */
	int depth;		/* depth of start */
};

/* Scans a quoted run from s[i] (the opening quote q); -1 if unterminated. */
static int
pq_quoted(const char *s, size_t len, size_t i, char q, size_t *end)
{
	for (i++; i < len; i++) {
		if (s[i] != q)
			continue;
		if (i + 1 < len && s[i + 1] == q) {
			i++;
			continue;
		}
		*end = i + 1;
		return 0;
	}
	return -1;
}

static int
pq_number(const char *s, size_t len, size_t i, size_t *end)
{
	while (i < len && is_digit(s[i]))
		i++;
	if (i < len && s[i] == '.')
		for (i++; i < len && is_digit(s[i]); i++)
			;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i == len || !is_digit(s[i]))
			return -1;
		while (i < len && is_digit(s[i]))
			i++;
	}
	if (i < len && (is_word_char(s[i]) || s[i] == '.'))
		return -1;
	*end = i;
	return 0;
}

/* Keeps track of ( [ { nesting; -1 when it does not balance. */
static int
pq_nest(char c, int *depth)
{
	if (c == '(' || c == '[' || c == '{')
		(*depth)++;
	else if (c == ')' || c == ']' || c == '}') {
		if (--*depth < 0)
			return -1;
	}
	return 0;
}

/* One token at s[i]; -1 for anything the reader does not know. */
static int
pq_token(const char *s, size_t len, size_t i, struct ptoken *t, size_t *end)
{
	t->p = s + i;
	*end = i + 1;
	if (s[i] == '"' || s[i] == '\'') {
		t->kind = s[i] == '"' ? PT_QUOTED : PT_STRING;
		if (pq_quoted(s, len, i, s[i], end) == -1)
			return -1;
		t->p = s + i + 1;
		t->len = *end - i - 2;
		return t->kind == PT_QUOTED && t->len == 0 ? -1 : 0;
	}
	if (is_alpha(s[i]) || s[i] == '_') {
		t->kind = PT_WORD;
		while (*end < len && is_word_char(s[*end]))
			(*end)++;
	} else if (is_digit(s[i])) {
		t->kind = PT_NUMBER;
		if (pq_number(s, len, i, end) == -1)
			return -1;
	} else if (s[i] == '?') {
		t->kind = PT_PARAM;
	} else if (s[i] != '\0' && strchr("()[]{},.=<>!*+-/%|:", s[i]) != NULL) {
		/* comments could hide text from one reader but not another */
		if ((s[i] == '-' || s[i] == '/') && i + 1 < len &&
		    (s[i + 1] == '-' || s[i + 1] == '*'))
			return -1;
		t->kind = PT_PUNCT;
	} else
		return -1;
	t->len = *end - i;
	return 0;
}

static int
pq_tokenize(struct pq *q, const char *s)
{
	struct vec toks = { NULL, 0, 0 };
	struct ptoken t, *slot;
	size_t i = 0, len = strlen(s), end;
	int depth = 0;

	/*
	 * No backslash anywhere, not even in a literal: a reader that took
	 * \' for an escape would see other bounds of strings and so maybe
	 * another table.
	 */
	if (memchr(s, '\\', len) != NULL)
		return deny(q->cx, "cannot read the PartiQL statement in %s",
		    q->what);
	for (;;) {
		while (i < len && is_space(s[i]))
			i++;
		if (i == len)
			break;
		if (pq_token(s, len, i, &t, &end) == -1)
			return deny(q->cx, "cannot read the PartiQL statement in "
			    "%s", q->what);
		t.depth = depth;
		if (t.kind == PT_PUNCT && pq_nest(s[i], &depth) == -1)
			break;
		if ((slot = vec_add(q->cx, &toks, sizeof(*slot))) == NULL)
			return -1;
		*slot = t;
		i = end;
	}
	if (depth != 0 || i != len || toks.n == 0)
		return deny(q->cx, "cannot read the PartiQL statement in %s",
		    q->what);
	q->t = toks.items;
	q->n = toks.n;
	return 0;
}

static bool
pq_word(const struct pq *q, size_t i, const char *word)
{
	return i < q->end && q->t[i].kind == PT_WORD &&
	    q->t[i].len == strlen(word) &&
	    strncasecmp(q->t[i].p, word, q->t[i].len) == 0;
}

static bool
pq_punct(const struct pq *q, size_t i, char c)
{
	return i < q->end && q->t[i].kind == PT_PUNCT && q->t[i].p[0] == c;
}

/* The text of an identifier token, "" unescaped for a quoted one. */
static char *
pq_ident(struct pq *q, const struct ptoken *t)
{
	char *out;
	size_t i, o = 0;

	if ((out = cx_alloc(q->cx, t->len + 1)) == NULL)
		return NULL;
	for (i = 0; i < t->len; i++) {
		out[o++] = t->p[i];
		if (t->kind == PT_QUOTED && t->p[i] == '"')
			i++;
	}
	out[o] = '\0';
	return out;
}

/* Words that start or join statements: each must be where we expect it. */
static const char *const pq_structure[] = { "SELECT", "FROM", "INSERT",
    "INTO", "UPDATE", "DELETE", "EXISTS", "RETURNING", NULL };

static bool
pq_is_structure(const struct ptoken *t)
{
	return t->kind == PT_WORD && word_in(t->p, t->len, pq_structure, true);
}

/* "T", T, "T"."I", T.I at i: the table (and index) of the statement. */
/* Whether token i can name a table or an index. */
static bool
pq_is_name(const struct pq *q, size_t i)
{
	return i < q->end && (q->t[i].kind == PT_WORD ||
	    q->t[i].kind == PT_QUOTED) && !pq_is_structure(&q->t[i]);
}

static int
pq_table(struct pq *q, size_t *i, struct pq_stmt *st, bool index_ok)
{
	char *name, *index, buf[WHERE_MAX];

	if (!pq_is_name(q, *i))
		return deny(q->cx, "%s: cannot read the table of the PartiQL "
		    "statement", q->what);
	if ((name = pq_ident(q, &q->t[*i])) == NULL)
		return -1;
	snprintf(buf, sizeof(buf), "the table of %s", q->what);
	if ((st->table = table_arn(q->cx, buf, name)) == NULL)
		return -1;
	st->resource = st->table;
	(*i)++;
	if (!pq_punct(q, *i, '.'))
		return 0;
	if (!index_ok || !pq_is_name(q, *i + 1))
		return deny(q->cx, "%s: cannot read the table of the PartiQL "
		    "statement", q->what);
	if ((index = pq_ident(q, &q->t[*i + 1])) == NULL)
		return -1;
	snprintf(buf, sizeof(buf), "the index of %s", q->what);
	if ((st->resource = index_arn(q->cx, st->table, buf, index)) == NULL)
		return -1;
	st->index = true;
	*i += 2;
	return 0;
}

/* Index of the first word w at the statement's own depth, from i; or end. */
static size_t
pq_find(const struct pq *q, size_t i, const char *w)
{
	for (; i < q->end; i++) {
		if (q->t[i].depth == q->depth && pq_word(q, i, w))
			return i;
	}
	return q->end;
}

static int
pq_select(struct pq *q, struct pq_stmt *st)
{
	size_t from = pq_find(q, q->start + 1, "FROM"), i, order;

	if (from == q->end)
		return deny(q->cx, "%s: cannot read the PartiQL statement",
		    q->what);
	st->action = "dynamodb:PartiQLSelect";
	st->select_all = from == q->start + 2 && pq_punct(q, q->start + 1, '*');
	i = from + 1;
	if (pq_table(q, &i, st, true) == -1)
		return -1;
	if (i == q->end)
		return 0;
	if (!pq_word(q, i, "WHERE") && !pq_word(q, i, "ORDER"))
		return deny(q->cx, "%s: cannot read the PartiQL statement",
		    q->what);
	if (pq_word(q, i, "WHERE")) {
		order = pq_find(q, i + 1, "ORDER");
		st->has_where = true;
		st->where = i + 1;
		st->where_end = order;
	}
	return 0;
}

static int
pq_insert(struct pq *q, struct pq_stmt *st)
{
	size_t i = q->start + 2;

	st->action = "dynamodb:PartiQLInsert";
	if (!pq_word(q, q->start + 1, "INTO"))
		return deny(q->cx, "%s: cannot read the PartiQL statement",
		    q->what);
	if (pq_table(q, &i, st, false) == -1)
		return -1;
	if (!pq_word(q, i, "VALUE"))
		return deny(q->cx, "%s: cannot read the PartiQL statement",
		    q->what);
	return 0;
}

static int
pq_update(struct pq *q, struct pq_stmt *st)
{
	size_t i = q->start + 1;

	st->action = "dynamodb:PartiQLUpdate";
	if (pq_table(q, &i, st, false) == -1)
		return -1;
	if (!pq_word(q, i, "SET") && !pq_word(q, i, "REMOVE"))
		return deny(q->cx, "%s: cannot read the PartiQL statement",
		    q->what);
	return 0;
}

static int
pq_delete(struct pq *q, struct pq_stmt *st)
{
	size_t i = q->start + 2;

	st->action = "dynamodb:PartiQLDelete";
	if (!pq_word(q, q->start + 1, "FROM"))
		return deny(q->cx, "%s: cannot read the PartiQL statement",
		    q->what);
	if (pq_table(q, &i, st, false) == -1)
		return -1;
	if (i != q->end && !pq_word(q, i, "WHERE") &&
	    !pq_word(q, i, "RETURNING"))
		return deny(q->cx, "%s: cannot read the PartiQL statement",
		    q->what);
	return 0;
}

/*
 * "RETURNING ALL|MODIFIED OLD|NEW *" at the very end of an UPDATE or
 * DELETE: the dynamodb:ReturnValues it asks for.
 */
static int
pq_returning(struct pq *q, struct pq_stmt *st, size_t at)
{
	static const char *const map[][3] = {
		{ "ALL", "OLD", "ALL_OLD" }, { "MODIFIED", "OLD", "UPDATED_OLD" },
		{ "ALL", "NEW", "ALL_NEW" }, { "MODIFIED", "NEW", "UPDATED_NEW" },
	};
	size_t i;

	if (q->t[at].depth != 0 || at + 4 != q->end ||
	    !pq_punct(q, at + 3, '*'))
		return deny(q->cx, "%s: cannot read the RETURNING clause",
		    q->what);
	for (i = 0; i < nitems(map); i++) {
		if (pq_word(q, at + 1, map[i][0]) && pq_word(q, at + 2,
		    map[i][1])) {
			st->returning = map[i][2];
			return 0;
		}
	}
	return deny(q->cx, "%s: cannot read the RETURNING clause", q->what);
}

/*
 * Every structure word must be the one the verb put there: a second
 * SELECT, FROM or UPDATE (a subquery, a second statement) could name a
 * second table the gateway does not authorize.
 */
static int
pq_check_words(struct pq *q, struct pq_stmt *st, bool exists)
{
	size_t i, ret = 0, count[nitems(pq_structure)] = { 0 }, k;
	const char *verb = st->action;
	size_t sel = strstr(verb, "Select") != NULL;
	size_t ins = strstr(verb, "Insert") != NULL;
	size_t upd = strstr(verb, "Update") != NULL;
	size_t del = strstr(verb, "Delete") != NULL;

	for (i = 0; i < q->n; i++) {
		for (k = 0; pq_structure[k] != NULL; k++) {
			if (q->t[i].kind == PT_WORD && q->t[i].len ==
			    strlen(pq_structure[k]) && strncasecmp(q->t[i].p,
			    pq_structure[k], q->t[i].len) == 0) {
				count[k]++;
				if (k == 7)
					ret = i;
			}
		}
	}
	/* SELECT FROM INSERT INTO UPDATE DELETE EXISTS RETURNING */
	if (count[0] != sel || count[1] != sel + del || count[2] != ins ||
	    count[3] != ins || count[4] != upd || count[5] != del ||
	    count[6] != (size_t)exists || count[7] > upd + del)
		return deny(q->cx, "%s: cannot read the PartiQL statement",
		    q->what);
	if (count[7] == 1)
		return pq_returning(q, st, ret);
	return 0;
}

/*
 * Reads one statement. EXISTS(SELECT ...) is allowed only in a
 * transaction, where it is a condition check read as PartiQLSelect.
 */
static int
pq_parse(struct pq *q, const char *text, bool transaction,
    struct pq_stmt *st)
{
	bool exists;
	size_t i;

	memset(st, 0, sizeof(*st));
	if (pq_tokenize(q, text) == -1)
		return -1;
	q->start = 0;
	q->end = q->n;
	q->depth = 0;
	exists = pq_word(q, 0, "EXISTS");
	if (exists) {
		if (!transaction || !pq_punct(q, 1, '(') ||
		    !pq_punct(q, q->n - 1, ')') || q->t[q->n - 1].depth != 1 ||
		    q->n < 4)
			return deny(q->cx, "%s: cannot read the PartiQL "
			    "statement", q->what);
		q->start = 2;
		q->end = q->n - 1;
		q->depth = 1;
		for (i = q->start; i < q->end; i++) {
			if (q->t[i].depth < 1 || (q->t[i].depth == 1 &&
			    q->t[i].kind == PT_PUNCT && q->t[i].p[0] == ')'))
				return deny(q->cx, "%s: cannot read the PartiQL "
				    "statement", q->what);
		}
	}
	if (pq_word(q, q->start, "SELECT")) {
		if (pq_select(q, st) == -1)
			return -1;
	} else if (!exists && pq_word(q, q->start, "INSERT")) {
		if (pq_insert(q, st) == -1)
			return -1;
	} else if (!exists && pq_word(q, q->start, "UPDATE")) {
		if (pq_update(q, st) == -1)
			return -1;
	} else if (!exists && pq_word(q, q->start, "DELETE")) {
		if (pq_delete(q, st) == -1)
			return -1;
	} else
		return deny(q->cx, "%s: the PartiQL statement is not a SELECT, "
		    "INSERT, UPDATE or DELETE", q->what);
	return pq_check_words(q, st, exists);
}

/* Whether tokens [i, j) are one literal: 'x', 1, -1, ?. */
static bool
pq_literal(const struct pq *q, size_t i, size_t j)
{
	if (j == i + 2 && pq_punct(q, i, '-'))
		return q->t[i + 1].kind == PT_NUMBER;
	return j == i + 1 && (q->t[i].kind == PT_STRING ||
	    q->t[i].kind == PT_NUMBER || q->t[i].kind == PT_PARAM);
}

/* Whether token i is the partition key attribute pk, as written. */
static int
pq_is_pk(struct pq *q, size_t i, const char *pk, bool *yes)
{
	char *name;

	*yes = false;
	if (q->t[i].kind != PT_WORD && q->t[i].kind != PT_QUOTED)
		return 0;
	if ((name = pq_ident(q, &q->t[i])) == NULL)
		return -1;
	*yes = strcmp(name, pk) == 0;
	return 0;
}

/* Whether the bracket at open (depth d) closes exactly at j - 1. */
static bool
pq_group_ends(const struct pq *q, size_t open, size_t j, int d)
{
	size_t k;

	for (k = open + 1; k + 1 < j; k++) {
		if (q->t[k].depth <= d)
			return false;
	}
	return q->t[j - 1].depth == d + 1 && q->t[j - 1].kind == PT_PUNCT &&
	    strchr(")]", q->t[j - 1].p[0]) != NULL;
}

/* Whether conjunct [i, j) is "pk = lit", "lit = pk" or "pk IN (...)". */
static int
pq_conjunct_keyed(struct pq *q, size_t i, size_t j, const char *pk,
    bool *yes)
{
	bool a = false, b = false;
	int d = q->depth;

	*yes = false;
	if (j >= i + 3 && pq_punct(q, i + 1, '=') && pq_literal(q, i + 2, j)) {
		if (pq_is_pk(q, i, pk, &a) == -1)
			return -1;
	} else if (j == i + 3 && pq_punct(q, i + 1, '=') &&
	    pq_literal(q, i, i + 1)) {
		if (pq_is_pk(q, i + 2, pk, &b) == -1)
			return -1;
	} else if (j >= i + 4 && pq_word(q, i + 1, "IN") &&
	    (pq_punct(q, i + 2, '(') || pq_punct(q, i + 2, '[')) &&
	    pq_group_ends(q, i + 2, j, d)) {
		if (pq_is_pk(q, i, pk, &a) == -1)
			return -1;
	}
	*yes = a || b;
	return 0;
}

/*
 * Whether the WHERE condition pins the partition key: a top-level
 * conjunct that is an equality or IN on pk. Anything else (an OR at the
 * top, parentheses, NOT) counts as a full scan, the restrictive answer.
 */
static int
pq_keyed(struct pq *q, const struct pq_stmt *st, const char *pk, bool *keyed)
{
	size_t i, c = st->where;
	bool between = false, yes;

	*keyed = false;
	for (i = st->where; i <= st->where_end; i++) {
		if (i < st->where_end && q->t[i].depth != q->depth)
			continue;
		if (pq_word(q, i, "OR")) {
			*keyed = false;
			return 0;
		}
		if (pq_word(q, i, "BETWEEN"))
			between = true;
		if (i < st->where_end && !pq_word(q, i, "AND"))
			continue;
		if (i < st->where_end && between) {
			between = false;
			continue;
		}
		if (pq_conjunct_keyed(q, c, i, pk, &yes) == -1)
			return -1;
		*keyed = *keyed || yes;
		c = i + 1;
	}
	return 0;
}

/* dynamodb:FullTableScan of a SELECT: "true", "false", or unknown. */
static int
pq_full_scan(struct pq *q, const struct pq_stmt *st, struct authz_b *b)
{
	const char *pk = partition_key(q->cx, st->table);
	bool keyed;

	if (!st->has_where) {
		b->full_scan = "true";
		return 0;
	}
	if (pk == NULL || st->index) {
		b->full_scan_unknown = true;
		return 0;
	}
	if (pq_keyed(q, st, pk, &keyed) == -1)
		return -1;
	b->full_scan = keyed ? "false" : "true";
	return 0;
}

/* One PartiQL statement into one pair. */
static int
partiql_statement(struct cx *cx, const char *what, const char *text,
    bool transaction)
{
	struct pq q = { .cx = cx, .what = what };
	struct pq_stmt st;
	struct authz_b *b;

	if (pq_parse(&q, text, transaction, &st) == -1)
		return -1;
	if ((b = authz_add(cx, st.action, st.resource)) == NULL)
		return -1;
	b->leading_unknown = true;
	b->attrs_unknown = true;
	b->rcc = cx->rcc;
	if (transaction)
		b->enclosing = "ExecuteTransaction";
	if (strcmp(st.action, "dynamodb:PartiQLSelect") == 0) {
		b->select = !st.select_all ? "SPECIFIC_ATTRIBUTES" : st.index ?
		    "ALL_PROJECTED_ATTRIBUTES" : "ALL_ATTRIBUTES";
		return pq_full_scan(&q, &st, b);
	}
	if (strcmp(st.action, "dynamodb:PartiQLInsert") != 0)
		b->return_values = st.returning != NULL ? st.returning : "NONE";
	return 0;
}

/* ------------------------------------------------------------------ */
/* Operation handlers                                                  */
/* ------------------------------------------------------------------ */

struct op {
	enum endpoint_service service;
	const char *name;
	const char *action;		/* NULL: per statement (PartiQL) */
	int (*handler)(struct cx *);
	const struct fgac *fgac;	/* item operations */
	bool rcc;			/* has ReturnConsumedCapacity */
};

static int
rcc_field(struct cx *cx)
{
	return enum_field(cx, cx->body, "", "ReturnConsumedCapacity",
	    rcc_words, &cx->rcc);
}

static int
h_star(struct cx *cx)
{
	return authz_add(cx, cx->op->action, "*") != NULL ? 0 : -1;
}

static int
h_table(struct cx *cx)
{
	const char *arn;

	if (table_field(cx, cx->body, "", "TableName", true, &arn) == -1)
		return -1;
	return authz_add(cx, cx->op->action, arn) != NULL ? 0 : -1;
}

/* GetItem, PutItem, UpdateItem, DeleteItem. */
static int
h_item(struct cx *cx)
{
	struct item it = { .obj = cx->body, .where = "" };
	struct authz_b *b;
	const char *arn;

	if (table_field(cx, cx->body, "", "TableName", true, &arn) == -1 ||
	    (b = item_authz(cx, cx->op->action, arn, NULL)) == NULL)
		return -1;
	return fgac_apply(cx, b, cx->op->fgac, &it);
}

/* The table ARN and, with IndexName, the index ARN. */
static int
table_and_index(struct cx *cx, bool index_required, const char **table,
    const char **index)
{
	const char *name;
	int rv;

	*index = NULL;
	if (table_field(cx, cx->body, "", "TableName", true, table) == -1)
		return -1;
	rv = string_field(cx, cx->body, "", "IndexName", index_required,
	    &name);
	if (rv != 1)
		return rv;
	return (*index = index_arn(cx, *table, "IndexName", name)) != NULL ?
	    0 : -1;
}

/* Query and Scan: the index ARN when IndexName is given (spec 4.4). */
static int
h_query_scan(struct cx *cx)
{
	struct item it = { .obj = cx->body, .where = "" };
	const char *table, *index;
	struct authz_b *b;

	if (table_and_index(cx, false, &table, &index) == -1 ||
	    (b = item_authz(cx, cx->op->action, table, index)) == NULL)
		return -1;
	it.index = index != NULL;
	return fgac_apply(cx, b, cx->op->fgac, &it);
}

/* SearchVectors: always an index; no FGAC keys (spec 6.1). */
static int
h_search_vectors(struct cx *cx)
{
	const char *table, *index;

	if (table_and_index(cx, true, &table, &index) == -1)
		return -1;
	return authz_add(cx, cx->op->action, index) != NULL ? 0 : -1;
}

/* Describe/UpdateContributorInsights: the index ARN with IndexName. */
static int
h_table_or_index(struct cx *cx)
{
	const char *table, *index;

	if (table_and_index(cx, false, &table, &index) == -1)
		return -1;
	return authz_add(cx, cx->op->action, index != NULL ? index : table) !=
	    NULL ? 0 : -1;
}

static int
batch_get_table(struct cx *cx, const char *name, const struct json_value *entry)
{
	char what[WHERE_MAX];
	struct item it = { .obj = entry, .where = what };
	struct authz_b *b;
	const char *arn;

	snprintf(what, sizeof(what), "RequestItems.%s",
	    is_table_name(name, strlen(name)) ? name : "(table)");
	if (!is(entry, JSON_KIND_OBJECT))
		return deny(cx, "%s must be an object", what);
	if (check_case(cx, entry, what) == -1 ||
	    (arn = table_arn(cx, "a key of RequestItems", name)) == NULL ||
	    (b = item_authz(cx, cx->op->action, arn, NULL)) == NULL)
		return -1;
	return fgac_apply(cx, b, &fg_batch_get, &it);
}

/* One WriteRequest: exactly one of PutRequest {Item}, DeleteRequest {Key}. */
static int
batch_write_request(struct cx *cx, struct authz_b *b,
    const struct json_value *req, const char *where)
{
	char buf[WHERE_MAX];
	struct item it = { .where = buf };
	const struct json_value *put, *del;

	if (!is(req, JSON_KIND_OBJECT))
		return deny(cx, "%s must be an object", where);
	if (check_case(cx, req, where) == -1 ||
	    field(cx, req, where, "PutRequest", JSON_KIND_OBJECT, false,
	    &put) == -1 ||
	    field(cx, req, where, "DeleteRequest", JSON_KIND_OBJECT, false,
	    &del) == -1)
		return -1;
	if ((put == NULL) == (del == NULL) || req->len != 1)
		return deny(cx, "%s must hold exactly one PutRequest or "
		    "DeleteRequest", where);
	it.obj = put != NULL ? put : del;
	where_join(buf, where, put != NULL ? "PutRequest" : "DeleteRequest");
	if (check_case(cx, it.obj, buf) == -1)
		return -1;
	return fgac_apply(cx, b, put != NULL ? &fg_batch_put :
	    &fg_batch_delete, &it);
}

static int
batch_write_table(struct cx *cx, const char *name,
    const struct json_value *list)
{
	char what[WHERE_MAX], buf[WHERE_MAX];
	struct authz_b *b;
	const struct json_value *req;
	const char *arn;
	size_t i;

	snprintf(what, sizeof(what), "RequestItems.%s",
	    is_table_name(name, strlen(name)) ? name : "(table)");
	if (!is(list, JSON_KIND_ARRAY))
		return deny(cx, "%s must be an array", what);
	if ((arn = table_arn(cx, "a key of RequestItems", name)) == NULL ||
	    (b = item_authz(cx, cx->op->action, arn, NULL)) == NULL)
		return -1;
	b->rcc = cx->rcc;
	if (b->pk == NULL)
		b->leading_unknown = true;
	for (i = 0; i < nchildren(list); i++) {
		req = &list->u.items[i];
		if (batch_write_request(cx, b, req, where_index(buf, what, i)) ==
		    -1)
			return -1;
	}
	return 0;
}

/* BatchGetItem, BatchWriteItem: one pair per table of RequestItems. */
static int
h_batch(struct cx *cx)
{
	const struct json_value *items;
	const struct json_member *m;
	bool get = strcmp(cx->op->name, "BatchGetItem") == 0;
	size_t i;

	if (field(cx, cx->body, "", "RequestItems", JSON_KIND_OBJECT, true,
	    &items) == -1)
		return -1;
	if (items->len == 0)
		return deny(cx, "RequestItems must name at least one table");
	for (i = 0; i < items->len; i++) {
		m = &items->u.members[i];
		if ((get ? batch_get_table(cx, m->name, &m->value) :
		    batch_write_table(cx, m->name, &m->value)) == -1)
			return -1;
	}
	return 0;
}

static const struct {
	const char *member;
	const char *action;
	const struct fgac *fgac;
} transact_kinds[] = {
	{ "Get", "dynamodb:GetItem", &fg_transact_get },
	{ "Put", "dynamodb:PutItem", &fg_transact_put },
	{ "Update", "dynamodb:UpdateItem", &fg_transact_update },
	{ "Delete", "dynamodb:DeleteItem", &fg_transact_delete },
	{ "ConditionCheck", "dynamodb:ConditionCheckItem", &fg_check },
};

/* One TransactItems entry: exactly one member, of the kinds allowed. */
static int
transact_item(struct cx *cx, const struct json_value *entry,
    const char *where, bool get)
{
	char buf[WHERE_MAX];
	struct item it = { .where = buf };
	const char *kind, *arn;
	struct authz_b *b;
	const struct json_value *v;
	size_t k;

	if (!is(entry, JSON_KIND_OBJECT) || entry->len != 1)
		return deny(cx, "%s must be an object with one member", where);
	if (check_case(cx, entry, where) == -1)
		return -1;
	kind = entry->u.members[0].name;
	for (k = get ? 0 : 1; k < (get ? 1 : nitems(transact_kinds)); k++) {
		if (strcmp(kind, transact_kinds[k].member) == 0)
			break;
	}
	if (k == (get ? 1 : nitems(transact_kinds)))
		return deny(cx, "%s must hold %s", where, get ? "Get" :
		    "Put, Update, Delete or ConditionCheck");
	if (field(cx, entry, where, kind, JSON_KIND_OBJECT, true, &v) == -1)
		return -1;
	it.obj = v;
	where_join(buf, where, kind);
	if (check_case(cx, v, buf) == -1 ||
	    table_field(cx, v, buf, "TableName", true, &arn) == -1 ||
	    (b = item_authz(cx, transact_kinds[k].action, arn, NULL)) == NULL ||
	    fgac_apply(cx, b, transact_kinds[k].fgac, &it) == -1)
		return -1;
	b->enclosing = cx->op->name;
	return 0;
}

/* TransactGetItems, TransactWriteItems: a pair per item (spec 4.1). */
static int
h_transact(struct cx *cx)
{
	bool get = strcmp(cx->op->name, "TransactGetItems") == 0;
	const struct json_value *items, *entry;
	char buf[WHERE_MAX];
	size_t i;

	if (field(cx, cx->body, "", "TransactItems", JSON_KIND_ARRAY, true,
	    &items) == -1)
		return -1;
	if (items->len == 0)
		return deny(cx, "TransactItems must not be empty");
	for (i = 0; i < nchildren(items); i++) {
		entry = &items->u.items[i];
		if (transact_item(cx, entry, where_index(buf, "TransactItems",
		    i), get) == -1)
			return -1;
	}
	return 0;
}

static int
h_partiql(struct cx *cx)
{
	const char *text;

	if (string_field(cx, cx->body, "", "Statement", true, &text) == -1)
		return -1;
	return partiql_statement(cx, "Statement", text, false);
}

/* BatchExecuteStatement (Statements) and ExecuteTransaction. */
static int
h_partiql_list(struct cx *cx)
{
	bool transaction = strcmp(cx->op->name, "ExecuteTransaction") == 0;
	const char *list = transaction ? "TransactStatements" : "Statements";
	char where[WHERE_MAX], what[WHERE_MAX];
	const struct json_value *stmts, *s;
	const char *text;
	size_t i;

	if (field(cx, cx->body, "", list, JSON_KIND_ARRAY, true, &stmts) == -1)
		return -1;
	if (stmts->len == 0)
		return deny(cx, "%s must not be empty", list);
	for (i = 0; i < nchildren(stmts); i++) {
		s = &stmts->u.items[i];
		where_index(where, list, i);
		if (!is(s, JSON_KIND_OBJECT))
			return deny(cx, "%s must be an object", where);
		if (check_case(cx, s, where) == -1 ||
		    string_field(cx, s, where, "Statement", true, &text) == -1 ||
		    partiql_statement(cx, where_join(what, where, "Statement"),
		    text, transaction) == -1)
			return -1;
	}
	return 0;
}

/* BackupArn, ExportArn, ImportArn, StreamArn: the ARN as given. */
static int
arn_as_given(struct cx *cx, const char *name, unsigned kind,
    const char *what)
{
	const char *arn;

	if (arn_field(cx, cx->body, name, kind, what, true, &arn) == -1)
		return -1;
	return authz_add(cx, cx->op->action, arn) != NULL ? 0 : -1;
}

static int
h_backup_arn(struct cx *cx)
{
	return arn_as_given(cx, "BackupArn", ARN_BACKUP, "a backup ARN");
}

static int
h_export_arn(struct cx *cx)
{
	return arn_as_given(cx, "ExportArn", ARN_EXPORT, "an export ARN");
}

static int
h_import_arn(struct cx *cx)
{
	return arn_as_given(cx, "ImportArn", ARN_IMPORT, "an import ARN");
}

static int
h_stream_arn(struct cx *cx)
{
	return arn_as_given(cx, "StreamArn", ARN_STREAM, "a stream ARN");
}

static int
h_resource_arn(struct cx *cx)
{
	return arn_as_given(cx, "ResourceArn", ARN_ANY_DYNAMODB,
	    "a DynamoDB resource ARN");
}

/* ExportTableToPointInTime: TableArn, which must be a table ARN. */
static int
h_table_arn(struct cx *cx)
{
	return arn_as_given(cx, "TableArn", ARN_TABLE, "a table ARN");
}

/* ListExports, ListImports: the table of an optional TableArn, else "*". */
static int
h_optional_table_arn(struct cx *cx)
{
	const char *arn;
	int rv;

	if ((rv = arn_field(cx, cx->body, "TableArn", ARN_TABLE, "a table ARN",
	    false, &arn)) == -1)
		return -1;
	return authz_add(cx, cx->op->action, rv == 1 ? arn : "*") != NULL ?
	    0 : -1;
}

/* aws:RequestTag/K and aws:TagKeys from Tags: [{Key, Value}]. */
static int
request_tags(struct cx *cx, struct authz_b *b)
{
	const struct json_value *tags, *t;
	const char *key, *value;
	char where[WHERE_MAX];
	struct tag *slot;
	size_t i;
	int rv;

	if ((rv = field(cx, cx->body, "", "Tags", JSON_KIND_ARRAY, false,
	    &tags)) != 1)
		return rv;
	b->has_tag_keys = true;
	for (i = 0; i < nchildren(tags); i++) {
		t = &tags->u.items[i];
		where_index(where, "Tags", i);
		if (!is(t, JSON_KIND_OBJECT))
			return deny(cx, "%s must be an object", where);
		if (check_case(cx, t, where) == -1 ||
		    string_field(cx, t, where, "Key", true, &key) == -1 ||
		    string_field(cx, t, where, "Value", false, &value) == -1)
			return -1;
		/* aws:RequestTag/<key> names compare without case: two tags
		 * whose keys differ only in case would hide one value. */
		for (size_t j = 0; j < b->tags.n; j++)
			if (strcasecmp(((struct tag *)b->tags.items)[j].key,
			    key) == 0)
				return deny(cx, "%s: tag key repeated (keys are "
				    "compared without case)", where);
		if ((slot = vec_add(cx, &b->tags, sizeof(*slot))) == NULL ||
		    set_add(cx, &b->tag_keys, key) == -1)
			return -1;
		slot->key = key;
		slot->value = value != NULL ? value : "";
	}
	return 0;
}

/* aws:TagKeys from TagKeys: ["k", ...]. */
static int
removed_tag_keys(struct cx *cx, struct authz_b *b)
{
	const struct json_value *keys, *k;
	size_t i;

	if (field(cx, cx->body, "", "TagKeys", JSON_KIND_ARRAY, true,
	    &keys) == -1)
		return -1;
	b->has_tag_keys = true;
	for (i = 0; i < nchildren(keys); i++) {
		k = &keys->u.items[i];
		if (!is(k, JSON_KIND_STRING))
			return deny(cx, "TagKeys must hold strings");
		if (set_add(cx, &b->tag_keys, k->u.string) == -1)
			return -1;
	}
	return 0;
}

static int
h_tag_resource(struct cx *cx)
{
	struct authz_b *b;

	if (h_resource_arn(cx) == -1)
		return -1;
	b = &((struct authz_b *)cx->authz.items)[cx->authz.n - 1];
	return request_tags(cx, b);
}

static int
h_untag_resource(struct cx *cx)
{
	struct authz_b *b;

	if (h_resource_arn(cx) == -1)
		return -1;
	b = &((struct authz_b *)cx->authz.items)[cx->authz.n - 1];
	return removed_tag_keys(cx, b);
}

/* CreateTable: + dynamodb:PutResourcePolicy with a ResourcePolicy. */
static int
h_create_table(struct cx *cx)
{
	const char *arn, *policy;
	struct authz_b *b;

	if (table_field(cx, cx->body, "", "TableName", true, &arn) == -1 ||
	    string_field(cx, cx->body, "", "ResourcePolicy", false,
	    &policy) == -1 ||
	    (b = authz_add(cx, cx->op->action, arn)) == NULL ||
	    request_tags(cx, b) == -1)
		return -1;
	if (policy != NULL && authz_add(cx, "dynamodb:PutResourcePolicy",
	    arn) == NULL)
		return -1;
	return 0;
}

/* Where replicas of a table live: partition, account and table name. */
struct replica_of {
	const char *partition, *account, *table;
};

/* The table ARN of a replica: the same table in obj's RegionName. */
static const char *
replica_arn(struct cx *cx, const struct json_value *obj, const char *where,
    const struct replica_of *of)
{
	const char *region;

	if (string_field(cx, obj, where, "RegionName", true, &region) == -1)
		return NULL;
	if (!is_region(region, strlen(region))) {
		deny(cx, "%s.RegionName is not a region name", where);
		return NULL;
	}
	return cx_cat(cx, "arn:", of->partition, ":dynamodb:", region, ":",
	    of->account, ":table/", of->table, (char *)NULL);
}

/* The replica_of of a table ARN (as built or validated by table_arn). */
static int
replica_of_table(struct cx *cx, const char *table, struct replica_of *of)
{
	struct arn a;

	if (arn_split(table, &a) == -1)
		return deny(cx, "TableName is not a table ARN");
	if ((of->partition = cx_strndup(cx, table + 4, (size_t)(a.service -
	    table) - 5)) == NULL || (of->account = cx_strndup(cx, a.account,
	    a.account_len)) == NULL)
		return -1;
	of->table = a.resource + 6;	/* after "table/" */
	return 0;
}

static const char *const replica_verbs[] = { "Create", "Delete" };

/*
 * UpdateTable: + dynamodb:CreateTableReplica / DeleteTableReplica on
 * the replica's table ARN for ReplicaUpdates Create / Delete (spec 4.1
 * leaves the exact mapping unconfirmed; this is the stricter reading).
 */
static int
h_update_table(struct cx *cx)
{
	const struct json_value *list, *u, *v;
	char where[WHERE_MAX], buf[WHERE_MAX];
	const char *action, *replica;
	struct replica_of of = { NULL, NULL, NULL };
	size_t i, k;

	if (h_table(cx) == -1 || field(cx, cx->body, "", "ReplicaUpdates",
	    JSON_KIND_ARRAY, false, &list) == -1 || replica_of_table(cx,
	    ((struct authz_b *)cx->authz.items)[0].resource, &of) == -1)
		return -1;
	for (i = 0; i < nchildren(list); i++) {
		u = &list->u.items[i];
		where_index(where, "ReplicaUpdates", i);
		if (!is(u, JSON_KIND_OBJECT))
			return deny(cx, "%s must be an object", where);
		if (check_case(cx, u, where) == -1)
			return -1;
		for (k = 0; k < 2; k++) {
			if (field(cx, u, where, replica_verbs[k],
			    JSON_KIND_OBJECT, false, &v) == -1)
				return -1;
			if (v == NULL)
				continue;
			where_join(buf, where, replica_verbs[k]);
			if (check_case(cx, v, buf) == -1 ||
			    (replica = replica_arn(cx, v, buf, &of)) == NULL)
				return -1;
			action = k == 0 ? "dynamodb:CreateTableReplica" :
			    "dynamodb:DeleteTableReplica";
			if (authz_add(cx, action, replica) == NULL)
				return -1;
		}
	}
	return 0;
}

/* The global-table ARN (empty region) of GlobalTableName. */
static int
global_table(struct cx *cx, const char **name)
{
	const char *arn;

	if (string_field(cx, cx->body, "", "GlobalTableName", true, name) == -1)
		return -1;
	if (!is_table_name(*name, strlen(*name)))
		return deny(cx, "GlobalTableName is not a valid table name");
	if (need_account(cx, "global table", *name) == -1 ||
	    (arn = cx_printf(cx, "arn:%s:dynamodb::%s:global-table/%s",
	    cx->partition, cx->account, *name)) == NULL)
		return -1;
	return authz_add(cx, cx->op->action, arn) != NULL ? 0 : -1;
}

static int
h_global_table(struct cx *cx)
{
	const char *name;

	return global_table(cx, &name);
}

/*
 * The replica tables of a global-table request: the table of the same
 * name in each region of list[*] (or of list[*].member when member is
 * set), authorized with the operation's action.
 */
static int
global_replicas(struct cx *cx, const char *name, const char *list_name,
    bool verbs, bool required)
{
	struct replica_of of = { cx->partition, cx->account, name };
	const struct json_value *list, *e, *v;
	char where[WHERE_MAX], buf[WHERE_MAX];
	const char *arn;
	size_t i, k;

	if (field(cx, cx->body, "", list_name, JSON_KIND_ARRAY, required,
	    &list) == -1)
		return -1;
	for (i = 0; i < nchildren(list); i++) {
		e = &list->u.items[i];
		where_index(where, list_name, i);
		if (!is(e, JSON_KIND_OBJECT))
			return deny(cx, "%s must be an object", where);
		if (check_case(cx, e, where) == -1)
			return -1;
		for (k = 0; k < (verbs ? 2 : 1); k++) {
			v = e;
			snprintf(buf, sizeof(buf), "%s", where);
			if (verbs && field(cx, e, where, replica_verbs[k],
			    JSON_KIND_OBJECT, false, &v) == -1)
				return -1;
			if (v == NULL)
				continue;
			if (verbs && (check_case(cx, v, where_join(buf, where,
			    replica_verbs[k])) == -1))
				return -1;
			if ((arn = replica_arn(cx, v, buf, &of)) == NULL ||
			    authz_add(cx, cx->op->action, arn) == NULL)
				return -1;
		}
	}
	return 0;
}

static int
h_create_global_table(struct cx *cx)
{
	const char *name;

	if (global_table(cx, &name) == -1)
		return -1;
	return global_replicas(cx, name, "ReplicationGroup", false, true);
}

static int
h_update_global_table(struct cx *cx)
{
	const char *name;

	if (global_table(cx, &name) == -1)
		return -1;
	return global_replicas(cx, name, "ReplicaUpdates", true, true);
}

static int
h_update_global_table_settings(struct cx *cx)
{
	const char *name;

	if (global_table(cx, &name) == -1)
		return -1;
	return global_replicas(cx, name, "ReplicaSettingsUpdate", false,
	    false);
}

/* RestoreTableFromBackup: the backup and the target table. */
static int
h_restore_backup(struct cx *cx)
{
	const char *arn;

	if (h_backup_arn(cx) == -1 || table_field(cx, cx->body, "",
	    "TargetTableName", true, &arn) == -1)
		return -1;
	return authz_add(cx, cx->op->action, arn) != NULL ? 0 : -1;
}

/* RestoreTableToPointInTime: the source table(s) and the target. */
static int
h_restore_pitr(struct cx *cx)
{
	const char *src_arn, *src_name, *target;
	int a, n;

	if ((a = arn_field(cx, cx->body, "SourceTableArn", ARN_TABLE,
	    "a table ARN", false, &src_arn)) == -1 ||
	    (n = table_field(cx, cx->body, "", "SourceTableName", false,
	    &src_name)) == -1 ||
	    table_field(cx, cx->body, "", "TargetTableName", true,
	    &target) == -1)
		return -1;
	if (a == 0 && n == 0)
		return deny(cx, "SourceTableArn or SourceTableName is required");
	if (a == 1 && authz_add(cx, cx->op->action, src_arn) == NULL)
		return -1;
	if (n == 1 && authz_add(cx, cx->op->action, src_name) == NULL)
		return -1;
	return authz_add(cx, cx->op->action, target) != NULL ? 0 : -1;
}

static int
h_import_table(struct cx *cx)
{
	const struct json_value *params;
	const char *arn;

	if (field(cx, cx->body, "", "TableCreationParameters",
	    JSON_KIND_OBJECT, true, &params) == -1 || check_case(cx, params,
	    "TableCreationParameters") == -1 || table_field(cx, params,
	    "TableCreationParameters", "TableName", true, &arn) == -1)
		return -1;
	return authz_add(cx, cx->op->action, arn) != NULL ? 0 : -1;
}

/*
 * GetRecords: the stream ARN is the text before the first '|' of the
 * ShardIterator, "<stream ARN>|<n>|<token>" (spec 8.2). Anything else
 * is refused.
 */
static int
h_shard_iterator(struct cx *cx)
{
	const char *it, *bar, *bar2, *arn;
	size_t i;

	if (string_field(cx, cx->body, "", "ShardIterator", true, &it) == -1)
		return -1;
	bar = strchr(it, '|');
	bar2 = bar != NULL ? strchr(bar + 1, '|') : NULL;
	if (bar == NULL || bar2 == NULL || bar2 == bar + 1 || bar2[1] == '\0')
		return deny(cx, "cannot read the stream ARN of the ShardIterator");
	for (i = 1; bar + i < bar2; i++) {
		if (!is_digit(bar[i]))
			return deny(cx, "cannot read the stream ARN of the "
			    "ShardIterator");
	}
	if ((arn = cx_strndup(cx, it, (size_t)(bar - it))) == NULL)
		return -1;
	if (arn_kind(arn) != ARN_STREAM)
		return deny(cx, "cannot read the stream ARN of the ShardIterator");
	return authz_add(cx, cx->op->action, arn) != NULL ? 0 : -1;
}

/*
 * DAX ClusterName: DAX stores cluster names in lower case, so "MyCache"
 * and "mycache" are one cluster and the ARN has the lower-case name.
 */
static int
h_dax_cluster(struct cx *cx)
{
	const char *name;
	char *lower, *arn;
	size_t i;

	if (string_field(cx, cx->body, "", "ClusterName", true, &name) == -1)
		return -1;
	if (!is_cluster_name(name, strlen(name)))
		return deny(cx, "ClusterName is not a valid cluster name");
	if (need_account(cx, "cluster", name) == -1 ||
	    (lower = cx_strdup(cx, name)) == NULL)
		return -1;
	for (i = 0; lower[i] != '\0'; i++) {
		if (lower[i] >= 'A' && lower[i] <= 'Z')
			lower[i] = (char)(lower[i] - 'A' + 'a');
	}
	if ((arn = cx_printf(cx, "arn:%s:dax:%s:%s:cache/%s", cx->partition,
	    cx->sig.auth.region, cx->account, lower)) == NULL ||
	    authz_add(cx, cx->op->action, arn) == NULL)
		return -1;
	if (strcmp(lower, name) == 0)
		return 0;
	/* A policy may name the cluster as written: both must be allowed. */
	if ((arn = cx_printf(cx, "arn:%s:dax:%s:%s:cache/%s", cx->partition,
	    cx->sig.auth.region, cx->account, name)) == NULL)
		return -1;
	return authz_add(cx, cx->op->action, arn) != NULL ? 0 : -1;
}

/* DAX ResourceName: a cluster ARN, its name part in lower case. */
static int
h_dax_resource(struct cx *cx)
{
	const char *arn;
	char *lower, *p;

	if (arn_field(cx, cx->body, "ResourceName", ARN_DAX_CACHE,
	    "a DAX cluster ARN", true, &arn) == -1 ||
	    (lower = cx_strdup(cx, arn)) == NULL)
		return -1;
	for (p = strstr(lower, ":cache/"); *p != '\0'; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	}
	if (authz_add(cx, cx->op->action, lower) == NULL)
		return -1;
	/* A policy may name the cluster as written: both must be allowed. */
	if (strcmp(lower, arn) != 0 && authz_add(cx, cx->op->action,
	    arn) == NULL)
		return -1;
	return 0;
}

static int
h_dax_tag(struct cx *cx)
{
	if (h_dax_resource(cx) == -1)
		return -1;
	return request_tags(cx, &((struct authz_b *)cx->authz.items)[0]);
}

static int
h_dax_untag(struct cx *cx)
{
	if (h_dax_resource(cx) == -1)
		return -1;
	return removed_tag_keys(cx, &((struct authz_b *)cx->authz.items)[0]);
}

/* ------------------------------------------------------------------ */
/* The operation table (spec 4.1, 4.2, 4.3)                            */
/* ------------------------------------------------------------------ */

#define DDB(n, h) { SERVICE_DYNAMODB, #n, "dynamodb:" #n, h, NULL, false }
#define DDB_ITEM(n, h, f) { SERVICE_DYNAMODB, #n, "dynamodb:" #n, h, f, true }
#define DDB_DATA(n, h) { SERVICE_DYNAMODB, #n, NULL, h, NULL, true }
#define STREAMS(n, h) { SERVICE_STREAMS, #n, "dynamodb:" #n, h, NULL, false }
#define DAX(n, h) { SERVICE_DAX, #n, "dax:" #n, h, NULL, false }

static const struct op ops[] = {
	DDB_DATA(BatchExecuteStatement, h_partiql_list),
	DDB_ITEM(BatchGetItem, h_batch, NULL),
	DDB_ITEM(BatchWriteItem, h_batch, NULL),
	DDB(CreateBackup, h_table),
	DDB(CreateGlobalTable, h_create_global_table),
	DDB(CreateTable, h_create_table),
	DDB(DeleteBackup, h_backup_arn),
	DDB_ITEM(DeleteItem, h_item, &fg_delete),
	DDB(DeleteResourcePolicy, h_resource_arn),
	DDB(DeleteTable, h_table),
	DDB(DescribeBackup, h_backup_arn),
	DDB(DescribeContinuousBackups, h_table),
	DDB(DescribeContributorInsights, h_table_or_index),
	DDB(DescribeEndpoints, h_star),
	DDB(DescribeExport, h_export_arn),
	DDB(DescribeGlobalTable, h_global_table),
	DDB(DescribeGlobalTableSettings, h_global_table),
	DDB(DescribeImport, h_import_arn),
	DDB(DescribeKinesisStreamingDestination, h_table),
	DDB(DescribeLimits, h_star),
	DDB(DescribeTable, h_table),
	DDB(DescribeTableReplicaAutoScaling, h_table),
	DDB(DescribeTimeToLive, h_table),
	DDB(DisableKinesisStreamingDestination, h_table),
	DDB(EnableKinesisStreamingDestination, h_table),
	DDB_DATA(ExecuteStatement, h_partiql),
	DDB_DATA(ExecuteTransaction, h_partiql_list),
	DDB(ExportTableToPointInTime, h_table_arn),
	DDB_ITEM(GetItem, h_item, &fg_get),
	DDB(GetResourcePolicy, h_resource_arn),
	DDB(ImportTable, h_import_table),
	DDB(ListBackups, h_star),
	DDB(ListContributorInsights, h_star),
	DDB(ListExports, h_optional_table_arn),
	DDB(ListGlobalTables, h_star),
	DDB(ListImports, h_optional_table_arn),
	DDB(ListTables, h_star),
	DDB(ListTagsOfResource, h_resource_arn),
	DDB_ITEM(PutItem, h_item, &fg_put),
	DDB(PutResourcePolicy, h_resource_arn),
	DDB_ITEM(Query, h_query_scan, &fg_query),
	DDB(RestoreTableFromBackup, h_restore_backup),
	DDB(RestoreTableToPointInTime, h_restore_pitr),
	DDB_ITEM(Scan, h_query_scan, &fg_scan),
	DDB(SearchVectors, h_search_vectors),
	DDB(TagResource, h_tag_resource),
	DDB_DATA(TransactGetItems, h_transact),
	DDB_DATA(TransactWriteItems, h_transact),
	DDB(UntagResource, h_untag_resource),
	DDB(UpdateContinuousBackups, h_table),
	DDB(UpdateContributorInsights, h_table_or_index),
	DDB(UpdateGlobalTable, h_update_global_table),
	DDB(UpdateGlobalTableSettings, h_update_global_table_settings),
	DDB_ITEM(UpdateItem, h_item, &fg_update),
	DDB(UpdateKinesisStreamingDestination, h_table),
	DDB(UpdateTable, h_update_table),
	DDB(UpdateTableReplicaAutoScaling, h_table),
	DDB(UpdateTimeToLive, h_table),

	STREAMS(DescribeStream, h_stream_arn),
	STREAMS(GetRecords, h_shard_iterator),
	STREAMS(GetShardIterator, h_stream_arn),
	STREAMS(ListStreams, h_star),

	DAX(CreateCluster, h_dax_cluster),
	DAX(CreateParameterGroup, h_star),
	DAX(CreateSubnetGroup, h_star),
	DAX(DecreaseReplicationFactor, h_dax_cluster),
	DAX(DeleteCluster, h_dax_cluster),
	DAX(DeleteParameterGroup, h_star),
	DAX(DeleteSubnetGroup, h_star),
	DAX(DescribeClusters, h_star),
	DAX(DescribeDefaultParameters, h_star),
	DAX(DescribeEvents, h_star),
	DAX(DescribeParameterGroups, h_star),
	DAX(DescribeParameters, h_star),
	DAX(DescribeSubnetGroups, h_star),
	DAX(IncreaseReplicationFactor, h_dax_cluster),
	DAX(ListTags, h_dax_resource),
	DAX(RebootNode, h_dax_cluster),
	DAX(TagResource, h_dax_tag),
	DAX(UntagResource, h_dax_untag),
	DAX(UpdateCluster, h_dax_cluster),
	DAX(UpdateParameterGroup, h_star),
	DAX(UpdateSubnetGroup, h_star),
};

static const char *
service_prefix(enum endpoint_service s)
{
	switch (s) {
	case SERVICE_DYNAMODB:
		return "DynamoDB_20120810";
	case SERVICE_STREAMS:
		return "DynamoDBStreams_20120810";
	case SERVICE_DAX:
		return "AmazonDAXV3";
	default:
		return NULL;
	}
}

/* ------------------------------------------------------------------ */
/* Phase 1: headers                                                    */
/* ------------------------------------------------------------------ */

/* value is type, optionally followed by "; charset=utf-8" (no case). */
static bool
is_media_type(const char *v, size_t len, const char *type)
{
	size_t tl = strlen(type), i;

	if (len < tl || strncasecmp(v, type, tl) != 0)
		return false;
	i = tl;
	while (i < len && (v[i] == ' ' || v[i] == '\t'))
		i++;
	if (i == len)
		return i == tl;
	if (v[i++] != ';')
		return false;
	while (i < len && (v[i] == ' ' || v[i] == '\t'))
		i++;
	return len - i == 13 && strncasecmp(v + i, "charset=utf-8", 13) == 0;
}

static int
check_content_type(struct cx *cx)
{
	const struct classify_input *in = cx->in;
	const char *want = in->service == SERVICE_DAX ?
	    "application/x-amz-json-1.1" : "application/x-amz-json-1.0";
	const struct http1_header *h;

	if (http1_header_count(in->headers, in->nheaders, "content-type") > 1)
		return deny(cx, "repeated Content-Type header");
	h = http1_header_find(in->headers, in->nheaders, "content-type");
	if (h == NULL || !is_media_type(h->value, h->value_len, want))
		return refuse(cx, TYPE_UNKNOWN_OP, "Content-Type must be %s",
		    want);
	return 0;
}

/* X-Amz-Target: exactly one, "<prefix>.<Operation>", case-sensitive. */
static int
find_operation(struct cx *cx)
{
	const struct classify_input *in = cx->in;
	const char *prefix = service_prefix(in->service);
	const struct http1_header *h;
	size_t i, pl = strlen(prefix), nl;

	if (http1_header_count(in->headers, in->nheaders, "x-amz-target") > 1)
		return deny(cx, "repeated X-Amz-Target header");
	h = http1_header_find(in->headers, in->nheaders, "x-amz-target");
	if (h == NULL)
		return refuse(cx, TYPE_UNKNOWN_OP, "missing X-Amz-Target header");
	if (h->value_len > pl + 1 && memcmp(h->value, prefix, pl) == 0 &&
	    h->value[pl] == '.') {
		nl = h->value_len - pl - 1;
		for (i = 0; i < nitems(ops); i++) {
			if (ops[i].service == in->service &&
			    strlen(ops[i].name) == nl &&
			    memcmp(ops[i].name, h->value + pl + 1, nl) == 0) {
				cx->op = &ops[i];
				return 0;
			}
		}
	}
	return refuse(cx, TYPE_UNKNOWN_OP, "X-Amz-Target is not an operation "
	    "of %s", prefix);
}

/* SigV4 (sigv4.c), then the scope against this endpoint. */
static int
check_signature(struct cx *cx)
{
	const struct classify_input *in = cx->in;
	const char *service = in->service == SERVICE_DAX ? "dax" : "dynamodb";
	enum sigv4_status st;
	char msg[SIGV4_MESSAGE_MAX];

	if (in->target != NULL && memchr(in->target, '?', in->target_len))
		return deny(cx, "a query string is not accepted (presigned "
		    "requests are not supported)");
	st = sigv4_check_request(in->headers, in->nheaders, in->now, &cx->sig,
	    msg, sizeof(msg));
	if (st != SIGV4_OK && cx->sig.time != 0) {
		/* the request was dated: say how far off the client's clock is */
		cx->why->has_clock_skew = true;
		cx->why->clock_skew_s = (long long)cx->sig.time -
		    (long long)in->now;
	}
	if (st != SIGV4_OK)
		return refuse(cx, sigv4_status_type(st), "%s", msg);
	if (strcmp(cx->sig.auth.service, service) != 0)
		return refuse(cx, TYPE_INVALID_SIG, "Credential should be scoped "
		    "to correct service: '%s'. ", service);
	if (strcmp(cx->sig.auth.region, in->cfg->region) != 0)
		return refuse(cx, TYPE_INVALID_SIG, "Credential should be scoped "
		    "to a valid region, not '%s'. This endpoint serves '%s'.",
		    cx->sig.auth.region, in->cfg->region);
	return 0;
}

/* The principal of the access key, and the account ARNs are built in. */
/*
 * The account an access key id belongs to, for keys of the current
 * format (spec 3.4): base32 of characters 5-20, the first 6 bytes
 * big-endian, masked with 0x7fffffffff80 and shifted right by 7. Only
 * AKIA/ASIA keys carry it; keys of the old format (fifth character I or
 * J) and anything that does not decode give -1, and then `account`
 * applies (a residual risk for old-format keys of other accounts: map
 * them under `principals`; docs/classify.md). A table named without an ARN lives in the caller's
 * account (spec 4.4), so an unmapped key's own account is the one to
 * judge — not `account`, which would let a caller reach a table of the
 * same name in an account of its own.
 */
static int
key_account(const char *key, char out[13])
{
	static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	uint64_t bits = 0, z;
	int nbits = 0, nbytes = 0;
	uint8_t bytes[6];

	if (strlen(key) != 20 || (strncmp(key, "AKIA", 4) != 0 &&
	    strncmp(key, "ASIA", 4) != 0) || key[4] == 'I' || key[4] == 'J')
		return -1;
	for (int i = 4; i < 20 && nbytes < 6; i++) {
		const char *p = strchr(b32, key[i]);

		if (p == NULL || key[i] == '\0')
			return -1;
		bits = (bits << 5) | (uint64_t)(p - b32);
		nbits += 5;
		while (nbits >= 8 && nbytes < 6) {
			nbits -= 8;
			bytes[nbytes++] = (uint8_t)(bits >> nbits);
		}
	}
	if (nbytes < 6)
		return -1;
	z = 0;
	for (int i = 0; i < 6; i++)
		z = (z << 8) | bytes[i];
	z = (z & 0x7fffffffff80ull) >> 7;
	if (z > 999999999999ull)
		return -1; /* not a 12-digit account: not this format */
	snprintf(out, 13, "%012llu", (unsigned long long)z);
	return 0;
}

static int
find_principal(struct cx *cx)
{
	const struct config *cfg = cx->in->cfg;
	char decoded[13];
	struct arn a;
	size_t i;

	cx->account = cfg->account;
	for (i = 0; i < cfg->nprincipals; i++) {
		if (strcmp(cfg->principals[i].access_key_id,
		    cx->sig.auth.access_key_id) == 0) {
			cx->principal = &cfg->principals[i];
			break;
		}
	}
	cx->partition = region_partition(cx->sig.auth.region);
	if (cx->principal != NULL && arn_split(cx->principal->arn, &a) == 0 &&
	    is_account(a.account, a.account_len) &&
	    (cx->account = cx_strndup(cx, a.account, a.account_len)) == NULL)
		return -1;
	if (cx->principal == NULL && key_account(cx->sig.auth.access_key_id,
	    decoded) == 0 && (cx->account = cx_strdup(cx, decoded)) == NULL)
		return -1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Phase 2: the body                                                   */
/* ------------------------------------------------------------------ */

static int
parse_body(struct cx *cx)
{
	const struct classify_input *in = cx->in;
	size_t at;

	/* The tree gets an arena of its own: it dies with cx, and whatever
	   the result keeps of it is copied into the result's arena. */
	if ((cx->body_arena = arena_new()) == NULL)
		return out_of_memory(cx);
	switch (json_parse(cx->body_arena, in->body != NULL ? in->body : "",
	    in->body != NULL ? in->body_len : 0, &cx->body, &at)) {
	case JSON_PARSE_OK:
		break;
	case JSON_PARSE_DUPLICATE:
		return deny(cx, "duplicate key in the request body");
	case JSON_PARSE_NOMEM:
		return out_of_memory(cx);
	default:
		return refuse(cx, TYPE_SERIALIZATION, "the request body is not "
		    "valid JSON (at byte %zu)", at);
	}
	if (!is(cx->body, JSON_KIND_OBJECT))
		return refuse(cx, TYPE_SERIALIZATION, "the request body must be "
		    "a JSON object");
	return check_case(cx, cx->body, "");
}

/* ------------------------------------------------------------------ */
/* Phase 4: the result                                                 */
/* ------------------------------------------------------------------ */

static int
key_add(struct cx *cx, struct vec *keys, const char *name,
    const char *const *values, size_t n)
{
	struct policy_key *k = vec_add(cx, keys, sizeof(*k));

	if (k == NULL)
		return -1;
	k->name = name;
	k->values = values;
	k->nvalues = n;
	return 0;
}

/* One single-valued key, value copied into the arena when copy. */
static int
key_add1(struct cx *cx, struct vec *keys, const char *name,
    const char *value, bool copy)
{
	const char **v;

	if (value == NULL)
		return 0;
	if ((v = cx_alloc(cx, sizeof(*v))) == NULL)
		return -1;
	*v = copy ? cx_strdup(cx, value) : value;
	if (*v == NULL)
		return -1;
	return key_add(cx, keys, name, v, 1);
}

/* Copies a set of strings from the JSON body into the arena. */
static int
key_add_set(struct cx *cx, struct vec *keys, const char *name,
    const struct vec *set)
{
	const char **src = set->items, **dst;
	size_t i;

	if ((dst = cx_alloc(cx, (set->n + 1) * sizeof(*dst))) == NULL)
		return -1;
	for (i = 0; i < set->n; i++) {
		if ((dst[i] = cx_strdup(cx, src[i])) == NULL)
			return -1;
	}
	return key_add(cx, keys, name, dst, set->n);
}

static int
unknown_add(struct cx *cx, struct vec *unknown, bool yes, const char *name)
{
	const char **slot;

	if (!yes)
		return 0;
	if ((slot = vec_add(cx, unknown, sizeof(*slot))) == NULL)
		return -1;
	*slot = name;
	return 0;
}

static int
tag_keys(struct cx *cx, struct vec *keys, const struct authz_b *b)
{
	const struct tag *t = b->tags.items;
	const char *name;
	size_t i;

	for (i = 0; i < b->tags.n; i++) {
		if ((name = cx_printf(cx, "aws:RequestTag/%s", t[i].key)) ==
		    NULL || key_add1(cx, keys, name, t[i].value, true) == -1)
			return -1;
	}
	if (b->has_tag_keys && key_add_set(cx, keys, K_TAG_KEYS,
	    &b->tag_keys) == -1)
		return -1;
	return 0;
}

/*
 * aws:ResourceAccount: the account segment of the pair's ARN. Unknown
 * when the ARN was built without an account; absent for "*".
 */
static int
resource_account(struct cx *cx, struct vec *keys, struct vec *unknown,
    const char *resource)
{
	struct arn a;

	if (strcmp(resource, "*") == 0 || arn_split(resource, &a) == -1)
		return 0;
	if (a.account_len == 0)
		return unknown_add(cx, unknown, true, K_RESOURCE_ACCOUNT);
	return key_add1(cx, keys, K_RESOURCE_ACCOUNT, cx_strndup(cx,
	    a.account, a.account_len), false);
}

static const char *const dax_unknown[] = {
	K_LEADING, K_FIRST_PK, K_ATTRIBUTES, K_SELECT, K_RETURN_VALUES, K_RCC,
	K_FULL_SCAN, "dynamodb:SecondPartitionKeyValues",
	"dynamodb:ThirdPartitionKeyValues", "dynamodb:FourthPartitionKeyValues",
};

static int
finish_authz(struct cx *cx, const struct authz_b *b, struct classify_authz *a)
{
	struct vec keys = { NULL, 0, 0 }, unknown = { NULL, 0, 0 };

	a->action = b->action;
	if ((a->resource = cx_strdup(cx, b->resource)) == NULL)
		return -1;
	if ((b->has_leading && !b->leading_unknown &&
	    key_add_set(cx, &keys, K_LEADING, &b->leading) == -1) ||
	    (!b->attrs_unknown && b->attrs.n > 0 &&
	    key_add_set(cx, &keys, K_ATTRIBUTES, &b->attrs) == -1) ||
	    key_add1(cx, &keys, K_SELECT, b->select, false) == -1 ||
	    key_add1(cx, &keys, K_RETURN_VALUES, b->return_values, false) == -1 ||
	    key_add1(cx, &keys, K_RCC, b->rcc, false) == -1 ||
	    key_add1(cx, &keys, K_ENCLOSING, b->enclosing, false) == -1 ||
	    key_add1(cx, &keys, K_FULL_SCAN, b->full_scan, false) == -1 ||
	    tag_keys(cx, &keys, b) == -1)
		return -1;
	/* FirstPartitionKeyValues is LeadingKeys by another name (spec 6.1). */
	if (b->has_leading && !b->leading_unknown &&
	    key_add_set(cx, &keys, K_FIRST_PK, &b->leading) == -1)
		return -1;
	if (resource_account(cx, &keys, &unknown, a->resource) == -1)
		return -1;
	if (unknown_add(cx, &unknown, b->leading_unknown, K_LEADING) == -1 ||
	    unknown_add(cx, &unknown, b->leading_unknown, K_FIRST_PK) == -1 ||
	    unknown_add(cx, &unknown, b->attrs_unknown ||
	    b->returns_old_on_failure, K_ATTRIBUTES) == -1 ||
	    unknown_add(cx, &unknown, b->returns_old_on_failure,
	    K_RETURN_VALUES) == -1 ||
	    unknown_add(cx, &unknown, b->full_scan_unknown, K_FULL_SCAN) == -1)
		return -1;
	if (key_add1(cx, &keys, K_DAX_TABLE, b->dax_table, true) == -1 ||
	    key_add1(cx, &keys, K_DAX_ENCLOSING, b->dax_enclosing, false) == -1)
		return -1;
	/* A DAX frame's keys and attributes are CBOR the gateway does not
	 * decode: a policy that looks at them refuses the request. */
	for (size_t k = 0; k < sizeof(dax_unknown) / sizeof(dax_unknown[0]);
	    k++)
		if (unknown_add(cx, &unknown, b->dax_item, dax_unknown[k]) == -1)
			return -1;
	/* Multi-attribute partition keys are not modelled: never guessed. */
	for (size_t k = 0; k < sizeof(multi_pk) / sizeof(multi_pk[0]); k++)
		if (unknown_add(cx, &unknown, b->has_leading, multi_pk[k]) == -1)
			return -1;
	a->keys = keys.items;
	a->nkeys = keys.n;
	a->leading_keys_unknown = b->leading_unknown;
	a->unknown_keys = unknown.items;
	a->nunknown_keys = unknown.n;
	return 0;
}

/* aws:SourceIp: the client's address, IPv4-mapped IPv6 as IPv4. */
static const char *
source_ip(const struct sockaddr *sa, char *buf, size_t len)
{
	const struct sockaddr_in6 *s6;
	const struct sockaddr_in *s4;

	if (sa == NULL)
		return NULL;
	if (sa->sa_family == AF_INET) {
		s4 = (const struct sockaddr_in *)(const void *)sa;
		return inet_ntop(AF_INET, &s4->sin_addr, buf, (socklen_t)len);
	}
	if (sa->sa_family != AF_INET6)
		return NULL;
	s6 = (const struct sockaddr_in6 *)(const void *)sa;
	if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
		return inet_ntop(AF_INET, s6->sin6_addr.s6_addr + 12, buf,
		    (socklen_t)len);
	return inet_ntop(AF_INET6, &s6->sin6_addr, buf, (socklen_t)len);
}

static int
time_keys(struct cx *cx, struct vec *keys)
{
	/* formatted once per second and thread, not per request */
	static _Thread_local struct {
		time_t now;
		char iso[80], epoch[24];
	} last;
	struct tm tm;
	time_t now = cx->in->now;

	if (last.epoch[0] == '\0' || last.now != now) {
		if (gmtime_r(&now, &tm) == NULL)
			return deny(cx, "the clock is out of range");
		snprintf(last.iso, sizeof(last.iso),
		    "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		    tm.tm_sec);
		snprintf(last.epoch, sizeof(last.epoch), "%lld",
		    (long long)now);
		last.now = now;
	}
	if (key_add1(cx, keys, "aws:CurrentTime", last.iso, true) == -1 ||
	    key_add1(cx, keys, "aws:EpochTime", last.epoch, true) == -1)
		return -1;
	return 0;
}

static int
principal_keys(struct cx *cx, struct vec *keys)
{
	const struct conf_principal *p = cx->principal;
	char decoded[13];
	struct arn a;
	char *account;

	/*
	 * An unmapped key of the current format still says its account
	 * (spec 3.4). The gateway cannot check the signature, but AWS does:
	 * a forged key id gains nothing past the gateway.
	 */
	if (p == NULL && key_account(cx->sig.auth.access_key_id, decoded) == 0)
		return key_add1(cx, keys, "aws:PrincipalAccount",
		    cx_strdup(cx, decoded), false);
	if (p == NULL)
		return 0;
	if (key_add1(cx, keys, "aws:PrincipalArn", p->arn, true) == -1)
		return -1;
	if (arn_split(p->arn, &a) == 0 && is_account(a.account, a.account_len)) {
		if ((account = cx_strndup(cx, a.account, a.account_len)) ==
		    NULL || key_add1(cx, keys, "aws:PrincipalAccount", account,
		    false) == -1)
			return -1;
	}
	return key_add1(cx, keys, "aws:userid", p->userid, true);
}

static int
user_agent_key(struct cx *cx, struct vec *keys)
{
	const struct classify_input *in = cx->in;
	const struct http1_header *h;
	char *ua;

	if (http1_header_count(in->headers, in->nheaders, "user-agent") > 1)
		return deny(cx, "repeated User-Agent header");
	if ((h = http1_header_find(in->headers, in->nheaders, "user-agent")) ==
	    NULL)
		return 0;
	if ((ua = cx_strndup(cx, h->value, h->value_len)) == NULL)
		return -1;
	return key_add1(cx, keys, "aws:UserAgent", ua, false);
}

/* The request-wide keys of spec 6.2. */
static int
request_keys(struct cx *cx, struct vec *keys)
{
	const struct classify_input *in = cx->in;
	char ip[INET6_ADDRSTRLEN];

	if (key_add1(cx, keys, "aws:SourceIp", source_ip(in->client, ip,
	    sizeof(ip)), true) == -1 ||
	    key_add1(cx, keys, "aws:SecureTransport", in->secure_transport ?
	    "true" : "false", false) == -1 ||
	    time_keys(cx, keys) == -1 ||
	    key_add1(cx, keys, "aws:RequestedRegion", cx->sig.auth.region,
	    true) == -1 ||
	    principal_keys(cx, keys) == -1 ||
	    key_add1(cx, keys, "aws:SourceVpce", in->endpoint != NULL ?
	    in->endpoint->source_vpce : NULL, true) == -1 ||
	    user_agent_key(cx, keys) == -1)
		return -1;
	return 0;
}

static int
build_result(struct cx *cx, struct classify_result *out)
{
	const struct authz_b *b = cx->authz.items;
	struct classify_authz *a;
	struct vec keys = { NULL, 0, 0 };
	size_t i;

	if ((a = cx_alloc(cx, cx->authz.n * sizeof(*a))) == NULL)
		return -1;
	for (i = 0; i < cx->authz.n; i++) {
		if (finish_authz(cx, &b[i], &a[i]) == -1)
			return -1;
	}
	if (request_keys(cx, &keys) == -1)
		return -1;
	out->service = cx->in->service;
	out->operation = cx->op->name;
	if ((out->access_key_id = cx_strdup(cx, cx->sig.auth.access_key_id)) ==
	    NULL || (out->region = cx_strdup(cx, cx->sig.auth.region)) == NULL ||
	    (out->signature = cx_strdup(cx, cx->sig.auth.signature)) == NULL)
		return -1;
	if (cx->principal != NULL &&
	    (out->principal = cx_strdup(cx, cx->principal->arn)) == NULL)
		return -1;
	out->request_time = cx->sig.time;
	out->account_unknown = cx->account_unknown;
	out->authz = a;
	out->nauthz = cx->authz.n;
	out->keys = keys.items;
	out->nkeys = keys.n;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Public interface                                                    */
/* ------------------------------------------------------------------ */

static int
classify(struct cx *cx, struct classify_result *out)
{
	if (cx->in->service != SERVICE_DYNAMODB &&
	    cx->in->service != SERVICE_STREAMS && cx->in->service != SERVICE_DAX)
		return deny(cx, "the %s service is not an HTTP API",
		    config_service_name(cx->in->service));
	if (check_content_type(cx) == -1 || find_operation(cx) == -1 ||
	    check_signature(cx) == -1 || parse_body(cx) == -1)
		return -1;
	if (find_principal(cx) == -1)
		return -1;
	if (cx->op->rcc && rcc_field(cx) == -1)
		return -1;
	if (cx->op->handler(cx) == -1)
		return -1;
	return build_result(cx, out);
}

enum classify_status
classify_request(const struct classify_input *in, struct classify_result *out,
    struct classify_refusal *why)
{
	struct cx cx = { .in = in, .why = why };
	int rv;

	memset(out, 0, sizeof(*out));
	memset(why, 0, sizeof(*why));
	if ((cx.arena = arena_new()) == NULL) {
		out_of_memory(&cx);
		return CLASSIFY_REFUSE;
	}
	rv = classify(&cx, out);
	arena_free(cx.body_arena);
	if (rv == -1) {
		arena_free(cx.arena);
		memset(out, 0, sizeof(*out));
		return CLASSIFY_REFUSE;
	}
	out->arena = cx.arena;
	return CLASSIFY_OK;
}

/* ------------------------------------------------------------------ */
/* The DAX data plane                                                  */
/* ------------------------------------------------------------------ */

/* The cluster's ARN: configured, or built from the cluster name (the
 * first label of the endpoint name, spec 1.5) and `account`. */
static const char *
dax_cluster_arn(struct cx *cx, const struct classify_dax_input *din)
{
	const char *host = din->endpoint->hosts[0], *dot = strchr(host, '.');
	size_t len = dot != NULL ? (size_t)(dot - host) : strlen(host);

	if (din->endpoint->cluster_arn != NULL)
		return din->endpoint->cluster_arn;
	if (din->cfg->account == NULL)
		cx->account_unknown = true;
	return cx_printf(cx, "arn:%s:dax:%s:%s:cache/%.*s", cx->partition,
	    din->cfg->region, din->cfg->account ? din->cfg->account : "",
	    (int)len, host);
}

enum classify_status
classify_dax(const struct classify_dax_input *din, struct classify_result *out,
    struct classify_refusal *why)
{
	struct classify_input in = {
		.service = SERVICE_DAX_CLUSTER,
		.cfg = din->cfg,
		.endpoint = din->endpoint,
		.client = din->client,
		.secure_transport = din->secure_transport,
		.now = din->now,
	};
	struct cx cx = { .in = &in, .why = why };
	struct vec keys = { NULL, 0, 0 };
	struct classify_authz *a;
	const char *arn;
	int rv = -1;

	memset(out, 0, sizeof(*out));
	memset(why, 0, sizeof(*why));
	if ((cx.arena = arena_new()) == NULL) {
		out_of_memory(&cx);
		return CLASSIFY_REFUSE;
	}
	snprintf(cx.sig.auth.access_key_id, sizeof(cx.sig.auth.access_key_id),
	    "%s", din->access_key_id);
	snprintf(cx.sig.auth.region, sizeof(cx.sig.auth.region), "%s",
	    din->region[0] != '\0' ? din->region : din->cfg->region);
	snprintf(cx.sig.auth.service, sizeof(cx.sig.auth.service), "dax");
	cx.sig.time = din->now;
	if (find_principal(&cx) == -1 || (arn = dax_cluster_arn(&cx, din)) ==
	    NULL)
		goto out;
	for (size_t i = 0; i < din->npairs; i++) {
		struct authz_b *b = authz_add(&cx, din->actions[i], arn);

		if (b == NULL)
			goto out;
		b->dax_item = true;
		b->dax_table = din->tables[i];
		b->dax_enclosing = din->enclosing;
	}
	if ((a = cx_alloc(&cx, (cx.authz.n ? cx.authz.n : 1) * sizeof(*a))) ==
	    NULL)
		goto out;
	for (size_t i = 0; i < cx.authz.n; i++)
		if (finish_authz(&cx, &((const struct authz_b *)
		    cx.authz.items)[i], &a[i]) == -1)
			goto out;
	if (request_keys(&cx, &keys) == -1)
		goto out;
	out->service = SERVICE_DAX_CLUSTER;
	out->operation = din->operation;
	if ((out->access_key_id = cx_strdup(&cx, din->access_key_id)) == NULL ||
	    (out->region = cx_strdup(&cx, cx.sig.auth.region)) == NULL)
		goto out;
	if (cx.principal != NULL &&
	    (out->principal = cx_strdup(&cx, cx.principal->arn)) == NULL)
		goto out;
	out->request_time = din->now;
	out->account_unknown = cx.account_unknown;
	out->authz = a;
	out->nauthz = cx.authz.n;
	out->keys = keys.items;
	out->nkeys = keys.n;
	out->arena = cx.arena;
	rv = 0;
out:
	if (rv == -1) {
		arena_free(cx.arena);
		memset(out, 0, sizeof(*out));
		return CLASSIFY_REFUSE;
	}
	return CLASSIFY_OK;
}

void
classify_result_free(struct classify_result *out)
{
	if (out == NULL)
		return;
	arena_free(out->arena);
	memset(out, 0, sizeof(*out));
}

void
classify_policy_request(const struct classify_result *out, size_t i,
    struct policy_key *keys, struct policy_request *req)
{
	const struct classify_authz *a = &out->authz[i];

	if (a->nkeys > 0)
		memcpy(keys, a->keys, a->nkeys * sizeof(*keys));
	if (out->nkeys > 0)
		memcpy(keys + a->nkeys, out->keys, out->nkeys * sizeof(*keys));
	req->principal = out->principal;
	req->action = a->action;
	req->resource = a->resource;
	req->keys = keys;
	req->nkeys = a->nkeys + out->nkeys;
}

const char *
classify_operation_name(enum endpoint_service service, size_t i)
{
	size_t k;

	for (k = 0; k < nitems(ops); k++) {
		if (ops[k].service != service)
			continue;
		if (i-- == 0)
			return ops[k].name;
	}
	return NULL;
}
