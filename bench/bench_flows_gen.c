/* bench_flows_gen.c - write a deterministic synthetic Ethernet capture with
 * many concurrent flows, for the flow-meter benchmark and the live check.
 *
 * The same options and seed always give a byte-identical file. The capture
 * holds `concurrent` flow slots; each slot runs one flow after another (a
 * new flow starts in a slot as soon as the previous one ended), so about
 * that many flows are open at any moment. Packets are emitted in rounds:
 * every round visits all slots once in a freshly shuffled order, so the gap
 * between two packets of one flow is at most two rounds of virtual time
 * (concurrent / rate seconds per round). That keeps every idle gap far below
 * any flow timeout, at the recorded speed and at any faster replay speed.
 *
 * Flow mix (share of new flows):
 *   60% TCP: SYN, SYN-ACK, ACK, request/response data with ACKs, FIN, FIN, ACK
 *   20% UDP DNS: one query to port 53 and its answer (real DNS encoding)
 *   12% UDP "QUIC-like" to port 443: 1200-1350-byte packets, then mixed sizes
 *    8% ICMP echo: request/reply pairs
 * A share of flows (default 20%) is IPv6. Addresses are private: clients in
 * 192.168.0.0/16 and fd42::/16, servers in 10.0.0.0/8 and fd10::/16.
 *
 * usage: bench_flows_gen -o FILE [-n packets] [-c concurrent] [-s seed]
 *                        [-r virtual_pps] [-6 percent_ipv6] [-S snaplen]
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GEN_FRAME_MAX 1514

enum gen_kind { GEN_TCP, GEN_DNS, GEN_QUIC, GEN_ICMP };

struct gen_flow {
	uint8_t kind;          /* enum gen_kind */
	bool v6;
	uint32_t sent;         /* packets emitted so far */
	uint32_t total;        /* packets this flow will have */
	uint32_t cli4, srv4;
	uint16_t cli6, srv6;   /* low bits of the IPv6 addresses */
	uint32_t srv6_hi;
	uint16_t sport, dport;
	uint32_t seq_c, seq_s; /* TCP sequence numbers of each side */
	uint16_t icmp_id;
	uint16_t dns_id;
	uint8_t dns_qlen;      /* first label length of the DNS name */
};

struct gen_stats {
	uint64_t packets, bytes_wire;
	uint64_t flows[4];
	uint64_t flows_v6;
};

/* xorshift64* seeded through splitmix64: fast, and identical on every host. */
static uint64_t rng_state;

static void rng_seed(uint64_t seed)
{
	uint64_t z = seed + 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	rng_state = (z ^ (z >> 31)) | 1;
}

static uint64_t rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

/* Uniform in [lo, hi]. */
static uint32_t rng_range(uint32_t lo, uint32_t hi)
{
	return lo + (uint32_t)(rng_next() % ((uint64_t)hi - lo + 1));
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }
static void putle32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Random bytes; payloads are windows into it. */
static uint8_t noise[4096];

static void flow_start(struct gen_flow *f, uint32_t slot, uint32_t v6_percent, struct gen_stats *st)
{
	uint32_t r = rng_range(0, 99);

	memset(f, 0, sizeof *f);
	f->kind = r < 60 ? GEN_TCP : r < 80 ? GEN_DNS : r < 92 ? GEN_QUIC : GEN_ICMP;
	f->v6 = rng_range(0, 99) < v6_percent;
	/* A home network: a few hundred clients, servers all over the place. */
	f->cli4 = 0xc0a80000u | ((slot % 1021) + 2);
	f->srv4 = 0x0a000000u | (uint32_t)(rng_next() & 0xffffff);
	f->cli6 = (uint16_t)((slot % 1021) + 2);
	f->srv6 = (uint16_t)rng_next();
	f->srv6_hi = (uint32_t)rng_next();
	f->sport = (uint16_t)rng_range(32768, 60999);
	f->seq_c = (uint32_t)rng_next();
	f->seq_s = (uint32_t)rng_next();
	switch (f->kind) {
	case GEN_TCP: {
		uint32_t shape = rng_range(0, 99);
		static const uint16_t ports[] = { 443, 443, 443, 80, 22, 993, 8080, 5222 };

		f->dport = ports[rng_range(0, 7)];
		/* 3 handshake + data + 3 closing packets; mostly short web flows,
		 * some longer ones, a few bulk transfers. */
		f->total = 6 + (shape < 55 ? rng_range(2, 12) : shape < 92 ? rng_range(12, 50)
									     : rng_range(50, 400));
		break;
	}
	case GEN_DNS:
		f->dport = 53;
		f->total = 2;
		f->dns_id = (uint16_t)rng_next();
		f->dns_qlen = (uint8_t)rng_range(3, 20);
		break;
	case GEN_QUIC:
		f->dport = 443;
		f->total = rng_range(6, 80);
		break;
	default:
		f->icmp_id = (uint16_t)rng_next();
		f->total = 2 * rng_range(1, 5);
		break;
	}
	st->flows[f->kind]++;
	st->flows_v6 += f->v6;
}

