/*
 * sigv4 — the checkable half of AWS Signature Version 4 (spec 3.1, 2.1):
 * the Authorization header grammar, X-Amz-Date / Date, the credential
 * scope and the 15-minute clock window. See sigv4.h.
 *
 * The grammar is read strictly: one algorithm, then exactly the three
 * parameters Credential, SignedHeaders and Signature, each once,
 * separated by "," with optional spaces around it. Anything else is
 * refused, because a proxy that reads a header differently from AWS is a
 * proxy that can be walked around.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sigv4.h"

#define ALGORITHM "AWS4-HMAC-SHA256"
#define TERMINATOR "aws4_request"
#define ECHO_MAX 64	/* longest piece of input repeated in a message */

enum param {
	PARAM_CREDENTIAL,
	PARAM_SIGNED_HEADERS,
	PARAM_SIGNATURE,
	PARAM_COUNT,
};

static const char *const param_names[PARAM_COUNT] = {
	[PARAM_CREDENTIAL] = "Credential",
	[PARAM_SIGNED_HEADERS] = "SignedHeaders",
	[PARAM_SIGNATURE] = "Signature",
};

struct span {
	const char *p;
	size_t len;
};

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static bool
is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool
span_is(struct span s, const char *word)
{
	return strlen(word) == s.len && memcmp(s.p, word, s.len) == 0;
}

/* s for a message when every byte is in allowed, else what. */
static const char *
echo(struct span s, const char *allowed, const char *what, char *buf,
    size_t buflen)
{
	size_t i;

	if (s.len > ECHO_MAX || s.len + 1 > buflen)
		return what;
	for (i = 0; i < s.len; i++) {
		if (!is_digit(s.p[i]) && !is_lower(s.p[i]) &&
		    !is_upper(s.p[i]) && strchr(allowed, s.p[i]) == NULL)
			return what;
		if (s.p[i] == '\0')
			return what;
	}
	memcpy(buf, s.p, s.len);
	buf[s.len] = '\0';
	return buf;
}

__attribute__((format(printf, 4, 5))) static enum sigv4_status
fail(enum sigv4_status status, char *msg, size_t msglen, const char *fmt,
    ...)
{
	va_list ap;

	if (msglen > 0) {
		va_start(ap, fmt);
		vsnprintf(msg, msglen, fmt, ap);
		va_end(ap);
	}
	return status;
}

/* ------------------------------------------------------------------ */
/* Calendar arithmetic (proleptic Gregorian, UTC)                       */
/* ------------------------------------------------------------------ */

/* Days since 1970-01-01 of y-m-d (H. Hinnant's days_from_civil). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static unsigned
days_in_month(int64_t y, unsigned m)
{
	static const unsigned days[12] = { 31, 28, 31, 30, 31, 30, 31, 31,
	    30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

/* n decimal digits at s; -1 if any is not a digit. */
static int
digits(const char *s, size_t n)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* A valid calendar time to seconds since the epoch; -1 if invalid. */
static int
make_time(int y, int mo, int d, int h, int mi, int s, time_t *out)
{
	if (y < 0 || mo < 1 || mo > 12 || d < 1 ||
	    (unsigned)d > days_in_month(y, (unsigned)mo) || h < 0 || h > 23 ||
	    mi < 0 || mi > 59 || s < 0 || s > 59)
		return -1;
	*out = (time_t)(days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
	    h * 3600 + mi * 60 + s);
	return 0;
}

int
sigv4_parse_amz_date(const char *s, size_t len, time_t *out)
{
	if (len != SIGV4_TIME_LEN || s[8] != 'T' || s[15] != 'Z')
		return -1;
	return make_time(digits(s, 4), digits(s + 4, 2), digits(s + 6, 2),
	    digits(s + 9, 2), digits(s + 11, 2), digits(s + 13, 2), out);
}

