/* test_alert_spool.c - the on-disk spool: write, replay, corrupt files, the
 * bound, the ledger of delivered keys. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alert/alert_internal.h"
#include "check.h"

static char dir[256];

static void msg(struct alert_msg *m, enum alert_sink sink, const char *uid, int level, enum alert_kind kind)
{
	memset(m, 0, sizeof *m);
	m->sink = (uint8_t)sink;
	m->kind = (uint8_t)kind;
	snprintf(m->inc.uid, sizeof m->inc.uid, "%s", uid);
	snprintf(m->inc.host, sizeof m->inc.host, "10.0.0.%d", level);
	snprintf(m->inc.role, sizeof m->inc.role, "attacker");
	snprintf(m->inc.category, sizeof m->inc.category, "scan");
	snprintf(m->inc.summary, sizeof m->inc.summary, "summary of %s \xe2\x80\x94 \"q\"", uid);
	snprintf(m->inc.explanation, sizeof m->inc.explanation, "why\n%s", uid);
	m->inc.level = (uint8_t)level;
	m->inc.score = 81.25;
	m->inc.anomalies = 1000;
	m->inc.distinct_ports = 1016;
	m->inc.first_ts_us = 1764000000123456ull;
	m->inc.last_ts_us = 1764000060000000ull;
	m->prev_level = kind == ALERT_ESCALATED ? (uint8_t)(level - 1) : 0;
	m->created_us = 1764000061000000ull;
	alert_make_key(&m->inc, kind, m->key, sizeof m->key);
}

static int count_files(const char *sub, const char *suffix)
{
	char path[512];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof path, "%s%s%s", dir, sub ? "/" : "", sub ? sub : "");
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (strlen(de->d_name) > strlen(suffix) &&
		    !strcmp(de->d_name + strlen(de->d_name) - strlen(suffix), suffix))
			n++;
	closedir(d);
	return n;
}

static void write_file(const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_write_replay(void)
{
	struct alert_spool *s = NULL;
	struct alert_spool_stats st;
	struct alert_msg m, back;
	char err[512];
	uint64_t seq[3], first;
	uint8_t kind;

	CHECK_EQ_INT(alert_spool_open(dir, 10, &s, err, sizeof err), 0);
	if (!s)
		return;
	msg(&m, ALERT_SINK_WEBHOOK, "inc-a", REC_LEVEL_HIGH, ALERT_FIRING);
	CHECK_EQ_INT(alert_spool_add(s, &m, err, sizeof err), 0);
	seq[0] = m.seq;
	msg(&m, ALERT_SINK_ALERTMANAGER, "inc-a", REC_LEVEL_HIGH, ALERT_FIRING);
	CHECK_EQ_INT(alert_spool_add(s, &m, err, sizeof err), 0);
	seq[1] = m.seq;
	msg(&m, ALERT_SINK_WEBHOOK, "inc-a", REC_LEVEL_CRITICAL, ALERT_ESCALATED);
	CHECK_EQ_INT(alert_spool_add(s, &m, err, sizeof err), 0);
	seq[2] = m.seq;
	CHECK(seq[0] < seq[1] && seq[1] < seq[2]);
	/* written before anything was sent: the files are there */
	CHECK_EQ_INT(count_files(NULL, ".alert"), 3);
	CHECK(alert_spool_seen(s, ALERT_SINK_WEBHOOK, "inc-a-high"));
	CHECK(!alert_spool_seen(s, ALERT_SINK_WEBHOOK, "inc-a-medium"));
	alert_spool_free(s);

	/* a restart replays them in order, each sink its own queue */
	s = NULL;
	CHECK_EQ_INT(alert_spool_open(dir, 10, &s, err, sizeof err), 0);
	if (!s)
		return;
	alert_spool_get_stats(s, &st);
	CHECK_EQ_INT(st.depth[ALERT_SINK_WEBHOOK], 2);
	CHECK_EQ_INT(st.depth[ALERT_SINK_ALERTMANAGER], 1);
	CHECK(alert_spool_first(s, ALERT_SINK_WEBHOOK, &first, &kind));
	CHECK_EQ_INT(first, seq[0]);
	CHECK_EQ_INT(kind, ALERT_FIRING);
	CHECK(alert_spool_first(s, ALERT_SINK_ALERTMANAGER, &first, &kind));
	CHECK_EQ_INT(first, seq[1]);
	CHECK_EQ_INT(alert_spool_load(s, seq[2], &back, err, sizeof err), 0);
	msg(&m, ALERT_SINK_WEBHOOK, "inc-a", REC_LEVEL_CRITICAL, ALERT_ESCALATED);
	CHECK(!strcmp(back.key, "inc-a-critical"));
	CHECK_EQ_INT(back.kind, ALERT_ESCALATED);
	CHECK_EQ_INT(back.prev_level, REC_LEVEL_HIGH);
	CHECK(!strcmp(back.inc.summary, m.inc.summary));
	CHECK(!strcmp(back.inc.explanation, m.inc.explanation));
	CHECK_EQ_INT(back.inc.first_ts_us, m.inc.first_ts_us);
	CHECK_EQ_INT(back.inc.anomalies, 1000);
	CHECK_EQ_INT(back.inc.distinct_ports, 1016);
	CHECK_NEAR(back.inc.score, 81.25, 0);
	CHECK_EQ_INT(back.created_us, m.created_us);
	CHECK_EQ_INT(back.seq, seq[2]);

	/* delivered: the file goes, the key stays known across restarts */
	CHECK_EQ_INT(alert_spool_done(s, seq[0]), 0);
	CHECK(alert_spool_first(s, ALERT_SINK_WEBHOOK, &first, &kind));
	CHECK_EQ_INT(first, seq[2]);
	CHECK_EQ_INT(count_files(NULL, ".alert"), 2);
	/* refused for good: set aside, not deleted */
	CHECK_EQ_INT(alert_spool_reject(s, seq[1]), 0);
	CHECK_EQ_INT(count_files("rejected", ".alert"), 1);
	alert_spool_free(s);

	s = NULL;
	CHECK_EQ_INT(alert_spool_open(dir, 10, &s, err, sizeof err), 0);
	if (!s)
		return;
	CHECK(alert_spool_seen(s, ALERT_SINK_WEBHOOK, "inc-a-high"));        /* the ledger */
	CHECK(!alert_spool_seen(s, ALERT_SINK_ALERTMANAGER, "inc-a-high"));  /* per sink */
	CHECK(alert_spool_seen(s, ALERT_SINK_WEBHOOK, "inc-a-critical"));    /* still spooled */
	alert_spool_get_stats(s, &st);
	CHECK_EQ_INT(st.depth[ALERT_SINK_WEBHOOK], 1);
	CHECK_EQ_INT(st.depth[ALERT_SINK_ALERTMANAGER], 0);
	/* new alerts continue the sequence */
	msg(&m, ALERT_SINK_WEBHOOK, "inc-b", REC_LEVEL_HIGH, ALERT_FIRING);
	CHECK_EQ_INT(alert_spool_add(s, &m, err, sizeof err), 0);
	CHECK(m.seq > seq[2]);
	CHECK_EQ_INT(alert_spool_done(s, seq[2]), 0);
	CHECK_EQ_INT(alert_spool_done(s, m.seq), 0);
	CHECK_EQ_INT(alert_spool_done(s, m.seq), -ENOENT);
	alert_spool_free(s);
}