/* Fill a DNS message at p; returns its length. */
static size_t dns_write(uint8_t *p, const struct gen_flow *f, bool response)
{
	static const char *const tlds[] = { "com", "net", "org", "io", "de", "lan" };
	size_t n = 12;
	uint32_t h = f->dns_id * 2654435761u;

	put16(p, f->dns_id);
	put16(p + 2, response ? 0x8180 : 0x0100);
	put16(p + 4, 1);
	put16(p + 6, response ? 1 : 0);
	put16(p + 8, 0);
	put16(p + 10, 0);
	/* name: <label>.<tld> with a label made from the flow's id */
	p[n++] = f->dns_qlen;
	for (uint8_t i = 0; i < f->dns_qlen; i++) {
		h = h * 1103515245u + 12345u;
		p[n++] = (uint8_t)('a' + (h >> 16) % 26);
	}
	const char *tld = tlds[f->dns_id % 6];
	size_t tl = strlen(tld);
	p[n++] = (uint8_t)tl;
	memcpy(p + n, tld, tl);
	n += tl;
	p[n++] = 0;
	put16(p + n, f->v6 ? 28 : 1);
	put16(p + n + 2, 1);
	n += 4;
	if (response) {
		put16(p + n, 0xc00c);
		put16(p + n + 2, f->v6 ? 28 : 1);
		put16(p + n + 4, 1);
		put32(p + n + 6, 300);
		put16(p + n + 10, f->v6 ? 16 : 4);
		n += 12;
		memcpy(p + n, noise + (f->dns_id & 1023), f->v6 ? 16 : 4);
		n += f->v6 ? 16 : 4;
	}
	return n;
}

