/* test_jsonl.c - the JSON lines log: every line parses back, reopen after
 * rotation, a half line from a crash is isolated, a failed write leaves no
 * partial line. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "check.h"
#include "features/features.h"
#include "sink/sink_jsonl.h"

static char dir[] = "/tmp/nad-test-jsonl-XXXXXX";

static void fill_anomaly(struct rec_anomaly *a, int i)
{
	memset(a, 0, sizeof *a);
	a->first_ts_us = 1714564800000000ULL + (uint64_t)i * 1000000;
	a->last_ts_us = a->first_ts_us + 123456;
	snprintf(a->src, sizeof a->src, "192.168.1.%d", 10 + i);
	snprintf(a->dst, sizeof a->dst, "2001:db8::%x", i + 1);
	a->sport = 40000;
	a->dport = (uint16_t)(22 + i);
	a->proto = 6;
	a->vlan = 7;
	snprintf(a->end_reason, sizeof a->end_reason, "rst");
	a->packets_fwd = 2;
	a->packets_bwd = 1;
	a->bytes_fwd = 120;
	a->bytes_bwd = 40;
	a->error = 3.25;
	a->tail_prob = 0.001;
	a->score = 91.5;
	a->level = REC_LEVEL_HIGH;
	snprintf(a->category, sizeof a->category, "scan");
	a->ntop = 2;
	snprintf(a->top[0].feature, sizeof a->top[0].feature, "%s", feat_registry[0].name);
	a->top[0].value = 0.5;
	a->top[0].typical_lo = 1;
	a->top[0].typical_hi = 30;
	a->top[0].share = 0.6;
	snprintf(a->top[1].feature, sizeof a->top[1].feature, "rst_count");
	a->top[1].value = 1;
	a->top[1].share = 0.3;
	snprintf(a->explanation, sizeof a->explanation, "Quote \" backslash \\ newline\n and \xc3\xa9.");
	snprintf(a->incident_uid, sizeof a->incident_uid, "inc-%d", i);
	a->nfeat = (uint16_t)feat_count;
	for (size_t k = 0; k < feat_count; k++)
		a->feat[k] = (double)k * 0.5;
	a->feat[1] = NAN;     /* not representable in JSON: must become null */
}

static void fill_incident(struct rec_incident *inc, int ev)
{
	memset(inc, 0, sizeof *inc);
	snprintf(inc->uid, sizeof inc->uid, "inc-0");
	inc->event = (uint8_t)ev;
	snprintf(inc->host, sizeof inc->host, "192.168.1.10");
	snprintf(inc->role, sizeof inc->role, "attacker");
	snprintf(inc->category, sizeof inc->category, "scan");
	inc->level = REC_LEVEL_CRITICAL;
	inc->score = 97;
	inc->max_anomaly_score = 91.5;
	inc->anomalies = 1000;
	inc->distinct_peers = 1;
	inc->distinct_ports = 998;
	inc->first_ts_us = 1714564800000000ULL;
	inc->last_ts_us = 1714564860500000ULL;
	snprintf(inc->summary, sizeof inc->summary, "192.168.1.10 scanned 998 ports on 192.168.1.25");
	snprintf(inc->explanation, sizeof inc->explanation, "many short flows");
}

/* Every line must parse as one JSON object; returns the number of lines and
 * checks that the file ends in a newline. */
static int read_lines(const char *path, json_t **ret_objs, int max)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int count = 0;

	if (!f) {
		CHECK(!"cannot open log");
		return -1;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		json_error_t jerr;
		CHECK(line[n - 1] == '\n');
		json_t *o = json_loads(line, 0, &jerr);
		if (!o || !json_is_object(o)) {
			fprintf(stderr, "%s line %d not JSON: %s (%s)\n", path, count + 1, jerr.text, line);
			check_failures++;
		}
		if (count < max && ret_objs)
			ret_objs[count] = o;
		else
			json_decref(o);
		count++;
	}
	free(line);
	fclose(f);
	return count;
}

