/* test_eval_labels.c - ground truth: labels.tsv parsing and its errors, which
 * flows a row labels (hosts either way round, wildcards, time window,
 * protocol/port, layer 2), and the summaries built on it: attack outcome
 * with time to detect, and false incidents -- all on hand-built flows. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "eval/labels.h"
#include "eval/summary.h"

static char path[64];

static int read_text(const char *text, struct eval_labels *L, char *err, size_t errlen)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
	return eval_labels_read(path, L, err, errlen);
}

static struct eval_flow flow(const char *src, uint16_t sport, const char *dst, uint16_t dport, uint8_t proto,
			     double first_s, double last_s)
{
	struct eval_flow f;

	memset(&f, 0, sizeof f);
	f.family = 4;
	f.proto = proto;
	inet_pton(AF_INET, src, f.src);
	inet_pton(AF_INET, dst, f.dst);
	f.sport = sport;
	f.dport = dport;
	f.first_us = (uint64_t)(first_s * 1e6);
	f.last_us = f.emit_us = (uint64_t)(last_s * 1e6);
	f.incident = f.label = -1;
	return f;
}

static bool matches(const struct eval_label *l, const struct eval_flow *f)
{
	struct eval_flow_key k = { f->family, f->proto, f->src, f->dst, f->sport, f->dport, f->first_us, f->last_us };

	return eval_label_matches(l, &k);
}

#define HDR "file\tcategory\tattack_hosts\tvictim_hosts\trule\tnote\n"

int main(void)
{
	struct eval_labels L;
	char err[512];

	snprintf(path, sizeof path, "/tmp/nad-test-labels-%d.tsv", (int)getpid());

	/* --- parsing and matching ------------------------------------------ */
	CHECK_EQ_INT(read_text(HDR
		"# a comment\n"
		"\n"
		"a.pcap\tscan\t10.0.0.66\t10.0.0.10\tframe.time_epoch >= 100.5 && frame.time_epoch <= 200 && ip.addr==10.0.0.66\tnote\n"
		"a.pcap\tc2\t10.9.9.9\t10.0.0.23\tip.addr==10.0.0.23 && tcp.port==8080 && http.request\tx\n"
		"a.pcap\tflood\tspoofed\t10.0.0.10\tip.dst==10.0.0.10 && (tcp.flags.syn==1 || udp)\tx\n"
		"a.pcap\tsweep\t02:00:00:00:00:42\t10.0.0.0/24\tarp\tx\n"
		"a.pcap\tsweep\t10.0.0.66,10.0.0.67\t10.1.0.0/16\tip.src==10.0.0.66 || icmp\tx\n"
		"b.pcap\tflood\tspoofed\t-\ttcp\tx\n",
		&L, err, sizeof err), 0);
	CHECK_EQ_INT(L.n, 6);
	{
		const struct eval_label *scan = &L.row[0], *c2 = &L.row[1], *fl = &L.row[2], *arp = &L.row[3],
					*sw = &L.row[4], *any = &L.row[5];
		CHECK_EQ_INT(scan->line, 4);
		CHECK(scan->has_from && scan->from_us == 100500000ull && scan->has_to && scan->to_us == 200000000ull);
		CHECK(!strcmp(scan->unchecked, ""));
		CHECK(!strcmp(c2->unchecked, "http.request"));
		CHECK(c2->proto == 6 && c2->has_port && c2->port == 8080);
		CHECK(!strcmp(fl->unchecked, "(tcp.flags.syn==1 || udp)"));
		CHECK(arp->layer2 && !scan->layer2);
		CHECK(!strcmp(sw->unchecked, sw->rule)); /* top-level ||: no term applies */

		/* hosts either way round; the window is inclusive and a flow
		 * overlapping it counts */
		struct eval_flow f = flow("10.0.0.66", 40000, "10.0.0.10", 22, 6, 150, 151);
		CHECK(matches(scan, &f));
		f = flow("10.0.0.10", 22, "10.0.0.66", 40000, 6, 150, 151);
		CHECK(matches(scan, &f));
		f = flow("10.0.0.66", 40000, "10.0.0.10", 22, 6, 90, 100.5);
		CHECK(matches(scan, &f));
		f = flow("10.0.0.66", 40000, "10.0.0.10", 22, 6, 90, 100.4);
		CHECK(!matches(scan, &f));
		f = flow("10.0.0.66", 40000, "10.0.0.10", 22, 6, 200.000001, 300);
		CHECK(!matches(scan, &f));
		f = flow("10.0.0.66", 40000, "10.0.0.11", 22, 6, 150, 151);
		CHECK(!matches(scan, &f));
		/* port on either end, protocol checked */
		f = flow("10.0.0.23", 50000, "10.9.9.9", 8080, 6, 1, 2);
		CHECK(matches(c2, &f));
		f = flow("10.9.9.9", 8080, "10.0.0.23", 50000, 6, 1, 2);
		CHECK(matches(c2, &f));
		f = flow("10.0.0.23", 50000, "10.9.9.9", 8080, 17, 1, 2);
		CHECK(!matches(c2, &f));
		f = flow("10.0.0.23", 50000, "10.9.9.9", 443, 6, 1, 2);
		CHECK(!matches(c2, &f));
		/* spoofed source: what reaches the victim, not the victim's own sessions */
		f = flow("203.0.113.7", 1234, "10.0.0.10", 80, 6, 1, 2);
		CHECK(matches(fl, &f));
		f = flow("10.0.0.10", 1234, "203.0.113.7", 80, 6, 1, 2);
		CHECK(!matches(fl, &f));
		/* prefixes and lists */
		f = flow("10.0.0.67", 1, "10.1.200.3", 80, 6, 1, 2);
		CHECK(matches(sw, &f));
		f = flow("10.0.0.67", 1, "10.2.0.3", 80, 6, 1, 2);
		CHECK(!matches(sw, &f));
		/* layer 2 rows match no IP flow; wildcards on both sides match all */
		f = flow("10.0.0.66", 1, "10.0.0.5", 80, 6, 1, 2);
		CHECK(!matches(arp, &f));
		CHECK(matches(any, &f));
		f.proto = 17;
		CHECK(!matches(any, &f));

		uint8_t a[4];
		inet_pton(AF_INET, "10.1.2.3", a);
		CHECK(eval_hosts_names(&sw->victim, 4, a));
		CHECK(!eval_hosts_names(&fl->attack, 4, a)); /* a wildcard names no host */
		CHECK(eval_label_is_for(scan, "/some/dir/a.pcap") && !eval_label_is_for(scan, "b.pcap"));
	}
	eval_labels_release(&L);

	/* extra columns and a different column order are fine */
	CHECK_EQ_INT(read_text("note\tfile\textra\tcategory\tattack_hosts\tvictim_hosts\trule\n"
			       "n\tx.pcap\t?\tscan\t2001:db8::1\t2001:db8::/64\tipv6.addr==2001:db8::1\n", &L, err, sizeof err), 0);
	CHECK_EQ_INT(L.n, 1);
	{
		struct eval_flow f;
		memset(&f, 0, sizeof f);
		f.family = 6;
		inet_pton(AF_INET6, "2001:db8::1", f.src);
		inet_pton(AF_INET6, "2001:db8::77", f.dst);
		CHECK(matches(&L.row[0], &f));
		inet_pton(AF_INET6, "2001:db9::77", f.dst);
		CHECK(!matches(&L.row[0], &f));
	}
	eval_labels_release(&L);

	/* --- bad input: refused with the place and what was expected -------- */
	CHECK_EQ_INT(read_text(HDR "a.pcap\tscan\t10.0.0.300\t10.0.0.1\tx\tn\n", &L, err, sizeof err), -22);
	CHECK(strstr(err, ":2:3 (attack_hosts): '10.0.0.300'") != NULL);
	CHECK_EQ_INT(read_text(HDR "a.pcap\tscan\t10.0.0.1\t10.0.0.0/33\tx\tn\n", &L, err, sizeof err), -22);
	CHECK(strstr(err, ":2:4 (victim_hosts)") != NULL);
	CHECK_EQ_INT(read_text(HDR "a.pcap\tscan\t10.0.0.1\n", &L, err, sizeof err), -22);
	CHECK(strstr(err, ":2: 3 columns") != NULL);
	CHECK_EQ_INT(read_text("file\tcategory\tvictim_hosts\trule\n", &L, err, sizeof err), -22);
	CHECK(strstr(err, "no column 'attack_hosts'") != NULL);
	CHECK_EQ_INT(read_text("", &L, err, sizeof err), -22);
	CHECK(strstr(err, "empty") != NULL);
	CHECK_EQ_INT(eval_labels_read("/nonexistent/labels.tsv", &L, err, sizeof err), -2);
	CHECK(strstr(err, "cannot read labels '/nonexistent/labels.tsv'") != NULL);

	/* --- summaries on hand-built flows and incidents -------------------- */
	CHECK_EQ_INT(read_text(HDR
		"a.pcap\tscan\t10.0.0.66\t10.0.0.10\tframe.time_epoch >= 100 && frame.time_epoch <= 200\tn\n"
		"a.pcap\tc2\t10.9.9.9\t10.0.0.23\ttcp.port==8080\tn\n"
		"other.pcap\tscan\t10.0.0.5\t10.0.0.6\tx\tn\n", &L, err, sizeof err), 0);
	{
		struct eval_flow fl[8];
		struct eval_incident inc[3];
		struct eval_capture c = { .path = "dir/a.pcap", .n = 8, .flow = fl, .n_inc = 3, .inc = inc,
					  .packets = 100, .first_pkt_us = 0, .last_pkt_us = 1800000000ull };

		memset(inc, 0, sizeof inc);
		for (int i = 0; i < 3; i++)
			for (int l = 0; l < 5; l++)
				inc[i].reached_us[l] = EVAL_NO_TIME;
		/* incident 0: the scanner, low at 102 s, medium at 104 s, high at 130 s */
		snprintf(inc[0].host, sizeof inc[0].host, "10.0.0.66");
		inc[0].level = 3;
		inc[0].reached_us[1] = 102000000ull;
		inc[0].reached_us[2] = 104000000ull;
		inc[0].reached_us[3] = 130000000ull;
		/* incident 1: an unlabelled host at medium: a false incident */
		snprintf(inc[1].host, sizeof inc[1].host, "10.0.0.44");
		inc[1].level = 2;
		inc[1].reached_us[1] = inc[1].reached_us[2] = 500000000ull;
		/* incident 2: the labelled victim, low only: not false, not at medium anyway */
		snprintf(inc[2].host, sizeof inc[2].host, "10.0.0.23");
		inc[2].level = 1;
		inc[2].reached_us[1] = 700000000ull;

		fl[0] = flow("10.0.0.66", 1000, "10.0.0.10", 1, 6, 101, 101.5);  /* scan, first packet 101 s */
		fl[1] = flow("10.0.0.66", 1001, "10.0.0.10", 2, 6, 101.2, 103);  /* emitted 103 s, joins inc 0 */
		fl[2] = flow("10.0.0.66", 1002, "10.0.0.10", 3, 6, 105, 106);    /* joins inc 0 at 106 s */
		fl[3] = flow("10.0.0.66", 1003, "10.0.0.10", 4, 6, 300, 301);    /* outside the window: benign */
		fl[4] = flow("10.0.0.23", 5000, "10.9.9.9", 8080, 6, 600, 700);  /* c2 */
		fl[5] = flow("10.0.0.23", 5001, "10.9.9.9", 53, 17, 600, 601);   /* same pair, port 53: benign */
		fl[6] = flow("10.0.0.44", 1, "10.0.0.1", 2, 6, 400, 500);        /* the false incident's flow */
		fl[7] = flow("10.0.0.5", 1, "10.0.0.6", 2, 6, 400, 500);         /* labelled only in other.pcap */
		fl[0].score = 40; fl[1].score = 70; fl[1].level = 2; fl[2].score = 90; fl[2].level = 3;
		fl[1].incident = fl[2].incident = 0;
		fl[6].incident = 1; fl[6].level = 2;
		fl[4].incident = 2; fl[4].level = 1;

		CHECK_EQ_INT(eval_label_flows(&c, &L), 4);
		CHECK(fl[0].label == 0 && fl[1].label == 0 && fl[2].label == 0 && fl[3].label == -1);
		CHECK(fl[4].label == 1 && fl[5].label == -1 && fl[6].label == -1 && fl[7].label == -1);

		struct eval_attack a;
		eval_attack_outcome(&c, 0, &a);
		CHECK_EQ_INT(a.flows, 3);
		CHECK_EQ_INT(a.suspicious, 2);
		CHECK_EQ_INT(a.anomalous, 2);
		CHECK_EQ_INT(a.level, 3);
		CHECK_NEAR(a.max_score, 90, 0);
		CHECK_EQ_INT(a.first_us, 101000000ull);
		/* low: the incident was low at 102 s, but this attack's first flow
		 * in it came out at 103 s: 103 - 101 = 2 s. medium at 104 s (with
		 * flow 1 in it already): 3 s. high at 130 s: 29 s. */
		CHECK_EQ_INT(a.detect_us[1], 103000000ull);
		CHECK_EQ_INT(a.detect_us[2], 104000000ull);
		CHECK_EQ_INT(a.detect_us[3], 130000000ull);
		CHECK_EQ_INT(a.detect_us[4], EVAL_NO_TIME);
		eval_attack_outcome(&c, 1, &a);
		CHECK_EQ_INT(a.flows, 1);
		CHECK_EQ_INT(a.level, 1);
		CHECK_EQ_INT(a.detect_us[1], 700000000ull);
		CHECK_EQ_INT(a.detect_us[2], EVAL_NO_TIME);

		/* at medium: incident 1 only (0 holds attack flows, 2 is low) */
		CHECK_EQ_INT(eval_false_incidents(&c, &L, 2), 1);
		CHECK_EQ_INT(eval_false_incidents(&c, &L, 3), 0);
		/* at low, incident 2 holds an attack flow and its host is named */
		CHECK_EQ_INT(eval_false_incidents(&c, &L, 1), 1);
		CHECK_NEAR(eval_capture_seconds(&c), 1800, 0);
	}
	eval_labels_release(&L);
	unlink(path);
	return check_exit();
}
