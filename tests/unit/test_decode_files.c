/* test_decode_files.c - frames crafted with scapy (tests/data/decode/,
 * made by gen_inputs.py) read through libpcap, and compared with what
 * scapy itself says they hold: an oracle independent of our decoder. */
#include "check.h"
#include "decode/decode.h"

#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINKS 8

struct open_file {
	char link[16];
	pcap_t *p;
};

static struct open_file files[MAX_LINKS];

static pcap_t *file_for(const char *dir, const char *link)
{
	char path[2048], ebuf[PCAP_ERRBUF_SIZE];
	int i;

	for (i = 0; i < MAX_LINKS && files[i].p; i++)
		if (!strcmp(files[i].link, link))
			return files[i].p;
	if (i == MAX_LINKS)
		return NULL;
	snprintf(path, sizeof path, "%s/crafted-%s.pcap", dir, link);
	files[i].p = pcap_open_offline(path, ebuf);
	if (!files[i].p) {
		fprintf(stderr, "cannot open '%s': %s\n", path, ebuf);
		return NULL;
	}
	snprintf(files[i].link, sizeof files[i].link, "%s", link);
	return files[i].p;
}

int main(void)
{
	const char *src = getenv("NAD_SOURCE");
	char dir[1024], path[1100], line[1024];
	struct dec_stats st = { 0 };
	int rows = 0;
	FILE *tsv;

	snprintf(dir, sizeof dir, "%s/tests/data/decode", src ? src : ".");
	snprintf(path, sizeof path, "%s/crafted.tsv", dir);
	tsv = fopen(path, "r");
	if (!tsv) {
		fprintf(stderr, "cannot open '%s'\n", path);
		return 1;
	}
	while (fgets(line, sizeof line, tsv)) {
		char link[16], name[64], qname[300];
		unsigned l3, proto, sport, dport, flags, vlan, icmp_id, frag, plen;
		struct pcap_pkthdr *h;
		const u_char *data;
		struct dec_packet pkt;
		pcap_t *p;

		if (line[0] == '#')
			continue;
		if (sscanf(line, "%15s %63s %u %u %u %u %u %u %u %u %u %299s", link, name, &l3, &proto, &sport,
			   &dport, &flags, &vlan, &icmp_id, &frag, &plen, qname) != 12) {
			fprintf(stderr, "bad line in '%s': %s", path, line);
			check_failures++;
			continue;
		}
		p = file_for(dir, link);
		if (!p || pcap_next_ex(p, &h, &data) != 1) {
			fprintf(stderr, "%s: no frame\n", name);
			check_failures++;
			continue;
		}
		rows++;
		enum dec_reason r = dec_decode(pcap_datalink(p), data, h->caplen, h->len, 0, &pkt, &st);
		int before = check_failures;
		CHECK_EQ_INT(r, DEC_OK);
		CHECK_EQ_INT(pkt.l3, l3);
		if (l3 != DEC_L3_ARP) {
			CHECK_EQ_INT(pkt.ip_proto, proto);
			CHECK_EQ_INT(pkt.has_ports, proto == 6 || proto == 17 ? frag == 0 : 0);
			CHECK_EQ_INT(pkt.frag_offset, frag);
			CHECK_EQ_INT(pkt.l4_payload_len, plen);
		}
		if (pkt.has_ports) {
			CHECK_EQ_INT(pkt.sport, sport);
			CHECK_EQ_INT(pkt.dport, dport);
		}
		if (proto == 6 && !frag)
			CHECK_EQ_INT(pkt.tcp_flags, flags);
		CHECK_EQ_INT(pkt.vlan, vlan);
		CHECK_EQ_INT(pkt.icmp_id, icmp_id);
		if (strcmp(qname, "-")) {
			CHECK(pkt.dns.has_question);
			CHECK(strcmp(pkt.dns.qname, qname) == 0);
		} else {
			CHECK(!pkt.dns.has_question);
		}
		if (check_failures != before)
			fprintf(stderr, "  ... in frame '%s' (%s)\n", name, link);
	}
	fclose(tsv);
	for (int i = 0; i < MAX_LINKS && files[i].p; i++)
		pcap_close(files[i].p);
	CHECK(rows >= 20);
	CHECK_EQ_INT(st.frames, rows);
	CHECK_EQ_INT(st.by_reason[DEC_OK], rows);
	return check_exit();
}