static void test_corrupt(void)
{
	struct alert_spool *s = NULL;
	struct alert_spool_stats st;
	struct alert_msg m;
	char err[512], note[512];
	uint64_t first;
	uint8_t kind;
	int notes = 0;

	write_file("00000000000000a0-webhook.alert", "{\"nad_alert\":1,\"sink\":\"webhook\",\"ki");   /* cut */
	write_file("00000000000000a1-webhook.alert", "not json at all");
	write_file("00000000000000a2-webhook.alert", "{\"nad_alert\":1}");                            /* fields missing */
	write_file("00000000000000a3-pager.alert", "{}");                                            /* unknown sink */
	write_file(".tmp-00000000000000a4-webhook.alert", "half written");                           /* a crash */
	write_file("README", "not ours: left alone");
	CHECK_EQ_INT(alert_spool_open(dir, 10, &s, err, sizeof err), 0);
	if (!s)
		return;
	alert_spool_get_stats(s, &st);
	CHECK_EQ_INT(st.corrupt, 4);
	CHECK_EQ_INT(st.depth[ALERT_SINK_WEBHOOK], 0);
	CHECK_EQ_INT(count_files("corrupt", ".alert"), 4);
	CHECK_EQ_INT(count_files(NULL, ".alert"), 0);   /* the temporary one is gone too */
	{
		char readme[512];
		snprintf(readme, sizeof readme, "%s/README", dir);
		CHECK(access(readme, F_OK) == 0);
	}
	while (alert_spool_note(s, note, sizeof note)) {
		CHECK(strstr(note, "corrupt") != NULL);
		notes++;
	}
	CHECK_EQ_INT(notes, 4);
	CHECK(!alert_spool_first(s, ALERT_SINK_WEBHOOK, &first, &kind));

	/* a file damaged after the open: load says so, moves it aside, and
	 * the next alert is next */
	msg(&m, ALERT_SINK_WEBHOOK, "inc-c", REC_LEVEL_HIGH, ALERT_FIRING);
	CHECK_EQ_INT(alert_spool_add(s, &m, err, sizeof err), 0);
	first = m.seq;
	msg(&m, ALERT_SINK_WEBHOOK, "inc-d", REC_LEVEL_HIGH, ALERT_FIRING);
	CHECK_EQ_INT(alert_spool_add(s, &m, err, sizeof err), 0);
	{
		char name[64];
		snprintf(name, sizeof name, "%016llx-webhook.alert", (unsigned long long)first);
		write_file(name, "{\"garbage\":");
	}
	CHECK_EQ_INT(alert_spool_load(s, first, &m, err, sizeof err), -EBADMSG);
	CHECK(strstr(err, "not JSON") != NULL);
	CHECK(alert_spool_first(s, ALERT_SINK_WEBHOOK, &first, &kind));
	CHECK_EQ_INT(alert_spool_load(s, first, &m, err, sizeof err), 0);
	CHECK(!strcmp(m.key, "inc-d-high"));
	CHECK_EQ_INT(alert_spool_done(s, first), 0);
	alert_spool_get_stats(s, &st);
	CHECK_EQ_INT(st.corrupt, 5);
	alert_spool_free(s);
}

