/* test_alert_body.c - the webhook and Alertmanager bodies, parsed back with jansson. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "alert/alert_internal.h"
#include "check.h"

#define S 1000000ull

static const struct alert_origin origin = { .node = "sensor-1", .version = "9.9.9" };

static void fill(struct alert_msg *m, enum alert_sink sink, enum alert_kind kind)
{
	memset(m, 0, sizeof *m);
	m->sink = (uint8_t)sink;
	m->kind = (uint8_t)kind;
	snprintf(m->inc.uid, sizeof m->inc.uid, "inc-e64954d7cb8ab5c9");
	m->inc.event = REC_INCIDENT_UPDATED;
	snprintf(m->inc.host, sizeof m->inc.host, "192.168.77.66");
	snprintf(m->inc.role, sizeof m->inc.role, "attacker");
	snprintf(m->inc.category, sizeof m->inc.category, "scan");
	m->inc.level = REC_LEVEL_HIGH;
	m->inc.score = 83.5;
	m->inc.max_anomaly_score = 70.1;
	m->inc.anomalies = 512;
	m->inc.distinct_peers = 1;
	m->inc.distinct_ports = 523;
	m->inc.first_ts_us = 1700000000 * S + 250;
	m->inc.last_ts_us = 1700000030 * S;
	/* text with a quote, a backslash, a newline and UTF-8 */
	snprintf(m->inc.summary, sizeof m->inc.summary, "192.168.77.66 probed 523 ports \xe2\x80\x94 \"x\\y\"");
	snprintf(m->inc.explanation, sizeof m->inc.explanation, "syn_ratio is 1\nline two");
	m->prev_level = kind == ALERT_ESCALATED ? REC_LEVEL_MEDIUM : REC_LEVEL_NONE;
	alert_make_key(&m->inc, kind, m->key, sizeof m->key);
	m->created_us = 1700000031 * S;
	m->resolved_us = kind == ALERT_RESOLVED ? 1700000700 * S : 0;
}

