/*
 * policy — IAM endpoint policies (spec section 5; condition keys of
 * section 6): strict loading, compilation into matchers, evaluation as
 * the endpoint-policy gate, and lint.
 *
 * Loading checks the text first (at most 20480 characters; only U+0009,
 * U+000A, U+000D and U+0020-U+00FF; valid UTF-8: 5.1), parses it with
 * jansson (duplicate keys at any depth and trailing data are errors),
 * then validates every element and compiles it once: actions into a
 * service prefix and a lower-case name pattern (5.3), resources into the
 * six ARN segments (5.4), condition values into numbers, dates, address
 * prefixes, bytes and glob pieces with pre-parsed policy variables (5.5,
 * 5.6). Statements are indexed by action so that evaluation visits only
 * those that can apply.
 *
 * Evaluation (5.8, step 7 only): an explicit Deny wins, else an Allow
 * allows, else the request is implicitly denied. Two deliberate
 * departures from the iam-simulate oracle are documented in
 * docs/policy.md: Principal is evaluated (5.2), and a multivalued key
 * under a plain operator fails closed for the statement's effect (5.5).
 *
 * Pure: no logging, no clock, no I/O except policy_load_file and the
 * stream policy_lint writes to.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <jansson.h>

#include "policy.h"
#include "xmalloc.h"

#define POLICY_MAX_CHARS	20480	/* endpoint policy limit (1.3, 5.1) */
#define POLICY_MAX_DEPTH	8	/* a policy nests 6 deep at most */
#define PATH_LEN		256
#define PATTERN_MAX_VARS	16
#define DECIMAL_DIGITS		40
#define ACTION_BUF		128
#define SCAN_DEPTH		12

/* ------------------------------------------------------------------ */
/* Compiled forms                                                      */
/* ------------------------------------------------------------------ */

struct span {
	const char	*s;
	size_t		 len;
};

enum piece_kind {
	PIECE_LIT,		/* literal text */
	PIECE_STAR,		/* '*': any run of characters */
	PIECE_ONE,		/* '?': exactly one character */
	PIECE_VAR,		/* ${key}: a request value, matched literally */
};

struct piece {
	enum piece_kind	 kind;
	const char	*s;	/* PIECE_LIT: text in pattern.buf */
	size_t		 len;
	unsigned	 var;	/* PIECE_VAR: index into pattern.vars */
};

struct pvar {
	char		*key;	/* lower case */
	const char	*def;	/* default value in pattern.buf, or NULL */
	size_t		 deflen;
};

/*
 * A string with optional wildcards and policy variables, split into
 * pieces. A pattern without either is "literal" and compared directly.
 */
struct pattern {
	char		*text;	/* as written */
	char		*buf;	/* owns the bytes pieces and defaults point to */
	struct piece	*pieces;
	size_t		 npieces;
	struct pvar	*vars;
	size_t		 nvars;
	bool		 literal;
	bool		 any;	/* just "*" */
	bool		 wild;	/* has a '*' or '?' wildcard */
	const char	*lit;	/* literal: the text to compare */
	size_t		 litlen;
};

enum principal_kind {
	PRIN_ANY,		/* "*" or {"AWS": "*"} */
	PRIN_ARN,		/* exact caller ARN */
	PRIN_ROLE,		/* role ARN: also its assumed-role sessions */
	PRIN_ROOT,		/* account: only that account's root user */
	PRIN_OTHER,		/* Service, Federated, CanonicalUser, unique ID */
};

struct principal {
	enum principal_kind kind;
	const char	*type;	/* "AWS", "Service", ... (static) */
	int		 idx;	/* position in its array, -1 if a scalar */
	char		*text;
	char		*account;	/* PRIN_ROOT, PRIN_ROLE */
	char		*partition;	/* PRIN_ROLE, PRIN_ROOT from an ARN */
	char		*role;		/* PRIN_ROLE: name without path */
};

struct action_pat {
	char		*text;
	int		 idx;
	char		*service;	/* lower case; NULL for "*" */
	size_t		 slen;
	struct pattern	 name;		/* lower case */
};

enum resource_kind {
	RES_ANY,		/* literally "*" */
	RES_ARN,
	RES_NEVER,		/* short ARN without a wildcard (5.4) */
};

enum arn_seg {
	SEG_ARN, SEG_PARTITION, SEG_SERVICE, SEG_REGION, SEG_ACCOUNT,
	SEG_RESOURCE, SEG_COUNT
};

struct resource_pat {
	char		*text;
	int		 idx;
	enum resource_kind kind;
	bool		 padded;	/* short ARN padded with '*' */
	struct pattern	 seg[SEG_COUNT];
};

enum family {
	FAM_STRING, FAM_NUMERIC, FAM_DATE, FAM_BOOL, FAM_BINARY, FAM_IP,
	FAM_ARN, FAM_NULL
};

enum cmp { CMP_EQ, CMP_LT, CMP_LE, CMP_GT, CMP_GE };

struct op_info {
	const char	*name;
	enum family	 family;
	enum cmp	 cmp;		/* Numeric, Date: request <cmp> policy */
	bool		 negated;	/* values ANDed, must match none */
	bool		 like;		/* '*' and '?' are wildcards */
	bool		 icase;
};

enum set_op { SET_NONE, SET_ALL, SET_ANY };

struct decimal {
	bool		 neg;
	int		 exp;		/* value = 0.dig x 10^exp */
	unsigned	 ndig;		/* 0: the value is zero */
	char		 dig[DECIMAL_DIGITS];
};

struct ptime {
	int64_t		 sec;
	int32_t		 nsec;
};

struct ipnet {
	int		 family;
	unsigned	 prefix;
	bool		 host_bits;	/* bits past the prefix were set */
	uint8_t		 addr[16];
};

struct cvalue {
	char		*text;
	int		 idx;
	struct pattern	 str;		/* FAM_STRING */
	struct pattern	*arn;		/* FAM_ARN: SEG_COUNT, NULL if short */
	struct decimal	 num;
	struct ptime	 date;
	bool		 b;		/* FAM_BOOL, FAM_NULL */
	struct ipnet	 ip;
	uint8_t		*bin;
	size_t		 binlen;
};

struct cond {
	const struct op_info *op;
	char		*opname;	/* as written */
	char		*keytext;	/* as written */
	char		*key;		/* lower case */
	bool		 ifexists;
	bool		 multi;		/* key declared multivalued (ArrayOf*) */
	enum set_op	 set;
	struct cvalue	*values;
	size_t		 nvalues;
};

struct statement {
	char		*sid;
	bool		 deny;
	bool		 not_principal;
	bool		 principal_any;	/* Principal "*": always matches */
	struct principal *principals;
	size_t		 nprincipals;
	bool		 not_action;
	struct action_pat *actions;
	size_t		 nactions;
	bool		 not_resource;
	struct resource_pat *resources;
	size_t		 nresources;
	struct cond	*conds;
	size_t		 nconds;
};

/* Statement indices in ascending order, split by effect. */
struct idlist {
	int		*v;
	size_t		 n;
	size_t		 cap;
};

struct key_index;

/*
 * The statements filed under one key. A statement whose resources all
 * begin with a literal "type/name" head (the head of "table/Books" and
 * of "table/Books/index/<anything>" is "table/Books") is filed in res
 * under each head; the others are in deny and allow.
 */
struct bucket {
	char		*key;		/* "dynamodb:getitem", "dynamodb", or a
					   resource head "table/Books" */
	size_t		 len;
	struct idlist	 deny;
	struct idlist	 allow;
	struct key_index *res;		/* by resource head, or NULL */
};

/* Open-addressing table from a key to its bucket. */
struct key_index {
	struct bucket	*b;
	size_t		 cap;		/* a power of two, or 0 */
	size_t		 n;
};

struct policy {
	struct statement *stmts;
	size_t		 nstmts;
	bool		 stmt_array;
	bool		 vars;		/* Version 2012-10-17 */
	struct key_index exact;		/* literal action names */
	struct key_index service;	/* names with wildcards, by service */
	struct bucket	 any;		/* Action "*" and NotAction */
	char		**keys_used;	/* lower case, each once */
	size_t		 nkeys_used;
};

/* Loading state: where in the document we are, and the error buffer. */
struct load {
	char		*err;
	size_t		 errlen;
	char		 path[PATH_LEN];
	size_t		 plen;
	bool		 vars;
	size_t		 max_chars;
};

static const struct op_info ops[] = {
	{ "StringEquals", FAM_STRING, CMP_EQ, false, false, false },
	{ "StringNotEquals", FAM_STRING, CMP_EQ, true, false, false },
	{ "StringEqualsIgnoreCase", FAM_STRING, CMP_EQ, false, false, true },
	{ "StringNotEqualsIgnoreCase", FAM_STRING, CMP_EQ, true, false, true },
	{ "StringLike", FAM_STRING, CMP_EQ, false, true, false },
	{ "StringNotLike", FAM_STRING, CMP_EQ, true, true, false },
	{ "NumericEquals", FAM_NUMERIC, CMP_EQ, false, false, false },
	{ "NumericNotEquals", FAM_NUMERIC, CMP_EQ, true, false, false },
	{ "NumericLessThan", FAM_NUMERIC, CMP_LT, false, false, false },
	{ "NumericLessThanEquals", FAM_NUMERIC, CMP_LE, false, false, false },
	{ "NumericGreaterThan", FAM_NUMERIC, CMP_GT, false, false, false },
	{ "NumericGreaterThanEquals", FAM_NUMERIC, CMP_GE, false, false,
	  false },
	{ "DateEquals", FAM_DATE, CMP_EQ, false, false, false },
	{ "DateNotEquals", FAM_DATE, CMP_EQ, true, false, false },
	{ "DateLessThan", FAM_DATE, CMP_LT, false, false, false },
	{ "DateLessThanEquals", FAM_DATE, CMP_LE, false, false, false },
	{ "DateGreaterThan", FAM_DATE, CMP_GT, false, false, false },
	{ "DateGreaterThanEquals", FAM_DATE, CMP_GE, false, false, false },
	{ "Bool", FAM_BOOL, CMP_EQ, false, false, false },
	{ "BinaryEquals", FAM_BINARY, CMP_EQ, false, false, false },
	{ "IpAddress", FAM_IP, CMP_EQ, false, false, false },
	{ "NotIpAddress", FAM_IP, CMP_EQ, true, false, false },
	{ "ArnEquals", FAM_ARN, CMP_EQ, false, true, false },
	{ "ArnLike", FAM_ARN, CMP_EQ, false, true, false },
	{ "ArnNotEquals", FAM_ARN, CMP_EQ, true, true, false },
	{ "ArnNotLike", FAM_ARN, CMP_EQ, true, true, false },
	{ "Null", FAM_NULL, CMP_EQ, false, false, false },
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

static inline char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static char *
strdup_lower(const char *s)
{
	char *t = xstrdup(s);
	size_t i;

	for (i = 0; t[i] != '\0'; i++)
		t[i] = lower(t[i]);
	return t;
}

/* ASCII case-insensitive comparison of n bytes. */
static bool
ieq(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (lower(a[i]) != lower(b[i]))
			return false;
	}
	return true;
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
all_digits(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return false;
	}
	return true;
}

/*
 * Decodes one UTF-8 sequence of s[0..n). Returns its length with the code
 * point in *cp, or 0 if the bytes are not well-formed (RFC 3629: no
 * overlong forms, no surrogates, nothing past U+10FFFF).
 */
static size_t
utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len, i;
	uint32_t c = s[0];
	unsigned char lo = 0x80, hi = 0xbf;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		c &= 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		lo = c == 0xe0 ? 0xa0 : 0x80;
		hi = c == 0xed ? 0x9f : 0xbf;
		c &= 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		lo = c == 0xf0 ? 0x90 : 0x80;
		hi = c == 0xf4 ? 0x8f : 0xbf;
		c &= 0x07;
	} else
		return 0;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	*cp = c;
	return len;
}

/* Length of the character at s (a malformed byte counts as one). */
static size_t
utf8_step(const char *s, size_t n)
{
	uint32_t cp;
	size_t len = utf8_decode((const unsigned char *)s, n, &cp);

	return len == 0 ? 1 : len;
}

/* Characters a policy may contain (5.1). */
static bool
char_allowed(uint32_t cp)
{
	return cp == 0x09 || cp == 0x0a || cp == 0x0d ||
	    (cp >= 0x20 && cp <= 0xff);
}

/* ------------------------------------------------------------------ */
/* Error paths                                                         */
/* ------------------------------------------------------------------ */

static size_t
path_key(struct load *ld, const char *key)
{
	size_t old = ld->plen;
	int n;

	n = snprintf(ld->path + ld->plen, sizeof(ld->path) - ld->plen,
	    "%s%s", ld->plen > 0 ? "." : "", key);
	if (n > 0)
		ld->plen += (size_t)n;
	if (ld->plen >= sizeof(ld->path))
		ld->plen = sizeof(ld->path) - 1;
	return old;
}

static size_t
path_index(struct load *ld, size_t i)
{
	size_t old = ld->plen;
	int n;

	n = snprintf(ld->path + ld->plen, sizeof(ld->path) - ld->plen,
	    "[%zu]", i);
	if (n > 0)
		ld->plen += (size_t)n;
	if (ld->plen >= sizeof(ld->path))
		ld->plen = sizeof(ld->path) - 1;
	return old;
}

static void
path_restore(struct load *ld, size_t old)
{
	ld->plen = old;
	ld->path[old] = '\0';
}

static int __attribute__((format(printf, 2, 3)))
load_error(struct load *ld, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(ld->err, ld->errlen, "%s: %s",
	    ld->plen > 0 ? ld->path : "document", msg);
	return -1;
}

/* Index just past the string starting with the quote at buf[i], or
 * SIZE_MAX if it does not end. */
static size_t
scan_string_end(const char *buf, size_t len, size_t i)
{
	for (i++; i < len; i++) {
		if (buf[i] == '\\')
			i++;
		else if (buf[i] == '"')
			return i + 1;
	}
	return SIZE_MAX;
}

struct scan_frame {
	bool	obj;
	bool	expect_key;
	bool	have_key;
	size_t	index;
	char	key[64];
};

static void
scan_render(struct load *ld, const struct scan_frame *st, size_t depth)
{
	size_t k;

	path_restore(ld, 0);
	for (k = 0; k < depth && k < SCAN_DEPTH; k++) {
		if (st[k].obj && st[k].have_key)
			path_key(ld, st[k].key);
		else if (!st[k].obj)
			path_index(ld, st[k].index);
	}
}

static void
scan_key(struct scan_frame *f, const char *s, size_t n)
{
	if (n >= sizeof(f->key))
		n = sizeof(f->key) - 1;
	memcpy(f->key, s, n);
	f->key[n] = '\0';
	f->have_key = true;
	f->expect_key = false;
}

/*
 * Sets ld->path to the JSON path of byte pos in buf, for messages about
 * bytes jansson or the text check refused. Best effort on broken JSON:
 * it follows brackets, commas and strings only.
 */