static void test_bound(void)
{
	struct alert_spool *s = NULL;
	struct alert_spool_stats st;
	struct alert_msg m, back;
	char err[512], uid[16], note[512];
	uint64_t first;
	uint8_t kind;

	CHECK_EQ_INT(alert_spool_open(dir, 3, &s, err, sizeof err), 0);
	if (!s)
		return;
	for (int i = 0; i < 5; i++) {
		snprintf(uid, sizeof uid, "inc-bound%d", i);
		msg(&m, ALERT_SINK_WEBHOOK, uid, REC_LEVEL_HIGH, ALERT_FIRING);
		CHECK_EQ_INT(alert_spool_add(s, &m, err, sizeof err), 0);
	}
	alert_spool_get_stats(s, &st);
	CHECK_EQ_INT(st.depth[ALERT_SINK_WEBHOOK], 3);
	CHECK_EQ_INT(st.dropped, 2);
	CHECK_EQ_INT(count_files(NULL, ".alert"), 3);
	/* the oldest went */
	CHECK(alert_spool_first(s, ALERT_SINK_WEBHOOK, &first, &kind));
	CHECK_EQ_INT(alert_spool_load(s, first, &back, err, sizeof err), 0);
	CHECK(!strcmp(back.inc.uid, "inc-bound2"));
	CHECK(alert_spool_note(s, note, sizeof note) && strstr(note, "inc-bound0-high"));
	alert_spool_free(s);

	/* a smaller bound at the next start keeps the newest */
	s = NULL;
	CHECK_EQ_INT(alert_spool_open(dir, 2, &s, err, sizeof err), 0);
	if (!s)
		return;
	alert_spool_get_stats(s, &st);
	CHECK_EQ_INT(st.depth[ALERT_SINK_WEBHOOK], 2);
	CHECK_EQ_INT(st.dropped, 1);
	CHECK(alert_spool_first(s, ALERT_SINK_WEBHOOK, &first, &kind));
	CHECK_EQ_INT(alert_spool_load(s, first, &back, err, sizeof err), 0);
	CHECK(!strcmp(back.inc.uid, "inc-bound3"));
	while (alert_spool_first(s, ALERT_SINK_WEBHOOK, &first, &kind))
		alert_spool_done(s, first);
	alert_spool_free(s);
}

