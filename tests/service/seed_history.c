/* seed_history.c - write a known history through the writer thread, the
 * way `nad run` does, for the query command tests.
 * Usage: seed_history DB learning|detecting */
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "features/features.h"
#include "sink/writer.h"

static uint64_t now_us(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
}

static void anomaly(struct rec_anomaly *a, const char *src, const char *dst, uint16_t dport,
		    uint64_t ts, double score, int level, const char *uid)
{
	memset(a, 0, sizeof *a);
	a->first_ts_us = ts - 1000;
	a->last_ts_us = ts;
	snprintf(a->src, sizeof a->src, "%s", src);
	snprintf(a->dst, sizeof a->dst, "%s", dst);
	a->sport = 40000;
	a->dport = dport;
	a->proto = 6;
	snprintf(a->end_reason, sizeof a->end_reason, "rst");
	a->packets_fwd = 1;
	a->packets_bwd = 1;
	a->score = score;
	a->level = (uint8_t)level;
	snprintf(a->category, sizeof a->category, "scan");
	snprintf(a->explanation, sizeof a->explanation, "syn_count 1 (typical 0..0)");
	snprintf(a->incident_uid, sizeof a->incident_uid, "%s", uid);
	a->nfeat = (uint16_t)feat_count;
}

int main(int argc, char **argv)
{
	struct writer_options o = { .queue_size = 1024 };
	struct writer *w;
	char err[512];
	uint64_t now = now_us(), h = 3600ULL * 1000000;

	if (argc != 3)
		return 2;
	o.database_path = argv[1];
	if (writer_start(&o, &w, err, sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	struct store_learning l = { .started_at_us = now - 6 * h, .duration_us = 24 * h,
				    .flows = 3000, .min_flows = 1000, .updated_at_us = now };
	snprintf(l.model_path, sizeof l.model_path, "/var/lib/nad/model.tflite");
	snprintf(l.state, sizeof l.state, "%s", argv[2]);
	writer_set_learning(w, &l);
	struct store_traffic t1 = { "tcp", "well_known", 2000, 50000, 40000000 };
	struct store_traffic t2 = { "udp", "well_known", 1000, 2000, 200000 };
	writer_add_traffic(w, &t1);
	writer_add_traffic(w, &t2);

	if (!strcmp(argv[2], "detecting")) {
		struct rec_anomaly a;
		struct rec_incident inc;
		/* an old low one (two days ago), and today's scan of 10.0.0.5 by 192.168.1.66 */
		anomaly(&a, "192.168.1.20", "8.8.8.8", 53, now - 48 * h, 55, REC_LEVEL_LOW, "old");
		writer_add_anomaly(w, &a);
		for (int i = 0; i < 5; i++) {
			anomaly(&a, "192.168.1.66", "10.0.0.5", (uint16_t)(20 + i), now - 60000000 + (uint64_t)i,
				80 + i * 4, i < 2 ? REC_LEVEL_MEDIUM : i < 4 ? REC_LEVEL_HIGH : REC_LEVEL_CRITICAL,
				"scan-1");
			writer_add_anomaly(w, &a);
		}
		anomaly(&a, "2001:db8::7", "10.0.0.5", 443, now - 30000000, 72, REC_LEVEL_MEDIUM, "v6");
		writer_add_anomaly(w, &a);
		memset(&inc, 0, sizeof inc);
		snprintf(inc.uid, sizeof inc.uid, "scan-1");
		snprintf(inc.host, sizeof inc.host, "192.168.1.66");
		snprintf(inc.role, sizeof inc.role, "attacker");
		snprintf(inc.category, sizeof inc.category, "scan");
		snprintf(inc.summary, sizeof inc.summary, "192.168.1.66 scanned 5 ports on 10.0.0.5");
		inc.level = REC_LEVEL_CRITICAL;
		inc.score = 97;
		inc.anomalies = 5;
		inc.first_ts_us = now - 60000000;
		inc.last_ts_us = now - 60000000 + 4;
		writer_add_incident(w, &inc);
		writer_set_status(w, "model", "/var/lib/nad/model.tflite");
		writer_set_status(w, "packets", "123456");
		writer_set_status(w, "capture_drops", "7");
	}
	return writer_stop(w) < 0;
}