static void
json_path_at(struct load *ld, const char *buf, size_t len, size_t pos)
{
	struct scan_frame st[SCAN_DEPTH], *top;
	size_t depth = 0, i = 0, end;

	while (i < len && i < pos) {
		top = depth > 0 && depth <= SCAN_DEPTH ? &st[depth - 1] : NULL;
		switch (buf[i]) {
		case '{':
		case '[':
			if (depth < SCAN_DEPTH) {
				memset(&st[depth], 0, sizeof(st[depth]));
				st[depth].obj = buf[i] == '{';
				st[depth].expect_key = st[depth].obj;
			}
			depth++;
			break;
		case '}':
		case ']':
			if (depth > 0)
				depth--;
			break;
		case ',':
			if (top != NULL && top->obj) {
				top->expect_key = true;
				top->have_key = false;
			} else if (top != NULL)
				top->index++;
			break;
		case '"':
			end = scan_string_end(buf, len, i);
			if (end > pos)
				goto done;
			if (top != NULL && top->obj && top->expect_key)
				scan_key(top, buf + i + 1, end - i - 2);
			i = end;
			continue;
		}
		i++;
	}
done:
	scan_render(ld, st, depth);
}

/* ------------------------------------------------------------------ */
/* Patterns: wildcards and policy variables (5.3-5.6)                  */
/* ------------------------------------------------------------------ */

enum {
	PAT_WILD = 1,		/* '*' and '?' are wildcards */
	PAT_VARS = 2,		/* ${...} are policy variables */
	PAT_LOWER = 4,		/* fold literal text to lower case */
};

struct pbuild {
	struct pattern	*p;
	char		*buf;
	size_t		 blen;
	size_t		 run;	/* start of the current literal run */
};

static void
pattern_free(struct pattern *p)
{
	size_t i;

	for (i = 0; i < p->nvars; i++)
		free(p->vars[i].key);
	free(p->vars);
	free(p->pieces);
	free(p->buf);
	free(p->text);
	memset(p, 0, sizeof(*p));
}

static void
pb_flush(struct pbuild *b)
{
	struct piece *pc;

	if (b->blen == b->run)
		return;
	pc = &b->p->pieces[b->p->npieces++];
	pc->kind = PIECE_LIT;
	pc->s = b->buf + b->run;
	pc->len = b->blen - b->run;
	b->run = b->blen;
}

static void
pb_piece(struct pbuild *b, enum piece_kind kind)
{
	struct pattern *p = b->p;

	pb_flush(b);
	if (kind == PIECE_STAR && p->npieces > 0 &&
	    p->pieces[p->npieces - 1].kind == PIECE_STAR)
		return;		/* "**" is "*" */
	p->pieces[p->npieces++].kind = kind;
	p->wild = true;
}

static size_t
skip_spaces(const char *s, size_t i)
{
	while (s[i] == ' ')
		i++;
	return i;
}

/*
 * Reads "${key}" or "${key, 'default'}" starting at text[i] (5.6) into
 * key and def (def->s is NULL without a default). Returns the index just
 * past the closing brace, or 0 with the error in ld.
 */
static size_t
var_parse(struct load *ld, const char *text, size_t i, struct span *key,
    struct span *def)
{
	const char *var = text + i, *why = NULL;	/* for messages */

	i = skip_spaces(text, i + 2);
	key->s = text + i;
	while (text[i] != '\0' && strchr("}, '${", text[i]) == NULL)
		i++;
	key->len = (size_t)(text + i - key->s);
	def->s = NULL;
	def->len = 0;
	i = skip_spaces(text, i);
	if (text[i] == ',') {
		i = skip_spaces(text, i + 1);
		if (text[i] == '\'') {
			def->s = text + ++i;
			while (text[i] != '\0' && text[i] != '\'')
				i++;
			def->len = (size_t)(text + i - def->s);
		}
		if (def->s == NULL)
			why = "policy variable default must be in single quotes";
		else if (text[i] != '\'')
			why = "unterminated default value in policy variable";
		else
			i = skip_spaces(text, i + 1);
	}
	if (why == NULL && text[i] != '}')
		why = "malformed policy variable";
	else if (why == NULL && key->len == 0)
		why = "empty policy variable";
	if (why != NULL) {
		load_error(ld, "%s: \"%s\"", why, var);
		return 0;
	}
	return i + 1;
}

/*
 * Handles the "${...}" at text[*ip]: an escape ${*} ${?} ${$} becomes
 * literal text, a variable becomes a PIECE_VAR. Advances *ip past it.
 */
static int
pb_variable(struct load *ld, struct pbuild *b, const char *text, size_t *ip)
{
	struct pattern *p = b->p;
	struct span key, def;
	struct pvar *v;
	size_t i = *ip + 2, end, k;

	if (text[i] != '\0' && strchr("*?$", text[i]) != NULL &&
	    text[i + 1] == '}') {
		b->buf[b->blen++] = text[i];
		*ip = i + 2;
		return 0;
	}
	if ((end = var_parse(ld, text, *ip, &key, &def)) == 0)
		return -1;
	if (p->nvars == PATTERN_MAX_VARS)
		return load_error(ld, "more than %d policy variables in one "
		    "value", PATTERN_MAX_VARS);
	pb_flush(b);
	p->vars = xreallocarray(p->vars, p->nvars + 1, sizeof(*p->vars));
	v = &p->vars[p->nvars];
	v->key = xstrndup(key.s, key.len);
	for (k = 0; v->key[k] != '\0'; k++)
		v->key[k] = lower(v->key[k]);
	v->def = NULL;
	v->deflen = 0;
	if (def.s != NULL) {
		/* The default lives in buf, outside any literal run. */
		memcpy(b->buf + b->blen, def.s, def.len);
		v->def = b->buf + b->blen;
		v->deflen = def.len;
		b->blen += def.len;
		b->run = b->blen;
	}
	p->pieces[p->npieces].kind = PIECE_VAR;
	p->pieces[p->npieces++].var = (unsigned)p->nvars++;
	*ip = end;
	return 0;
}

static void
pattern_finish(struct pattern *p)
{
	if (p->npieces > 0)
		p->pieces = xreallocarray(p->pieces, p->npieces,
		    sizeof(*p->pieces));
	p->any = p->npieces == 1 && p->pieces[0].kind == PIECE_STAR;
	if (p->nvars > 0 || p->wild)
		return;
	p->literal = true;
	p->lit = p->npieces == 1 ? p->pieces[0].s : "";
	p->litlen = p->npieces == 1 ? p->pieces[0].len : 0;
}

/*
 * Compiles text into p. flags say whether '*' and '?' are wildcards,
 * whether ${...} is a variable, and whether to fold to lower case.
 * Returns 0, or -1 with the error in ld (p is then empty).
 */
static int
pattern_compile(struct load *ld, struct pattern *p, const char *text,
    unsigned flags)
{
	struct pbuild b;
	size_t n = strlen(text), i = 0;
	char c;

	memset(p, 0, sizeof(*p));
	p->text = xstrdup(text);
	p->pieces = xcalloc(n + 1, sizeof(*p->pieces));
	b.p = p;
	b.buf = p->buf = xmalloc(n + 1);
	b.blen = b.run = 0;
	while (i < n) {
		c = text[i];
		if ((flags & PAT_VARS) && c == '$' && text[i + 1] == '{') {
			if (pb_variable(ld, &b, text, &i) == -1) {
				pattern_free(p);
				return -1;
			}
		} else if ((flags & PAT_WILD) && (c == '*' || c == '?')) {
			pb_piece(&b, c == '*' ? PIECE_STAR : PIECE_ONE);
			i++;
		} else {
			b.buf[b.blen++] = (flags & PAT_LOWER) ? lower(c) : c;
			i++;
		}
	}
	pb_flush(&b);
	pattern_finish(p);
	return 0;
}

static const struct policy_key *
key_find(const struct policy_request *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->nkeys; i++) {
		if (req->keys[i].name != NULL &&
		    lower(req->keys[i].name[0]) == name[0] &&
		    strcasecmp(req->keys[i].name, name) == 0)
			return &req->keys[i];
	}
	return NULL;
}

/*
 * Resolves the variables of p from single-valued request keys, falling
 * back to the default. Returns false if one stays unresolved (5.6).
 */
static bool
pattern_resolve(const struct pattern *p, const struct policy_request *req,
    struct span *vals)
{
	const struct policy_key *k;
	size_t i;

	for (i = 0; i < p->nvars; i++) {
		k = key_find(req, p->vars[i].key);
		if (k != NULL && k->nvalues == 1 && k->values[0] != NULL) {
			vals[i].s = k->values[0];
			vals[i].len = strlen(k->values[0]);
		} else if (p->vars[i].def != NULL) {
			vals[i].s = p->vars[i].def;
			vals[i].len = p->vars[i].deflen;
		} else
			return false;
	}
	return true;
}

static const char *
piece_text(const struct piece *pc, const struct span *vals, size_t *len)
{
	if (pc->kind == PIECE_VAR) {
		*len = vals[pc->var].len;
		return vals[pc->var].s;
	}
	*len = pc->len;
	return pc->s;
}

static bool
char_eq(char a, char b, bool icase)
{
	return a == b || (icase && lower(a) == lower(b));
}

/* Whether the pieces from pi on can match the empty string. */
static bool
glob_rest_empty(const struct piece *pc, size_t np, size_t pi, size_t po,
    const struct span *vals)
{
	size_t tlen;

	for (; pi < np; pi++, po = 0) {
		if (pc[pi].kind == PIECE_STAR)
			continue;
		if (pc[pi].kind == PIECE_ONE)
			return false;
		piece_text(&pc[pi], vals, &tlen);
		if (po < tlen)
			return false;
	}
	return true;
}

/*
 * Matches s[0..n) against the pieces of p: the classic wildcard walk
 * that remembers the last '*' and lets it absorb one more character on
 * each mismatch. '?' and '*' step over whole UTF-8 characters.
 */
static bool
glob_match(const struct pattern *p, const struct span *vals, const char *s,
    size_t n, bool icase)
{
	const struct piece *pc = p->pieces;
	size_t np = p->npieces, pi = 0, po = 0, si = 0, tlen = 0;
	size_t star_pi = SIZE_MAX, star_si = 0;
	const char *t = NULL;

	for (;;) {
		while (pi < np && pc[pi].kind != PIECE_STAR &&
		    pc[pi].kind != PIECE_ONE) {
			t = piece_text(&pc[pi], vals, &tlen);
			if (po < tlen)
				break;
			pi++;
			po = 0;
		}
		if (si == n)
			break;
		if (pi < np && pc[pi].kind == PIECE_STAR) {
			star_pi = ++pi;
			star_si = si;
			po = 0;
		} else if (pi < np && pc[pi].kind == PIECE_ONE) {
			pi++;
			si += utf8_step(s + si, n - si);
		} else if (pi < np && char_eq(t[po], s[si], icase)) {
			po++;
			si++;
		} else if (star_pi == SIZE_MAX)
			return false;
		else {
			star_si += utf8_step(s + star_si, n - star_si);
			si = star_si;
			pi = star_pi;
			po = 0;
		}
	}
	return glob_rest_empty(pc, np, pi, po, vals);
}

/* Matches s[0..n) against p with its variables already resolved. */
static bool
pattern_match(const struct pattern *p, const struct span *vals,
    const char *s, size_t n, bool icase)
{
	if (p->any)
		return true;
	if (p->literal) {
		if (p->litlen != n)
			return false;
		return icase ? ieq(p->lit, s, n) : memcmp(p->lit, s, n) == 0;
	}
	return glob_match(p, vals, s, n, icase);
}

/* Resolves p's variables and matches; an unresolved variable never
 * matches. */
static bool
pattern_match_req(const struct pattern *p, const struct policy_request *req,
    const char *s, size_t n, bool icase)
{
	struct span vals[PATTERN_MAX_VARS];

	if (p->nvars > 0 && !pattern_resolve(p, req, vals))
		return false;
	return pattern_match(p, vals, s, n, icase);
}

/*
 * Splits s at its first five colons into up to six parts, the sixth being
 * the rest. With vars, colons inside ${...} do not split. Returns the
 * number of parts.
 */
static size_t
arn_split(const char *s, bool vars, struct span *parts)
{
	size_t n = 0, start = 0, i;
	const char *close;

	for (i = 0; s[i] != '\0'; i++) {
		if (vars && s[i] == '$' && s[i + 1] == '{' &&
		    (close = strchr(s + i, '}')) != NULL) {
			i = (size_t)(close - s);
			continue;
		}
		if (s[i] == ':' && n < SEG_COUNT - 1) {
			parts[n].s = s + start;
			parts[n++].len = i - start;
			start = i + 1;
		}
	}
	parts[n].s = s + start;
	parts[n++].len = i - start;
	return n;
}

/* ------------------------------------------------------------------ */
/* Value parsers: numbers, dates, addresses, base64                    */
/* ------------------------------------------------------------------ */

/* Appends one mantissa digit; leading and overflowing zeros only move
 * the exponent. */
static int
decimal_digit(struct decimal *d, char c, bool frac)
{
	if (d->ndig == 0 && c == '0') {
		if (frac)
			d->exp--;
		return 0;
	}
	if (d->ndig == DECIMAL_DIGITS) {
		if (c != '0')
			return -1;
		if (!frac)
			d->exp++;
		return 0;
	}
	d->dig[d->ndig++] = c;
	if (!frac)
		d->exp++;
	return 0;
}

static int
decimal_exponent(const char *s, int *e)
{
	bool neg = false;
	int v = 0, n = 0;

	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	for (; is_digit(*s); s++, n++) {
		if (n == 4)
			return -1;
		v = v * 10 + (*s - '0');
	}
	if (n == 0 || *s != '\0')
		return -1;
	*e = neg ? -v : v;
	return 0;
}

/*
 * Parses an integer or decimal ("-12", "0.5", "1e3") exactly, up to 40
 * significant digits. Returns 0 or -1.
 */
static int
decimal_parse(const char *s, struct decimal *d)
{
	bool frac = false, any = false;
	int e = 0;

	memset(d, 0, sizeof(*d));
	if (*s == '+' || *s == '-')
		d->neg = *s++ == '-';
	for (; is_digit(*s) || (*s == '.' && !frac); s++) {
		if (*s == '.') {
			frac = true;
			continue;
		}
		any = true;
		if (decimal_digit(d, *s, frac) == -1)
			return -1;
	}
	if (!any)
		return -1;
	if ((*s == 'e' || *s == 'E') && decimal_exponent(s + 1, &e) == -1)
		return -1;
	if (*s != '\0' && *s != 'e' && *s != 'E')
		return -1;
	while (d->ndig > 0 && d->dig[d->ndig - 1] == '0')
		d->ndig--;
	d->exp += e;
	if (d->ndig == 0) {
		d->neg = false;
		d->exp = 0;
	}
	return 0;
}