static void test_bad_paths(void)
{
	struct alert_spool *s = NULL;
	char err[512], path[512];

	/* the parent must exist */
	snprintf(path, sizeof path, "%s/no/such/dir", dir);
	CHECK_EQ_INT(alert_spool_open(path, 0, &s, err, sizeof err), -ENOENT);
	CHECK(strstr(err, path) != NULL);
	/* a file in the way */
	snprintf(path, sizeof path, "%s/README", dir);
	CHECK(alert_spool_open(path, 0, &s, err, sizeof err) < 0);
	CHECK(strstr(err, "README") != NULL);
	CHECK_EQ_INT(alert_spool_open("", 0, &s, err, sizeof err), -EINVAL);
	if (geteuid() != 0) {   /* root writes anywhere */
		snprintf(path, sizeof path, "%s/ro", dir);
		mkdir(path, 0500);
		CHECK(alert_spool_open(path, 0, &s, err, sizeof err) < 0);
	}
	CHECK(s == NULL);
}

static void test_ledger_lines(void)
{
	struct alert_spool *s = NULL;
	char err[512], long_line[300];

	/* a ledger cut by a crash, with an overlong line: good lines count */
	memset(long_line, 'x', sizeof long_line - 2);
	long_line[sizeof long_line - 2] = '\n';
	long_line[sizeof long_line - 1] = '\0';
	write_file("delivered.log", "");
	{
		char path[512];
		FILE *f;
		snprintf(path, sizeof path, "%s/delivered.log", dir);
		f = fopen(path, "w");
		if (f) {
			fputs("webhook inc-l1-high\n", f);
			fputs(long_line, f);
			fputs("alertmanager inc-l2-resolved\n", f);
			fputs("webhook inc-l3-hi", f);   /* no newline: cut */
			fclose(f);
		}
	}
	CHECK_EQ_INT(alert_spool_open(dir, 0, &s, err, sizeof err), 0);
	if (!s)
		return;
	CHECK(alert_spool_seen(s, ALERT_SINK_WEBHOOK, "inc-l1-high"));
	CHECK(alert_spool_seen(s, ALERT_SINK_ALERTMANAGER, "inc-l2-resolved"));
	CHECK(!alert_spool_seen(s, ALERT_SINK_WEBHOOK, "inc-l3-hi"));
	alert_spool_free(s);
}

int main(void)
{
	char cmd[300];

	snprintf(dir, sizeof dir, "/tmp/nad-spool-test.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_write_replay();
	test_corrupt();
	test_bound();
	test_bad_paths();
	test_ledger_lines();
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return check_exit();
}