/* Build the flow's next packet into frame; returns the frame length. */
static size_t flow_packet(struct gen_flow *f, uint8_t *frame)
{
	uint32_t i = f->sent, n = f->total;
	bool fwd = true;
	uint8_t flags = 0;
	size_t l4hdr, payload = 0, ipoff = 14, iphdr = f->v6 ? 40 : 20;
	uint8_t proto;
	uint8_t *l4;

	/* Decide direction, flags and payload size. */
	switch (f->kind) {
	case GEN_TCP:
		proto = 6;
		l4hdr = (i < 2) ? 40 : 32; /* SYNs carry options; the rest timestamps */
		if (i == 0) {
			flags = 0x02;
		} else if (i == 1) {
			fwd = false;
			flags = 0x12;
		} else if (i == 2) {
			flags = 0x10;
		} else if (i == n - 3) {
			flags = 0x11;
		} else if (i == n - 2) {
			fwd = false;
			flags = 0x11;
		} else if (i == n - 1) {
			flags = 0x10;
		} else {
			/* data phase: a request, then responses with an ACK every third */
			uint32_t k = i - 3;
			flags = 0x10;
			if (k % 6 == 0) {
				payload = rng_range(80, 700);
				flags |= 0x08;
			} else if (k % 3 == 0) {
				payload = 0;
			} else {
				fwd = false;
				/* full segments fill a 1500-byte IP packet */
				uint32_t mss = 1500 - (uint32_t)iphdr - (uint32_t)l4hdr;
				payload = rng_range(0, 3) ? mss : rng_range(100, mss);
			}
		}
		break;
	case GEN_DNS:
		proto = 17;
		l4hdr = 8;
		fwd = i == 0;
		break;
	case GEN_QUIC:
		proto = 17;
		l4hdr = 8;
		fwd = (i % 3) != 1;
		payload = i < 2 ? rng_range(1200, 1350) : rng_range(0, 1) ? rng_range(30, 120) : rng_range(900, 1350);
		break;
	default:
		proto = f->v6 ? 58 : 1;
		l4hdr = 8;
		fwd = (i % 2) == 0;
		payload = 56;
		break;
	}

	/* Ethernet */
	uint8_t cmac[6] = { 0x02, 0x00, 0x00, 0x00, (uint8_t)(f->cli4 >> 8), (uint8_t)f->cli4 };
	uint8_t gmac[6] = { 0x02, 0x00, 0x00, 0xff, 0x00, 0x01 };
	memcpy(frame, fwd ? gmac : cmac, 6);
	memcpy(frame + 6, fwd ? cmac : gmac, 6);
	put16(frame + 12, f->v6 ? 0x86dd : 0x0800);

	l4 = frame + ipoff + iphdr;
	if (f->kind == GEN_DNS)
		payload = dns_write(l4 + l4hdr, f, !fwd);
	else
		memcpy(l4 + l4hdr, noise + (rng_next() & 2047), payload);

	size_t l4len = l4hdr + payload;
	uint8_t src[16], dst[16];
	size_t alen = f->v6 ? 16 : 4;
	uint8_t c[16] = { 0 }, s[16] = { 0 };
	if (f->v6) {
		c[0] = 0xfd; c[1] = 0x42;
		put16(c + 14, f->cli6);
		s[0] = 0xfd; s[1] = 0x10;
		put32(s + 8, f->srv6_hi);
		put16(s + 14, f->srv6);
	} else {
		put32(c, f->cli4);
		put32(s, f->srv4);
	}
	memcpy(src, fwd ? c : s, alen);
	memcpy(dst, fwd ? s : c, alen);

	/* IP header */
	uint8_t *ip = frame + ipoff;
	if (f->v6) {
		put32(ip, 0x60000000u);
		put16(ip + 4, (uint16_t)l4len);
		ip[6] = proto;
		ip[7] = 64;
		memcpy(ip + 8, src, 16);
		memcpy(ip + 24, dst, 16);
	} else {
		ip[0] = 0x45;
		ip[1] = 0;
		put16(ip + 2, (uint16_t)(20 + l4len));
		put16(ip + 4, (uint16_t)rng_next());
		put16(ip + 6, 0x4000); /* DF */
		ip[8] = 64;
		ip[9] = proto;
		put16(ip + 10, 0);
		memcpy(ip + 12, src, 4);
		memcpy(ip + 16, dst, 4);
		put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
	}

	/* Transport header */
	uint16_t cport = f->sport, sport = f->dport;
	switch (proto) {
	case 6: {
		uint32_t *myseq = fwd ? &f->seq_c : &f->seq_s;
		uint32_t peer = fwd ? f->seq_s : f->seq_c;
		put16(l4, fwd ? cport : sport);
		put16(l4 + 2, fwd ? sport : cport);
		put32(l4 + 4, *myseq);
		put32(l4 + 8, (flags & 0x10) ? peer : 0);
		l4[12] = (uint8_t)((l4hdr / 4) << 4);
		l4[13] = flags;
		put16(l4 + 14, fwd ? 64240 : 65160);
		put32(l4 + 16, 0); /* checksum + urgent pointer; checksum below */
		if (l4hdr == 40) {
			/* MSS, SACK permitted, timestamps, NOP, window scale */
			static const uint8_t opt[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1,
							 0, 0, 0, 0, 1, 3, 3, 7 };
			memcpy(l4 + 20, opt, 20);
		} else {
			static const uint8_t opt[12] = { 1, 1, 8, 10, 0, 0, 0, 2, 0, 0, 0, 1 };
			memcpy(l4 + 20, opt, 12);
		}
		*myseq += (uint32_t)payload + ((flags & 0x03) ? 1 : 0);
		break;
	}
	case 17:
		put16(l4, fwd ? cport : sport);
		put16(l4 + 2, fwd ? sport : cport);
		put16(l4 + 4, (uint16_t)l4len);
		put16(l4 + 6, 0);
		break;
	default:
		if (proto == 1)
			l4[0] = fwd ? 8 : 0;
		else
			l4[0] = fwd ? 128 : 129;
		l4[1] = 0;
		put16(l4 + 2, 0);
		put16(l4 + 4, f->icmp_id);
		put16(l4 + 6, (uint16_t)(i / 2 + 1));
		break;
	}

	/* Transport checksum over the pseudo-header (ICMPv4 has none). */
	uint32_t sum = 0;
	if (proto != 1) {
		uint8_t ph[8];
		sum = csum_add(sum, src, alen);
		sum = csum_add(sum, dst, alen);
		put16(ph, 0);
		put16(ph + 2, 0);
		put32(ph, (uint32_t)l4len);
		ph[4] = 0; ph[5] = 0; ph[6] = 0; ph[7] = proto;
		sum = csum_add(sum, ph, 8);
	}
	sum = csum_add(sum, l4, l4len);
	uint16_t ck = csum_fold(sum);
	if (proto == 17 && ck == 0)
		ck = 0xffff;
	put16(l4 + (proto == 6 ? 16 : proto == 17 ? 6 : 2), ck);

	f->sent++;
	return ipoff + iphdr + l4len;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_flows_gen -o FILE [-n packets] [-c concurrent] [-s seed]\n"
			"                       [-r virtual_pps] [-6 percent_ipv6] [-S snaplen]\n");
}

static int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *ret)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*ret = (uint32_t)v;
	return 0;
}