static int
decimal_cmp(const struct decimal *a, const struct decimal *b)
{
	int sa = a->ndig == 0 ? 0 : a->neg ? -1 : 1;
	int sb = b->ndig == 0 ? 0 : b->neg ? -1 : 1;
	unsigned n;
	int m, c;

	if (sa != sb)
		return sa < sb ? -1 : 1;
	if (sa == 0)
		return 0;
	if (a->exp != b->exp)
		m = a->exp < b->exp ? -1 : 1;
	else {
		n = a->ndig < b->ndig ? a->ndig : b->ndig;
		c = memcmp(a->dig, b->dig, n);
		if (c != 0)
			m = c < 0 ? -1 : 1;
		else
			m = a->ndig == b->ndig ? 0 : a->ndig < b->ndig ? -1 : 1;
	}
	return sa < 0 ? -m : m;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
days_in_month(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

/* Reads exactly n digits at *s into *v and advances. */
static bool
take_digits(const char **s, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (!is_digit((*s)[i]))
			return false;
		*v = *v * 10 + ((*s)[i] - '0');
	}
	*s += n;
	return true;
}

/* "Z", "+hh:mm", "+hhmm", "-hh:mm", or nothing (UTC). */
static bool
date_zone(const char *s, int *offset)
{
	int sign, hh, mm;

	*offset = 0;
	if (*s == '\0' || ((*s == 'Z' || *s == 'z') && s[1] == '\0'))
		return true;
	if (*s != '+' && *s != '-')
		return false;
	sign = *s++ == '-' ? -1 : 1;
	if (!take_digits(&s, 2, &hh))
		return false;
	if (*s == ':')
		s++;
	if (!take_digits(&s, 2, &mm) || *s != '\0' || hh > 23 || mm > 59)
		return false;
	*offset = sign * (hh * 3600 + mm * 60);
	return true;
}

/* "hh:mm[:ss[.fraction]]" then the zone; fills seconds of the day. */
static bool
date_time(const char *s, int64_t *secs, int32_t *nsec, int *offset)
{
	int hh, mm, ss = 0, scale = 100000000;

	*nsec = 0;
	if (!take_digits(&s, 2, &hh) || *s++ != ':' ||
	    !take_digits(&s, 2, &mm) || hh > 23 || mm > 59)
		return false;
	if (*s == ':') {
		s++;
		if (!take_digits(&s, 2, &ss) || ss > 60)
			return false;
		if (*s == '.' || *s == ',') {
			if (!is_digit(*++s))
				return false;
			for (; is_digit(*s); s++, scale /= 10)
				*nsec += (int32_t)((*s - '0') * scale);
		}
	}
	*secs = hh * 3600 + mm * 60 + ss;
	return date_zone(s, offset);
}

/*
 * Parses a date (5.5): epoch seconds written as a plain integer (as
 * iam-simulate: "2024" is an epoch, not a year), or W3C ISO 8601
 * "YYYY[-MM[-DD[Thh:mm[:ss[.f]][zone]]]]", UTC when the zone is absent.
 */
static int
date_parse(const char *s, struct ptime *t)
{
	const char *p = s;
	int y, m = 1, d = 1, offset = 0;
	int64_t tod = 0;
	int32_t nsec = 0;
	bool neg = *p == '-';

	if (all_digits(p + neg, strlen(p + neg)) && strlen(p + neg) <= 15 &&
	    (p[neg] != '0' || p[neg + 1] == '\0')) {
		t->sec = strtoll(s, NULL, 10);
		t->nsec = 0;
		return 0;
	}
	if (!take_digits(&p, 4, &y))
		return -1;
	if (*p == '-' && (p++, !take_digits(&p, 2, &m)))
		return -1;
	if (m < 1 || m > 12)
		return -1;
	if (*p == '-' && (p++, !take_digits(&p, 2, &d)))
		return -1;
	if (d < 1 || d > days_in_month(y, m))
		return -1;
	if ((*p == 'T' || *p == 't') && !date_time(p + 1, &tod, &nsec,
	    &offset))
		return -1;
	if (*p != '\0' && *p != 'T' && *p != 't')
		return -1;
	t->sec = days_from_civil(y, m, d) * 86400 + tod - offset;
	t->nsec = nsec;
	return 0;
}

static int
ptime_cmp(const struct ptime *a, const struct ptime *b)
{
	if (a->sec != b->sec)
		return a->sec < b->sec ? -1 : 1;
	if (a->nsec != b->nsec)
		return a->nsec < b->nsec ? -1 : 1;
	return 0;
}

static int
ip_addr_parse(const char *s, size_t n, uint8_t *addr)
{
	char text[64];

	if (n == 0 || n >= sizeof(text))
		return AF_UNSPEC;
	memcpy(text, s, n);
	text[n] = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, text, addr) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, text, addr) == 1)
		return AF_INET6;
	return AF_UNSPEC;
}

/*
 * Parses "a.b.c.d[/n]" or "x::y[/n]" (a bare address is a host prefix).
 * Host bits past the prefix are cleared and noted for lint. With
 * !allow_prefix only a bare address is accepted (request values).
 */
