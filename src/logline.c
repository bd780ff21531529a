/*
 * logline — see logline.h.
 */
#include <string.h>

#include "logline.h"

void
logline_u64(struct logline *l, uint64_t v)
{
	char digits[20];
	size_t n = sizeof(digits);

	do {
		digits[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	logline_put(l, digits + n, sizeof(digits) - n);
}

void
logline_int(struct logline *l, int v)
{
	if (v < 0) {
		logline_putc(l, '-');
		logline_u64(l, (uint64_t)-(int64_t)v);
	} else {
		logline_u64(l, (uint64_t)v);
	}
}

/* v in at least width digits, zero-padded (width >= 1). */
static void
put_padded(struct logline *l, uint64_t v, unsigned width)
{
	char digits[20];
	size_t n = sizeof(digits);

	while (v != 0 || width > 0) {
		digits[--n] = (char)('0' + v % 10);
		v /= 10;
		if (width > 0)
			width--;
	}
	logline_put(l, digits + n, sizeof(digits) - n);
}

void
logline_milli(struct logline *l, uint64_t v)
{
	logline_u64(l, v / 1000);
	logline_putc(l, '.');
	put_padded(l, v % 1000, 3);
}

/*
 * Days since 1970-01-01 to a civil date: count in 400-year eras that
 * start on 1 March, so the leap day ends each cycle and the month
 * lengths from March on follow one formula (153 days per five months).
 */
static void
civil_from_days(int64_t days, int64_t *year, unsigned *month, unsigned *day)
{
	int64_t z = days + 719468; /* days from 0000-03-01 */
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);		/* [0, 146096] */
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100); /* from 1 Mar */
	unsigned mp = (5 * doy + 2) / 153;			/* March = 0 */

	*day = doy - (153 * mp + 2) / 5 + 1;
	*month = mp < 10 ? mp + 3 : mp - 9;
	*year = (int64_t)yoe + era * 400 + (*month <= 2);
}

void
logline_utc(struct logline *l, time_t t)
{
	int64_t secs = (int64_t)t, days = secs / 86400, rem = secs % 86400;
	int64_t year;
	unsigned month, day;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	civil_from_days(days, &year, &month, &day);
	if (year < 0) {
		logline_putc(l, '-');
		year = -year;
	}
	put_padded(l, (uint64_t)year, 4);
	logline_putc(l, '-');
	put_padded(l, month, 2);
	logline_putc(l, '-');
	put_padded(l, day, 2);
	logline_putc(l, 'T');
	put_padded(l, (uint64_t)rem / 3600, 2);
	logline_putc(l, ':');
	put_padded(l, (uint64_t)rem / 60 % 60, 2);
	logline_putc(l, ':');
	put_padded(l, (uint64_t)rem % 60, 2);
}

int
logline_fits(const struct logline *l)
{
	return l->len <= l->cap;
}
