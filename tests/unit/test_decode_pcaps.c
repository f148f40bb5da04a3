/* test_decode_pcaps.c - every packet of every shared capture decodes
 * without a crash, the reason counters add up, and the captures we know
 * give the protocols we expect (DNS names, SLL, IPv6 extension headers). */
#include "check.h"
#include "decode/decode.h"

#include <dirent.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

struct file_result {
	struct dec_stats st;
	uint64_t dns, tcp, udp, icmp, arp, ipv6, frags, ext;
};

static int decode_file(const char *path, struct file_result *res)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
	struct pcap_pkthdr *h;
	const u_char *data;
	struct dec_packet pkt;
	int linktype, rc;

	memset(res, 0, sizeof *res);
	if (!p) {
		fprintf(stderr, "cannot open '%s': %s\n", path, ebuf);
		return -1;
	}
	linktype = pcap_datalink(p);
	CHECK(dec_link_supported(linktype));
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
		enum dec_reason r = dec_decode(linktype, data, h->caplen, h->len, ts, &pkt, &res->st);

		CHECK(pkt.ts_us == ts);
		if (r != DEC_OK)
			continue;
		CHECK(pkt.l3 == DEC_L3_IPV4 || pkt.l3 == DEC_L3_IPV6 || pkt.l3 == DEC_L3_ARP);
		if (pkt.dns.present) {
			res->dns++;
			CHECK(strlen(pkt.dns.qname) == pkt.dns.qname_len);
			CHECK(pkt.dns.label_entropy >= 0 && pkt.dns.label_entropy <= 8);
		}
		if (pkt.has_ports && pkt.ip_proto == 6)
			res->tcp++;
		if (pkt.has_ports && pkt.ip_proto == 17)
			res->udp++;
		if (pkt.has_icmp)
			res->icmp++;
		if (pkt.l3 == DEC_L3_ARP)
			res->arp++;
		if (pkt.l3 == DEC_L3_IPV6)
			res->ipv6++;
		if (pkt.is_fragment)
			res->frags++;
		if (pkt.ip6_ext_count)
			res->ext++;
		/* Later fragments never claim ports. */
		if (pkt.frag_offset)
			CHECK(!pkt.has_ports);
		CHECK(pkt.l4_payload_len <= pkt.ip_len);
	}
	CHECK(rc == -2 || rc == -1); /* end of file, or a truncated last record */
	pcap_close(p);
	return 0;
}

static const struct file_result *find(const char *name, char names[][128], struct file_result *res, int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return &res[i];
	return NULL;
}

#define MAX_FILES 128

int main(void)
{
	const char *shared = getenv("NAD_SHARED");
	static char names[MAX_FILES][128];
	static struct file_result res[MAX_FILES];
	const char *sub[] = { "benign", "attack" };
	int n = 0;

	if (!shared) {
		fprintf(stderr, "NAD_SHARED not set: skipping\n");
		return 0;
	}
	for (int s = 0; s < 2; s++) {
		char dir[1024];
		DIR *d;
		struct dirent *e;

		snprintf(dir, sizeof dir, "%s/data/pcaps/%s", shared, sub[s]);
		d = opendir(dir);
		if (!d) {
			fprintf(stderr, "no '%s': skipping\n", dir);
			continue;
		}
		while ((e = readdir(d)) && n < MAX_FILES) {
			char path[2048];

			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
			snprintf(names[n], sizeof names[n], "%s", e->d_name);
			if (decode_file(path, &res[n]) < 0) {
				check_failures++;
				continue;
			}
			uint64_t sum = 0;
			for (int r = 0; r < DEC_REASON_MAX; r++)
				sum += res[n].st.by_reason[r];
			CHECK_EQ_INT(sum, res[n].st.frames);
			CHECK(res[n].st.frames > 0);
			printf("%-45s frames %6llu ok %6llu tcp %6llu udp %5llu icmp %5llu arp %4llu v6 %5llu dns %5llu frag %4llu",
			       names[n], (unsigned long long)res[n].st.frames,
			       (unsigned long long)res[n].st.by_reason[DEC_OK], (unsigned long long)res[n].tcp,
			       (unsigned long long)res[n].udp, (unsigned long long)res[n].icmp,
			       (unsigned long long)res[n].arp, (unsigned long long)res[n].ipv6,
			       (unsigned long long)res[n].dns, (unsigned long long)res[n].frags);
			for (int r = 1; r < DEC_REASON_MAX; r++)
				if (res[n].st.by_reason[r])
					printf(" %s=%llu", dec_reason_name((enum dec_reason)r),
					       (unsigned long long)res[n].st.by_reason[r]);
			printf("\n");
			n++;
		}
		closedir(d);
	}

	/* Spot checks on captures whose content we know. */
	const struct file_result *f;
	if ((f = find("dmachard_iodine.pcap", names, res, n)))
		CHECK(f->dns > 0);
	if ((f = find("ndpi_dns2tcp_tunnel_sll.pcap", names, res, n)))
		CHECK(f->tcp > 0 && f->st.by_reason[DEC_OK] == f->st.frames - f->st.by_reason[DEC_NOT_IP]);
	if ((f = find("sgr_arp_scan.pcap", names, res, n)))
		CHECK(f->arp > 0);
	if ((f = find("sgr_icmp_ping_sweep.pcap", names, res, n)))
		CHECK(f->icmp > 0);
	if ((f = find("suricata_ipv6_exthdr_dos.pcap", names, res, n)))
		CHECK(f->ipv6 > 0 && f->ext > 0);
	if ((f = find("zeek_mdns.pcap", names, res, n)))
		CHECK(f->dns > 0);
	return check_exit();
}