static int
ipnet_parse(const char *s, struct ipnet *net, bool allow_prefix)
{
	const char *slash = strchr(s, '/');
	size_t alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	unsigned max, v = 0, i;

	memset(net, 0, sizeof(*net));
	net->family = ip_addr_parse(s, alen, net->addr);
	if (net->family == AF_UNSPEC || (slash != NULL && !allow_prefix))
		return -1;
	max = net->family == AF_INET ? 32 : 128;
	net->prefix = max;
	if (slash != NULL) {
		if (!all_digits(slash + 1, strlen(slash + 1)) ||
		    strlen(slash + 1) > 3)
			return -1;
		v = (unsigned)atoi(slash + 1);
		if (v > max)
			return -1;
		net->prefix = v;
	}
	for (i = net->prefix; i < max; i++) {
		if (net->addr[i / 8] & (0x80 >> (i % 8))) {
			net->host_bits = true;
			net->addr[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
		}
	}
	return 0;
}

/* An IPv4 prefix never contains an IPv6 address, nor the reverse. */
static bool
ipnet_contains(const struct ipnet *net, const struct ipnet *addr)
{
	unsigned whole = net->prefix / 8, rest = net->prefix % 8;
	uint8_t mask;

	if (net->family != addr->family)
		return false;
	if (memcmp(net->addr, addr->addr, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (uint8_t)(0xff << (8 - rest));
	return (net->addr[whole] & mask) == (addr->addr[whole] & mask);
}

static int
b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (is_digit(c))
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decodes base64 (padding optional); *out is malloc'd. */
static int
base64_decode(const char *s, uint8_t **out, size_t *outlen)
{
	size_t n = strlen(s), i, o = 0;
	uint32_t acc = 0;
	int bits = 0, v;

	while (n > 0 && s[n - 1] == '=' && strlen(s) - n < 2)
		n--;
	if (n % 4 == 1)
		return -1;
	*out = malloc(n * 3 / 4 + 1);
	if (*out == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if ((v = b64_value(s[i])) == -1) {
			free(*out);
			*out = NULL;
			return -1;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			(*out)[o++] = (uint8_t)(acc >> bits);
		}
	}
	*outlen = o;
	return 0;
}

/* "true" or "false", any case. */
static int
bool_parse(const char *s, bool *b)
{
	if (strcasecmp(s, "true") == 0)
		*b = true;
	else if (strcasecmp(s, "false") == 0)
		*b = false;
	else
		return -1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Freeing                                                             */
/* ------------------------------------------------------------------ */

static void
cvalue_free(struct cvalue *v)
{
	int k;

	pattern_free(&v->str);
	if (v->arn != NULL) {
		for (k = 0; k < SEG_COUNT; k++)
			pattern_free(&v->arn[k]);
		free(v->arn);
	}
	free(v->bin);
	free(v->text);
}

static void
cond_free(struct cond *c)
{
	size_t i;

	for (i = 0; i < c->nvalues; i++)
		cvalue_free(&c->values[i]);
	free(c->values);
	free(c->opname);
	free(c->keytext);
	free(c->key);
}

static void
statement_free(struct statement *st)
{
	size_t i;
	int k;

	for (i = 0; i < st->nprincipals; i++) {
		free(st->principals[i].text);
		free(st->principals[i].account);
		free(st->principals[i].partition);
		free(st->principals[i].role);
	}
	free(st->principals);
	for (i = 0; i < st->nactions; i++) {
		free(st->actions[i].text);
		free(st->actions[i].service);
		pattern_free(&st->actions[i].name);
	}
	free(st->actions);
	for (i = 0; i < st->nresources; i++) {
		for (k = 0; k < SEG_COUNT; k++)
			pattern_free(&st->resources[i].seg[k]);
		free(st->resources[i].text);
	}
	free(st->resources);
	for (i = 0; i < st->nconds; i++)
		cond_free(&st->conds[i]);
	free(st->conds);
	free(st->sid);
}

static void index_free(struct key_index *);
static bool key_multivalued(const char *);

static void
bucket_free(struct bucket *b)
{
	free(b->key);
	free(b->deny.v);
	free(b->allow.v);
	if (b->res != NULL) {
		index_free(b->res);
		free(b->res);
	}
}

static void
index_free(struct key_index *ix)
{
	size_t i;

	for (i = 0; i < ix->cap; i++)
		bucket_free(&ix->b[i]);
	free(ix->b);
}

/* policy_free: releases p and everything it owns (Sids included); NULL
 * is fine. */
void
policy_free(struct policy *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nstmts; i++)
		statement_free(&p->stmts[i]);
	free(p->stmts);
	index_free(&p->exact);
	index_free(&p->service);
	bucket_free(&p->any);
	for (i = 0; i < p->nkeys_used; i++)
		free(p->keys_used[i]);
	free(p->keys_used);
	free(p);
}

/* ------------------------------------------------------------------ */
/* Document text and JSON                                              */
/* ------------------------------------------------------------------ */

/*
 * The checks jansson does not make (5.1): the length in characters and
 * the character set. Invalid UTF-8 is reported here too, with its path.
 */
static int
check_text(struct load *ld, const char *buf, size_t len)
{
	size_t i = 0, n, nchars = 0, bad = SIZE_MAX;
	uint32_t cp, badcp = 0;

	if (len / 4 > ld->max_chars)
		return load_error(ld, "longer than %zu characters",
		    ld->max_chars);
	while (i < len) {
		n = utf8_decode((const unsigned char *)buf + i, len - i, &cp);
		if ((n == 0 || !char_allowed(cp)) && bad == SIZE_MAX) {
			bad = i;
			badcp = n == 0 ? UINT32_MAX : cp;
		}
		i += n == 0 ? 1 : n;
		nchars++;
	}
	if (nchars > ld->max_chars)
		return load_error(ld, "longer than %zu characters",
		    ld->max_chars);
	if (bad == SIZE_MAX)
		return 0;
	json_path_at(ld, buf, len, bad);
	if (badcp == UINT32_MAX)
		return load_error(ld, "invalid UTF-8 at byte %zu", bad);
	return load_error(ld, "character U+%04X at byte %zu is not allowed "
	    "in a policy", (unsigned)badcp, bad);
}

static json_t *
parse_json(struct load *ld, const char *buf, size_t len)
{
	json_error_t je;
	json_t *root;

	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (root != NULL)
		return root;
	json_path_at(ld, buf, len, (size_t)je.position);
	switch (json_error_code(&je)) {
	case json_error_duplicate_key:
		load_error(ld, "duplicate key");
		break;
	case json_error_end_of_input_expected:
		load_error(ld, "trailing data after the policy (line %d, "
		    "column %d)", je.line, je.column);
		break;
	default:
		load_error(ld, "invalid JSON: %s (line %d, column %d)",
		    je.text, je.line, je.column);
		break;
	}
	return NULL;
}

static int
check_chars(struct load *ld, const char *s, size_t n)
{
	size_t i = 0, len;
	uint32_t cp;

	while (i < n) {
		len = utf8_decode((const unsigned char *)s + i, n - i, &cp);
		if (len == 0)
			return load_error(ld, "invalid UTF-8");
		if (!char_allowed(cp))
			return load_error(ld, "character U+%04X is not "
			    "allowed in a policy", (unsigned)cp);
		i += len;
	}
	return 0;
}

/* Escaped characters (\uXXXX) obey 5.1 too; and nothing nests deeper
 * than a policy can. */
static int
check_tree(struct load *ld, json_t *v, int depth)
{
	const char *key;
	json_t *e;
	size_t i, old;

	if (depth > POLICY_MAX_DEPTH)
		return load_error(ld, "nested too deeply");
	if (json_is_string(v))
		return check_chars(ld, json_string_value(v),
		    json_string_length(v));
	if (json_is_object(v)) {
		json_object_foreach(v, key, e) {
			old = path_key(ld, key);
			if (check_chars(ld, key, strlen(key)) == -1 ||
			    check_tree(ld, e, depth + 1) == -1)
				return -1;
			path_restore(ld, old);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			old = path_index(ld, i);
			if (check_tree(ld, e, depth + 1) == -1)
				return -1;
			path_restore(ld, old);
		}
	}
	return 0;
}

/*
 * Calls fn for v, a string or a non-empty array of strings, with the
 * path set to each element; idx is the array position or -1.
 */
static int
each_string(struct load *ld, json_t *v,
    int (*fn)(struct load *, void *, const char *, int), void *arg)
{
	json_t *e;
	size_t i, old;

	if (json_is_string(v))
		return fn(ld, arg, json_string_value(v), -1);
	if (!json_is_array(v))
		return load_error(ld, "must be a string or an array of "
		    "strings");
	if (json_array_size(v) == 0)
		return load_error(ld, "must not be an empty array");
	json_array_foreach(v, i, e) {
		old = path_index(ld, i);
		if (!json_is_string(e))
			return load_error(ld, "must be a string");
		if (fn(ld, arg, json_string_value(e), (int)i) == -1)
			return -1;
		path_restore(ld, old);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Principal (5.2)                                                     */
/* ------------------------------------------------------------------ */

struct principal_arg {
	struct statement *st;
	const char	*type;
};

static struct principal *
principal_new(struct statement *st)
{
	struct principal *pr;

	st->principals = xreallocarray(st->principals, st->nprincipals + 1,
	    sizeof(*st->principals));
	pr = &st->principals[st->nprincipals++];
	memset(pr, 0, sizeof(*pr));
	return pr;
}

/* "arn:P:iam::A:root", "arn:P:iam::A:role/path/R", other IAM/STS ARNs. */
static int
principal_arn(struct load *ld, struct principal *pr, const char *text)
{
	struct span seg[SEG_COUNT];
	const char *res, *slash;

	if (strpbrk(text, "*?") != NULL)
		return load_error(ld, "\"%s\": wildcards are not allowed in "
		    "principal ARNs (only \"*\" alone)", text);
	if (arn_split(text, false, seg) != SEG_COUNT ||
	    seg[SEG_PARTITION].len == 0 || seg[SEG_RESOURCE].len == 0 ||
	    !all_digits(seg[SEG_ACCOUNT].s, seg[SEG_ACCOUNT].len))
		return load_error(ld, "\"%s\" is not a valid principal ARN",
		    text);
	pr->kind = PRIN_ARN;
	pr->account = xstrndup(seg[SEG_ACCOUNT].s, seg[SEG_ACCOUNT].len);
	pr->partition = xstrndup(seg[SEG_PARTITION].s,
	    seg[SEG_PARTITION].len);
	res = seg[SEG_RESOURCE].s;
	if (seg[SEG_SERVICE].len != 3 || memcmp(seg[SEG_SERVICE].s, "iam", 3))
		return 0;
	if (strcmp(res, "root") == 0)
		pr->kind = PRIN_ROOT;
	else if (strncmp(res, "role/", 5) == 0) {
		slash = strrchr(res, '/');
		pr->kind = PRIN_ROLE;
		pr->role = xstrdup(slash + 1);
	}
	return 0;
}

/* A unique ID such as AIDA... or AROA...: valid, never a caller ARN. */
static bool
is_unique_id(const char *s)
{
	size_t i, n = strlen(s);

	if (n < 16 || n > 128 || s[0] != 'A')
		return false;
	for (i = 0; i < n; i++) {
		if (!((s[i] >= 'A' && s[i] <= 'Z') || is_digit(s[i])))
			return false;
	}
	return true;
}

static int
principal_add(struct load *ld, void *arg, const char *text, int idx)
{
	struct principal_arg *pa = arg;
	struct principal *pr;

	if (text[0] == '\0')
		return load_error(ld, "must not be empty");
	pr = principal_new(pa->st);
	pr->type = pa->type;
	pr->idx = idx;
	pr->text = xstrdup(text);
	pr->kind = PRIN_OTHER;
	if (strcmp(pa->type, "AWS") != 0)
		return 0;
	if (strcmp(text, "*") == 0)
		pr->kind = PRIN_ANY;
	else if (strlen(text) == 12 && all_digits(text, 12)) {
		pr->kind = PRIN_ROOT;
		pr->account = xstrdup(text);
	} else if (strncmp(text, "arn:", 4) == 0)
		return principal_arn(ld, pr, text);
	else if (!is_unique_id(text))
		return load_error(ld, "\"%s\" must be \"*\", a 12-digit "
		    "account ID or an ARN", text);
	return 0;
}

static int
principals_compile(struct load *ld, struct statement *st, json_t *v)
{
	static const char *const types[] = { "AWS", "Service", "Federated",
	    "CanonicalUser" };
	struct principal_arg pa = { st, NULL };
	const char *key;
	json_t *e;
	size_t i, old;

	if (json_is_string(v) && strcmp(json_string_value(v), "*") == 0) {
		principal_add(ld, &(struct principal_arg){ st, "AWS" }, "*",
		    -1);
		st->principals[0].type = "*";
	} else if (json_is_object(v) && json_object_size(v) > 0) {
		json_object_foreach(v, key, e) {
			old = path_key(ld, key);
			for (i = 0; i < 4 && strcmp(key, types[i]) != 0; i++)
				;
			if (i == 4)
				return load_error(ld, "unknown principal type "
				    "(AWS, Service, Federated or "
				    "CanonicalUser)");
			pa.type = types[i];
			if (each_string(ld, e, principal_add, &pa) == -1)
				return -1;
			path_restore(ld, old);
		}
	} else
		return load_error(ld, "must be \"*\" or an object such as "
		    "{\"AWS\": \"*\"}");
	for (i = 0; i < st->nprincipals; i++) {
		if (st->principals[i].kind == PRIN_ANY)
			st->principal_any = true;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Action (5.3) and Resource (5.4)                                     */
/* ------------------------------------------------------------------ */

static bool
service_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    is_digit(c) || c == '-';
}

static bool
action_char(char c)
{
	return service_char(c) || c == '*' || c == '?' || c == '_' || c == '.';
}

static int
action_check(struct load *ld, const char *text, const char *colon)
{
	const char *s;

	if (colon == NULL || colon == text || colon[1] == '\0')
		return load_error(ld, "\"%s\" must be \"*\" or "
		    "\"service:ActionName\"", text);
	for (s = text; s < colon; s++) {
		if (*s == '*' || *s == '?')
			return load_error(ld, "\"%s\": wildcards are allowed "
			    "only in the action name", text);
		if (!service_char(*s))
			return load_error(ld, "\"%s\": invalid service "
			    "prefix", text);
	}
	for (s = colon + 1; *s != '\0'; s++) {
		if (!action_char(*s))
			return load_error(ld, "\"%s\": invalid character in "
			    "the action name", text);
	}
	return 0;
}

static int
action_add(struct load *ld, void *arg, const char *text, int idx)
{
	struct statement *st = arg;
	struct action_pat *a;
	const char *colon = strchr(text, ':');
	size_t i;

	if (strcmp(text, "*") != 0 && action_check(ld, text, colon) == -1)
		return -1;
	st->actions = xreallocarray(st->actions, st->nactions + 1,
	    sizeof(*st->actions));
	a = &st->actions[st->nactions++];
	memset(a, 0, sizeof(*a));
	a->text = xstrdup(text);
	a->idx = idx;
	if (strcmp(text, "*") == 0)
		return 0;
	a->slen = (size_t)(colon - text);
	a->service = xstrndup(text, a->slen);
	for (i = 0; i < a->slen; i++)
		a->service[i] = lower(a->service[i]);
	return pattern_compile(ld, &a->name, colon + 1, PAT_WILD | PAT_LOWER);
}

/* Compiles the six segments; variables only in the resource part. */
static int
resource_segments(struct load *ld, struct resource_pat *r,
    const struct span *parts, size_t nparts)
{
	char *text;
	unsigned flags;
	int k, rv;

	for (k = 0; k < SEG_COUNT; k++) {
		text = (size_t)k < nparts ? xstrndup(parts[k].s, parts[k].len) :
		    xstrdup("*");
		flags = PAT_WILD;
		if (k == SEG_RESOURCE && ld->vars)
			flags |= PAT_VARS;
		rv = pattern_compile(ld, &r->seg[k], text, flags);
		free(text);
		if (rv == -1)
			return -1;
	}
	return 0;
}

static int
resource_add(struct load *ld, void *arg, const char *text, int idx)
{
	struct statement *st = arg;
	struct resource_pat *r;
	struct span parts[SEG_COUNT];
	size_t n;

	if (text[0] == '\0')
		return load_error(ld, "must not be empty");
	st->resources = xreallocarray(st->resources, st->nresources + 1,
	    sizeof(*st->resources));
	r = &st->resources[st->nresources++];
	memset(r, 0, sizeof(*r));
	r->text = xstrdup(text);
	r->idx = idx;
	if (strcmp(text, "*") == 0) {
		r->kind = RES_ANY;
		return 0;
	}
	n = arn_split(text, ld->vars, parts);
	if (n < SEG_COUNT && strchr(text, '*') == NULL) {
		r->kind = RES_NEVER;
		return 0;
	}
	r->kind = RES_ARN;
	r->padded = n < SEG_COUNT;
	return resource_segments(ld, r, parts, n);
}

/* ------------------------------------------------------------------ */
/* Condition (5.5)                                                     */
/* ------------------------------------------------------------------ */

static const struct op_info *
op_lookup(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (strlen(ops[i].name) == len &&
		    memcmp(ops[i].name, name, len) == 0)
			return &ops[i];
	}
	return NULL;
}

/* "[ForAllValues:|ForAnyValue:]Operator[IfExists]", names exact. */
static int
op_parse(struct load *ld, const char *text, struct cond *c)
{
	const char *s = text;
	size_t len;

	if (strncmp(s, "ForAllValues:", 13) == 0) {
		c->set = SET_ALL;
		s += 13;
	} else if (strncmp(s, "ForAnyValue:", 12) == 0) {
		c->set = SET_ANY;
		s += 12;
	}
	len = strlen(s);
	c->op = op_lookup(s, len);
	if (c->op == NULL && len > 8 && strcmp(s + len - 8, "IfExists") == 0) {
		c->op = op_lookup(s, len - 8);
		c->ifexists = true;
		if (c->op != NULL && c->op->family == FAM_NULL)
			return load_error(ld, "Null has no IfExists form");
	}
	if (c->op == NULL)
		return load_error(ld, "unknown condition operator");
	if (c->set != SET_NONE && c->op->family == FAM_NULL)
		return load_error(ld, "Null takes no ForAllValues:/ForAnyValue: "
		    "prefix");
	return 0;
}

/* A condition value as text: strings as they are, numbers and booleans
 * written out (5.1: quotes are optional for them). */
static int
json_scalar(struct load *ld, json_t *v, char *buf, size_t len,
    const char **out)
{
	double d;
	int prec;

	switch (json_typeof(v)) {
	case JSON_STRING:
		*out = json_string_value(v);
		return 0;
	case JSON_INTEGER:
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		break;
	case JSON_REAL:
		d = json_real_value(v);
		for (prec = 1; prec <= 17; prec++) {
			snprintf(buf, len, "%.*g", prec, d);
			if (strtod(buf, NULL) == d)
				break;
		}
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		snprintf(buf, len, "%s", json_is_true(v) ? "true" : "false");
		break;
	default:
		return load_error(ld, "condition values must be strings, "
		    "numbers or booleans");
	}
	*out = buf;
	return 0;
}

static int
arn_value_compile(struct load *ld, struct cvalue *v, const char *text)
{
	struct span parts[SEG_COUNT];
	char *seg;
	int k, rv;

	if (arn_split(text, ld->vars, parts) < SEG_COUNT)
		return 0;	/* not a full ARN: never matches */
	v->arn = xcalloc(SEG_COUNT, sizeof(*v->arn));
	for (k = 0; k < SEG_COUNT; k++) {
		seg = xstrndup(parts[k].s, parts[k].len);
		rv = pattern_compile(ld, &v->arn[k], seg,
		    PAT_WILD | (ld->vars ? PAT_VARS : 0));
		free(seg);
		if (rv == -1)
			return -1;
	}
	return 0;
}

static int
cvalue_compile(struct load *ld, const struct cond *c, struct cvalue *v,
    const char *text)
{
	switch (c->op->family) {
	case FAM_STRING:
		return pattern_compile(ld, &v->str, text,
		    (c->op->like ? PAT_WILD : 0) | (ld->vars ? PAT_VARS : 0));
	case FAM_ARN:
		return arn_value_compile(ld, v, text);
	case FAM_NUMERIC:
		if (decimal_parse(text, &v->num) == -1)
			return load_error(ld, "\"%s\" is not a number", text);
		return 0;
	case FAM_DATE:
		if (date_parse(text, &v->date) == -1)
			return load_error(ld, "\"%s\" is not an ISO 8601 date "
			    "or epoch seconds", text);
		return 0;
	case FAM_BOOL:
	case FAM_NULL:
		if (bool_parse(text, &v->b) == -1)
			return load_error(ld, "\"%s\": must be \"true\" or "
			    "\"false\"", text);
		return 0;
	case FAM_BINARY:
		if (base64_decode(text, &v->bin, &v->binlen) == -1)
			return load_error(ld, "\"%s\" is not base64", text);
		return 0;
	case FAM_IP:
		if (ipnet_parse(text, &v->ip, true) == -1)
			return load_error(ld, "\"%s\" is not an IP address or "
			    "CIDR prefix", text);
		return 0;
	}
	return load_error(ld, "unsupported operator");
}

static int
cond_value(struct load *ld, struct cond *c, json_t *jv, int idx)
{
	struct cvalue *v;
	char buf[64];
	const char *text;

	if (json_scalar(ld, jv, buf, sizeof(buf), &text) == -1)
		return -1;
	c->values = xreallocarray(c->values, c->nvalues + 1,
	    sizeof(*c->values));
	v = &c->values[c->nvalues++];
	memset(v, 0, sizeof(*v));
	v->text = xstrdup(text);
	v->idx = idx;
	return cvalue_compile(ld, c, v, text);
}

static int
cond_values(struct load *ld, struct cond *c, json_t *vals)
{
	json_t *e;
	size_t i, old;

	if (!json_is_array(vals))
		return cond_value(ld, c, vals, -1);
	if (json_array_size(vals) == 0)
		return load_error(ld, "must have at least one value");
	json_array_foreach(vals, i, e) {
		old = path_index(ld, i);
		if (cond_value(ld, c, e, (int)i) == -1)
			return -1;
		path_restore(ld, old);
	}
	return 0;
}

static int
cond_add(struct load *ld, struct statement *st, const char *opname,
    const char *key, json_t *vals)
{
	struct cond *c;

	if (key[0] == '\0')
		return load_error(ld, "empty condition key");
	st->conds = xreallocarray(st->conds, st->nconds + 1,
	    sizeof(*st->conds));
	c = &st->conds[st->nconds++];
	memset(c, 0, sizeof(*c));
	c->opname = xstrdup(opname);
	c->keytext = xstrdup(key);
	c->key = strdup_lower(key);
	c->multi = key_multivalued(c->key);
	if (op_parse(ld, opname, c) == -1)
		return -1;
	return cond_values(ld, c, vals);
}

static int
conditions_compile(struct load *ld, struct statement *st, json_t *cond)
{
	struct cond probe;
	const char *opname, *key;
	json_t *block, *vals;
	size_t o1, o2;

	if (!json_is_object(cond))
		return load_error(ld, "must be an object of condition "
		    "operators");
	json_object_foreach(cond, opname, block) {
		o1 = path_key(ld, opname);
		memset(&probe, 0, sizeof(probe));
		if (op_parse(ld, opname, &probe) == -1)
			return -1;
		if (!json_is_object(block) || json_object_size(block) == 0)
			return load_error(ld, "must be an object of condition "
			    "keys and values");
		json_object_foreach(block, key, vals) {
			if (key[0] == '\0')
				return load_error(ld, "empty condition key");
			o2 = path_key(ld, key);
			if (cond_add(ld, st, opname, key, vals) == -1)
				return -1;
			path_restore(ld, o2);
		}
		path_restore(ld, o1);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Statements and the document (5.1)                                   */
/* ------------------------------------------------------------------ */

static int
check_elements(struct load *ld, json_t *obj, const char *const *names)
{
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach(obj, key, v) {
		for (i = 0; names[i] != NULL && strcmp(key, names[i]) != 0; i++)
			;
		if (names[i] == NULL) {
			path_key(ld, key);
			return load_error(ld, "unknown element");
		}
	}
	return 0;
}

/* Exactly one of yes/no; *v is it and *negated says which. */
static int
pair_get(struct load *ld, json_t *obj, const char *yes, const char *no,
    json_t **v, bool *negated)
{
	json_t *a = json_object_get(obj, yes), *b = json_object_get(obj, no);

	if (a != NULL && b != NULL)
		return load_error(ld, "%s and %s are mutually exclusive", yes,
		    no);
	if (a == NULL && b == NULL)
		return load_error(ld, "missing %s or %s%s", yes, no,
		    strcmp(yes, "Principal") == 0 ?
		    " (an endpoint policy must name a principal)" : "");
	*v = a != NULL ? a : b;
	*negated = a == NULL;
	return 0;
}

static int
statement_effect(struct load *ld, struct statement *st, json_t *obj)
{
	json_t *v = json_object_get(obj, "Effect");
	size_t old;

	if (v == NULL)
		return load_error(ld, "missing Effect");
	old = path_key(ld, "Effect");
	if (!json_is_string(v) || (strcmp(json_string_value(v), "Allow") != 0
	    && strcmp(json_string_value(v), "Deny") != 0))
		return load_error(ld, "must be \"Allow\" or \"Deny\"");
	st->deny = strcmp(json_string_value(v), "Deny") == 0;
	path_restore(ld, old);
	return 0;
}

static int
statement_sid(struct load *ld, struct statement *st, json_t *obj)
{
	json_t *v = json_object_get(obj, "Sid");

	if (v == NULL)
		return 0;
	if (!json_is_string(v)) {
		path_key(ld, "Sid");
		return load_error(ld, "must be a string");
	}
	st->sid = xstrdup(json_string_value(v));
	return 0;
}

static int
statement_lists(struct load *ld, struct statement *st, json_t *obj)
{
	json_t *v;
	size_t old;
	int rv;

	if (pair_get(ld, obj, "Principal", "NotPrincipal", &v,
	    &st->not_principal) == -1)
		return -1;
	old = path_key(ld, st->not_principal ? "NotPrincipal" : "Principal");
	if (principals_compile(ld, st, v) == -1)
		return -1;
	path_restore(ld, old);
	if (pair_get(ld, obj, "Action", "NotAction", &v, &st->not_action) == -1)
		return -1;
	old = path_key(ld, st->not_action ? "NotAction" : "Action");
	if (each_string(ld, v, action_add, st) == -1)
		return -1;
	path_restore(ld, old);
	if (pair_get(ld, obj, "Resource", "NotResource", &v,
	    &st->not_resource) == -1)
		return -1;
	old = path_key(ld, st->not_resource ? "NotResource" : "Resource");
	rv = each_string(ld, v, resource_add, st);
	path_restore(ld, old);
	return rv;
}

static int
statement_compile(struct load *ld, struct statement *st, json_t *obj)
{
	static const char *const names[] = { "Sid", "Effect", "Principal",
	    "NotPrincipal", "Action", "NotAction", "Resource", "NotResource",
	    "Condition", NULL };
	json_t *cond;
	size_t old;

	if (!json_is_object(obj))
		return load_error(ld, "a statement must be an object");
	if (check_elements(ld, obj, names) == -1 ||
	    statement_sid(ld, st, obj) == -1 ||
	    statement_effect(ld, st, obj) == -1 ||
	    statement_lists(ld, st, obj) == -1)
		return -1;
	if ((cond = json_object_get(obj, "Condition")) == NULL)
		return 0;
	old = path_key(ld, "Condition");
	if (conditions_compile(ld, st, cond) == -1)
		return -1;
	path_restore(ld, old);
	return 0;
}

static int
statements_compile(struct load *ld, struct policy *p, json_t *v)
{
	json_t *e;
	size_t i, old, n;

	p->stmt_array = json_is_array(v);
	if (!p->stmt_array && !json_is_object(v))
		return load_error(ld, "must be a statement object or an array "
		    "of them");
	n = p->stmt_array ? json_array_size(v) : 1;
	p->stmts = xcalloc(n, sizeof(*p->stmts));
	for (i = 0; i < n; i++) {
		e = p->stmt_array ? json_array_get(v, i) : v;
		old = p->stmt_array ? path_index(ld, i) : ld->plen;
		p->nstmts++;
		if (statement_compile(ld, &p->stmts[i], e) == -1)
			return -1;
		path_restore(ld, old);
	}
	return 0;
}

static int
document_version(struct load *ld, json_t *root)
{
	json_t *v = json_object_get(root, "Version");
	const char *s;

	if (v == NULL)
		return 0;
	path_key(ld, "Version");
	s = json_is_string(v) ? json_string_value(v) : "";
	if (strcmp(s, "2012-10-17") != 0 && strcmp(s, "2008-10-17") != 0)
		return load_error(ld, "must be \"2012-10-17\" or "
		    "\"2008-10-17\"");
	ld->vars = strcmp(s, "2012-10-17") == 0;
	path_restore(ld, 0);
	return 0;
}

static int
document_compile(struct load *ld, struct policy *p, json_t *root)
{
	static const char *const names[] = { "Version", "Id", "Statement",
	    NULL };
	json_t *v;

	if (!json_is_object(root))
		return load_error(ld, "a policy must be a JSON object");
	if (check_elements(ld, root, names) == -1 ||
	    document_version(ld, root) == -1)
		return -1;
	p->vars = ld->vars;
	v = json_object_get(root, "Id");
	if (v != NULL && !json_is_string(v)) {
		path_key(ld, "Id");
		return load_error(ld, "must be a string");
	}
	if ((v = json_object_get(root, "Statement")) == NULL)
		return load_error(ld, "missing Statement");
	path_key(ld, "Statement");
	return statements_compile(ld, p, v);
}

/* ------------------------------------------------------------------ */
/* Index by action                                                     */
/* ------------------------------------------------------------------ */

static void
idlist_add(struct idlist *l, int i)
{
	if (l->n > 0 && l->v[l->n - 1] == i)
		return;
	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 4 : l->cap * 2;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	l->v[l->n++] = i;
}

/* FNV-1a. */
static size_t
hash_key(const char *s, size_t n)
{
	uint64_t h = 14695981039346656037ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return (size_t)h;
}

static struct bucket *
index_find_hashed(const struct key_index *ix, const char *key, size_t len,
    size_t hash)
{
	size_t i, mask;

	if (ix->cap == 0)
		return NULL;
	mask = ix->cap - 1;
	for (i = hash & mask; ix->b[i].key != NULL; i = (i + 1) & mask) {
		if (ix->b[i].len == len && memcmp(ix->b[i].key, key, len) == 0)
			return &ix->b[i];
	}
	return NULL;
}

static struct bucket *
index_find(const struct key_index *ix, const char *key, size_t len)
{
	return index_find_hashed(ix, key, len, hash_key(key, len));
}

static struct bucket *
index_slot(struct bucket *b, size_t cap, const char *key, size_t len)
{
	size_t i = hash_key(key, len) & (cap - 1);

	while (b[i].key != NULL)
		i = (i + 1) & (cap - 1);
	return &b[i];
}

static void
index_grow(struct key_index *ix)
{
	size_t cap = ix->cap == 0 ? 16 : ix->cap * 2, i;
	struct bucket *b = xcalloc(cap, sizeof(*b));

	for (i = 0; i < ix->cap; i++) {
		if (ix->b[i].key != NULL)
			*index_slot(b, cap, ix->b[i].key, ix->b[i].len) =
			    ix->b[i];
	}
	free(ix->b);
	ix->b = b;
	ix->cap = cap;
}

static struct bucket *
index_get(struct key_index *ix, const char *key, size_t len)
{
	struct bucket *b = index_find(ix, key, len);

	if (b != NULL)
		return b;
	if ((ix->n + 1) * 2 > ix->cap)
		index_grow(ix);
	b = index_slot(ix->b, ix->cap, key, len);
	b->key = xstrndup(key, len);
	b->len = len;
	ix->n++;
	return b;
}

/* The "type/name" head of a resource part: up to its second '/'. */
static bool
span_head(const char *s, size_t n, struct span *head)
{
	const char *s1, *s2;

	if ((s1 = memchr(s, '/', n)) == NULL)
		return false;
	s2 = memchr(s1 + 1, '/', n - (size_t)(s1 + 1 - s));
	head->s = s;
	head->len = s2 != NULL ? (size_t)(s2 - s) : n;
	return true;
}

/*
 * The head every resource part matched by p starts with, followed by
 * '/' or the end: false when a wildcard or variable comes first
 * ("table/Bo*", "*", "table/${aws:username}").
 */
static bool
resource_head(const struct pattern *p, struct span *head)
{
	const char *s;
	size_t n;

	if (p->literal) {
		s = p->lit;
		n = p->litlen;
	} else if (p->npieces > 0 && p->pieces[0].kind == PIECE_LIT) {
		s = p->pieces[0].s;
		n = p->pieces[0].len;
	} else
		return false;
	if (!span_head(s, n, head))
		return false;
	return p->literal || head->len < n;
}

/* Files statement i in b: under its resource heads when all its
 * resources have one, else in b's own lists. */
static void
bucket_add(struct bucket *b, const struct statement *st, int i)
{
	const struct resource_pat *r;
	struct bucket *sb;
	struct span head;
	bool keyed = !st->not_resource;
	size_t j;

	for (j = 0; j < st->nresources && keyed; j++) {
		r = &st->resources[j];
		keyed = r->kind == RES_NEVER || (r->kind == RES_ARN &&
		    resource_head(&r->seg[SEG_RESOURCE], &head));
	}
	if (!keyed) {
		idlist_add(st->deny ? &b->deny : &b->allow, i);
		return;
	}
	if (b->res == NULL)
		b->res = xcalloc(1, sizeof(*b->res));
	for (j = 0; j < st->nresources; j++) {
		r = &st->resources[j];
		if (r->kind != RES_ARN)
			continue;
		resource_head(&r->seg[SEG_RESOURCE], &head);
		sb = index_get(b->res, head.s, head.len);
		idlist_add(st->deny ? &sb->deny : &sb->allow, i);
	}
}

static void
index_action(struct policy *p, const struct action_pat *a, int i)
{
	struct bucket *b;
	char *key;

	if (a->name.literal) {
		xasprintf(&key, "%s:%.*s", a->service, (int)a->name.litlen,
		    a->name.lit);
		b = index_get(&p->exact, key, strlen(key));
		free(key);
	} else
		b = index_get(&p->service, a->service, a->slen);
	bucket_add(b, &p->stmts[i], i);
}

/*
 * Statements with Action "*" or NotAction can apply to any action; the
 * others are filed under each literal action name, or under the service
 * when the name has a wildcard. Within each, bucket_add files them by
 * resource head.
 */
static void
index_build(struct policy *p)
{
	const struct statement *st;
	size_t i, j;
	bool any;

	for (i = 0; i < p->nstmts; i++) {
		st = &p->stmts[i];
		any = st->not_action;
		for (j = 0; j < st->nactions && !any; j++)
			any = st->actions[j].service == NULL;
		if (any) {
			bucket_add(&p->any, st, (int)i);
			continue;
		}
		for (j = 0; j < st->nactions; j++)
			index_action(p, &st->actions[j], (int)i);
	}
}

/* ------------------------------------------------------------------ */
/* Keys the policy uses                                                */
/* ------------------------------------------------------------------ */

static void
key_used(struct policy *p, const char *key)
{
	size_t i;

	for (i = 0; i < p->nkeys_used; i++) {
		if (strcmp(p->keys_used[i], key) == 0)
			return;
	}
	p->keys_used = xreallocarray(p->keys_used, p->nkeys_used + 1,
	    sizeof(*p->keys_used));
	p->keys_used[p->nkeys_used++] = xstrdup(key);
}

static void
vars_used(struct policy *p, const struct pattern *pat)
{
	size_t i;

	for (i = 0; i < pat->nvars; i++)
		key_used(p, pat->vars[i].key);
}

static void
cond_keys_used(struct policy *p, const struct cond *c)
{
	size_t i;
	int k;

	key_used(p, c->key);
	for (i = 0; i < c->nvalues; i++) {
		vars_used(p, &c->values[i].str);
		for (k = 0; c->values[i].arn != NULL && k < SEG_COUNT; k++)
			vars_used(p, &c->values[i].arn[k]);
	}
}

/* Collects every condition key and variable key, for policy_uses_key. */
static void
keys_used_build(struct policy *p)
{
	const struct statement *st;
	size_t i, j;

	for (i = 0; i < p->nstmts; i++) {
		st = &p->stmts[i];
		for (j = 0; j < st->nconds; j++)
			cond_keys_used(p, &st->conds[j]);
		for (j = 0; j < st->nresources; j++)
			vars_used(p, &st->resources[j].seg[SEG_RESOURCE]);
	}
}

/* policy_uses_key: a scan of the distinct keys, a handful in practice. */
bool
policy_uses_key(const struct policy *p, const char *key)
{
	size_t i;

	for (i = 0; i < p->nkeys_used; i++) {
		if (strcasecmp(p->keys_used[i], key) == 0)
			return true;
	}
	return false;
}

bool
policy_uses_key_prefix(const struct policy *p, const char *prefix)
{
	size_t n = strlen(prefix);

	for (size_t i = 0; i < p->nkeys_used; i++)
		if (strncasecmp(p->keys_used[i], prefix, n) == 0)
			return true;
	return false;
}

bool
policy_names_account(const struct policy *p)
{
	if (policy_uses_key(p, "aws:ResourceAccount"))
		return true;
	for (size_t i = 0; i < p->nstmts; i++) {
		const struct statement *st = &p->stmts[i];

		for (size_t j = 0; j < st->nresources; j++)
			if (st->resources[j].kind == RES_ARN &&
			    !st->resources[j].seg[SEG_ACCOUNT].any)
				return true;
	}
	return false;
}

/* ------------------------------------------------------------------ */
/* Loading                                                             */
/* ------------------------------------------------------------------ */

/*
 * policy_load_buffer with the character limit as a parameter, so the
 * benchmark can build policies larger than an endpoint accepts.
 */
static struct policy *
policy_load_limited(const char *buf, size_t len, size_t max_chars,
    char *err, size_t errlen)
{
	struct load ld;
	struct policy *p;
	json_t *root;

	memset(&ld, 0, sizeof(ld));
	ld.err = err;
	ld.errlen = errlen;
	ld.max_chars = max_chars;
	if (errlen > 0)
		err[0] = '\0';
	if (check_text(&ld, buf, len) == -1)
		return NULL;
	if ((root = parse_json(&ld, buf, len)) == NULL)
		return NULL;
	path_restore(&ld, 0);
	p = xcalloc(1, sizeof(*p));
	if (check_tree(&ld, root, 0) == -1 ||
	    (path_restore(&ld, 0), document_compile(&ld, p, root)) == -1) {
		json_decref(root);
		policy_free(p);
		return NULL;
	}
	json_decref(root);
	index_build(p);
	keys_used_build(p);
	return p;
}

/*
 * policy_load_buffer: buf need not be NUL-terminated. Returns a policy
 * the caller frees with policy_free, or NULL with "path: reason" in err.
 */
struct policy *
policy_load_buffer(const char *buf, size_t len, char *err, size_t errlen)
{
	return policy_load_limited(buf, len, POLICY_MAX_CHARS, err, errlen);
}

/*
 * policy_load_file: reads at most what an endpoint policy can be, so a
 * huge file fails fast. Errors read "path: JSON path: reason", or
 * "path: strerror" when the file cannot be read.
 */
struct policy *
policy_load_file(const char *path, char *err, size_t errlen)
{
	size_t cap = POLICY_MAX_CHARS * 4 + 1, n;
	struct policy *p;
	char msg[512];
	FILE *f;
	char *buf;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	buf = xmalloc(cap);
	n = fread(buf, 1, cap, f);
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	if (n == cap) {
		snprintf(err, errlen, "%s: document: longer than %d characters",
		    path, POLICY_MAX_CHARS);
		free(buf);
		return NULL;
	}
	p = policy_load_buffer(buf, n, msg, sizeof(msg));
	free(buf);
	if (p == NULL)
		snprintf(err, errlen, "%s: %s", path, msg);
	return p;
}

/* policy_allow_all: AWS's default endpoint policy; the caller frees it. */
struct policy *
policy_allow_all(void)
{
	static const char text[] = "{\"Version\": \"2012-10-17\", "
	    "\"Statement\": [{\"Effect\": \"Allow\", \"Principal\": \"*\", "
	    "\"Action\": \"*\", \"Resource\": \"*\"}]}";
	struct policy *p;
	char err[256];

	p = policy_load_buffer(text, strlen(text), err, sizeof(err));
	if (p == NULL)
		abort();	/* the built-in text is ours */
	return p;
}

/* policy_statement_count: the statements as written in the document. */
size_t
policy_statement_count(const struct policy *p)
{
	return p->nstmts;
}

/* policy_decision_name: a static string for logs and `ddbgate check`. */
const char *
policy_decision_name(enum policy_decision d)
{
	switch (d) {
	case POLICY_ALLOW:
		return "allow";
	case POLICY_DENY_IMPLICIT:
		return "implicit deny";
	case POLICY_DENY_EXPLICIT:
		return "explicit deny";
	}
	return "unknown";
}

/* ------------------------------------------------------------------ */
/* Evaluation (5.8)                                                    */
/* ------------------------------------------------------------------ */

/* The request, prepared once per decision. */
struct eval {
	const struct policy_request *req;
	const char	*action;	/* lower case */
	size_t		 slen;		/* service prefix length */
	const char	*name;		/* after the colon, or NULL */
	size_t		 nlen;
	bool		 res_arn;	/* resource is a six-part ARN */
	struct span	 seg[SEG_COUNT];
	bool		 has_head;	/* resource part has a "type/name" */
	struct span	 head;
	size_t		 head_hash;
};

static int
eval_init(struct eval *ev, const struct policy_request *req, char *buf,
    size_t buflen, char **heap)
{
	const char *a = req->action != NULL ? req->action : "";
	const char *colon;
	size_t n = strlen(a), i;
	char *dst = buf;

	memset(ev, 0, sizeof(*ev));
	ev->req = req;
	if (n >= buflen) {
		if ((*heap = malloc(n + 1)) == NULL)
			return -1;
		dst = *heap;
	}
	for (i = 0; i < n; i++)
		dst[i] = lower(a[i]);
	dst[n] = '\0';
	ev->action = dst;
	if ((colon = memchr(dst, ':', n)) != NULL) {
		ev->slen = (size_t)(colon - dst);
		ev->name = colon + 1;
		ev->nlen = n - ev->slen - 1;
	}
	if (req->resource != NULL && strcmp(req->resource, "*") != 0)
		ev->res_arn = arn_split(req->resource, false, ev->seg) ==
		    SEG_COUNT;
	if (ev->res_arn && span_head(ev->seg[SEG_RESOURCE].s,
	    ev->seg[SEG_RESOURCE].len, &ev->head)) {
		ev->has_head = true;
		ev->head_hash = hash_key(ev->head.s, ev->head.len);
	}
	return 0;
}

static bool
action_matches(const struct action_pat *a, const struct eval *ev)
{
	if (a->service == NULL)
		return true;
	if (ev->name == NULL || ev->slen != a->slen ||
	    memcmp(ev->action, a->service, a->slen) != 0)
		return false;
	return pattern_match(&a->name, NULL, ev->name, ev->nlen, false);
}

static bool
statement_actions(const struct statement *st, const struct eval *ev)
{
	size_t i;

	for (i = 0; i < st->nactions; i++) {
		if (action_matches(&st->actions[i], ev))
			return !st->not_action;
	}
	return st->not_action;
}

/*
 * Segment by segment; the resource part first because it differs most
 * often. Partition to account compare case-insensitively, the resource
 * part case-sensitively (5.4). A request for "*" matches only "*".
 */
static bool
resource_matches(const struct resource_pat *r, const struct eval *ev)
{
	const struct pattern *rp = &r->seg[SEG_RESOURCE];
	struct span vals[PATTERN_MAX_VARS];
	int k;

	if (r->kind == RES_ANY)
		return true;
	if (r->kind == RES_NEVER || !ev->res_arn)
		return false;
	if (rp->nvars > 0 && !pattern_resolve(rp, ev->req, vals))
		return false;
	if (!pattern_match(rp, vals, ev->seg[SEG_RESOURCE].s,
	    ev->seg[SEG_RESOURCE].len, false))
		return false;
	for (k = SEG_ACCOUNT; k >= SEG_ARN; k--) {
		if (!pattern_match(&r->seg[k], NULL, ev->seg[k].s,
		    ev->seg[k].len, true))
			return false;
	}
	return true;
}

/* Whether the resource part of r has a variable that the request cannot
 * resolve (5.6). */
static bool
resource_unresolved(const struct resource_pat *r, const struct eval *ev)
{
	struct span vals[PATTERN_MAX_VARS];

	if (r->kind != RES_ARN || r->seg[SEG_RESOURCE].nvars == 0 ||
	    pattern_resolve(&r->seg[SEG_RESOURCE], ev->req, vals))
		return false;
	/*
	 * As the IAM evaluator does it: the entry's other segments are
	 * compared first; only an entry that would otherwise apply to this
	 * request is made invalid by its unresolvable variable.
	 */
	if (!ev->res_arn)
		return false;
	for (int k = SEG_ACCOUNT; k >= SEG_ARN; k--)
		if (!pattern_match(&r->seg[k], NULL, ev->seg[k].s,
		    ev->seg[k].len, true))
			return false;
	return true;
}

/*
 * Resource: some entry matches; an entry with an unresolvable variable
 * matches nothing. NotResource: no entry matches; an entry with an
 * unresolvable variable makes the whole statement invalid (the IAM guide:
 * a missing variable "causes the statement to be invalid"), so it does
 * not match, whatever its effect and whatever the request's resource.
 */
static bool
statement_resources(const struct statement *st, const struct eval *ev)
{
	size_t i;

	if (st->not_resource) {
		for (i = 0; i < st->nresources; i++) {
			if (resource_unresolved(&st->resources[i], ev))
				return false;
		}
	}
	for (i = 0; i < st->nresources; i++) {
		if (resource_matches(&st->resources[i], ev))
			return !st->not_resource;
	}
	return st->not_resource;
}

static bool
span_is(const struct span *sp, const char *s)
{
	return sp->len == strlen(s) && memcmp(sp->s, s, sp->len) == 0;
}

/* caller is arn:P:iam::A:root for pr's account (and partition). */
static bool
is_root_of(const struct principal *pr, const char *caller)
{
	struct span seg[SEG_COUNT];

	if (arn_split(caller, false, seg) != SEG_COUNT)
		return false;
	return span_is(&seg[SEG_ARN], "arn") &&
	    (pr->partition == NULL || span_is(&seg[SEG_PARTITION],
	    pr->partition)) && span_is(&seg[SEG_SERVICE], "iam") &&
	    seg[SEG_REGION].len == 0 && span_is(&seg[SEG_ACCOUNT],
	    pr->account) && span_is(&seg[SEG_RESOURCE], "root");
}

/* caller is arn:P:sts::A:assumed-role/R/session of role pr (5.2). */
static bool
is_session_of(const struct principal *pr, const char *caller)
{
	struct span seg[SEG_COUNT];
	const char *r;
	size_t n = strlen(pr->role);

	if (arn_split(caller, false, seg) != SEG_COUNT ||
	    !span_is(&seg[SEG_ARN], "arn") ||
	    !span_is(&seg[SEG_PARTITION], pr->partition) ||
	    !span_is(&seg[SEG_SERVICE], "sts") || seg[SEG_REGION].len != 0 ||
	    !span_is(&seg[SEG_ACCOUNT], pr->account))
		return false;
	r = seg[SEG_RESOURCE].s;
	return strncmp(r, "assumed-role/", 13) == 0 &&
	    strncmp(r + 13, pr->role, n) == 0 && r[13 + n] == '/' &&
	    r[14 + n] != '\0';
}

static bool
principal_matches(const struct principal *pr, const char *caller)
{
	if (pr->kind == PRIN_ANY)
		return true;
	if (pr->kind == PRIN_OTHER || caller == NULL)
		return false;
	switch (pr->kind) {
	case PRIN_ROOT:
		return is_root_of(pr, caller);
	case PRIN_ROLE:
		return strcmp(pr->text, caller) == 0 ||
		    is_session_of(pr, caller);
	default:
		return strcmp(pr->text, caller) == 0;
	}
}

static bool
statement_principals(const struct statement *st, const struct eval *ev)
{
	size_t i;

	if (st->principal_any)
		return !st->not_principal;
	for (i = 0; i < st->nprincipals; i++) {
		if (principal_matches(&st->principals[i], ev->req->principal))
			return !st->not_principal;
	}
	return st->not_principal;
}

/* A request value, parsed once for the operator's family. */
struct rval {
	const char	*s;
	size_t		 len;
	struct decimal	 num;
	struct ptime	 date;
	bool		 b;
	struct ipnet	 ip;
	uint8_t		*bin;
	size_t		 binlen;
	struct span	 arn[SEG_COUNT];
};

static bool
rval_parse(enum family f, const char *s, struct rval *rv)
{
	rv->s = s;
	rv->len = strlen(s);
	rv->bin = NULL;
	switch (f) {
	case FAM_NUMERIC:
		return decimal_parse(s, &rv->num) == 0;
	case FAM_DATE:
		return date_parse(s, &rv->date) == 0;
	case FAM_BOOL:
		return bool_parse(s, &rv->b) == 0;
	case FAM_BINARY:
		return base64_decode(s, &rv->bin, &rv->binlen) == 0;
	case FAM_IP:
		return ipnet_parse(s, &rv->ip, false) == 0;
	case FAM_ARN:
		return arn_split(s, false, rv->arn) == SEG_COUNT;
	default:
		return true;
	}
}

static bool
cmp_holds(enum cmp op, int c)
{
	switch (op) {
	case CMP_LT:
		return c < 0;
	case CMP_LE:
		return c <= 0;
	case CMP_GT:
		return c > 0;
	case CMP_GE:
		return c >= 0;
	default:
		return c == 0;
	}
}

enum vres { V_NOMATCH, V_MATCH, V_INVALID };

/* ARN operators: part by part, case-sensitive, wildcards in each. */
static enum vres
arn_value_matches(const struct cvalue *pv, const struct rval *rv,
    const struct policy_request *req)
{
	int k;

	if (pv->arn == NULL)
		return V_INVALID;
	for (k = 0; k < SEG_COUNT; k++) {
		if (!pattern_match_req(&pv->arn[k], req, rv->arn[k].s,
		    rv->arn[k].len, false))
			return V_NOMATCH;
	}
	return V_MATCH;
}

/* The base relation of one policy value and one request value (for
 * negated operators, the relation they negate). */
static enum vres
value_matches(const struct cond *c, const struct cvalue *pv,
    const struct rval *rv, const struct policy_request *req)
{
	bool m = false;

	switch (c->op->family) {
	case FAM_STRING:
		m = pattern_match_req(&pv->str, req, rv->s, rv->len,
		    c->op->icase);
		break;
	case FAM_ARN:
		return arn_value_matches(pv, rv, req);
	case FAM_NUMERIC:
		m = cmp_holds(c->op->cmp, decimal_cmp(&rv->num, &pv->num));
		break;
	case FAM_DATE:
		m = cmp_holds(c->op->cmp, ptime_cmp(&rv->date, &pv->date));
		break;
	case FAM_BOOL:
		m = rv->b == pv->b;
		break;
	case FAM_BINARY:
		m = rv->binlen == pv->binlen &&
		    memcmp(rv->bin, pv->bin, rv->binlen) == 0;
		break;
	case FAM_IP:
		m = ipnet_contains(&pv->ip, &rv->ip);
		break;
	case FAM_NULL:
		break;
	}
	return m ? V_MATCH : V_NOMATCH;
}

/*
 * One request value against the policy values: ORed for a positive
 * operator, "matches none" for a negated one. A request value that does
 * not parse as the operator's type fails both (iam-simulate).
 */
static bool
value_test(const struct cond *c, const char *s,
    const struct policy_request *req)
{
	struct rval rv;
	enum vres r;
	bool result = c->op->negated;
	size_t i;

	if (s == NULL || !rval_parse(c->op->family, s, &rv))
		return false;
	for (i = 0; i < c->nvalues; i++) {
		r = value_matches(c, &c->values[i], &rv, req);
		if (c->op->negated ? r != V_NOMATCH : r == V_MATCH) {
			result = !c->op->negated;
			break;
		}
	}
	free(rv.bin);
	return result;
}

static bool
null_holds(const struct cond *c, bool present)
{
	size_t i;

	for (i = 0; i < c->nvalues; i++) {
		if (c->values[i].b == !present)
			return true;
	}
	return false;
}

/*
 * One operator and key (5.5). deny says whether the statement is a Deny:
 * a multivalued key under a plain operator is undefined at AWS, so it
 * fails closed, which for a Deny means the condition holds. A key is
 * multivalued when its declared type is an array (ArrayOfString,
 * ArrayOfARN: c->multi), whatever the number of values the request
 * carries; a key the table does not know (and a single-valued key that
 * arrives without exactly one value) is multivalued when it has more than
 * one value or none.
 */
static bool
cond_holds(const struct cond *c, const struct eval *ev, bool deny)
{
	const struct policy_key *k = key_find(ev->req, c->key);
	size_t i;

	if (c->op->family == FAM_NULL)
		return null_holds(c, k != NULL);
	if (k == NULL) {
		/* The set operators' own missing-key rule comes before
		 * IfExists (5.5): ForAnyValue:<op>IfExists is false. */
		if (c->set == SET_ALL)
			return true;
		if (c->set == SET_ANY)
			return false;
		if (c->ifexists)
			return true;
		return c->op->negated;
	}
	if (c->set == SET_ALL) {
		for (i = 0; i < k->nvalues; i++) {
			if (!value_test(c, k->values[i], ev->req))
				return false;
		}
		return true;
	}
	if (c->set == SET_ANY) {
		for (i = 0; i < k->nvalues; i++) {
			if (value_test(c, k->values[i], ev->req))
				return true;
		}
		return false;
	}
	if (c->multi || k->nvalues != 1)
		return deny;
	return value_test(c, k->values[0], ev->req);
}

static bool
statement_matches(const struct statement *st, const struct eval *ev,
    bool action_known)
{
	size_t i;

	if (!action_known && !statement_actions(st, ev))
		return false;
	if (!statement_resources(st, ev) || !statement_principals(st, ev))
		return false;
	for (i = 0; i < st->nconds; i++) {
		if (!cond_holds(&st->conds[i], ev, st->deny))
			return false;
	}
	return true;
}

#define CURSOR_LISTS	6

/* Walks ascending lists of statement indices as one. */
struct cursor {
	const struct idlist *l[CURSOR_LISTS];
	bool		 exact[CURSOR_LISTS];	/* from a literal action name */
	size_t		 at[CURSOR_LISTS];
	int		 n;
};

/* Next index, or -1; *exact says it came from a literal-name list,
 * whose statements need no action check. */
static int
cursor_next(struct cursor *c, bool *exact)
{
	int best = INT_MAX, k;

	for (k = 0; k < c->n; k++) {
		if (c->at[k] < c->l[k]->n && c->l[k]->v[c->at[k]] < best)
			best = c->l[k]->v[c->at[k]];
	}
	if (best == INT_MAX)
		return -1;
	*exact = false;
	for (k = 0; k < c->n; k++) {
		if (c->at[k] < c->l[k]->n && c->l[k]->v[c->at[k]] == best) {
			c->at[k]++;
			*exact = *exact || c->exact[k];
		}
	}
	return best;
}

/* Adds b's lists of one effect: its own, and those of the request's
 * resource head. */
static void
cursor_add(struct cursor *c, const struct bucket *b, const struct eval *ev,
    bool deny, bool exact)
{
	const struct bucket *sb;

	if (b == NULL)
		return;
	c->exact[c->n] = exact;
	c->l[c->n++] = deny ? &b->deny : &b->allow;
	if (b->res == NULL || !ev->has_head)
		return;
	sb = index_find_hashed(b->res, ev->head.s, ev->head.len,
	    ev->head_hash);
	if (sb != NULL) {
		c->exact[c->n] = exact;
		c->l[c->n++] = deny ? &sb->deny : &sb->allow;
	}
}

/* The first statement of the given effect that matches, or -1. be and
 * bs are the request action's buckets (NULL if none). */
static int
first_match(const struct policy *p, const struct eval *ev,
    const struct bucket *be, const struct bucket *bs, bool deny)
{
	struct cursor c;
	bool exact;
	int i;

	memset(&c, 0, sizeof(c));
	cursor_add(&c, be, ev, deny, true);
	cursor_add(&c, bs, ev, deny, false);
	cursor_add(&c, &p->any, ev, deny, false);
	while ((i = cursor_next(&c, &exact)) != -1) {
		if (statement_matches(&p->stmts[i], ev, exact))
			return i;
	}
	return -1;
}

/*
 * policy_evaluate: the first matching Deny decides (explicit deny), else
 * the first matching Allow, else implicit deny. Statement order does not
 * change the decision, only which statement is named. If the action name
 * is too long for the stack buffer and memory is short, the answer is an
 * implicit deny.
 */
void
policy_evaluate(const struct policy *p, const struct policy_request *req,
    struct policy_result *res)
{
	const struct bucket *be = NULL, *bs = NULL;
	char buf[ACTION_BUF], *heap = NULL;
	struct eval ev;
	int i;

	res->decision = POLICY_DENY_IMPLICIT;
	res->statement = -1;
	res->sid = NULL;
	if (eval_init(&ev, req, buf, sizeof(buf), &heap) == -1)
		return;
	if (ev.name != NULL) {
		be = index_find(&p->exact, ev.action, ev.slen + 1 + ev.nlen);
		bs = index_find(&p->service, ev.action, ev.slen);
	}
	if ((i = first_match(p, &ev, be, bs, true)) != -1)
		res->decision = POLICY_DENY_EXPLICIT;
	else if ((i = first_match(p, &ev, be, bs, false)) != -1)
		res->decision = POLICY_ALLOW;
	if (i != -1) {
		res->statement = i;
		res->sid = p->stmts[i].sid;
	}
	free(heap);
}

/* ------------------------------------------------------------------ */
/* Lint                                                                */
/* ------------------------------------------------------------------ */

#define KA_NORES	1	/* no resource type: the request carries "*" */

struct known_action {
	const char	*service;
	const char	*name;
	unsigned	 flags;
};

/* IAM actions of spec 4.1 (with permission-only ones), 4.2 and 4.3. */
static const struct known_action known_actions[] = {
	{ "dynamodb", "AssociateTableReplica", 0 },
	{ "dynamodb", "BatchGetItem", 0 },
	{ "dynamodb", "BatchWriteItem", 0 },
	{ "dynamodb", "ConditionCheckItem", 0 },
	{ "dynamodb", "CreateBackup", 0 },
	{ "dynamodb", "CreateGlobalTable", 0 },
	{ "dynamodb", "CreateGlobalTableWitness", 0 },
	{ "dynamodb", "CreateTable", 0 },
	{ "dynamodb", "CreateTableReplica", 0 },
	{ "dynamodb", "DeleteBackup", 0 },
	{ "dynamodb", "DeleteGlobalTableWitness", 0 },
	{ "dynamodb", "DeleteItem", 0 },
	{ "dynamodb", "DeleteResourcePolicy", 0 },
	{ "dynamodb", "DeleteTable", 0 },
	{ "dynamodb", "DeleteTableReplica", 0 },
	{ "dynamodb", "DescribeBackup", 0 },
	{ "dynamodb", "DescribeContinuousBackups", 0 },
	{ "dynamodb", "DescribeContributorInsights", 0 },
	{ "dynamodb", "DescribeEndpoints", KA_NORES },
	{ "dynamodb", "DescribeExport", 0 },
	{ "dynamodb", "DescribeGlobalTable", 0 },
	{ "dynamodb", "DescribeGlobalTableSettings", 0 },
	{ "dynamodb", "DescribeImport", 0 },
	{ "dynamodb", "DescribeKinesisStreamingDestination", 0 },
	{ "dynamodb", "DescribeLimits", KA_NORES },
	{ "dynamodb", "DescribeReservedCapacity", KA_NORES },
	{ "dynamodb", "DescribeReservedCapacityOfferings", KA_NORES },
	{ "dynamodb", "DescribeStream", 0 },
	{ "dynamodb", "DescribeTable", 0 },
	{ "dynamodb", "DescribeTableReplicaAutoScaling", 0 },
	{ "dynamodb", "DescribeTimeToLive", 0 },
	{ "dynamodb", "DisableKinesisStreamingDestination", 0 },
	{ "dynamodb", "EnableKinesisStreamingDestination", 0 },
	{ "dynamodb", "ExportTableToPointInTime", 0 },
	{ "dynamodb", "GetAbacStatus", 0 },
	{ "dynamodb", "GetItem", 0 },
	{ "dynamodb", "GetRecords", 0 },
	{ "dynamodb", "GetResourcePolicy", 0 },
	{ "dynamodb", "GetShardIterator", 0 },
	{ "dynamodb", "ImportTable", 0 },
	{ "dynamodb", "InjectError", 0 },
	{ "dynamodb", "ListBackups", KA_NORES },
	{ "dynamodb", "ListContributorInsights", KA_NORES },
	{ "dynamodb", "ListExports", 0 },
	{ "dynamodb", "ListGlobalTables", KA_NORES },
	{ "dynamodb", "ListImports", 0 },
	{ "dynamodb", "ListStreams", KA_NORES },
	{ "dynamodb", "ListTables", KA_NORES },
	{ "dynamodb", "ListTagsOfResource", 0 },
	{ "dynamodb", "PartiQLDelete", 0 },
	{ "dynamodb", "PartiQLInsert", 0 },
	{ "dynamodb", "PartiQLSelect", 0 },
	{ "dynamodb", "PartiQLUpdate", 0 },
	{ "dynamodb", "PurchaseReservedCapacityOfferings", KA_NORES },
	{ "dynamodb", "PutItem", 0 },
	{ "dynamodb", "PutResourcePolicy", 0 },
	{ "dynamodb", "Query", 0 },
	{ "dynamodb", "ReadDataForReplication", 0 },
	{ "dynamodb", "ReplicateSettings", 0 },
	{ "dynamodb", "RestoreTableFromAwsBackup", 0 },
	{ "dynamodb", "RestoreTableFromBackup", 0 },
	{ "dynamodb", "RestoreTableToPointInTime", 0 },
	{ "dynamodb", "Scan", 0 },
	{ "dynamodb", "SearchVectors", 0 },
	{ "dynamodb", "StartAwsBackupJob", 0 },
	{ "dynamodb", "TagResource", 0 },
	{ "dynamodb", "UntagResource", 0 },
	{ "dynamodb", "UpdateAbacStatus", 0 },
	{ "dynamodb", "UpdateContinuousBackups", 0 },
	{ "dynamodb", "UpdateContributorInsights", 0 },
	{ "dynamodb", "UpdateGlobalTable", 0 },
	{ "dynamodb", "UpdateGlobalTableSettings", 0 },
	{ "dynamodb", "UpdateGlobalTableVersion", 0 },
	{ "dynamodb", "UpdateItem", 0 },
	{ "dynamodb", "UpdateKinesisStreamingDestination", 0 },
	{ "dynamodb", "UpdateTable", 0 },
	{ "dynamodb", "UpdateTableReplicaAutoScaling", 0 },
	{ "dynamodb", "UpdateTimeToLive", 0 },
	{ "dynamodb", "WriteDataForReplication", 0 },
	{ "dax", "BatchGetItem", 0 },
	{ "dax", "BatchWriteItem", 0 },
	{ "dax", "ConditionCheckItem", 0 },
	{ "dax", "CreateCluster", 0 },
	{ "dax", "CreateParameterGroup", KA_NORES },
	{ "dax", "CreateSubnetGroup", KA_NORES },
	{ "dax", "DecreaseReplicationFactor", 0 },
	{ "dax", "DeleteCluster", 0 },
	{ "dax", "DeleteItem", 0 },
	{ "dax", "DeleteParameterGroup", KA_NORES },
	{ "dax", "DeleteSubnetGroup", KA_NORES },
	{ "dax", "DescribeClusters", 0 },
	{ "dax", "DescribeDefaultParameters", KA_NORES },
	{ "dax", "DescribeEvents", KA_NORES },
	{ "dax", "DescribeParameterGroups", KA_NORES },
	{ "dax", "DescribeParameters", KA_NORES },
	{ "dax", "DescribeSubnetGroups", KA_NORES },
	{ "dax", "GetItem", 0 },
	{ "dax", "IncreaseReplicationFactor", 0 },
	{ "dax", "ListTags", 0 },
	{ "dax", "PutItem", 0 },
	{ "dax", "Query", 0 },
	{ "dax", "RebootNode", 0 },
	{ "dax", "Scan", 0 },
	{ "dax", "TagResource", 0 },
	{ "dax", "UntagResource", 0 },
	{ "dax", "UpdateCluster", 0 },
	{ "dax", "UpdateItem", 0 },
	{ "dax", "UpdateParameterGroup", KA_NORES },
	{ "dax", "UpdateSubnetGroup", KA_NORES },
};

enum key_type {
	KT_STRING, KT_STRINGS, KT_ARN, KT_ARNS, KT_BOOL, KT_DATE, KT_EPOCH,
	KT_NUMERIC, KT_IP
};

#define KK_SENSITIVE	1	/* system-generated IDs: no wildcards (5.7) */
#define KK_PREFIX	2	/* name is a prefix ("aws:PrincipalTag/") */

struct known_key {
	const char	*name;		/* lower case */
	enum key_type	 type;
	unsigned	 flags;
};

/* Condition keys of spec 6.1 and the global keys of 6.2 and IAM. */
static const struct known_key known_keys[] = {
	{ "aws:assumedroot", KT_BOOL, 0 },
	{ "aws:calledvia", KT_STRINGS, 0 },
	{ "aws:calledviafirst", KT_STRING, 0 },
	{ "aws:calledvialast", KT_STRING, 0 },
	{ "aws:currenttime", KT_DATE, 0 },
	{ "aws:ec2instancesourceprivateipv4", KT_IP, 0 },
	{ "aws:ec2instancesourcevpc", KT_STRING, KK_SENSITIVE },
	{ "aws:epochtime", KT_EPOCH, 0 },
	{ "aws:federatedprovider", KT_STRING, 0 },
	{ "aws:multifactorauthage", KT_NUMERIC, 0 },
	{ "aws:multifactorauthpresent", KT_BOOL, 0 },
	{ "aws:principalaccount", KT_STRING, KK_SENSITIVE },
	{ "aws:principalarn", KT_ARN, KK_SENSITIVE },
	{ "aws:principalisawsservice", KT_BOOL, 0 },
	{ "aws:principalorgid", KT_STRING, KK_SENSITIVE },
	{ "aws:principalorgpaths", KT_STRINGS, KK_SENSITIVE },
	{ "aws:principalservicename", KT_STRING, 0 },
	{ "aws:principalservicenameslist", KT_STRINGS, 0 },
	{ "aws:principaltag/", KT_STRING, KK_PREFIX },
	{ "aws:principaltype", KT_STRING, 0 },
	{ "aws:referer", KT_STRING, 0 },
	{ "aws:requestedregion", KT_STRING, 0 },
	{ "aws:requesttag/", KT_STRING, KK_PREFIX },
	{ "aws:resourceaccount", KT_STRING, KK_SENSITIVE },
	{ "aws:resourceorgid", KT_STRING, KK_SENSITIVE },
	{ "aws:resourceorgpaths", KT_STRINGS, KK_SENSITIVE },
	{ "aws:resourcetag/", KT_STRING, KK_PREFIX },
	{ "aws:securetransport", KT_BOOL, 0 },
	{ "aws:sourceaccount", KT_STRING, KK_SENSITIVE },
	{ "aws:sourcearn", KT_ARN, 0 },
	{ "aws:sourceidentity", KT_STRING, 0 },
	{ "aws:sourceip", KT_IP, 0 },
	{ "aws:sourceorgid", KT_STRING, KK_SENSITIVE },
	{ "aws:sourceorgpaths", KT_STRINGS, KK_SENSITIVE },
	{ "aws:sourcevpc", KT_STRING, KK_SENSITIVE },
	{ "aws:sourcevpcarn", KT_ARN, KK_SENSITIVE },
	{ "aws:sourcevpce", KT_STRING, KK_SENSITIVE },
	{ "aws:tagkeys", KT_STRINGS, 0 },
	{ "aws:tokenissuetime", KT_DATE, 0 },
	{ "aws:useragent", KT_STRING, 0 },
	{ "aws:userid", KT_STRING, 0 },
	{ "aws:username", KT_STRING, 0 },
	{ "aws:viaawsservice", KT_BOOL, 0 },
	{ "aws:vpceaccount", KT_STRING, KK_SENSITIVE },
	{ "aws:vpceorgid", KT_STRING, KK_SENSITIVE },
	{ "aws:vpceorgpaths", KT_STRINGS, KK_SENSITIVE },
	{ "aws:vpcsourceip", KT_IP, 0 },
	{ "dax:enclosingoperation", KT_STRING, 0 },
	{ "ddbgate:tablename", KT_STRING, 0 },
	{ "dynamodb:attributes", KT_STRINGS, 0 },
	{ "dynamodb:enclosingoperation", KT_STRING, 0 },
	{ "dynamodb:firstpartitionkeyvalues", KT_STRINGS, 0 },
	{ "dynamodb:fisactionid", KT_STRING, 0 },
	{ "dynamodb:fistargetarns", KT_ARNS, 0 },
	{ "dynamodb:fourthpartitionkeyvalues", KT_STRINGS, 0 },
	{ "dynamodb:fulltablescan", KT_BOOL, 0 },
	{ "dynamodb:leadingkeys", KT_STRINGS, 0 },
	{ "dynamodb:returnconsumedcapacity", KT_STRING, 0 },
	{ "dynamodb:returnvalues", KT_STRING, 0 },
	{ "dynamodb:secondpartitionkeyvalues", KT_STRINGS, 0 },
	{ "dynamodb:select", KT_STRING, 0 },
	{ "dynamodb:thirdpartitionkeyvalues", KT_STRINGS, 0 },
};

static const char *const key_type_names[] = {
	"String", "ArrayOfString", "ARN", "ArrayOfARN", "Bool", "Date",
	"Date/Numeric", "Numeric", "IP address"
};

struct lint {
	FILE		*out;
	int		 count;
	const struct policy *p;
	char		 stmt[32];	/* "Statement[3]" or "Statement" */
};

static void __attribute__((format(printf, 3, 4)))
lint_emit(struct lint *l, const char *where, const char *fmt, ...)
{
	va_list ap;

	fprintf(l->out, "%s%s: ", l->stmt, where);
	va_start(ap, fmt);
	vfprintf(l->out, fmt, ap);
	va_end(ap);
	fputc('\n', l->out);
	l->count++;
}

/* ".Action[2]" or ".Action". */
static const char *
elem_path(char *buf, size_t len, const char *name, int idx)
{
	if (idx < 0)
		snprintf(buf, len, ".%s", name);
	else
		snprintf(buf, len, ".%s[%d]", name, idx);
	return buf;
}

static bool
ddb_service(const char *service)
{
	return strcmp(service, "dynamodb") == 0 || strcmp(service, "dax") == 0;
}

/* How many known actions a matches; *all_nores if each takes no
 * resource. */
static size_t
known_matches(const struct action_pat *a, bool *all_nores)
{
	const struct known_action *ka;
	char name[64];
	size_t i, j, count = 0;

	*all_nores = true;
	for (i = 0; i < sizeof(known_actions) / sizeof(known_actions[0]);
	    i++) {
		ka = &known_actions[i];
		if (strcmp(ka->service, a->service) != 0)
			continue;
		for (j = 0; ka->name[j] != '\0' && j < sizeof(name) - 1; j++)
			name[j] = lower(ka->name[j]);
		if (!pattern_match(&a->name, NULL, name, j, false))
			continue;
		count++;
		if (!(ka->flags & KA_NORES))
			*all_nores = false;
	}
	return count;
}

static const struct known_key *
key_lookup(const char *key)
{
	const struct known_key *kk;
	size_t i, n;

	for (i = 0; i < sizeof(known_keys) / sizeof(known_keys[0]); i++) {
		kk = &known_keys[i];
		n = strlen(kk->name);
		if ((kk->flags & KK_PREFIX) ? strncmp(key, kk->name, n) == 0 &&
		    key[n] != '\0' : strcmp(key, kk->name) == 0)
			return kk;
	}
	return NULL;
}

/* Whether the (lower-case) key is declared multivalued (6.1, 6.2). */
static bool
key_multivalued(const char *key)
{
	const struct known_key *kk = key_lookup(key);

	return kk != NULL && (kk->type == KT_STRINGS || kk->type == KT_ARNS);
}

static void
lint_principals(struct lint *l, const struct statement *st)
{
	const char *el = st->not_principal ? "NotPrincipal" : "Principal";
	const struct principal *pr;
	char where[96];
	bool can = false;
	size_t i;

	if (st->not_principal)
		lint_emit(l, ".NotPrincipal", "AWS advises against NotPrincipal;"
		    " use Principal \"*\" with an aws:PrincipalArn condition");
	for (i = 0; i < st->nprincipals; i++) {
		pr = &st->principals[i];
		if (strcmp(pr->type, "*") == 0)
			snprintf(where, sizeof(where), ".%s", el);
		else if (pr->idx < 0)
			snprintf(where, sizeof(where), ".%s.%s", el, pr->type);
		else
			snprintf(where, sizeof(where), ".%s.%s[%d]", el,
			    pr->type, pr->idx);
		if (pr->kind == PRIN_ROOT)
			lint_emit(l, where, "in an endpoint policy \"%s\" "
			    "matches only the account's root user; use "
			    "Principal \"*\" with aws:PrincipalAccount", pr->text);
		else if (pr->kind == PRIN_OTHER)
			lint_emit(l, where, "%s principal \"%s\" never matches a "
			    "caller of DynamoDB through the gateway", pr->type,
			    pr->text);
		if (pr->kind != PRIN_OTHER)
			can = true;
	}
	if (!st->not_principal && !can)
		lint_emit(l, "", "statement never matches: no principal can "
		    "match a caller");
}

static void
lint_action(struct lint *l, const struct statement *st,
    const struct action_pat *a)
{
	char where[64];
	bool nores;

	elem_path(where, sizeof(where), st->not_action ? "NotAction" :
	    "Action", a->idx);
	if (a->service == NULL) {
		if (st->not_action)
			lint_emit(l, where, "NotAction \"*\" excludes every "
			    "action: the statement never matches");
		else if (!st->deny)
			lint_emit(l, where, "Action \"*\" in an Allow grants "
			    "every action of every service; list the actions "
			    "the clients need");
		return;
	}
	if (!ddb_service(a->service))
		lint_emit(l, where, "\"%s\" is not a DynamoDB, Streams or DAX "
		    "action: no request through the gateway uses it", a->text);
	else if (known_matches(a, &nores) == 0 && a->name.wild)
		lint_emit(l, where, "\"%s\" matches no known %s action",
		    a->text, a->service);
	else if (known_matches(a, &nores) == 0)
		lint_emit(l, where, "unknown %s action \"%s\"", a->service,
		    a->text);
}

/* "table/Music*" also covers "table/MusicArchive" (4.5). */
static void
lint_broad_resource(struct lint *l, const char *where,
    const struct resource_pat *r)
{
	const char *res = r->seg[SEG_RESOURCE].text, *slash, *end;
	size_t tlen, clen;

	if ((slash = strchr(res, '/')) == NULL)
		return;
	tlen = (size_t)(slash - res);
	if (!((tlen == 5 && strncmp(res, "table", 5) == 0) ||
	    (tlen == 12 && strncmp(res, "global-table", 12) == 0) ||
	    (tlen == 5 && strncmp(res, "cache", 5) == 0)))
		return;
	end = strchr(slash + 1, '/');
	clen = end != NULL ? (size_t)(end - slash - 1) : strlen(slash + 1);
	if (memchr(slash + 1, '*', clen) == NULL ||
	    (clen == 1 && slash[1] == '*'))
		return;
	if (end == NULL && slash[clen] == '*' &&
	    memchr(slash + 1, '*', clen - 1) == NULL &&
	    memchr(slash + 1, '?', clen) == NULL)
		lint_emit(l, where, "\"%s\" also matches every %.*s whose "
		    "name starts with \"%.*s\"; use \"%.*s\"%s%.*s%s", res,
		    (int)tlen, res, (int)clen - 1, slash + 1, (int)(tlen + clen),
		    res, tlen == 5 && res[0] == 't' ? " and \"" : "",
		    tlen == 5 && res[0] == 't' ? (int)(tlen + clen) : 0, res,
		    tlen == 5 && res[0] == 't' ? "/*\"" : "");
	else
		lint_emit(l, where, "a wildcard inside the name in \"%s\" "
		    "also matches other %.*ss with similar names", res,
		    (int)tlen, res);
}

/* An account segment is an ID or a wildcard, not a mix (5.4, 5.7). */
static bool
account_mixed(const char *acct)
{
	return strpbrk(acct, "*?") != NULL && strcmp(acct, "*") != 0;
}

static void
lint_resource(struct lint *l, const struct statement *st,
    const struct resource_pat *r)
{
	char where[64];
	int k;

	elem_path(where, sizeof(where), st->not_resource ? "NotResource" :
	    "Resource", r->idx);
	if (r->kind == RES_ANY) {
		if (st->not_resource)
			lint_emit(l, where, "NotResource \"*\" excludes every "
			    "resource: the statement never matches");
		return;
	}
	if (strncasecmp(r->text, "arn:", 4) != 0)
		lint_emit(l, where, "\"%s\" is neither \"*\" nor an ARN: it "
		    "never matches", r->text);
	else if (r->kind == RES_NEVER)
		lint_emit(l, where, "\"%s\" has fewer than six ARN segments "
		    "and no wildcard: it never matches", r->text);
	else if (r->padded)
		lint_emit(l, where, "\"%s\" has fewer than six ARN segments; "
		    "it is read with \"*\" for the missing ones", r->text);
	if (!l->p->vars && strstr(r->text, "${") != NULL)
		lint_emit(l, where, "\"${...}\" is literal text: policy "
		    "variables need \"Version\": \"2012-10-17\"");
	if (r->kind != RES_ARN)
		return;
	if (account_mixed(r->seg[SEG_ACCOUNT].text))
		lint_emit(l, where, "account segment \"%s\" mixes digits and "
		    "wildcards; use an account ID or \"*\"",
		    r->seg[SEG_ACCOUNT].text);
	for (k = SEG_ARN; k < SEG_RESOURCE && l->p->vars; k++) {
		if (strstr(r->seg[k].text, "${") != NULL)
			lint_emit(l, where, "policy variables are allowed only "
			    "in the resource part; \"%s\" is literal text",
			    r->seg[k].text);
	}
	lint_broad_resource(l, where, r);
}

/* Actions of one service and resources of another never meet. */
static void
lint_services(struct lint *l, const struct statement *st)
{
	const struct resource_pat *r;
	const struct pattern *svc;
	size_t i, j, narn = 0;

	if (st->not_action || st->not_resource)
		return;
	for (i = 0; i < st->nresources; i++) {
		r = &st->resources[i];
		if (r->kind == RES_ANY || (r->kind == RES_ARN &&
		    !r->seg[SEG_SERVICE].literal))
			return;
		narn += r->kind == RES_ARN;
	}
	for (i = 0; i < st->nactions; i++) {
		if (st->actions[i].service == NULL)
			return;
		for (j = 0; j < st->nresources; j++) {
			svc = &st->resources[j].seg[SEG_SERVICE];
			if (st->resources[j].kind == RES_ARN &&
			    strcasecmp(svc->text, st->actions[i].service) == 0)
				return;
		}
	}
	if (narn == 0)
		lint_emit(l, "", "statement never matches: no Resource entry "
		    "can match");
	else
		lint_emit(l, "", "statement never matches: its actions and its "
		    "resources belong to different services");
}

/* Actions without a resource type carry "*", which only Resource "*"
 * matches (5.4, vector 8). */
static void
lint_nores(struct lint *l, const struct statement *st)
{
	const struct action_pat *a;
	bool nores;
	size_t i;

	if (st->not_action || st->not_resource || st->nactions == 0)
		return;
	for (i = 0; i < st->nresources; i++) {
		if (st->resources[i].kind == RES_ANY)
			return;
	}
	for (i = 0; i < st->nactions; i++) {
		a = &st->actions[i];
		if (a->service == NULL || !ddb_service(a->service) ||
		    known_matches(a, &nores) == 0 || !nores)
			return;
	}
	lint_emit(l, "", "statement never matches: its actions take no "
	    "resource (the request resource is \"*\") and only Resource "
	    "\"*\" matches that");
}

/* Each wildcard needs six non-wildcard characters on one side (5.7). */
static bool
six_rule_ok(const struct pattern *p)
{
	size_t k, j, before, after;

	for (k = 0; k < p->npieces; k++) {
		if (p->pieces[k].kind != PIECE_STAR &&
		    p->pieces[k].kind != PIECE_ONE)
			continue;
		before = after = 0;
		for (j = k; j > 0 && p->pieces[j - 1].kind != PIECE_STAR &&
		    p->pieces[j - 1].kind != PIECE_ONE; j--)
			before += p->pieces[j - 1].kind == PIECE_VAR ? 6 :
			    p->pieces[j - 1].len;
		for (j = k + 1; j < p->npieces && p->pieces[j].kind !=
		    PIECE_STAR && p->pieces[j].kind != PIECE_ONE; j++)
			after += p->pieces[j].kind == PIECE_VAR ? 6 :
			    p->pieces[j].len;
		if (before < 6 && after < 6)
			return false;
	}
	return true;
}

static bool
value_has_wildcard(const struct cond *c, const struct cvalue *v)
{
	int k;

	if (c->op->family == FAM_STRING)
		return v->str.wild;
	if (c->op->family != FAM_ARN || v->arn == NULL)
		return false;
	for (k = 0; k < SEG_COUNT; k++) {
		if (v->arn[k].wild)
			return true;
	}
	return false;
}

/* A '*' or '?' under an Equals operator, where it is literal text
 * (escapes ${*} and ${?} say so on purpose and are skipped). */
static bool
literal_wildcard(const struct lint *l, const struct cond *c,
    const struct cvalue *v)
{
	const char *s;

	if (c->op->family != FAM_STRING || c->op->like)
		return false;
	for (s = v->text; *s != '\0'; s++) {
		if (l->p->vars && s[0] == '$' && s[1] == '{' &&
		    (s[2] == '*' || s[2] == '?') && s[3] == '}')
			s += 3;
		else if (*s == '*' || *s == '?')
			return true;
	}
	return false;
}

static void
lint_value(struct lint *l, const char *where, const struct cond *c,
    const struct cvalue *v, const struct known_key *kk)
{
	char w[320], net[INET6_ADDRSTRLEN];

	if (v->idx >= 0)
		snprintf(w, sizeof(w), "%s[%d]", where, v->idx);
	else
		snprintf(w, sizeof(w), "%s", where);
	if (kk != NULL && (kk->flags & KK_SENSITIVE) &&
	    value_has_wildcard(c, v))
		lint_emit(l, w, "wildcards are not allowed with %s in an "
		    "endpoint policy", c->keytext);
	if (c->op->family == FAM_STRING && c->op->like && !six_rule_ok(&v->str))
		lint_emit(l, w, "\"%s\": each wildcard needs at least six "
		    "consecutive non-wildcard characters before or after it "
		    "in an endpoint policy", v->text);
	if (literal_wildcard(l, c, v))
		lint_emit(l, w, "'*' and '?' are literal under %s; use "
		    "StringLike for a pattern", c->opname);
	if (c->op->family == FAM_ARN && v->arn == NULL)
		lint_emit(l, w, "\"%s\" is not a full ARN (six colon-separated "
		    "parts): it never matches", v->text);
	else if (c->op->family == FAM_ARN &&
	    account_mixed(v->arn[SEG_ACCOUNT].text))
		lint_emit(l, w, "account segment \"%s\" mixes digits and "
		    "wildcards", v->arn[SEG_ACCOUNT].text);
	if (c->op->family == FAM_IP && v->ip.host_bits)
		lint_emit(l, w, "\"%s\" has bits set past the prefix length; "
		    "it means %s/%u", v->text, inet_ntop(v->ip.family,
		    v->ip.addr, net, sizeof(net)) ? net : "?", v->ip.prefix);
	if (!l->p->vars && (c->op->family == FAM_STRING ||
	    c->op->family == FAM_ARN) && strstr(v->text, "${") != NULL)
		lint_emit(l, w, "\"${...}\" is literal text: policy variables "
		    "need \"Version\": \"2012-10-17\"");
}

/* Whether the operator family can read a key of this type. */
static bool
family_fits(enum family f, enum key_type t)
{
	switch (f) {
	case FAM_NUMERIC:
		return t == KT_NUMERIC || t == KT_EPOCH;
	case FAM_DATE:
		return t == KT_DATE || t == KT_EPOCH;
	case FAM_BOOL:
		return t == KT_BOOL;
	case FAM_IP:
		return t == KT_IP;
	case FAM_ARN:
		return t == KT_ARN || t == KT_ARNS;
	default:
		return true;
	}
}

static void
lint_key(struct lint *l, const struct statement *st, const char *where,
    const struct cond *c, const struct known_key *kk)
{
	bool multi = kk->type == KT_STRINGS || kk->type == KT_ARNS;

	if (!family_fits(c->op->family, kk->type))
		lint_emit(l, where, "%s cannot read %s, a %s key", c->opname,
		    c->keytext, key_type_names[kk->type]);
	if ((kk->flags & KK_SENSITIVE) && c->op->family == FAM_NUMERIC)
		lint_emit(l, where, "numeric operators are not allowed with %s "
		    "in an endpoint policy", c->keytext);
	if (c->set == SET_ALL && !multi && !st->deny)
		lint_emit(l, where, "ForAllValues on single-valued key %s is "
		    "true when the key is absent; use a plain operator",
		    c->keytext);
	if (c->set == SET_NONE && multi && c->op->family != FAM_NULL)
		lint_emit(l, where, "%s is multivalued: use ForAllValues: or "
		    "ForAnyValue: (a plain operator fails closed)",
		    c->keytext);
	if (strcmp(c->key, "aws:sourceip") == 0)
		lint_emit(l, where, "AWS leaves aws:SourceIp absent for "
		    "requests through a VPC endpoint (the gateway sets it to "
		    "the client's address): as an AWS endpoint policy this "
		    "condition behaves differently");
}

static void
lint_cond(struct lint *l, const struct statement *st, const struct cond *c)
{
	const struct known_key *kk = key_lookup(c->key);
	char where[256];
	size_t i;

	snprintf(where, sizeof(where), ".Condition.%s.%s", c->opname,
	    c->keytext);
	if (kk == NULL)
		lint_emit(l, where, "unknown condition key \"%s\": no "
		    "DynamoDB, Streams or DAX request carries it", c->keytext);
	else
		lint_key(l, st, where, c, kk);
	for (i = 0; i < c->nvalues; i++)
		lint_value(l, where, c, &c->values[i], kk);
}

static void
lint_statement(struct lint *l, const struct statement *st)
{
	size_t i;

	lint_principals(l, st);
	for (i = 0; i < st->nactions; i++)
		lint_action(l, st, &st->actions[i]);
	for (i = 0; i < st->nresources; i++)
		lint_resource(l, st, &st->resources[i]);
	lint_services(l, st);
	lint_nores(l, st);
	for (i = 0; i < st->nconds; i++)
		lint_cond(l, st, &st->conds[i]);
}

/* policy_lint: findings in statement order, then element order. */
int
policy_lint(const struct policy *p, FILE *out)
{
	struct lint l;
	size_t i;

	memset(&l, 0, sizeof(l));
	l.out = out;
	l.p = p;
	for (i = 0; i < p->nstmts; i++) {
		if (p->stmt_array)
			snprintf(l.stmt, sizeof(l.stmt), "Statement[%zu]", i);
		else
			snprintf(l.stmt, sizeof(l.stmt), "Statement");
		lint_statement(&l, &p->stmts[i]);
	}
	return l.count;
}
