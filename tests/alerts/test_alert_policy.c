/* test_alert_policy.c - rate limit, backoff schedule, permanent statuses, keys. */
#include <string.h>

#include "alert/alert_internal.h"
#include "check.h"

#define S 1000000ull

static void test_rate(void)
{
	struct alert_rate r;
	uint64_t t0 = 1000 * S;

	/* 3 per 10 s, a sliding window: three at once, the fourth when the
	 * first has left the window, not before */
	CHECK_EQ_INT(alert_rate_init(&r, 3, 10 * S), 0);
	for (int i = 0; i < 3; i++) {
		CHECK_EQ_INT(alert_rate_wait(&r, t0 + (uint64_t)i * S), 0);
		alert_rate_take(&r, t0 + (uint64_t)i * S);
	}
	CHECK_EQ_INT(alert_rate_wait(&r, t0 + 3 * S), 7 * S);
	CHECK_EQ_INT(alert_rate_wait(&r, t0 + 10 * S - 1), 1);
	CHECK_EQ_INT(alert_rate_wait(&r, t0 + 10 * S), 0);
	alert_rate_take(&r, t0 + 10 * S);
	/* now the second send (t0+1) is the oldest in the window */
	CHECK_EQ_INT(alert_rate_wait(&r, t0 + 10 * S), 1 * S);
	CHECK_EQ_INT(alert_rate_wait(&r, t0 + 11 * S), 0);
	alert_rate_release(&r);

	/* "0": no limit */
	CHECK_EQ_INT(alert_rate_init(&r, 0, 0), 0);
	for (int i = 0; i < 10000; i++)
		alert_rate_take(&r, t0);
	CHECK_EQ_INT(alert_rate_wait(&r, t0), 0);
	alert_rate_release(&r);

	/* a huge limit keeps its average rate in a bounded ring:
	 * 4096 per 40 s -> 1024 per 10 s */
	CHECK_EQ_INT(alert_rate_init(&r, 4096, 40 * S), 0);
	CHECK_EQ_INT(r.n, ALERT_RATE_MAX);
	CHECK_EQ_INT(r.period_us, 10 * S);
	for (int i = 0; i < ALERT_RATE_MAX; i++)
		alert_rate_take(&r, t0);
	CHECK_EQ_INT(alert_rate_wait(&r, t0), 10 * S);
	alert_rate_release(&r);
}

static void test_backoff(void)
{
	static const uint64_t want[] = { 1, 2, 4, 8, 16, 32, 60, 60, 60 };

	for (unsigned i = 0; i < sizeof want / sizeof want[0]; i++)
		CHECK_EQ_INT(alert_backoff_us(i + 1, 60 * S), want[i] * S);
	CHECK_EQ_INT(alert_backoff_us(1000, 60 * S), 60 * S);   /* no overflow */
	CHECK_EQ_INT(alert_backoff_us(3, 3 * S), 3 * S);
}

static void test_status(void)
{
	CHECK(alert_status_permanent(400));
	CHECK(alert_status_permanent(422));
	CHECK(alert_status_permanent(413));
	CHECK(!alert_status_permanent(401));   /* a token the owner can fix: retried */
	CHECK(!alert_status_permanent(404));
	CHECK(!alert_status_permanent(408));
	CHECK(!alert_status_permanent(429));
	CHECK(!alert_status_permanent(500));
	CHECK(!alert_status_permanent(503));
}

static void test_keys(void)
{
	struct rec_incident inc = { .uid = "inc-00112233aabbccdd", .level = REC_LEVEL_HIGH };
	char k[ALERT_KEY_MAX];

	alert_make_key(&inc, ALERT_FIRING, k, sizeof k);
	CHECK(!strcmp(k, "inc-00112233aabbccdd-high"));
	alert_make_key(&inc, ALERT_ESCALATED, k, sizeof k);
	CHECK(!strcmp(k, "inc-00112233aabbccdd-high"));
	inc.level = REC_LEVEL_CRITICAL;
	alert_make_key(&inc, ALERT_ESCALATED, k, sizeof k);
	CHECK(!strcmp(k, "inc-00112233aabbccdd-critical"));
	alert_make_key(&inc, ALERT_RESOLVED, k, sizeof k);
	CHECK(!strcmp(k, "inc-00112233aabbccdd-resolved"));
	CHECK(!strcmp(alert_sink_name(ALERT_SINK_WEBHOOK), "webhook"));
	CHECK(!strcmp(alert_sink_name(ALERT_SINK_ALERTMANAGER), "alertmanager"));
}

int main(void)
{
	test_rate();
	test_backoff();
	test_status();
	test_keys();
	return check_exit();
}
