/* alert_policy.c - rate limit, retry backoff and idempotency keys of alerts. */
#include "alert/alert_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define US_PER_S 1000000ull

const char *alert_sink_name(enum alert_sink s)
{
	return s == ALERT_SINK_WEBHOOK ? "webhook" : s == ALERT_SINK_ALERTMANAGER ? "alertmanager" : "?";
}

const char *alert_kind_name(enum alert_kind k)
{
	static const char *const names[] = { "firing", "escalated", "resolved" };

	return (unsigned)k < ALERT_KINDS ? names[k] : "?";
}

void alert_make_key(const struct rec_incident *inc, enum alert_kind kind, char *buf, size_t len)
{
	/* One key per incident and level: a level rise is a new alert, more
	 * flows at the same level are not. */
	snprintf(buf, len, "%s-%s", inc->uid, kind == ALERT_RESOLVED ? "resolved" : rec_level_name(inc->level));
}

int alert_rate_init(struct alert_rate *r, uint32_t n, uint64_t period_us)
{
	*r = (struct alert_rate){ 0 };
	if (n == 0 || period_us == 0)
		return 0;
	if (n > ALERT_RATE_MAX) {
		/* same average rate, shorter window: the ring stays small */
		period_us = (uint64_t)((double)period_us * ALERT_RATE_MAX / n);
		n = ALERT_RATE_MAX;
		if (period_us == 0)
			period_us = 1;
	}
	r->sent = calloc(n, sizeof *r->sent);
	if (!r->sent)
		return -ENOMEM;
	r->n = n;
	r->period_us = period_us;
	return 0;
}

void alert_rate_release(struct alert_rate *r)
{
	free(r->sent);
	*r = (struct alert_rate){ 0 };
}

uint64_t alert_rate_wait(const struct alert_rate *r, uint64_t now_us)
{
	uint64_t oldest;

	if (!r->n || r->count < r->n)
		return 0;
	/* full: the oldest of the last n sends must have left the window */
	oldest = r->sent[r->head];
	if (now_us >= oldest + r->period_us)
		return 0;
	return oldest + r->period_us - now_us;
}

void alert_rate_take(struct alert_rate *r, uint64_t now_us)
{
	if (!r->n)
		return;
	if (r->count < r->n) {
		r->sent[(r->head + r->count) % r->n] = now_us;
		r->count++;
		return;
	}
	r->sent[r->head] = now_us;
	r->head = (r->head + 1) % r->n;
}

uint64_t alert_backoff_us(unsigned failures, uint64_t max_us)
{
	uint64_t us = US_PER_S;

	for (unsigned i = 1; i < failures && us < max_us; i++)
		us *= 2;
	return us < max_us ? us : max_us;
}

bool alert_status_permanent(long status)
{
	return status == 400 || status == 413 || status == 415 || status == 422;
}

uint64_t alert_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * US_PER_S + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t alert_wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * US_PER_S + (uint64_t)ts.tv_nsec / 1000;
}