static const char *const wkdays[7] = { "Thu", "Fri", "Sat", "Sun", "Mon",
    "Tue", "Wed" };	/* 1970-01-01 was a Thursday */
static const char *const months[12] = { "Jan", "Feb", "Mar", "Apr", "May",
    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

static int
month_number(const char *s)
{
	int i;

	for (i = 0; i < 12; i++) {
		if (memcmp(s, months[i], 3) == 0)
			return i + 1;
	}
	return -1;
}

int
sigv4_parse_http_date(const char *s, size_t len, time_t *out)
{
	int64_t days;
	time_t t;

	/* "Sun, 06 Nov 1994 08:49:37 GMT" */
	if (len != 29 || memcmp(s + 3, ", ", 2) != 0 || s[7] != ' ' ||
	    s[11] != ' ' || s[16] != ' ' || s[19] != ':' || s[22] != ':' ||
	    memcmp(s + 25, " GMT", 4) != 0)
		return -1;
	if (make_time(digits(s + 12, 4), month_number(s + 8), digits(s + 5, 2),
	    digits(s + 17, 2), digits(s + 20, 2), digits(s + 23, 2), &t) == -1)
		return -1;
	days = (int64_t)t / 86400 - ((int64_t)t % 86400 < 0);
	if (memcmp(s, wkdays[((days % 7) + 7) % 7], 3) != 0)
		return -1;
	*out = t;
	return 0;
}

void
sigv4_format_time(time_t t, char *buf)
{
	int64_t secs = (int64_t)t, days = secs / 86400, rem = secs % 86400, y;
	unsigned m, d;
	char tmp[48];

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999) {
		/* Not a time a request can carry; keep the shape. */
		memcpy(buf, "00000000T000000Z", SIGV4_TIME_LEN + 1);
		return;
	}
	/* every field is in range, so this is always 16 characters */
	snprintf(tmp, sizeof(tmp), "%04d%02u%02uT%02d%02d%02dZ", (int)y, m, d,
	    (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
	memcpy(buf, tmp, SIGV4_TIME_LEN);
	buf[SIGV4_TIME_LEN] = '\0';
}

enum sigv4_status
sigv4_check_window(time_t t, time_t now, char *msg, size_t msglen)
{
	char ts[SIGV4_TIME_LEN + 1], edge[SIGV4_TIME_LEN + 1];
	char nows[SIGV4_TIME_LEN + 1];

	if ((int64_t)t >= (int64_t)now - SIGV4_WINDOW_S &&
	    (int64_t)t <= (int64_t)now + SIGV4_WINDOW_S)
		return SIGV4_OK;
	sigv4_format_time(t, ts);
	sigv4_format_time(now, nows);
	if ((int64_t)t < (int64_t)now) {
		sigv4_format_time(now - SIGV4_WINDOW_S, edge);
		return fail(SIGV4_INVALID, msg, msglen, "Signature expired: %s "
		    "is now earlier than %s (%s - 15 min.)", ts, edge, nows);
	}
	sigv4_format_time(now + SIGV4_WINDOW_S, edge);
	return fail(SIGV4_INVALID, msg, msglen, "Signature not yet current: "
	    "%s is still later than %s (%s + 15 min.)", ts, edge, nows);
}

/* ------------------------------------------------------------------ */
/* The Authorization header                                            */
/* ------------------------------------------------------------------ */

/* Splits "Name=value" parameters; fills params[] (p == NULL: absent). */
static enum sigv4_status
split_params(const char *s, size_t len, struct span *params, char *msg,
    size_t msglen)
{
	size_t i = 0, start, eq, k;
	struct span name;
	char buf[ECHO_MAX + 1];

	for (;;) {
		start = i;
		while (i < len && s[i] != ',' && s[i] != ' ')
			i++;
		name.p = s + start;
		for (eq = start; eq < i && s[eq] != '='; eq++)
			;
		name.len = eq - start;
		if (eq == i)
			return fail(SIGV4_INCOMPLETE, msg, msglen, "'%s' not a "
			    "valid key=value pair (missing equal-sign) in "
			    "Authorization header", echo(name, "-_", "parameter",
			    buf, sizeof(buf)));
		for (k = 0; k < PARAM_COUNT && !span_is(name, param_names[k]); k++)
			;
		if (k == PARAM_COUNT)
			return fail(SIGV4_INCOMPLETE, msg, msglen, "unknown "
			    "parameter '%s' in the Authorization header",
			    echo(name, "-_", "?", buf, sizeof(buf)));
		if (params[k].p != NULL)
			return fail(SIGV4_INCOMPLETE, msg, msglen, "repeated "
			    "parameter '%s' in the Authorization header",
			    param_names[k]);
		params[k].p = s + eq + 1;
		params[k].len = i - eq - 1;
		/* separator: optional spaces, one comma, optional spaces */
		while (i < len && s[i] == ' ')
			i++;
		if (i == len)
			return SIGV4_OK;
		if (s[i] != ',')
			return fail(SIGV4_INCOMPLETE, msg, msglen, "the "
			    "Authorization header parameters must be separated "
			    "by ','");
		i++;
		while (i < len && s[i] == ' ')
			i++;
		if (i == len)
			return fail(SIGV4_INCOMPLETE, msg, msglen, "the "
			    "Authorization header ends with ','");
	}
}

static enum sigv4_status
check_present(const struct span *params, char *msg, size_t msglen)
{
	size_t k, o = 0;
	int w;

	if (msglen > 0)
		msg[0] = '\0';
	for (k = 0; k < PARAM_COUNT; k++) {
		if (params[k].p != NULL && params[k].len > 0)
			continue;
		w = snprintf(msg + o, msglen > o ? msglen - o : 0,
		    "Authorization header requires '%s' parameter. ",
		    param_names[k]);
		if (w > 0)
			o += (size_t)w;
	}
	return o == 0 ? SIGV4_OK : SIGV4_INCOMPLETE;
}

/* Splits a credential at '/' into exactly five parts. */
static int
split_credential(struct span cred, struct span *parts)
{
	size_t i, n = 0, start = 0;

	for (i = 0; i <= cred.len; i++) {
		if (i < cred.len && cred.p[i] != '/')
			continue;
		if (n == 5)
			return -1;
		parts[n].p = cred.p + start;
		parts[n].len = i - start;
		n++;
		start = i + 1;
	}
	return n == 5 ? 0 : -1;
}

static bool
any_upper(struct span s)
{
	size_t i;

	for (i = 0; i < s.len; i++) {
		if (is_upper(s.p[i]))
			return true;
	}
	return false;
}

/* A scope part: 1..max of a-z, 0-9, '-'. */
static bool
is_scope_word(struct span s)
{
	size_t i;

	if (s.len == 0 || s.len > SIGV4_SCOPE_PART_MAX)
		return false;
	for (i = 0; i < s.len; i++) {
		if (!is_lower(s.p[i]) && !is_digit(s.p[i]) && s.p[i] != '-')
			return false;
	}
	return true;
}

static bool
is_access_key_id(struct span s)
{
	size_t i;

	if (s.len < SIGV4_KEY_ID_MIN || s.len > SIGV4_KEY_ID_MAX)
		return false;
	for (i = 0; i < s.len; i++) {
		if (!is_upper(s.p[i]) && !is_digit(s.p[i]))
			return false;
	}
	return true;
}

static void
copy_span(char *dst, struct span s)
{
	memcpy(dst, s.p, s.len);
	dst[s.len] = '\0';
}

static enum sigv4_status
parse_scope(const struct span *parts, struct sigv4_auth *out, char *msg,
    size_t msglen)
{
	char buf[ECHO_MAX + 1];

	if (!is_access_key_id(parts[0]))
		return fail(SIGV4_UNRECOGNIZED, msg, msglen, "The security "
		    "token included in the request is invalid.");
	if (any_upper(parts[1]) || any_upper(parts[2]) ||
	    any_upper(parts[3]) || any_upper(parts[4]))
		return fail(SIGV4_INCOMPLETE, msg, msglen, "the credential "
		    "scope must be lower case");
	if (parts[1].len != 8 || digits(parts[1].p, 8) < 0)
		return fail(SIGV4_INCOMPLETE, msg, msglen, "the credential "
		    "scope date must be YYYYMMDD");
	if (!is_scope_word(parts[2]))
		return fail(SIGV4_INVALID, msg, msglen, "Credential should be "
		    "scoped to a valid region, not '%s'. ", echo(parts[2], "-_",
		    "?", buf, sizeof(buf)));
	if (!is_scope_word(parts[3]))
		return fail(SIGV4_INVALID, msg, msglen, "Credential should be "
		    "scoped to a valid service, not '%s'. ", echo(parts[3],
		    "-_", "?", buf, sizeof(buf)));
	if (!span_is(parts[4], TERMINATOR))
		return fail(SIGV4_INVALID, msg, msglen, "Credential should be "
		    "scoped with a valid terminator: 'aws4_request', not '%s'. ",
		    echo(parts[4], "-_", "?", buf, sizeof(buf)));
	copy_span(out->access_key_id, parts[0]);
	copy_span(out->date, parts[1]);
	copy_span(out->region, parts[2]);
	copy_span(out->service, parts[3]);
	return SIGV4_OK;
}

static bool
is_header_char(char c)
{
	return is_lower(c) || is_digit(c) || (c != '\0' &&
	    strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* "a;b;c": lower-case tokens, strictly ascending (so sorted, unique). */
static bool
is_signed_headers(struct span s)
{
	size_t i, start = 0, prev = 0, prevlen = 0, n, cmplen;
	int c;

	for (i = 0; i <= s.len; i++) {
		if (i < s.len && s.p[i] != ';') {
			if (!is_header_char(s.p[i]))
				return false;
			continue;
		}
		n = i - start;
		if (n == 0)
			return false;
		if (start > 0) {
			cmplen = n < prevlen ? n : prevlen;
			c = memcmp(s.p + prev, s.p + start, cmplen);
			if (c > 0 || (c == 0 && prevlen >= n))
				return false;
		}
		prev = start;
		prevlen = n;
		start = i + 1;
	}
	return true;
}

static bool
is_signature(struct span s)
{
	size_t i;

	if (s.len != SIGV4_SIGNATURE_LEN)
		return false;
	for (i = 0; i < s.len; i++) {
		if (!is_digit(s.p[i]) && !(s.p[i] >= 'a' && s.p[i] <= 'f'))
			return false;
	}
	return true;
}

static enum sigv4_status
parse_params(const struct span *params, struct sigv4_auth *out, char *msg,
    size_t msglen)
{
	struct span parts[5];
	enum sigv4_status st;
	char buf[ECHO_MAX + 1];

	if (split_credential(params[PARAM_CREDENTIAL], parts) == -1)
		return fail(SIGV4_INCOMPLETE, msg, msglen, "Credential must "
		    "have exactly 5 slash-delimited elements, e.g. "
		    "keyid/date/region/service/term, got '%s'",
		    echo(params[PARAM_CREDENTIAL], "/-_", "(unprintable)", buf,
		    sizeof(buf)));
	if ((st = parse_scope(parts, out, msg, msglen)) != SIGV4_OK)
		return st;
	if (!is_signed_headers(params[PARAM_SIGNED_HEADERS]))
		return fail(SIGV4_INCOMPLETE, msg, msglen, "SignedHeaders must "
		    "be lower-case header names separated by ';', sorted, "
		    "each once");
	if (!is_signature(params[PARAM_SIGNATURE]))
		return fail(SIGV4_INCOMPLETE, msg, msglen, "Signature must be "
		    "64 lower-case hexadecimal digits");
	out->signed_headers = params[PARAM_SIGNED_HEADERS].p;
	out->signed_headers_len = params[PARAM_SIGNED_HEADERS].len;
	copy_span(out->signature, params[PARAM_SIGNATURE]);
	return SIGV4_OK;
}

enum sigv4_status
sigv4_parse_authorization(const char *value, size_t len,
    struct sigv4_auth *out, char *msg, size_t msglen)
{
	struct span params[PARAM_COUNT] = { { NULL, 0 } }, alg;
	enum sigv4_status st;
	char buf[ECHO_MAX + 1];
	size_t i;

	memset(out, 0, sizeof(*out));
	if (len < 5 || memcmp(value, "AWS4-", 5) != 0)
		return fail(SIGV4_MISSING, msg, msglen, "Request is missing "
		    "Authentication Token");
	for (i = 0; i < len && value[i] != ' '; i++)
		;
	alg.p = value;
	alg.len = i;
	if (!span_is(alg, ALGORITHM))
		return fail(SIGV4_INCOMPLETE, msg, msglen, "Unsupported AWS "
		    "'algorithm': '%s' (only AWS4-HMAC-SHA256 for now). ",
		    echo(alg, "-_", "(unprintable)", buf, sizeof(buf)));
	while (i < len && value[i] == ' ')
		i++;
	if (i == len)
		return check_present(params, msg, msglen);
	if ((st = split_params(value + i, len - i, params, msg, msglen)) !=
	    SIGV4_OK)
		return st;
	if ((st = check_present(params, msg, msglen)) != SIGV4_OK)
		return st;
	return parse_params(params, out, msg, msglen);
}

/* Whether name[0..len), compared without case, is a signed header. */
static bool
signs(const struct sigv4_auth *auth, const char *name, size_t len)
{
	size_t i, start = 0;
	const char *s = auth->signed_headers;

	for (i = 0; i <= auth->signed_headers_len; i++) {
		if (i < auth->signed_headers_len && s[i] != ';')
			continue;
		if (i - start == len && strncasecmp(s + start, name, len) == 0)
			return true;
		start = i + 1;
	}
	return false;
}

bool
sigv4_signs(const struct sigv4_auth *auth, const char *name)
{
	return signs(auth, name, strlen(name));
}

/*
 * Host, every x-amz-* header, and Date when it gives the request time
 * must be signed (spec 3.2): an unsigned one could be changed on the
 * way without AWS noticing.
 */
static enum sigv4_status
check_signed(const struct http1_header *h, size_t n,
    const struct sigv4_request *req, char *msg, size_t msglen)
{
	struct span name;
	char buf[ECHO_MAX + 1];
	size_t i;

	if (!signs(&req->auth, "host", 4))
		return fail(SIGV4_INVALID, msg, msglen, "'Host' must be a "
		    "'SignedHeader' in the AWS Authorization.");
	if (req->from_date_header && !signs(&req->auth, "date", 4))
		return fail(SIGV4_INVALID, msg, msglen, "'Date' must be a "
		    "'SignedHeader' in the AWS Authorization.");
	for (i = 0; i < n; i++) {
		if (h[i].name_len < 6 || strncasecmp(h[i].name, "x-amz-", 6) != 0 ||
		    signs(&req->auth, h[i].name, h[i].name_len))
			continue;
		name.p = h[i].name;
		name.len = h[i].name_len;
		return fail(SIGV4_INVALID, msg, msglen, "There were headers "
		    "present in the request which were not signed: %s",
		    echo(name, "-_", "an x-amz- header", buf, sizeof(buf)));
	}
	return SIGV4_OK;
}

/* ------------------------------------------------------------------ */
/* The whole check                                                     */
/* ------------------------------------------------------------------ */

static enum sigv4_status
request_time(const struct http1_header *h, size_t n,
    struct sigv4_request *out, char *msg, size_t msglen)
{
	const struct http1_header *d;
	struct span v;
	char buf[ECHO_MAX + 1];

	if (http1_header_count(h, n, "x-amz-date") > 1)
		return fail(SIGV4_DENIED, msg, msglen, "repeated X-Amz-Date "
		    "header");
	if ((d = http1_header_find(h, n, "x-amz-date")) != NULL) {
		v.p = d->value;
		v.len = d->value_len;
		if (sigv4_parse_amz_date(d->value, d->value_len, &out->time) == 0)
			return SIGV4_OK;
		return fail(SIGV4_INCOMPLETE, msg, msglen, "Date must be in "
		    "ISO-8601 'basic format'. Got '%s'. See "
		    "http://en.wikipedia.org/wiki/ISO_8601",
		    echo(v, "-:.+ ", "(unprintable)", buf, sizeof(buf)));
	}
	if (http1_header_count(h, n, "date") > 1)
		return fail(SIGV4_DENIED, msg, msglen, "repeated Date header");
	if ((d = http1_header_find(h, n, "date")) == NULL)
		return fail(SIGV4_INCOMPLETE, msg, msglen, "Authorization "
		    "header requires existence of either a 'X-Amz-Date' or a "
		    "'Date' header.");
	out->from_date_header = true;
	if (sigv4_parse_http_date(d->value, d->value_len, &out->time) == 0)
		return SIGV4_OK;
	return fail(SIGV4_INCOMPLETE, msg, msglen, "the Date header must be "
	    "an RFC 1123 date such as 'Sun, 06 Nov 1994 08:49:37 GMT'");
}

enum sigv4_status
sigv4_check_request(const struct http1_header *h, size_t n, time_t now,
    struct sigv4_request *out, char *msg, size_t msglen)
{
	const struct http1_header *a;
	char ts[SIGV4_TIME_LEN + 1];
	enum sigv4_status st;

	memset(out, 0, sizeof(*out));
	if ((a = http1_header_find(h, n, "authorization")) == NULL)
		return fail(SIGV4_MISSING, msg, msglen, "Request is missing "
		    "Authentication Token");
	if (http1_header_count(h, n, "authorization") > 1)
		return fail(SIGV4_DENIED, msg, msglen, "repeated Authorization "
		    "header");
	if ((st = sigv4_parse_authorization(a->value, a->value_len, &out->auth,
	    msg, msglen)) != SIGV4_OK)
		return st;
	if ((st = request_time(h, n, out, msg, msglen)) != SIGV4_OK)
		return st;
	if ((st = sigv4_check_window(out->time, now, msg, msglen)) != SIGV4_OK)
		return st;
	if ((st = check_signed(h, n, out, msg, msglen)) != SIGV4_OK)
		return st;
	sigv4_format_time(out->time, ts);
	if (memcmp(ts, out->auth.date, 8) != 0)
		return fail(SIGV4_INVALID, msg, msglen, "Date in Credential "
		    "scope does not match YYYYMMDD from ISO-8601 version of date "
		    "from HTTP: '%s' != '%.8s', from '%s'.", out->auth.date, ts,
		    ts);
	return SIGV4_OK;
}

const char *
sigv4_status_type(enum sigv4_status status)
{
	switch (status) {
	case SIGV4_OK:
		return "";
	case SIGV4_MISSING:
		return "com.amazon.coral.service#MissingAuthenticationTokenException";
	case SIGV4_INCOMPLETE:
		return "com.amazon.coral.service#IncompleteSignatureException";
	case SIGV4_INVALID:
		return "com.amazon.coral.service#InvalidSignatureException";
	case SIGV4_UNRECOGNIZED:
		return "com.amazon.coral.service#UnrecognizedClientException";
	case SIGV4_DENIED:
		return "com.amazon.coral.service#AccessDeniedException";
	}
	return "com.amazon.coral.service#AccessDeniedException";
}