int main(int argc, char **argv)
{
	const char *out = NULL;
	uint32_t npackets = 2000000, nconc = 100000, seed = 1, rate = 100000, v6 = 20, snaplen = 0;
	struct gen_stats st = { 0 };
	int opt;

	while ((opt = getopt(argc, argv, "o:n:c:s:r:6:S:h")) != -1) {
		int bad = 0;
		switch (opt) {
		case 'o': out = optarg; break;
		case 'n': bad = parse_u32(optarg, 1, 1000000000u, &npackets); break;
		case 'c': bad = parse_u32(optarg, 1, 10000000u, &nconc); break;
		case 's': bad = parse_u32(optarg, 0, UINT32_MAX, &seed); break;
		case 'r': bad = parse_u32(optarg, 1, 100000000u, &rate); break;
		case '6': bad = parse_u32(optarg, 0, 100, &v6); break;
		case 'S': bad = parse_u32(optarg, 0, 65535, &snaplen); break;
		default: usage(); return 2;
		}
		if (bad) {
			fprintf(stderr, "bench_flows_gen: invalid value '%s' for -%c\n", optarg, opt);
			return 2;
		}
	}
	if (!out || optind != argc) {
		usage();
		return 2;
	}

	FILE *fp = fopen(out, "wb");
	if (!fp) {
		fprintf(stderr, "bench_flows_gen: cannot create '%s': %s\n", out, strerror(errno));
		return 1;
	}
	static char iobuf[1 << 20];
	setvbuf(fp, iobuf, _IOFBF, sizeof iobuf);

	struct gen_flow *flows = calloc(nconc, sizeof *flows);
	uint32_t *order = calloc(nconc, sizeof *order);
	if (!flows || !order) {
		fprintf(stderr, "bench_flows_gen: out of memory for %u flows\n", nconc);
		return 1;
	}

	rng_seed(seed);
	for (size_t k = 0; k < sizeof noise; k++)
		noise[k] = (uint8_t)rng_next();
	for (uint32_t k = 0; k < nconc; k++) {
		flow_start(&flows[k], k, v6, &st);
		order[k] = k;
	}

	/* pcap global header: microsecond timestamps, Ethernet. */
	uint8_t gh[24];
	putle32(gh, 0xa1b2c3d4u);
	gh[4] = 2; gh[5] = 0; gh[6] = 4; gh[7] = 0;
	putle32(gh + 8, 0);
	putle32(gh + 12, 0);
	putle32(gh + 16, snaplen ? snaplen : 65535);
	putle32(gh + 20, 1);
	fwrite(gh, 1, sizeof gh, fp);

	const uint64_t t0_us = 1700000000ULL * 1000000ULL;
	uint8_t frame[GEN_FRAME_MAX + 64];
	uint64_t emitted = 0;

	while (emitted < npackets) {
		/* a new round: shuffle the visiting order (Fisher-Yates) */
		for (uint32_t k = nconc - 1; k > 0; k--) {
			uint32_t j = rng_range(0, k), t = order[k];
			order[k] = order[j];
			order[j] = t;
		}
		for (uint32_t k = 0; k < nconc && emitted < npackets; k++) {
			struct gen_flow *f = &flows[order[k]];
			size_t len = flow_packet(f, frame);
			uint64_t ts = t0_us + emitted * 1000000ULL / rate;
			uint32_t cap = (snaplen && len > snaplen) ? snaplen : (uint32_t)len;
			uint8_t rh[16];

			putle32(rh, (uint32_t)(ts / 1000000));
			putle32(rh + 4, (uint32_t)(ts % 1000000));
			putle32(rh + 8, cap);
			putle32(rh + 12, (uint32_t)len);
			fwrite(rh, 1, sizeof rh, fp);
			fwrite(frame, 1, cap, fp);
			st.packets++;
			st.bytes_wire += len;
			emitted++;
			if (f->sent == f->total)
				flow_start(f, order[k], v6, &st);
		}
	}
	if (fflush(fp) != 0 || ferror(fp) || fclose(fp) != 0) {
		fprintf(stderr, "bench_flows_gen: cannot write '%s': %s\n", out, strerror(errno));
		return 1;
	}
	uint64_t started = st.flows[0] + st.flows[1] + st.flows[2] + st.flows[3];
	fprintf(stderr,
		"bench_flows_gen: wrote '%s': %llu packets, %llu wire bytes (mean %.0f), %u concurrent slots, "
		"%llu flows started (tcp %llu, dns %llu, quic %llu, icmp %llu; ipv6 %llu), "
		"%.3f s of virtual time at %u pps\n",
		out, (unsigned long long)st.packets, (unsigned long long)st.bytes_wire,
		(double)st.bytes_wire / (double)st.packets, nconc, (unsigned long long)started,
		(unsigned long long)st.flows[0], (unsigned long long)st.flows[1],
		(unsigned long long)st.flows[2], (unsigned long long)st.flows[3],
		(unsigned long long)st.flows_v6, (double)npackets / rate, rate);
	free(flows);
	free(order);
	return 0;
}