static void test_schema(void)
{
	char path[256];
	struct sink_jsonl *s;
	struct rec_anomaly a;
	struct rec_incident inc;
	json_t *objs[8] = { 0 };

	snprintf(path, sizeof path, "%s/a.jsonl", dir);
	CHECK_EQ_INT(sink_jsonl_open(path, &s), 0);
	fill_anomaly(&a, 0);
	CHECK_EQ_INT(sink_jsonl_add_anomaly(s, &a), 0);
	fill_incident(&inc, REC_INCIDENT_OPENED);
	CHECK_EQ_INT(sink_jsonl_add_incident(s, &inc), 0);
	fill_incident(&inc, REC_INCIDENT_CLOSED);
	CHECK_EQ_INT(sink_jsonl_add_incident(s, &inc), 0);

	/* nothing reaches the file before the batch is flushed */
	struct stat st;
	CHECK(stat(path, &st) == 0 && st.st_size == 0);
	CHECK_EQ_INT(sink_jsonl_flush(s), 0);
	CHECK(sink_jsonl_lines(s) == 3);
	CHECK_EQ_INT(sink_jsonl_close(s), 0);

	CHECK_EQ_INT(read_lines(path, objs, 8), 3);
	json_t *o = objs[0];
	if (o) {
		CHECK(!strcmp(json_string_value(json_object_get(o, "type")), "anomaly"));
		CHECK(!strcmp(json_string_value(json_object_get(o, "time")), "2024-05-01T12:00:00.123456Z"));
		CHECK(!strcmp(json_string_value(json_object_get(o, "first_ts")), "2024-05-01T12:00:00.000000Z"));
		CHECK(!strcmp(json_string_value(json_object_get(o, "src")), "192.168.1.10"));
		CHECK(!strcmp(json_string_value(json_object_get(o, "dst")), "2001:db8::1"));
		CHECK_EQ_INT(json_integer_value(json_object_get(o, "dport")), 22);
		CHECK(!strcmp(json_string_value(json_object_get(o, "proto")), "tcp"));
		CHECK_EQ_INT(json_integer_value(json_object_get(o, "vlan")), 7);
		CHECK_EQ_INT(json_integer_value(json_object_get(o, "bytes_fwd")), 120);
		CHECK_NEAR(json_real_value(json_object_get(o, "score")), 91.5, 1e-9);
		CHECK(!strcmp(json_string_value(json_object_get(o, "level")), "high"));
		CHECK(!strcmp(json_string_value(json_object_get(o, "category")), "scan"));
		CHECK(!strcmp(json_string_value(json_object_get(o, "explanation")),
			      "Quote \" backslash \\ newline\n and \xc3\xa9."));
		CHECK(!strcmp(json_string_value(json_object_get(o, "incident_uid")), "inc-0"));
		json_t *top = json_object_get(o, "top_features");
		CHECK(json_array_size(top) == 2);
		CHECK(!strcmp(json_string_value(json_object_get(json_array_get(top, 0), "feature")),
			      feat_registry[0].name));
		CHECK_NEAR(json_real_value(json_object_get(json_array_get(top, 0), "share")), 0.6, 1e-12);
		json_t *feats = json_object_get(o, "features");
		CHECK(json_object_size(feats) == feat_count);
		CHECK(json_is_null(json_object_get(feats, feat_registry[1].name)));
		CHECK_NEAR(json_number_value(json_object_get(feats, feat_registry[2].name)), 1.0, 1e-12);
	}
	o = objs[1];
	if (o) {
		CHECK(!strcmp(json_string_value(json_object_get(o, "type")), "incident"));
		CHECK(!strcmp(json_string_value(json_object_get(o, "event")), "opened"));
		CHECK(!strcmp(json_string_value(json_object_get(o, "uid")), "inc-0"));
		CHECK(!strcmp(json_string_value(json_object_get(o, "level")), "critical"));
		CHECK(!strcmp(json_string_value(json_object_get(o, "role")), "attacker"));
		CHECK_EQ_INT(json_integer_value(json_object_get(o, "anomalies")), 1000);
		CHECK_EQ_INT(json_integer_value(json_object_get(o, "distinct_ports")), 998);
		CHECK(!strcmp(json_string_value(json_object_get(o, "last_ts")), "2024-05-01T12:01:00.500000Z"));
	}
	if (objs[2])
		CHECK(!strcmp(json_string_value(json_object_get(objs[2], "event")), "closed"));
	for (int i = 0; i < 8; i++)
		json_decref(objs[i]);
}