static const char *get_str(json_t *o, const char *path)
{
	json_t *v = o;
	char buf[128], *save = NULL, *tok;

	snprintf(buf, sizeof buf, "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok && v; tok = strtok_r(NULL, ".", &save))
		v = json_object_get(v, tok);
	return json_is_string(v) ? json_string_value(v) : "(missing)";
}

static void test_webhook(void)
{
	struct alert_msg m;
	json_error_t e;
	json_t *o, *inc;
	char *body;

	fill(&m, ALERT_SINK_WEBHOOK, ALERT_ESCALATED);
	body = alert_webhook_body(&m, &origin);
	CHECK(body != NULL);
	o = json_loads(body, 0, &e);
	CHECK(o != NULL);
	if (!o) {
		free(body);
		return;
	}
	CHECK(!strcmp(get_str(o, "schema"), "nad.alert.v1"));
	CHECK(!strcmp(get_str(o, "idempotency_key"), "inc-e64954d7cb8ab5c9-high"));
	CHECK(!strcmp(get_str(o, "event"), "escalated"));
	CHECK(!strcmp(get_str(o, "incident_id"), "inc-e64954d7cb8ab5c9"));
	CHECK(!strcmp(get_str(o, "level"), "high"));
	CHECK(!strcmp(get_str(o, "previous_level"), "medium"));
	CHECK(!strcmp(get_str(o, "raised_at"), "2023-11-14T22:13:51.000000Z"));
	CHECK(!strcmp(get_str(o, "title"), "nad: high scan from 192.168.77.66"));
	CHECK(strstr(get_str(o, "message"), "probed 523 ports") != NULL);
	CHECK(strstr(get_str(o, "message"), "line two") != NULL);
	CHECK_EQ_INT(json_integer_value(json_object_get(o, "priority")), 8);
	CHECK(!strcmp(get_str(o, "nad.node"), "sensor-1"));
	CHECK(!strcmp(get_str(o, "nad.version"), "9.9.9"));
	inc = json_object_get(o, "incident");
	CHECK(json_is_object(inc));
	CHECK(!strcmp(get_str(o, "incident.uid"), "inc-e64954d7cb8ab5c9"));
	CHECK(!strcmp(get_str(o, "incident.host"), "192.168.77.66"));
	CHECK(!strcmp(get_str(o, "incident.role"), "attacker"));
	CHECK(!strcmp(get_str(o, "incident.category"), "scan"));
	CHECK(!strcmp(get_str(o, "incident.summary"), m.inc.summary));   /* escaping round-trips */
	CHECK(!strcmp(get_str(o, "incident.explanation"), m.inc.explanation));
	CHECK(!strcmp(get_str(o, "incident.first_ts"), "2023-11-14T22:13:20.000250Z"));
	CHECK_NEAR(json_real_value(json_object_get(inc, "score")), 83.5, 1e-9);
	CHECK_EQ_INT(json_integer_value(json_object_get(inc, "anomalies")), 512);
	CHECK_EQ_INT(json_integer_value(json_object_get(inc, "distinct_ports")), 523);
	json_decref(o);
	free(body);

	/* a first alert has no previous level */
	fill(&m, ALERT_SINK_WEBHOOK, ALERT_FIRING);
	body = alert_webhook_body(&m, &origin);
	o = body ? json_loads(body, 0, &e) : NULL;
	CHECK(o && json_is_null(json_object_get(o, "previous_level")));
	CHECK(o && !strcmp(get_str(o, "event"), "firing"));
	json_decref(o);
	free(body);

	/* a summary cut inside a UTF-8 sequence must not lose the alert */
	fill(&m, ALERT_SINK_WEBHOOK, ALERT_FIRING);
	memset(m.inc.summary, 'a', sizeof m.inc.summary - 2);
	m.inc.summary[sizeof m.inc.summary - 2] = (char)0xe2;
	m.inc.summary[sizeof m.inc.summary - 1] = '\0';
	body = alert_webhook_body(&m, &origin);
	o = body ? json_loads(body, 0, &e) : NULL;
	CHECK(o != NULL);
	CHECK(o && !strcmp(get_str(o, "incident_id"), "inc-e64954d7cb8ab5c9"));
	json_decref(o);
	free(body);
}

static json_t *labels_of(json_t *arr, size_t i)
{
	return json_object_get(json_array_get(arr, i), "labels");
}

static void test_alertmanager(void)
{
	uint64_t now = 1700000100 * S;
	struct alert_msg m;
	json_error_t e;
	json_t *arr, *l;
	char *body;

	fill(&m, ALERT_SINK_ALERTMANAGER, ALERT_FIRING);
	body = alert_am_body(&m, now, 300 * S, &origin);
	arr = body ? json_loads(body, 0, &e) : NULL;
	CHECK(json_is_array(arr) && json_array_size(arr) == 1);
	l = labels_of(arr, 0);
	CHECK(!strcmp(get_str(l, "alertname"), "NadIncident"));
	CHECK(!strcmp(get_str(l, "severity"), "high"));
	CHECK(!strcmp(get_str(l, "category"), "scan"));
	CHECK(!strcmp(get_str(l, "host"), "192.168.77.66"));
	CHECK(!strcmp(get_str(l, "role"), "attacker"));
	CHECK(!strcmp(get_str(l, "incident"), "inc-e64954d7cb8ab5c9"));
	CHECK(!strcmp(get_str(l, "instance"), "sensor-1"));
	CHECK(!strcmp(get_str(l, "job"), "nad"));
	CHECK(!strcmp(get_str(json_array_get(arr, 0), "annotations.summary"), m.inc.summary));
	CHECK(strstr(get_str(json_array_get(arr, 0), "annotations.description"), "512 anomalous flows"));
	CHECK(!strcmp(get_str(json_array_get(arr, 0), "startsAt"), "2023-11-14T22:13:20.000250Z"));
	CHECK(!strcmp(get_str(json_array_get(arr, 0), "endsAt"), "2023-11-14T22:20:00.000000Z"));
	json_decref(arr);
	free(body);

	/* escalation: the medium alert ends now, the high one fires */
	fill(&m, ALERT_SINK_ALERTMANAGER, ALERT_ESCALATED);
	body = alert_am_body(&m, now, 300 * S, &origin);
	arr = body ? json_loads(body, 0, &e) : NULL;
	CHECK(json_is_array(arr) && json_array_size(arr) == 2);
	CHECK(!strcmp(get_str(labels_of(arr, 0), "severity"), "medium"));
	CHECK(!strcmp(get_str(json_array_get(arr, 0), "endsAt"), "2023-11-14T22:15:00.000000Z"));
	CHECK(!strcmp(get_str(labels_of(arr, 1), "severity"), "high"));
	CHECK(!strcmp(get_str(json_array_get(arr, 1), "endsAt"), "2023-11-14T22:20:00.000000Z"));
	json_decref(arr);
	free(body);

	/* resolved: ends when the incident closed, not later than now */
	fill(&m, ALERT_SINK_ALERTMANAGER, ALERT_RESOLVED);
	body = alert_am_body(&m, now, 300 * S, &origin);
	arr = body ? json_loads(body, 0, &e) : NULL;
	CHECK(json_is_array(arr) && json_array_size(arr) == 1);
	CHECK(!strcmp(get_str(json_array_get(arr, 0), "endsAt"), "2023-11-14T22:15:00.000000Z"));
	json_decref(arr);
	free(body);
	body = alert_am_body(&m, 1700000800 * S, 300 * S, &origin);
	arr = body ? json_loads(body, 0, &e) : NULL;
	CHECK(!strcmp(get_str(json_array_get(arr, 0), "endsAt"), "2023-11-14T22:25:00.000000Z"));
	json_decref(arr);
	free(body);

	/* a capture from the future: startsAt is clamped to now, so it
	 * starts before it ends */
	fill(&m, ALERT_SINK_ALERTMANAGER, ALERT_FIRING);
	m.inc.first_ts_us = now + 3600 * S;
	body = alert_am_body(&m, now, 300 * S, &origin);
	arr = body ? json_loads(body, 0, &e) : NULL;
	CHECK(!strcmp(get_str(json_array_get(arr, 0), "startsAt"), "2023-11-14T22:15:00.000000Z"));
	json_decref(arr);
	free(body);
}

int main(void)
{
	test_webhook();
	test_alertmanager();
	return check_exit();
}
