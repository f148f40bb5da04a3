/* alert_body.c - the JSON bodies of the webhook and of Alertmanager's v2 API.
 *
 * The webhook body carries the incident object of the JSON lines log
 * (docs/output.md) inside an envelope with the idempotency key and a
 * ready-made title and message, so chat and push services (Gotify's JSON
 * API, ntfy's templates) can show it as is. docs/alerts.md has the schema.
 */
#include "alert/alert_internal.h"

#include <stdio.h>
#include <string.h>

#include "sink/sink_jsonl.h"

#ifdef NAD_HAVE_JANSSON
#include <jansson.h>

/* Fixed-size text fields may end inside a UTF-8 sequence after truncation;
 * jansson refuses those, and an alert is better with an empty field than
 * with none. */
static json_t *str(const char *s, size_t size)
{
	json_t *j = json_stringn(s, strnlen(s, size));

	return j ? j : json_string("");
}
#define STR(field) str(field, sizeof(field))

/* A composed text, or a field alone when truncation broke the UTF-8. */
static json_t *or_text(json_t *composed, const char *field, size_t size)
{
	return composed ? composed : str(field, size);
}

static json_t *iso_time(uint64_t us)
{
	char buf[40];

	sink_time_iso(us, buf, sizeof buf);
	return json_string(buf);
}

static char *dump(json_t *o)
{
	char *s = o ? json_dumps(o, SINK_JSON_FLAGS) : NULL;

	json_decref(o);
	return s;
}

/* Gotify's 0-10 scale, where 8 and above interrupt. */
static int priority_of(uint8_t level)
{
	static const int prio[] = { 0, 2, 5, 8, 10 };

	return level <= REC_LEVEL_CRITICAL ? prio[level] : 5;
}

static void title_of(const struct rec_incident *inc, char *buf, size_t len)
{
	snprintf(buf, len, "nad: %s %s %s %s", rec_level_name(inc->level), inc->category,
		 !strcmp(inc->role, "victim") ? "against" : !strcmp(inc->role, "network") ? "in" : "from", inc->host);
}

char *alert_webhook_body(const struct alert_msg *m, const struct alert_origin *o)
{
	const struct rec_incident *inc = &m->inc;
	char title[160], message[1024];
	json_t *root = json_object(), *nad = json_object(), *incident = sink_json_incident(inc);

	if (!root || !nad || !incident) {
		json_decref(root);
		json_decref(nad);
		json_decref(incident);
		return NULL;
	}
	title_of(inc, title, sizeof title);
	snprintf(message, sizeof message, "%.*s\n%.*s", (int)strnlen(inc->summary, sizeof inc->summary),
		 inc->summary, (int)strnlen(inc->explanation, sizeof inc->explanation), inc->explanation);
	json_object_set_new(root, "schema", json_string("nad.alert.v1"));
	json_object_set_new(root, "idempotency_key", STR(m->key));
	json_object_set_new(root, "event", json_string(alert_kind_name(m->kind)));
	json_object_set_new(root, "incident_id", STR(inc->uid));
	json_object_set_new(root, "level", json_string(rec_level_name(inc->level)));
	json_object_set_new(root, "previous_level", m->kind == ALERT_ESCALATED
			    ? json_string(rec_level_name(m->prev_level)) : json_null());
	json_object_set_new(root, "raised_at", iso_time(m->created_us));
	json_object_set_new(root, "title", json_string(title));
	json_object_set_new(root, "message", or_text(json_stringn(message, strlen(message)), inc->summary,
						     sizeof inc->summary));
	json_object_set_new(root, "priority", json_integer(priority_of(inc->level)));
	json_object_set_new(root, "incident", incident);
	json_object_set_new(nad, "node", json_string(o->node));
	json_object_set_new(nad, "version", json_string(o->version));
	json_object_set_new(root, "nad", nad);
	return dump(root);
}

static json_t *am_alert(const struct alert_msg *m, uint8_t level, uint64_t starts_us, uint64_t ends_us,
			const struct alert_origin *o)
{
	const struct rec_incident *inc = &m->inc;
	json_t *a = json_object(), *labels = json_object(), *ann = json_object();
	char desc[1024], score[32];

	if (!a || !labels || !ann) {
		json_decref(a);
		json_decref(labels);
		json_decref(ann);
		return NULL;
	}
	/* Labels are the alert's identity in Alertmanager and what routes and
	 * groups it: keep them few and stable over the incident's life. */
	json_object_set_new(labels, "alertname", json_string("NadIncident"));
	json_object_set_new(labels, "severity", json_string(rec_level_name(level)));
	json_object_set_new(labels, "category", STR(inc->category));
	json_object_set_new(labels, "host", STR(inc->host));
	json_object_set_new(labels, "role", STR(inc->role));
	json_object_set_new(labels, "incident", STR(inc->uid));
	json_object_set_new(labels, "instance", json_string(o->node));
	json_object_set_new(labels, "job", json_string("nad"));
	snprintf(desc, sizeof desc, "%.*s Score %.0f, %llu anomalous flows, %u peers, %u ports.",
		 (int)strnlen(inc->explanation, sizeof inc->explanation), inc->explanation, inc->score,
		 (unsigned long long)inc->anomalies, inc->distinct_peers, inc->distinct_ports);
	snprintf(score, sizeof score, "%.1f", inc->score);
	json_object_set_new(ann, "summary", STR(inc->summary));
	json_object_set_new(ann, "description", or_text(json_string(desc), inc->explanation,
							sizeof inc->explanation));
	json_object_set_new(ann, "score", json_string(score));
	json_object_set_new(ann, "nad_version", json_string(o->version));
	json_object_set_new(a, "labels", labels);
	json_object_set_new(a, "annotations", ann);
	json_object_set_new(a, "startsAt", iso_time(starts_us));
	json_object_set_new(a, "endsAt", iso_time(ends_us));
	return a;
}

char *alert_am_body(const struct alert_msg *m, uint64_t now_us, uint64_t lifetime_us,
		    const struct alert_origin *o)
{
	json_t *arr = json_array();
	/* A replayed capture may carry times ahead of the clock; Alertmanager
	 * refuses an alert that starts after it ends. */
	uint64_t starts = m->inc.first_ts_us && m->inc.first_ts_us < now_us ? m->inc.first_ts_us : now_us;
	uint64_t ends;

	if (!arr)
		return NULL;
	switch (m->kind) {
	case ALERT_ESCALATED:
		/* severity is a label, so the new level is a new alert: end the
		 * old one now rather than let it linger until it expires */
		json_array_append_new(arr, am_alert(m, m->prev_level, starts, now_us, o));
		/* fall through */
	case ALERT_FIRING:
		json_array_append_new(arr, am_alert(m, m->inc.level, starts, now_us + lifetime_us, o));
		break;
	default:
		ends = m->resolved_us > starts ? m->resolved_us : starts;
		if (ends > now_us)
			ends = now_us;
		json_array_append_new(arr, am_alert(m, m->inc.level, starts, ends, o));
		break;
	}
	if (json_array_size(arr) == 0 || json_array_size(arr) < (m->kind == ALERT_ESCALATED ? 2u : 1u)) {
		json_decref(arr);
		return NULL;
	}
	return dump(arr);
}

#else

char *alert_webhook_body(const struct alert_msg *m, const struct alert_origin *o)
{
	(void)m;
	(void)o;
	return NULL;
}

char *alert_am_body(const struct alert_msg *m, uint64_t now_us, uint64_t lifetime_us,
		    const struct alert_origin *o)
{
	(void)m;
	(void)now_us;
	(void)lifetime_us;
	(void)o;
	return NULL;
}

#endif