/* A second open appends; logrotate's rename + reopen starts a new file. */
static void test_append_and_reopen(void)
{
	char path[256], rotated[256];
	struct sink_jsonl *s;
	struct rec_anomaly a;

	snprintf(path, sizeof path, "%s/r.jsonl", dir);
	snprintf(rotated, sizeof rotated, "%s/r.jsonl.1", dir);
	for (int run = 0; run < 2; run++) {
		CHECK_EQ_INT(sink_jsonl_open(path, &s), 0);
		fill_anomaly(&a, run);
		CHECK_EQ_INT(sink_jsonl_add_anomaly(s, &a), 0);
		CHECK_EQ_INT(sink_jsonl_close(s), 0);     /* close flushes */
	}
	CHECK_EQ_INT(read_lines(path, NULL, 0), 2);

	CHECK_EQ_INT(sink_jsonl_open(path, &s), 0);
	fill_anomaly(&a, 2);
	CHECK_EQ_INT(sink_jsonl_add_anomaly(s, &a), 0);
	CHECK(rename(path, rotated) == 0);
	/* the pending line belongs to the old file: reopen flushes it there */
	CHECK_EQ_INT(sink_jsonl_reopen(s), 0);
	fill_anomaly(&a, 3);
	CHECK_EQ_INT(sink_jsonl_add_anomaly(s, &a), 0);
	CHECK_EQ_INT(sink_jsonl_close(s), 0);
	CHECK_EQ_INT(read_lines(rotated, NULL, 0), 3);
	CHECK_EQ_INT(read_lines(path, NULL, 0), 1);
}

/* A file that ends mid-line (a writer killed by a crash without our cut)
 * gets a newline before the next record, so only the old half line is bad. */
static void test_half_line_isolated(void)
{
	char path[256];
	struct sink_jsonl *s;
	struct rec_incident inc;
	FILE *f;

	snprintf(path, sizeof path, "%s/h.jsonl", dir);
	f = fopen(path, "w");
	fputs("{\"type\":\"incident\"}\n{\"type\":\"anom", f);
	fclose(f);
	CHECK_EQ_INT(sink_jsonl_open(path, &s), 0);
	fill_incident(&inc, REC_INCIDENT_UPDATED);
	CHECK_EQ_INT(sink_jsonl_add_incident(s, &inc), 0);
	CHECK_EQ_INT(sink_jsonl_close(s), 0);

	f = fopen(path, "r");
	char line[4096];
	int n = 0, good = 0;
	while (fgets(line, sizeof line, f)) {
		json_t *o = json_loads(line, 0, NULL);
		good += o != NULL;
		json_decref(o);
		n++;
	}
	fclose(f);
	CHECK_EQ_INT(n, 3);
	CHECK_EQ_INT(good, 2);
}

/* A write that fails half way (file size limit, like a full disk) must not
 * leave a partial line; the lines stay pending and go out on the next flush. */
static void test_failed_write_leaves_whole_lines(void)
{
	char path[256];
	struct sink_jsonl *s;
	struct rec_anomaly a;
	struct rlimit old, lim;
	struct stat st;

	snprintf(path, sizeof path, "%s/f.jsonl", dir);
	CHECK_EQ_INT(sink_jsonl_open(path, &s), 0);
	fill_anomaly(&a, 0);
	CHECK_EQ_INT(sink_jsonl_add_anomaly(s, &a), 0);
	CHECK_EQ_INT(sink_jsonl_flush(s), 0);
	CHECK(stat(path, &st) == 0);
	off_t one_line = st.st_size;

	for (int i = 1; i <= 5; i++) {
		fill_anomaly(&a, i);
		CHECK_EQ_INT(sink_jsonl_add_anomaly(s, &a), 0);
	}
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = (rlim_t)(one_line * 3 + one_line / 2);   /* room for 2.5 more lines */
	setrlimit(RLIMIT_FSIZE, &lim);
	int r = sink_jsonl_flush(s);
	setrlimit(RLIMIT_FSIZE, &old);
	CHECK(r == -EFBIG);
	CHECK(stat(path, &st) == 0 && st.st_size == one_line);
	CHECK_EQ_INT(read_lines(path, NULL, 0), 1);

	CHECK_EQ_INT(sink_jsonl_flush(s), 0);   /* the limit is gone: all five go out */
	CHECK_EQ_INT(sink_jsonl_close(s), 0);
	CHECK_EQ_INT(read_lines(path, NULL, 0), 6);
}

static void test_errors(void)
{
	struct sink_jsonl *s = NULL;

	CHECK_EQ_INT(sink_jsonl_open("/nonexistent-dir/x.jsonl", &s), -ENOENT);
	CHECK(s == NULL);
	CHECK_EQ_INT(sink_jsonl_close(NULL), 0);
	char iso[40];
	sink_time_iso(0, iso, sizeof iso);
	CHECK(!strcmp(iso, "1970-01-01T00:00:00.000000Z"));
	char pb[8];
	CHECK(!strcmp(sink_proto_name(17, pb, sizeof pb), "udp"));
	CHECK(!strcmp(sink_proto_name(47, pb, sizeof pb), "47"));
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_schema();
	test_append_and_reopen();
	test_half_line_isolated();
	test_failed_write_leaves_whole_lines();
	test_errors();
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (!check_failures && system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return check_exit();
}
