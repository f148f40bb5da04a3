/* test_decode.c - the decoder on frames built byte by byte: every link
 * type, VLAN/QinQ/PPPoE, IPv4 options and fragments, IPv6 extension
 * chains, TCP/UDP/ICMP/ARP, DNS (compression, loops, long names, TCP),
 * HTTP requests (IP literals, other protocols' verbs, malformed lines),
 * and every good frame cut at every length (run under ASan in CI: the
 * decoder works on an exact-size heap copy, so any over-read is caught). */
#include "check.h"
#include "decode/decode.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- building frames ----------------------------------------------------
 * Headers are appended in wire order; length fields are written as 0 and
 * patched by the fix_* helpers once everything after them is in place. */
struct fb {
	uint8_t b[4096];
	size_t n;
};

static void fb_u8(struct fb *f, uint8_t v) { f->b[f->n++] = v; }
static void fb_be16(struct fb *f, uint16_t v) { fb_u8(f, (uint8_t)(v >> 8)); fb_u8(f, (uint8_t)v); }
static void fb_be32(struct fb *f, uint32_t v) { fb_be16(f, (uint16_t)(v >> 16)); fb_be16(f, (uint16_t)v); }
static void fb_le32(struct fb *f, uint32_t v)
{
	fb_u8(f, (uint8_t)v); fb_u8(f, (uint8_t)(v >> 8)); fb_u8(f, (uint8_t)(v >> 16)); fb_u8(f, (uint8_t)(v >> 24));
}
static void fb_bytes(struct fb *f, const void *p, size_t n) { memcpy(f->b + f->n, p, n); f->n += n; }
static void fb_zero(struct fb *f, size_t n) { memset(f->b + f->n, 0, n); f->n += n; }
static void fb_set16(struct fb *f, size_t off, uint16_t v) { f->b[off] = (uint8_t)(v >> 8); f->b[off + 1] = (uint8_t)v; }

static const uint8_t MAC_A[6] = { 0x02, 0, 0, 0, 0, 0xaa };
static const uint8_t MAC_B[6] = { 0x02, 0, 0, 0, 0, 0xbb };

static void fb_eth(struct fb *f, uint16_t type)
{
	fb_bytes(f, MAC_B, 6);
	fb_bytes(f, MAC_A, 6);
	fb_be16(f, type);
}

static void fb_vlan(struct fb *f, uint16_t tci, uint16_t next)
{
	fb_be16(f, tci);
	fb_be16(f, next);
}

/* IPv4 header from 10.0.0.1 to 10.0.0.2 with `optlen` bytes of options
 * copied from opts; returns the header's offset for fix_ipv4. */
static size_t fb_ipv4(struct fb *f, uint8_t proto, uint16_t frag, const uint8_t *opts, size_t optlen)
{
	size_t at = f->n;
	fb_u8(f, (uint8_t)(0x40 | ((20 + optlen) / 4)));
	fb_u8(f, 0x10);            /* TOS */
	fb_be16(f, 0);             /* total length: fix_ipv4 */
	fb_be16(f, 0x1234);        /* id */
	fb_be16(f, frag);
	fb_u8(f, 64);
	fb_u8(f, proto);
	fb_be16(f, 0);
	fb_be32(f, 0x0a000001);
	fb_be32(f, 0x0a000002);
	if (optlen)
		fb_bytes(f, opts, optlen);
	return at;
}
static void fix_ipv4(struct fb *f, size_t at) { fb_set16(f, at + 2, (uint16_t)(f->n - at)); }

static size_t fb_ipv6(struct fb *f, uint8_t nh)
{
	size_t at = f->n;
	fb_be32(f, 0x60000000 | (0x2e << 20) | 0x12345);
	fb_be16(f, 0);             /* payload length: fix_ipv6 */
	fb_u8(f, nh);
	fb_u8(f, 255);
	static const uint8_t s[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }, d[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
	fb_bytes(f, s, 16);
	fb_bytes(f, d, 16);
	return at;
}
static void fix_ipv6(struct fb *f, size_t at) { fb_set16(f, at + 4, (uint16_t)(f->n - at - 40)); }

/* A generic extension header of (hdrlen+1)*8 bytes. */
static void fb_ext(struct fb *f, uint8_t next, uint8_t hdrlen)
{
	fb_u8(f, next);
	fb_u8(f, hdrlen);
	fb_zero(f, (hdrlen + 1u) * 8u - 2);
}

static void fb_tcp(struct fb *f, uint16_t sport, uint16_t dport, uint8_t flags, const uint8_t *opts, size_t optlen)
{
	fb_be16(f, sport);
	fb_be16(f, dport);
	fb_be32(f, 1000);
	fb_be32(f, 2000);
	fb_u8(f, (uint8_t)(((20 + optlen) / 4) << 4));
	fb_u8(f, flags);
	fb_be16(f, 29200);
	fb_be32(f, 0);
	if (optlen)
		fb_bytes(f, opts, optlen);
}

static size_t fb_udp(struct fb *f, uint16_t sport, uint16_t dport)
{
	size_t at = f->n;
	fb_be16(f, sport);
	fb_be16(f, dport);
	fb_be16(f, 0);             /* length: fix_udp */
	fb_be16(f, 0);
	return at;
}
static void fix_udp(struct fb *f, size_t at) { fb_set16(f, at + 4, (uint16_t)(f->n - at)); }

/* A DNS header; the question is appended by the caller. */
static void fb_dns_hdr(struct fb *f, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an)
{
	fb_be16(f, id);
	fb_be16(f, flags);
	fb_be16(f, qd);
	fb_be16(f, an);
	fb_be16(f, 0);
	fb_be16(f, 0);
}

/* Append "www.example.com" style dotted text as labels, with the root. */
static void fb_name(struct fb *f, const char *dotted)
{
	while (*dotted) {
		const char *dot = strchr(dotted, '.');
		size_t len = dot ? (size_t)(dot - dotted) : strlen(dotted);
		fb_u8(f, (uint8_t)len);
		fb_bytes(f, dotted, len);
		dotted += len;
		if (*dotted == '.')
			dotted++;
	}
	fb_u8(f, 0);
}

/* ---- running the decoder ------------------------------------------------ */

static struct dec_stats g_stats;

/* Decode from an exact-size heap copy, so ASan sees any read past caplen. */
static enum dec_reason run(int lt, const uint8_t *b, size_t n, struct dec_packet *pkt)
{
	uint8_t *copy = malloc(n ? n : 1);
	enum dec_reason r;

	memcpy(copy, b, n);
	r = dec_decode(lt, n ? copy : NULL, (uint32_t)n, (uint32_t)n, 42, pkt, &g_stats);
	free(copy);
	return r;
}

/* The reason the decoder counted for this frame (the return value hides
 * the soft DNS reasons behind DEC_OK). */
static enum dec_reason counted(int lt, const uint8_t *b, size_t n, struct dec_packet *pkt)
{
	struct dec_stats before = g_stats;

	run(lt, b, n, pkt);
	for (int r = 0; r < DEC_REASON_MAX; r++)
		if (g_stats.by_reason[r] != before.by_reason[r])
			return (enum dec_reason)r;
	return DEC_REASON_MAX;
}

/* Cut a good frame at every length 0..n-1: each cut below cuts[i].upto
 * (checked in order) must count cuts[i].reason, and never read out of
 * bounds (ASan). At full length it must be DEC_OK. */
struct cut {
	size_t upto;
	enum dec_reason reason;
};

static void check_cuts(const char *what, int lt, const struct fb *f, const struct cut *cuts, size_t ncuts)
{
	struct dec_packet pkt;

	for (size_t len = 0; len <= f->n; len++) {
		enum dec_reason want = DEC_OK, got;

		for (size_t i = 0; i < ncuts; i++) {
			if (len < cuts[i].upto) {
				want = cuts[i].reason;
				break;
			}
		}
		got = counted(lt, f->b, len, &pkt);
		if (got != want) {
			fprintf(stderr, "%s cut at %zu: got %s, want %s\n", what, len, dec_reason_name(got),
				dec_reason_name(want));
			check_failures++;
		}
	}
}

#define CHECK_MAC(a, b) CHECK(memcmp((a), (b), 6) == 0)

/* ---- link layers -------------------------------------------------------- */

static const uint8_t SYN_OPTS[20] = {
	2, 4, 0x05, 0xb4,             /* MSS 1460 */
	4, 2,                         /* SACK permitted */
	8, 10, 0, 0, 0, 1, 0, 0, 0, 0, /* timestamps */
	1,                            /* NOP */
	3, 3, 7,                      /* window scale 7 */
};

/* Ethernet / IPv4 / TCP SYN with options and 5 bytes of data. */
static void build_eth_tcp(struct fb *f)
{
	size_t ip;

	f->n = 0;
	fb_eth(f, 0x0800);
	ip = fb_ipv4(f, 6, 0x4000, NULL, 0);
	fb_tcp(f, 40000, 443, DEC_TCP_SYN | DEC_TCP_ECE | DEC_TCP_CWR, SYN_OPTS, sizeof SYN_OPTS);
	fb_bytes(f, "hello", 5);
	fix_ipv4(f, ip);
}

static void test_ethernet_tcp(void)
{
	struct fb f;
	struct dec_packet p;

	build_eth_tcp(&f);
	CHECK_EQ_INT(run(DEC_LINK_ETHERNET, f.b, f.n, &p), DEC_OK);
	CHECK(p.has_mac);
	CHECK_MAC(p.src_mac, MAC_A);
	CHECK_MAC(p.dst_mac, MAC_B);
	CHECK_EQ_INT(p.ts_us, 42);
	CHECK_EQ_INT(p.caplen, f.n);
	CHECK_EQ_INT(p.l3, DEC_L3_IPV4);
	CHECK_EQ_INT(p.src.family, 4);
	CHECK(p.src.a[0] == 10 && p.src.a[3] == 1 && p.dst.a[3] == 2 && p.src.a[4] == 0);
	CHECK_EQ_INT(p.ttl, 64);
	CHECK_EQ_INT(p.ip_tos, 0x10);
	CHECK(p.ip_df);
	CHECK(!p.is_fragment);
	CHECK_EQ_INT(p.ip_len, 20 + 40 + 5);
	CHECK_EQ_INT(p.ip_hdr_len, 20);
	CHECK_EQ_INT(p.ip_proto, 6);
	CHECK(p.has_ports);
	CHECK_EQ_INT(p.sport, 40000);
	CHECK_EQ_INT(p.dport, 443);
	CHECK_EQ_INT(p.tcp_flags, DEC_TCP_SYN | DEC_TCP_ECE | DEC_TCP_CWR);
	CHECK_EQ_INT(p.tcp_seq, 1000);
	CHECK_EQ_INT(p.tcp_ack, 2000);
	CHECK_EQ_INT(p.tcp_window, 29200);
	CHECK_EQ_INT(p.tcp_hdr_len, 40);
	CHECK_EQ_INT(p.tcp_opts, DEC_TCPOPT_MSS | DEC_TCPOPT_SACKOK | DEC_TCPOPT_TS | DEC_TCPOPT_WSCALE);
	CHECK_EQ_INT(p.tcp_mss, 1460);
	CHECK_EQ_INT(p.tcp_wscale, 7);
	CHECK_EQ_INT(p.l4_payload_len, 5);
	CHECK(!p.dns.present);

	/* Every cut: link, then IPv4, then TCP (options included); the data
	 * may be cut by snaplen and the frame is still good. */
	const struct cut cuts[] = { { 14, DEC_TRUNC_LINK }, { 34, DEC_TRUNC_IPV4 }, { 74, DEC_TRUNC_TCP } };
	check_cuts("eth/ipv4/tcp", DEC_LINK_ETHERNET, &f, cuts, 3);

	/* Snaplen cut in the payload: lengths still come from the IP header. */
	CHECK_EQ_INT(run(DEC_LINK_ETHERNET, f.b, 76, &p), DEC_OK);
	CHECK_EQ_INT(p.l4_payload_len, 5);
	CHECK_EQ_INT(p.ip_len, 65);

	/* Ethernet padding after a short packet is not payload. */
	struct fb pad = f;
	fb_zero(&pad, 20);
	CHECK_EQ_INT(run(DEC_LINK_ETHERNET, pad.b, pad.n, &p), DEC_OK);
	CHECK_EQ_INT(p.l4_payload_len, 5);
}

static void test_vlan(void)
{
	struct fb f = { .n = 0 };
	struct dec_packet p;
	size_t ip;

	/* 802.1Q, PCP 5, VID 100 */
	fb_eth(&f, 0x8100);
	fb_vlan(&f, (5 << 13) | 100, 0x0800);
	ip = fb_ipv4(&f, 17, 0, NULL, 0);
	size_t u = fb_udp(&f, 1234, 123);
	fb_zero(&f, 48);
	fix_udp(&f, u);
	fix_ipv4(&f, ip);
	CHECK_EQ_INT(run(DEC_LINK_ETHERNET, f.b, f.n, &p), DEC_OK);
	CHECK_EQ_INT(p.vlan, 100);
	CHECK_EQ_INT(p.vlan_count, 1);
	CHECK_EQ_INT(p.dport, 123);
	CHECK_EQ_INT(p.l4_payload_len, 48);
	const struct cut cuts[] = { { 14, DEC_TRUNC_LINK }, { 18, DEC_TRUNC_VLAN }, { 38, DEC_TRUNC_IPV4 },
				    { 46, DEC_TRUNC_UDP } };
	check_cuts("vlan/udp", DEC_LINK_ETHERNET, &f, cuts, 4);

	/* QinQ: S-tag 200 outside, C-tag 300 inside; the outer one counts. */
	f.n = 0;
	fb_eth(&f, 0x88a8);
	fb_vlan(&f, 200, 0x8100);
	fb_vlan(&f, 300, 0x86dd);
	ip = fb_ipv6(&f, 17);
	u = fb_udp(&f, 5000, 6000);
	fix_udp(&f, u);
	fix_ipv6(&f, ip);
	CHECK_EQ_INT(run(DEC_LINK_ETHERNET, f.b, f.n, &p), DEC_OK);
	CHECK_EQ_INT(p.vlan, 200);
	CHECK_EQ_INT(p.vlan_count, 2);
	CHECK_EQ_INT(p.l3, DEC_L3_IPV6);
	CHECK_EQ_INT(p.sport, 5000);
	CHECK_EQ_INT(p.l4_payload_len, 0);

	/* The old 0x9100 S-tag is a tag too; five tags are too deep. */
	f.n = 0;
	fb_eth(&f, 0x9100);
	for (int i = 0; i < 5; i++)
		fb_vlan(&f, (uint16_t)(10 + i), 0x8100);
	fb_zero(&f, 40);
	CHECK_EQ_INT(run(DEC_LINK_ETHERNET, f.b, f.n, &p), DEC_VLAN_TOO_DEEP);
}

static void test_ethernet_other(void)
{
	struct fb f = { .n = 0 };
	struct dec_packet p;

	/* 802.3 with STP's LLC header: not IP, and not an error. */
	fb_eth(&f, 39);
	fb_u8(&f, 0x42);
	fb_u8(&f, 0x42);
	fb_u8(&f, 0x03);
	fb_zero(&f, 36);
	CHECK_EQ_INT(run(DEC_LINK_ETHERNET, f.b, f.n, &p), DEC_NOT_IP);
	CHECK(p.has_mac);

	/* 802.3 + SNAP carrying IPv4. */
	f.n = 0;
	fb_eth(&f, 100);
	static const uint8_t snap[] = { 0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00 };
	fb_bytes(&f, snap, sizeof snap);
	size_t ip = fb_ipv4(&f, 1, 0, NULL, 0);
	fb_u8(&f, 8);
	fb_u8(&f, 0);
	fb_be16(&f, 0);
	fb_be16(&f, 77);
	fb_be16(&f, 1);
	fix_ipv4(&f, ip);
	CHECK_EQ_INT(run(DEC_LINK_ETHERNET, f.b, f.n, &p), DEC_OK);
	CHECK(p.has_icmp);
	CHECK_EQ_INT(p.icmp_id, 77);

	/* LLDP */
	f.n = 0;
	fb_eth(&f, 0x88cc);
	fb_zero(&f, 30);
	CHECK_EQ_INT(run(DEC_LINK_ETHERNET, f.b, f.n, &p), DEC_NOT_IP);

	/* PPPoE session carrying IPv4 / UDP, and an LCP frame. */
	f.n = 0;
	fb_eth(&f, 0x8864);
	fb_u8(&f, 0x11);
	fb_u8(&f, 0);
	fb_be16(&f, 0x0042);
	fb_be16(&f, 30);
	fb_be16(&f, 0x0021);
	ip = fb_ipv4(&f, 17, 0, NULL, 0);
	size_t u = fb_udp(&f, 1, 2);
	fix_udp(&f, u);
	fix_ipv4(&f, ip);
	CHECK_EQ_INT(run(DEC_LINK_ETHERNET, f.b, f.n, &p), DEC_OK);
	CHECK_EQ_INT(p.dport, 2);
	const struct cut cuts[] = { { 22, DEC_TRUNC_LINK }, { 42, DEC_TRUNC_IPV4 }, { 50, DEC_TRUNC_UDP } };
	check_cuts("pppoe", DEC_LINK_ETHERNET, &f, cuts, 3);
	f.b[21] = 0x21; /* protocol 0xc021: LCP */
	f.b[20] = 0xc0;
	CHECK_EQ_INT(run(DEC_LINK_ETHERNET, f.b, f.n, &p), DEC_NOT_IP);

	/* Unknown link type. */
	CHECK_EQ_INT(run(147, f.b, f.n, &p), DEC_BAD_LINKTYPE);
	CHECK(!dec_link_supported(147));
}

static void test_sll(void)
{
	struct fb f = { .n = 0 };
	struct dec_packet p;

	/* SLL v1: outgoing (4), ARPHRD_ETHER, 6-byte address, IPv4 */
	fb_be16(&f, 4);
	fb_be16(&f, 1);
	fb_be16(&f, 6);
	fb_bytes(&f, MAC_A, 6);
	fb_zero(&f, 2);
	fb_be16(&f, 0x0800);
	size_t ip = fb_ipv4(&f, 6, 0, NULL, 0);
	fb_tcp(&f, 44404, 443, DEC_TCP_ACK, NULL, 0);
	fix_ipv4(&f, ip);
	CHECK(dec_link_supported(DEC_LINK_LINUX_SLL));
	CHECK_EQ_INT(run(DEC_LINK_LINUX_SLL, f.b, f.n, &p), DEC_OK);
	CHECK(!p.has_mac);
	CHECK_EQ_INT(p.sport, 44404);
	CHECK_EQ_INT(p.tcp_flags, DEC_TCP_ACK);
	const struct cut cuts[] = { { 16, DEC_TRUNC_LINK }, { 36, DEC_TRUNC_IPV4 }, { 56, DEC_TRUNC_TCP } };
	check_cuts("sll", DEC_LINK_LINUX_SLL, &f, cuts, 3);

	/* SLL v1 with a netlink protocol number: not IP. */
	f.b[14] = 0;
	f.b[15] = 0x10;
	CHECK_EQ_INT(run(DEC_LINK_LINUX_SLL, f.b, f.n, &p), DEC_NOT_IP);

	/* SLL v2: IPv6 / ICMPv6 echo request, id 0xbeef */
	f.n = 0;
	fb_be16(&f, 0x86dd);
	fb_be16(&f, 0);
	fb_be32(&f, 3);            /* ifindex */
	fb_be16(&f, 1);            /* ARPHRD_ETHER */
	fb_u8(&f, 0);              /* to us */
	fb_u8(&f, 6);
	fb_bytes(&f, MAC_B, 6);
	fb_zero(&f, 2);
	ip = fb_ipv6(&f, 58);
	fb_u8(&f, 128);
	fb_u8(&f, 0);
	fb_be16(&f, 0);
	fb_be16(&f, 0xbeef);
	fb_be16(&f, 9);
	fb_zero(&f, 16);
	fix_ipv6(&f, ip);
	CHECK_EQ_INT(run(DEC_LINK_LINUX_SLL2, f.b, f.n, &p), DEC_OK);
	CHECK_EQ_INT(p.l3, DEC_L3_IPV6);
	CHECK(p.has_icmp);
	CHECK_EQ_INT(p.icmp_type, 128);
	CHECK_EQ_INT(p.icmp_id, 0xbeef);
	CHECK_EQ_INT(p.ttl, 255);
	CHECK_EQ_INT(p.ip_tos, 0x2e);
	CHECK_EQ_INT(p.l4_payload_len, 16);
	CHECK_EQ_INT(p.ip_len, 40 + 24);
	CHECK(!p.has_ports);
	const struct cut cuts2[] = { { 20, DEC_TRUNC_LINK }, { 60, DEC_TRUNC_IPV6 }, { 68, DEC_TRUNC_ICMP } };
	check_cuts("sll2/icmpv6", DEC_LINK_LINUX_SLL2, &f, cuts2, 3);
}

static void build_raw_udp(struct fb *f)
{
	size_t ip, u;

	ip = fb_ipv4(f, 17, 0, NULL, 0);
	u = fb_udp(f, 7, 9);
	fb_zero(f, 3);
	fix_udp(f, u);
	fix_ipv4(f, ip);
}

static void test_loopback_raw(void)
{
	struct fb f;
	struct dec_packet p;
	/* DLT_NULL: host order (little-endian here), AF_INET = 2 */
	f.n = 0;
	fb_le32(&f, 2);
	build_raw_udp(&f);
	CHECK_EQ_INT(run(DEC_LINK_NULL, f.b, f.n, &p), DEC_OK);
	CHECK_EQ_INT(p.dport, 9);
	const struct cut cuts[] = { { 4, DEC_TRUNC_LINK }, { 24, DEC_TRUNC_IPV4 }, { 32, DEC_TRUNC_UDP } };
	check_cuts("null", DEC_LINK_NULL, &f, cuts, 3);
	/* DLT_NULL written big-endian, and DLT_LOOP both ways. */
	f.b[0] = 0; f.b[3] = 2;
	CHECK_EQ_INT(run(DEC_LINK_NULL, f.b, f.n, &p), DEC_OK);
	CHECK_EQ_INT(run(DEC_LINK_LOOP, f.b, f.n, &p), DEC_OK);
	/* AF_INET6 numbers of macOS (30), FreeBSD (28), OpenBSD (24), Linux (10) */
	const uint32_t afs[] = { 30, 28, 24, 10 };
	for (size_t i = 0; i < 4; i++) {
		f.n = 0;
		fb_le32(&f, afs[i]);
		size_t ip = fb_ipv6(&f, 59);
		fix_ipv6(&f, ip);
		CHECK_EQ_INT(run(DEC_LINK_NULL, f.b, f.n, &p), DEC_OK);
		CHECK_EQ_INT(p.l3, DEC_L3_IPV6);
		CHECK_EQ_INT(p.ip_proto, 59);
	}
	f.b[0] = 7; /* AF 7: not IP */
	CHECK_EQ_INT(run(DEC_LINK_NULL, f.b, f.n, &p), DEC_NOT_IP);

	/* Raw IP on every raw link type. */
	const int raws[] = { DEC_LINK_RAW, DEC_LINK_DLT_RAW12, DEC_LINK_DLT_RAW14, DEC_LINK_IPV4 };
	f.n = 0;
	build_raw_udp(&f);
	for (size_t i = 0; i < 4; i++) {
		CHECK(dec_link_supported(raws[i]));
		CHECK_EQ_INT(run(raws[i], f.b, f.n, &p), DEC_OK);
		CHECK_EQ_INT(p.l4_payload_len, 3);
		CHECK(!p.has_mac);
	}
	const struct cut rcuts[] = { { 1, DEC_TRUNC_LINK }, { 20, DEC_TRUNC_IPV4 }, { 28, DEC_TRUNC_UDP } };
	check_cuts("raw4", DEC_LINK_RAW, &f, rcuts, 3);
	f.b[0] = 0x55; /* version 5 */
	CHECK_EQ_INT(run(DEC_LINK_RAW, f.b, f.n, &p), DEC_BAD_IPV4_VERSION);
	CHECK_EQ_INT(run(DEC_LINK_IPV6, f.b, f.n, &p), DEC_BAD_IPV6_VERSION);

	f.n = 0;
	size_t ip = fb_ipv6(&f, 17);
	size_t u = fb_udp(&f, 7, 9);
	fix_udp(&f, u);
	fix_ipv6(&f, ip);
	CHECK_EQ_INT(run(DEC_LINK_RAW, f.b, f.n, &p), DEC_OK);
	CHECK_EQ_INT(p.l3, DEC_L3_IPV6);
	CHECK_EQ_INT(run(DEC_LINK_IPV6, f.b, f.n, &p), DEC_OK);
	CHECK_EQ_INT(run(DEC_LINK_IPV4, f.b, f.n, &p), DEC_BAD_IPV4_VERSION);
}

/* ---- IPv4 --------------------------------------------------------------- */

static void test_ipv4_options_and_errors(void)
{
	struct fb f = { .n = 0 };
	struct dec_packet p;
	/* Router alert (4 bytes), record route with room for 2 hops (11),
	 * NOP, EOL: 16 bytes of options, IHL 9. */
	static const uint8_t opts[16] = { 148, 4, 0, 0, 7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 1 };

	size_t ip = fb_ipv4(&f, 17, 0, opts, sizeof opts);
	size_t u = fb_udp(&f, 1, 2);
	fix_udp(&f, u);
	fix_ipv4(&f, ip);
	CHECK_EQ_INT(run(DEC_LINK_RAW, f.b, f.n, &p), DEC_OK);
	CHECK_EQ_INT(p.ip_hdr_len, 36);
	CHECK_EQ_INT(p.ip_opts, DEC_IPOPT_RA | DEC_IPOPT_RR);
	CHECK_EQ_INT(p.dport, 2);
	const struct cut cuts[] = { { 1, DEC_TRUNC_LINK }, { 36, DEC_TRUNC_IPV4 }, { 44, DEC_TRUNC_UDP } };
	check_cuts("ipv4 options", DEC_LINK_RAW, &f, cuts, 3);

	/* An option whose length runs past the header: flagged, packet kept. */
	struct fb g = f;
	g.b[20 + 4 + 1] = 40;
	CHECK_EQ_INT(run(DEC_LINK_RAW, g.b, g.n, &p), DEC_OK);
	CHECK(p.ip_opts & DEC_IPOPT_BAD);
	CHECK(p.ip_opts & DEC_IPOPT_RA);
	g.b[20 + 4 + 1] = 1; /* length below 2 */
	CHECK_EQ_INT(run(DEC_LINK_RAW, g.b, g.n, &p), DEC_OK);
	CHECK(p.ip_opts & DEC_IPOPT_BAD);
	/* Loose source route */
	g = f;
	g.b[20 + 4] = 131;
	CHECK_EQ_INT(run(DEC_LINK_RAW, g.b, g.n, &p), DEC_OK);
	CHECK_EQ_INT(p.ip_opts, DEC_IPOPT_RA | DEC_IPOPT_SRCROUTE);

	/* IHL below 5 */
	g = f;
	g.b[0] = 0x44;
	CHECK_EQ_INT(run(DEC_LINK_RAW, g.b, g.n, &p), DEC_BAD_IPV4_HDRLEN);
	CHECK_EQ_INT(run(DEC_LINK_RAW, g.b, 1, &p), DEC_BAD_IPV4_HDRLEN);
	/* Total length below the header length */
	g = f;
	fb_set16(&g, 2, 30);
	CHECK_EQ_INT(run(DEC_LINK_RAW, g.b, g.n, &p), DEC_BAD_IPV4_TOTLEN);
	/* Total length larger than captured: snaplen, fine; UDP says 8, the IP
	 * length says 1000 - 36 = 964: the UDP length is inside, so it is good,
	 * and l4_payload_len follows the IP header. */
	g = f;
	fb_set16(&g, 2, 1000);
	CHECK_EQ_INT(run(DEC_LINK_RAW, g.b, g.n, &p), DEC_OK);
	CHECK_EQ_INT(p.ip_len, 1000);
	CHECK_EQ_INT(p.l4_payload_len, 1000 - 36 - 8);
	/* Total length exactly the header: no room for UDP. */
	g = f;
	fb_set16(&g, 2, 36);
	CHECK_EQ_INT(run(DEC_LINK_RAW, g.b, g.n, &p), DEC_BAD_UDP_LEN);
	/* UDP length below 8, and above what IP carries */
	g = f;
	fb_set16(&g, 36 + 4, 7);
	CHECK_EQ_INT(run(DEC_LINK_RAW, g.b, g.n, &p), DEC_BAD_UDP_LEN);
	fb_set16(&g, 36 + 4, 9);
	CHECK_EQ_INT(run(DEC_LINK_RAW, g.b, g.n, &p), DEC_BAD_UDP_LEN);
	/* An unknown transport is a flow without ports. */
	g = f;
	g.b[9] = 47; /* GRE */
	CHECK_EQ_INT(run(DEC_LINK_RAW, g.b, g.n, &p), DEC_OK);
	CHECK(!p.has_ports);
	CHECK_EQ_INT(p.ip_proto, 47);
	CHECK_EQ_INT(p.l4_payload_len, 8);
}

static void test_ipv4_fragments(void)
{
	struct fb f = { .n = 0 };
	struct dec_packet p;

	/* First fragment: MF, offset 0. UDP says 1208 but only 100 here. */
	size_t ip = fb_ipv4(&f, 17, 0x2000, NULL, 0);
	size_t u = fb_udp(&f, 5353, 5353);
	fb_zero(&f, 92);
	fix_ipv4(&f, ip);
	fb_set16(&f, u + 4, 1208);
	CHECK_EQ_INT(run(DEC_LINK_RAW, f.b, f.n, &p), DEC_OK);
	CHECK(p.is_fragment);
	CHECK(p.more_fragments);
	CHECK_EQ_INT(p.frag_offset, 0);
	CHECK_EQ_INT(p.frag_id, 0x1234);
	CHECK(p.has_ports);
	CHECK_EQ_INT(p.sport, 5353);
	CHECK_EQ_INT(p.l4_payload_len, 92);

	/* Later fragment: offset 1480, last (MF clear): no ports, payload is
	 * all of the fragment. The bytes that look like a UDP header are not. */
	fb_set16(&f, 6, 185);
	CHECK_EQ_INT(run(DEC_LINK_RAW, f.b, f.n, &p), DEC_OK);
	CHECK(p.is_fragment);
	CHECK(!p.more_fragments);
	CHECK_EQ_INT(p.frag_offset, 1480);
	CHECK(!p.has_ports);
	CHECK(!p.dns.present);
	CHECK_EQ_INT(p.ip_proto, 17);
	CHECK_EQ_INT(p.l4_payload_len, 100);
	/* ... even when it is too short to hold a UDP header. */
	struct fb g = { .n = 0 };
	ip = fb_ipv4(&g, 6, 0x2000 | 3, NULL, 0);
	fb_zero(&g, 4);
	fix_ipv4(&g, ip);
	CHECK_EQ_INT(run(DEC_LINK_RAW, g.b, g.n, &p), DEC_OK);
	CHECK(!p.has_ports);
	CHECK_EQ_INT(p.frag_offset, 24);
	CHECK_EQ_INT(p.l4_payload_len, 4);
	/* A tiny first fragment (RFC 1858) cannot hold the TCP header. */
	fb_set16(&g, 6, 0x2000);
	CHECK_EQ_INT(run(DEC_LINK_RAW, g.b, g.n, &p), DEC_BAD_TCP_HDRLEN);
}

/* ---- IPv6 --------------------------------------------------------------- */

static void test_ipv6_ext_chain(void)
{
	struct fb f = { .n = 0 };
	struct dec_packet p;

	/* HBH (8) -> dst opts (16) -> routing (24) -> fragment (8, first,
	 * more) -> AH (16) -> TCP */
	size_t ip = fb_ipv6(&f, 0);
	fb_ext(&f, 60, 0);
	fb_ext(&f, 43, 1);
	fb_ext(&f, 44, 2);
	fb_u8(&f, 51);
	fb_u8(&f, 0);
	fb_be16(&f, 0x0001);       /* offset 0, M */
	fb_be32(&f, 0xcafef00d);
	fb_u8(&f, 6);
	fb_u8(&f, 2);              /* (2 + 2) * 4 = 16 bytes */
	fb_zero(&f, 14);
	fb_tcp(&f, 22, 50000, DEC_TCP_ACK | DEC_TCP_PSH, NULL, 0);
	fb_zero(&f, 10);
	fix_ipv6(&f, ip);
	CHECK_EQ_INT(run(DEC_LINK_IPV6, f.b, f.n, &p), DEC_OK);
	CHECK_EQ_INT(p.ip6_ext_count, 5);
	CHECK_EQ_INT(p.ip6_exts, DEC_IP6EXT_HBH | DEC_IP6EXT_DSTOPTS | DEC_IP6EXT_ROUTING | DEC_IP6EXT_FRAG | DEC_IP6EXT_AH);
	CHECK_EQ_INT(p.ip_hdr_len, 40 + 8 + 16 + 24 + 8 + 16);
	CHECK_EQ_INT(p.ip_proto, 6);
	CHECK(p.is_fragment);
	CHECK(p.more_fragments);
	CHECK_EQ_INT(p.frag_id, 0xcafef00d);
	CHECK(p.has_ports);
	CHECK_EQ_INT(p.sport, 22);
	CHECK_EQ_INT(p.l4_payload_len, 10);
	CHECK_EQ_INT(p.ip_len, f.n);
	const struct cut cuts[] = { { 1, DEC_TRUNC_LINK }, { 40, DEC_TRUNC_IPV6 }, { 112, DEC_TRUNC_IPV6_EXT },
				    { 132, DEC_TRUNC_TCP } };
	check_cuts("ipv6 ext chain", DEC_LINK_IPV6, &f, cuts, 4);

	/* Payload length ending inside the routing header. */
	struct fb g = f;
	fb_set16(&g, 4, 30);
	CHECK_EQ_INT(run(DEC_LINK_IPV6, g.b, g.n, &p), DEC_BAD_IPV6_EXT);
	fb_set16(&g, 4, 0);
	CHECK_EQ_INT(run(DEC_LINK_IPV6, g.b, g.n, &p), DEC_BAD_IPV6_EXT);

	/* Later fragment: offset 1232, stop at the fragment header. */
	g = f;
	fb_set16(&g, 40 + 8 + 16 + 24 + 2, 1232 | 1);
	CHECK_EQ_INT(run(DEC_LINK_IPV6, g.b, g.n, &p), DEC_OK);
	CHECK(!p.has_ports);
	CHECK_EQ_INT(p.frag_offset, 1232);
	CHECK_EQ_INT(p.ip_proto, 51);
	CHECK_EQ_INT(p.ip6_ext_count, 4);
	CHECK_EQ_INT(p.l4_payload_len, 16 + 20 + 10);

	/* Atomic fragment (offset 0, no M): a whole packet. */
	g = f;
	fb_set16(&g, 40 + 8 + 16 + 24 + 2, 0);
	CHECK_EQ_INT(run(DEC_LINK_IPV6, g.b, g.n, &p), DEC_OK);
	CHECK(!p.is_fragment);
	CHECK(p.has_ports);

	/* Nine destination options headers: too deep. Eight are fine. */
	for (int n = 8; n <= 9; n++) {
		g.n = 0;
		ip = fb_ipv6(&g, 60);
		for (int i = 0; i < n; i++)
			fb_ext(&g, i == n - 1 ? 59 : 60, 0);
		fix_ipv6(&g, ip);
		CHECK_EQ_INT(run(DEC_LINK_IPV6, g.b, g.n, &p), n == 8 ? DEC_OK : DEC_IPV6_EXT_TOO_DEEP);
	}
	CHECK_EQ_INT(p.ip6_ext_count, 8);

	/* ESP ends the chain: a flow without ports. */
	g.n = 0;
	ip = fb_ipv6(&g, 0);
	fb_ext(&g, 50, 0);
	fb_zero(&g, 40);
	fix_ipv6(&g, ip);
	CHECK_EQ_INT(run(DEC_LINK_IPV6, g.b, g.n, &p), DEC_OK);
	CHECK_EQ_INT(p.ip_proto, 50);
	CHECK(p.ip6_exts & DEC_IP6EXT_ESP);
	CHECK(!p.has_ports);
	CHECK_EQ_INT(p.l4_payload_len, 40);
}

/* ---- transports ---------------------------------------------------------- */

static void test_tcp_errors(void)
{
	struct fb f;
	struct dec_packet p;

	build_eth_tcp(&f);
	struct fb g = f;
	g.b[14 + 20 + 12] = 0x40; /* data offset 4 */
	CHECK_EQ_INT(run(DEC_LINK_ETHERNET, g.b, g.n, &p), DEC_BAD_TCP_HDRLEN);
	g.b[14 + 20 + 12] = 0xf0; /* 60 bytes: more than the IP payload (45) */
	CHECK_EQ_INT(run(DEC_LINK_ETHERNET, g.b, g.n, &p), DEC_BAD_TCP_HDRLEN);

	/* Malformed options (length 0) are flagged, the segment is kept. */
	g = f;
	g.b[14 + 20 + 20 + 1] = 0;
	CHECK_EQ_INT(run(DEC_LINK_ETHERNET, g.b, g.n, &p), DEC_OK);
	CHECK(p.tcp_opts & DEC_TCPOPT_BAD);
	/* A wrong MSS length */
	g = f;
	g.b[14 + 20 + 20 + 1] = 3;
	CHECK_EQ_INT(run(DEC_LINK_ETHERNET, g.b, g.n, &p), DEC_OK);
	CHECK(p.tcp_opts & DEC_TCPOPT_BAD);
	/* Unknown option kinds and SACK blocks */
	g = f;
	g.b[14 + 20 + 20] = 30;
	CHECK_EQ_INT(run(DEC_LINK_ETHERNET, g.b, g.n, &p), DEC_OK);
	CHECK(p.tcp_opts & DEC_TCPOPT_OTHER);
	CHECK(!(p.tcp_opts & DEC_TCPOPT_MSS));
}

static void test_icmp(void)
{
	struct fb f = { .n = 0 };
	struct dec_packet p;

	fb_eth(&f, 0x0800);
	size_t ip = fb_ipv4(&f, 1, 0, NULL, 0);
	fb_u8(&f, 3);              /* destination unreachable */
	fb_u8(&f, 3);              /* port */
	fb_be16(&f, 0);
	fb_be32(&f, 0x11112222);   /* unused: not an id */
	fb_zero(&f, 28);
	fix_ipv4(&f, ip);
	CHECK_EQ_INT(run(DEC_LINK_ETHERNET, f.b, f.n, &p), DEC_OK);
	CHECK(p.has_icmp);
	CHECK_EQ_INT(p.icmp_type, 3);
	CHECK_EQ_INT(p.icmp_code, 3);
	CHECK_EQ_INT(p.icmp_id, 0);
	CHECK_EQ_INT(p.l4_payload_len, 28);
	const struct cut cuts[] = { { 14, DEC_TRUNC_LINK }, { 34, DEC_TRUNC_IPV4 }, { 42, DEC_TRUNC_ICMP } };
	check_cuts("icmp", DEC_LINK_ETHERNET, &f, cuts, 3);
	/* IP payload shorter than 8 bytes */
	fb_set16(&f, 14 + 2, 20 + 4);
	CHECK_EQ_INT(run(DEC_LINK_ETHERNET, f.b, f.n, &p), DEC_BAD_ICMP);
	/* Echo reply id */
	fb_set16(&f, 14 + 2, 20 + 36);
	f.b[34] = 0;
	f.b[35] = 0;
	CHECK_EQ_INT(run(DEC_LINK_ETHERNET, f.b, f.n, &p), DEC_OK);
	CHECK_EQ_INT(p.icmp_id, 0x1111);
	/* ICMPv6 type 128 inside IPv4 proto 1 is not an echo: no id. */
	f.b[34] = 128;
	CHECK_EQ_INT(run(DEC_LINK_ETHERNET, f.b, f.n, &p), DEC_OK);
	CHECK_EQ_INT(p.icmp_id, 0);
}

static void test_arp(void)
{
	struct fb f = { .n = 0 };
	struct dec_packet p;
	static const uint8_t spa[4] = { 192, 168, 1, 10 }, tpa[4] = { 192, 168, 1, 1 };

	fb_eth(&f, 0x0806);
	fb_be16(&f, 1);
	fb_be16(&f, 0x0800);
	fb_u8(&f, 6);
	fb_u8(&f, 4);
	fb_be16(&f, 1);
	fb_bytes(&f, MAC_A, 6);
	fb_bytes(&f, spa, 4);
	fb_zero(&f, 6);
	fb_bytes(&f, tpa, 4);
	CHECK_EQ_INT(run(DEC_LINK_ETHERNET, f.b, f.n, &p), DEC_OK);
	CHECK_EQ_INT(p.l3, DEC_L3_ARP);
	CHECK_EQ_INT(p.arp.op, 1);
	CHECK_MAC(p.arp.sha, MAC_A);
	CHECK(memcmp(p.arp.spa, spa, 4) == 0);
	CHECK(memcmp(p.arp.tpa, tpa, 4) == 0);
	CHECK(!p.has_ports);
	const struct cut cuts[] = { { 14, DEC_TRUNC_LINK }, { 42, DEC_TRUNC_ARP } };
	check_cuts("arp", DEC_LINK_ETHERNET, &f, cuts, 2);
	/* With Ethernet padding */
	struct fb g = f;
	fb_zero(&g, 18);
	CHECK_EQ_INT(run(DEC_LINK_ETHERNET, g.b, g.n, &p), DEC_OK);
	/* Sizes that do not fit IPv4-over-Ethernet */
	g = f;
	g.b[14 + 4] = 8;
	CHECK_EQ_INT(run(DEC_LINK_ETHERNET, g.b, g.n, &p), DEC_BAD_ARP);
	g = f;
	fb_set16(&g, 14 + 2, 0x86dd);
	CHECK_EQ_INT(run(DEC_LINK_ETHERNET, g.b, g.n, &p), DEC_BAD_ARP);
}

/* ---- DNS ---------------------------------------------------------------- */

/* Ethernet / IPv4 / UDP to port `dport` carrying the DNS message in m. */
static void wrap_udp(struct fb *f, uint16_t sport, uint16_t dport, const struct fb *m)
{
	f->n = 0;
	fb_eth(f, 0x0800);
	size_t ip = fb_ipv4(f, 17, 0, NULL, 0);
	size_t u = fb_udp(f, sport, dport);
	fb_bytes(f, m->b, m->n);
	fix_udp(f, u);
	fix_ipv4(f, ip);
}

static double entropy_of(const char *s)
{
	unsigned hist[256] = { 0 }, n = 0;
	double h = 0;

	for (; *s; s++) {
		if (*s == '.')
			continue;
		hist[(unsigned char)tolower((unsigned char)*s)]++;
		n++;
	}
	for (int i = 0; i < 256; i++)
		if (hist[i])
			h -= (double)hist[i] / n * log2((double)hist[i] / n);
	return h;
}

static void test_dns_query(void)
{
	struct fb m = { .n = 0 }, f;
	struct dec_packet p;

	fb_dns_hdr(&m, 0xabcd, 0x0100, 1, 0); /* RD */
	fb_name(&m, "WwW.Example.com");
	fb_be16(&m, 1);
	fb_be16(&m, 1);
	wrap_udp(&f, 40000, 53, &m);
	CHECK_EQ_INT(run(DEC_LINK_ETHERNET, f.b, f.n, &p), DEC_OK);
	CHECK(p.dns.present);
	CHECK(!p.dns.is_response);
	CHECK_EQ_INT(p.dns.id, 0xabcd);
	CHECK_EQ_INT(p.dns.opcode, 0);
	CHECK_EQ_INT(p.dns.qdcount, 1);
	CHECK(p.dns.has_question);
	CHECK(strcmp(p.dns.qname, "WwW.Example.com") == 0);
	CHECK_EQ_INT(p.dns.qname_len, 15);
	CHECK_EQ_INT(p.dns.qname_labels, 3);
	CHECK_EQ_INT(p.dns.longest_label, 7);
	CHECK_EQ_INT(p.dns.qtype, 1);
	CHECK_EQ_INT(p.dns.qclass, 1);
	/* case-folded: the same as www.example.com */
	CHECK_NEAR(p.dns.label_entropy, entropy_of("www.example.com"), 1e-5);
	CHECK(p.dns.label_entropy > 2.9 && p.dns.label_entropy < 3.2);

	/* Cut at every length: inside the DNS message the packet is still
	 * good but DEC_TRUNC_DNS is counted. */
	size_t dns_end = f.n;
	const struct cut cuts[] = { { 14, DEC_TRUNC_LINK }, { 34, DEC_TRUNC_IPV4 }, { 42, DEC_TRUNC_UDP },
				    { dns_end, DEC_TRUNC_DNS } };
	check_cuts("dns query", DEC_LINK_ETHERNET, &f, cuts, 4);
	CHECK_EQ_INT(run(DEC_LINK_ETHERNET, f.b, 50, &p), DEC_OK);
	CHECK(!p.dns.present);
	CHECK(p.has_ports);

	/* A UDP length shorter than the IP payload ends the message early:
	 * the question no longer fits, so the DNS is malformed. */
	struct fb g = f;
	fb_set16(&g, 34 + 4, 8 + 20);
	CHECK_EQ_INT(counted(DEC_LINK_ETHERNET, g.b, g.n, &p), DEC_BAD_DNS);
	CHECK(!p.dns.present);

	/* mDNS on 5353 with the unicast-response bit in qclass. */
	g = m;
	g.b[g.n - 2] = 0x80;
	wrap_udp(&f, 5353, 5353, &g);
	CHECK_EQ_INT(run(DEC_LINK_ETHERNET, f.b, f.n, &p), DEC_OK);
	CHECK(p.dns.present);
	CHECK_EQ_INT(p.dns.qclass, 0x8001);

	/* Not a DNS port: no DNS. */
	wrap_udp(&f, 40000, 54, &m);
	CHECK_EQ_INT(run(DEC_LINK_ETHERNET, f.b, f.n, &p), DEC_OK);
	CHECK(!p.dns.present);

	/* An empty datagram to port 53 (a port scan) is not malformed DNS. */
	g.n = 0;
	wrap_udp(&f, 40000, 53, &g);
	CHECK_EQ_INT(counted(DEC_LINK_ETHERNET, f.b, f.n, &p), DEC_OK);
	CHECK(!p.dns.present);

	/* Root name; qdcount 0 (header only). */
	g.n = 0;
	fb_dns_hdr(&g, 1, 0, 1, 0);
	fb_u8(&g, 0);
	fb_be16(&g, 2);
	fb_be16(&g, 1);
	wrap_udp(&f, 40000, 53, &g);
	CHECK_EQ_INT(counted(DEC_LINK_ETHERNET, f.b, f.n, &p), DEC_OK);
	CHECK(p.dns.has_question);
	CHECK_EQ_INT(p.dns.qname_len, 0);
	CHECK_EQ_INT(p.dns.qname[0], 0);
	CHECK_EQ_INT(p.dns.qtype, 2);
	CHECK_EQ_INT(p.dns.label_entropy, 0);
	g.n = 0;
	fb_dns_hdr(&g, 1, 0x8000, 0, 0);
	wrap_udp(&f, 53, 40000, &g);
	CHECK_EQ_INT(counted(DEC_LINK_ETHERNET, f.b, f.n, &p), DEC_OK);
	CHECK(p.dns.present);
	CHECK(!p.dns.has_question);
}

static void test_dns_response_compression(void)
{
	struct fb m = { .n = 0 }, f;
	struct dec_packet p;

	/* NXDOMAIN response, AA; the question is "mail" + a pointer to
	 * "example.org" which sits later, in the answer's name (a forward
	 * pointer, as masscan sends: followed). */
	fb_dns_hdr(&m, 7, 0x8403, 1, 1);
	fb_u8(&m, 4);
	fb_bytes(&m, "mail", 4);
	size_t ptr = m.n;
	fb_be16(&m, 0);            /* pointer, patched below */
	fb_be16(&m, 15);           /* MX */
	fb_be16(&m, 1);
	size_t target = m.n;
	fb_name(&m, "example.org");
	fb_be16(&m, 15);
	fb_be16(&m, 1);
	fb_be32(&m, 300);
	fb_be16(&m, 0);
	fb_set16(&m, ptr, (uint16_t)(0xc000 | target));
	wrap_udp(&f, 53, 40000, &m);
	CHECK_EQ_INT(counted(DEC_LINK_ETHERNET, f.b, f.n, &p), DEC_OK);
	CHECK(p.dns.is_response);
	CHECK_EQ_INT(p.dns.rcode, 3);
	CHECK_EQ_INT(p.dns.ancount, 1);
	CHECK(strcmp(p.dns.qname, "mail.example.org") == 0);
	CHECK_EQ_INT(p.dns.qname_labels, 3);
	CHECK_EQ_INT(p.dns.qtype, 15);
	CHECK_NEAR(p.dns.label_entropy, entropy_of("mail.example.org"), 1e-5);

	/* A backward pointer: the question name points at itself-so-far via a
	 * second name... simplest real case: "www" + pointer to offset 12+4,
	 * which is the pointer itself: a loop. */
	struct fb g = m;
	fb_set16(&g, ptr, (uint16_t)(0xc000 | ptr));
	wrap_udp(&f, 53, 40000, &g);
	CHECK_EQ_INT(counted(DEC_LINK_ETHERNET, f.b, f.n, &p), DEC_BAD_DNS);
	CHECK(!p.dns.present);
	/* Two pointers pointing at each other. */
	g = m;
	fb_set16(&g, ptr, (uint16_t)(0xc000 | target));
	fb_set16(&g, target, (uint16_t)(0xc000 | ptr));
	wrap_udp(&f, 53, 40000, &g);
	CHECK_EQ_INT(counted(DEC_LINK_ETHERNET, f.b, f.n, &p), DEC_BAD_DNS);
	/* A loop through a label: "a" then a pointer back to "a". */
	g.n = 0;
	fb_dns_hdr(&g, 1, 0, 1, 0);
	fb_u8(&g, 1);
	fb_u8(&g, 'a');
	fb_be16(&g, 0xc000 | 12);
	wrap_udp(&f, 53, 40000, &g);
	CHECK_EQ_INT(counted(DEC_LINK_ETHERNET, f.b, f.n, &p), DEC_BAD_DNS);
	/* A pointer past the end of the message */
	g = m;
	fb_set16(&g, ptr, 0xc000 | 0x3fff);
	wrap_udp(&f, 53, 40000, &g);
	CHECK_EQ_INT(counted(DEC_LINK_ETHERNET, f.b, f.n, &p), DEC_BAD_DNS);
	/* Label types 0x40 and 0x80 */
	g = m;
	g.b[12] = 0x44;
	wrap_udp(&f, 53, 40000, &g);
	CHECK_EQ_INT(counted(DEC_LINK_ETHERNET, f.b, f.n, &p), DEC_BAD_DNS);
	g.b[12] = 0x84;
	wrap_udp(&f, 53, 40000, &g);
	CHECK_EQ_INT(counted(DEC_LINK_ETHERNET, f.b, f.n, &p), DEC_BAD_DNS);
}

static void test_dns_long_names(void)
{
	struct fb m, f;
	struct dec_packet p;
	char name[400];

	/* 63+1+63+1+63+1+61 = 253 characters: the longest legal name
	 * (255 bytes on the wire). One more character is too long. */
	for (int extra = 0; extra <= 1; extra++) {
		size_t n = 0;
		for (int l = 0; l < 4; l++) {
			int len = l < 3 ? 63 : 61 + extra;
			for (int i = 0; i < len; i++)
				name[n++] = (char)('a' + (i + l) % 26);
			name[n++] = '.';
		}
		name[n - 1] = '\0';
		m.n = 0;
		fb_dns_hdr(&m, 9, 0, 1, 0);
		fb_name(&m, name);
		fb_be16(&m, 16);
		fb_be16(&m, 1);
		wrap_udp(&f, 40000, 53, &m);
		enum dec_reason r = counted(DEC_LINK_ETHERNET, f.b, f.n, &p);
		if (!extra) {
			CHECK_EQ_INT(r, DEC_OK);
			CHECK_EQ_INT(p.dns.qname_len, 253);
			CHECK_EQ_INT(strlen(p.dns.qname), 253);
			CHECK_EQ_INT(p.dns.longest_label, 63);
			CHECK_EQ_INT(p.dns.qname_labels, 4);
			CHECK_EQ_INT(p.dns.qtype, 16);
		} else {
			CHECK_EQ_INT(r, DEC_BAD_DNS);
			CHECK(!p.dns.present);
		}
	}

	/* Too long through compression: 8 labels of 63 reached by pointers. */
	m.n = 0;
	fb_dns_hdr(&m, 9, 0, 1, 0);
	size_t start = m.n;
	for (int i = 0; i < 8; i++) {
		fb_u8(&m, 63);
		fb_zero(&m, 63);
		m.b[m.n - 1] = 'x';
	}
	fb_u8(&m, 0);
	(void)start;
	fb_be16(&m, 1);
	fb_be16(&m, 1);
	wrap_udp(&f, 40000, 53, &m);
	CHECK_EQ_INT(counted(DEC_LINK_ETHERNET, f.b, f.n, &p), DEC_BAD_DNS);

	/* Non-printable label bytes show as '?' but count for entropy. */
	m.n = 0;
	fb_dns_hdr(&m, 9, 0, 1, 0);
	static const uint8_t odd[] = { 3, 'a', 0x01, ' ', 0 };
	fb_bytes(&m, odd, sizeof odd);
	fb_be16(&m, 1);
	fb_be16(&m, 1);
	wrap_udp(&f, 40000, 53, &m);
	CHECK_EQ_INT(counted(DEC_LINK_ETHERNET, f.b, f.n, &p), DEC_OK);
	CHECK(strcmp(p.dns.qname, "a??") == 0);
	CHECK_NEAR(p.dns.label_entropy, log2(3.0), 1e-5);
}

static void test_dns_tcp(void)
{
	struct fb m = { .n = 0 }, f = { .n = 0 };
	struct dec_packet p;

	fb_dns_hdr(&m, 0x4242, 0x0100, 1, 0);
	fb_name(&m, "axfr.example.net");
	fb_be16(&m, 252);
	fb_be16(&m, 1);

	fb_eth(&f, 0x86dd);
	size_t ip = fb_ipv6(&f, 6);
	fb_tcp(&f, 50000, 53, DEC_TCP_ACK | DEC_TCP_PSH, NULL, 0);
	fb_be16(&f, (uint16_t)m.n);
	fb_bytes(&f, m.b, m.n);
	fix_ipv6(&f, ip);
	CHECK_EQ_INT(counted(DEC_LINK_ETHERNET, f.b, f.n, &p), DEC_OK);
	CHECK(p.dns.present);
	CHECK_EQ_INT(p.dns.id, 0x4242);
	CHECK(strcmp(p.dns.qname, "axfr.example.net") == 0);
	CHECK_EQ_INT(p.dns.qtype, 252);
	CHECK_EQ_INT(p.l4_payload_len, m.n + 2);
	const struct cut cuts[] = { { 14, DEC_TRUNC_LINK }, { 54, DEC_TRUNC_IPV6 }, { 74, DEC_TRUNC_TCP },
				    { f.n, DEC_TRUNC_DNS } };
	check_cuts("dns over tcp", DEC_LINK_ETHERNET, &f, cuts, 4);

	/* A segment holding only the start of a longer message: cut, not bad. */
	struct fb g = f;
	fb_set16(&g, 74, 1000);
	CHECK_EQ_INT(counted(DEC_LINK_ETHERNET, g.b, g.n, &p), DEC_OK);
	CHECK(p.dns.present);
	g.n = 80;
	fix_ipv6(&g, ip);
	CHECK_EQ_INT(counted(DEC_LINK_ETHERNET, g.b, g.n, &p), DEC_TRUNC_DNS);
	/* A length prefix shorter than the question: malformed. */
	g = f;
	fb_set16(&g, 74, 14);
	CHECK_EQ_INT(counted(DEC_LINK_ETHERNET, g.b, g.n, &p), DEC_BAD_DNS);
	/* The bare ACK of the handshake carries no DNS. */
	g = f;
	g.n = 74;
	fix_ipv6(&g, ip);
	CHECK_EQ_INT(counted(DEC_LINK_ETHERNET, g.b, g.n, &p), DEC_OK);
	CHECK(!p.dns.present);
}

/* ---- HTTP requests -------------------------------------------------------- */

/* Ethernet / IPv4 / TCP from 10.0.0.1:40000 to dport, payload `text`. */
static size_t build_http(struct fb *f, uint16_t dport, const char *text)
{
	size_t ip;

	f->n = 0;
	fb_eth(f, 0x0800);
	ip = fb_ipv4(f, 6, 0x4000, NULL, 0);
	fb_tcp(f, 40000, dport, DEC_TCP_ACK | DEC_TCP_PSH, NULL, 0);
	fb_bytes(f, text, strlen(text));
	fix_ipv4(f, ip);
	return ip;
}

/* The reason counted for a request, and the decoded packet. */
static enum dec_reason http_case(uint16_t dport, const char *text, struct dec_packet *p)
{
	struct fb f;

	build_http(&f, dport, text);
	return counted(DEC_LINK_ETHERNET, f.b, f.n, p);
}

static void test_http(void)
{
	struct dec_packet p;
	struct fb f;
	static const char trickbot[] = "POST /OK21pqJAtyyGBEo00sk HTTP/1.1\r\n"
				       "Content-Type: application/x-www-form-urlencoded\r\n"
				       "User-Agent: Mozilla/4.0 (compatible; MSIE 7.0)\r\n"
				       "Host: 82.118.225.196:7080\r\n\r\nbody";

	CHECK_EQ_INT(http_case(7080, trickbot, &p), DEC_OK);
	CHECK_EQ_INT(p.http.method, DEC_HTTP_POST);
	CHECK_EQ_INT(p.http.flags, DEC_HTTP_HOST | DEC_HTTP_HOST_IP | DEC_HTTP_HOST_PORT | DEC_HTTP_USER_AGENT |
					   DEC_HTTP_HEADERS_END);
	CHECK_EQ_INT(p.http.headers, 3);
	CHECK_EQ_INT(p.http.uri_len, 20);
	CHECK_EQ_INT(p.l4_payload_len, strlen(trickbot));

	/* a name, a query, bare LF line ends, a lower-case header name without space */
	CHECK_EQ_INT(http_case(80, "GET /a?b=1 HTTP/1.0\nhost:example.com\n\n", &p), DEC_OK);
	CHECK_EQ_INT(p.http.method, DEC_HTTP_GET);
	CHECK_EQ_INT(p.http.flags, DEC_HTTP_HOST | DEC_HTTP_QUERY | DEC_HTTP_HEADERS_END);
	/* IP literals: IPv6 in brackets; near misses are names */
	CHECK_EQ_INT(http_case(80, "GET / HTTP/1.1\r\nHost: [fe80::1]:8080\r\n\r\n", &p), DEC_OK);
	CHECK_EQ_INT(p.http.flags & (DEC_HTTP_HOST_IP | DEC_HTTP_HOST_PORT), DEC_HTTP_HOST_IP | DEC_HTTP_HOST_PORT);
	CHECK_EQ_INT(http_case(80, "GET / HTTP/1.1\r\nHost:  10.0.0.1 \r\n\r\n", &p), DEC_OK);
	CHECK_EQ_INT(p.http.flags & (DEC_HTTP_HOST_IP | DEC_HTTP_HOST_PORT), DEC_HTTP_HOST_IP);
	static const char *const names[] = { "1.2.3.256", "1.2.3", "1.2.3.4.example", "1.2.3.4a", "1..2.3",
					     "0001.2.3.4", "example.com:80", "", ":80" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char req[128];

		snprintf(req, sizeof req, "HEAD / HTTP/1.1\r\nHost: %s\r\n\r\n", names[i]);
		CHECK_EQ_INT(http_case(80, req, &p), DEC_OK);
		CHECK_EQ_INT(p.http.method, DEC_HTTP_HEAD);
		if (p.http.flags & DEC_HTTP_HOST_IP)
			fprintf(stderr, "Host '%s' taken for an IP literal\n", names[i]);
		CHECK(!(p.http.flags & DEC_HTTP_HOST_IP));
	}
	/* absolute form (to a proxy); an obs-fold continuation line is skipped */
	CHECK_EQ_INT(http_case(3128, "GET http://x/ HTTP/1.1\r\nX-A: 1\r\n  more\r\nHost: x\r\n\r\n", &p), DEC_OK);
	CHECK_EQ_INT(p.http.flags, DEC_HTTP_HOST | DEC_HTTP_NOT_ORIGIN_FORM | DEC_HTTP_HEADERS_END);
	CHECK_EQ_INT(p.http.headers, 2);
	/* headers that go on in the next segment: the request is still read */
	CHECK_EQ_INT(http_case(80, "PUT /x HTTP/1.1\r\nHost: 10.1.1.1\r\nCookie: abc", &p), DEC_OK);
	CHECK_EQ_INT(p.http.method, DEC_HTTP_PUT);
	CHECK_EQ_INT(p.http.flags, DEC_HTTP_HOST | DEC_HTTP_HOST_IP);

	/* not HTTP, and not malformed: other protocols, a response, a verb
	 * without a version (Redis inline), TLS, lower-case methods */
	static const char *const others[] = { "GET key\r\n", "HTTP/1.1 200 OK\r\n\r\n", "Hello\r\n",
					      "\x16\x03\x01\x02\x00", "get / HTTP/1.1\r\n\r\n", "GETX / HTTP/1.1\r\n",
					      "POST", "DELETE /x HTTP", "OPTIONS * FTP/1.0\r\n" };
	for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
		CHECK_EQ_INT(http_case(80, others[i], &p), DEC_OK);
		CHECK_EQ_INT(p.http.method, DEC_HTTP_NONE);
	}
	/* a request line that runs past a whole segment: not snaplen, not a request we read */
	CHECK_EQ_INT(http_case(80, "GET /very/long/target/continued/in/the/next/segment", &p), DEC_OK);
	CHECK_EQ_INT(p.http.method, DEC_HTTP_NONE);

	/* malformed: counted, the packet still used, no request */
	static const char *const bad[] = {
		"GET / HTTP/1.x\r\n\r\n",        /* version digits */
		"GET / HTTP/1.10\r\n\r\n",       /* version too long */
		"GET  / HTTP/1.1\r\n\r\n",       /* a space in the target */
		"GET HTTP/1.1\r\n\r\n",          /* no target */
		"GET /a\x01b HTTP/1.1\r\n\r\n", /* control byte in the target */
		"GET / HTTP/1.1\r\nHost : x\r\n\r\n", /* space before the colon */
		"GET / HTTP/1.1\r\nno colon here\r\n\r\n",
		"GET / HTTP/1.1\r\n: empty name\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (http_case(80, bad[i], &p) != DEC_BAD_HTTP)
			fprintf(stderr, "not bad_http: %s\n", bad[i]);
		CHECK_EQ_INT(http_case(80, bad[i], &p), DEC_BAD_HTTP);
		CHECK_EQ_INT(p.http.method, DEC_HTTP_NONE);
		CHECK_EQ_INT(p.l4_payload_len, strlen(bad[i]));
	}
	/* DNS ports keep DNS: HTTP text to port 53 is read as a DNS message
	 * whose length prefix ("GE") runs past the segment */
	CHECK_EQ_INT(http_case(53, "GET / HTTP/1.1\r\n\r\n", &p), DEC_TRUNC_DNS);
	CHECK_EQ_INT(p.http.method, DEC_HTTP_NONE);

	/* Cut at every length: inside the method, "GET" alone is not yet a
	 * request; from "GET " to the end of the request line it is cut by
	 * snaplen; after it, what was captured is read. */
	build_http(&f, 80, "GET /index.html HTTP/1.1\r\nHost: 10.0.0.2\r\n\r\n");
	/* "GET /index.html HTTP/1.1\r\n" is 26 bytes after the 54 of the headers */
	const struct cut cuts[] = { { 14, DEC_TRUNC_LINK }, { 34, DEC_TRUNC_IPV4 }, { 54, DEC_TRUNC_TCP },
				    { 58, DEC_OK }, { 54 + 26, DEC_TRUNC_HTTP } };
	check_cuts("http request", DEC_LINK_ETHERNET, &f, cuts, 5);
	CHECK_EQ_INT(run(DEC_LINK_ETHERNET, f.b, 54 + 26, &p), DEC_OK);
	CHECK_EQ_INT(p.http.method, DEC_HTTP_GET);
	CHECK_EQ_INT(p.http.flags, 0);

	/* a header block longer than the 2048 bytes looked at: the Host
	 * header after it is not seen, and that is not snaplen */
	{
		static char big[3000];
		size_t n = 0;

		n += (size_t)snprintf(big + n, sizeof big - n, "GET / HTTP/1.1\r\n");
		while (n < 2100)
			n += (size_t)snprintf(big + n, sizeof big - n, "X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
		snprintf(big + n, sizeof big - n, "Host: 10.0.0.2\r\n\r\n");
		CHECK_EQ_INT(http_case(80, big, &p), DEC_OK);
		CHECK_EQ_INT(p.http.method, DEC_HTTP_GET);
		CHECK(!(p.http.flags & DEC_HTTP_HOST));
		/* the 41-byte pad lines that end within 2048 bytes, after the 16 of the request line */
		CHECK_EQ_INT(p.http.headers, (2048 - 16) / 41);
	}
}

/* ---- reasons and counters ----------------------------------------------- */

static void test_reasons_and_stats(void)
{
	struct dec_stats st = { 0 };
	struct dec_packet p;
	static const uint8_t junk[3] = { 1, 2, 3 };

	for (int r = 0; r < DEC_REASON_MAX; r++) {
		const char *name = dec_reason_name((enum dec_reason)r);
		CHECK(name && strcmp(name, "unknown") != 0);
		for (int q = 0; q < r; q++)
			CHECK(strcmp(name, dec_reason_name((enum dec_reason)q)) != 0);
	}
	CHECK(strcmp(dec_reason_name(DEC_OK), "ok") == 0);
	CHECK(strcmp(dec_reason_name(DEC_REASON_MAX), "unknown") == 0);
	CHECK(strcmp(dec_reason_name((enum dec_reason)-1), "unknown") == 0);

	CHECK_EQ_INT(dec_decode(DEC_LINK_ETHERNET, junk, 3, 3, 0, &p, &st), DEC_TRUNC_LINK);
	CHECK_EQ_INT(dec_decode(DEC_LINK_ETHERNET, NULL, 0, 60, 0, &p, &st), DEC_TRUNC_LINK);
	CHECK_EQ_INT(dec_decode(9999, junk, 3, 3, 0, &p, &st), DEC_BAD_LINKTYPE);
	CHECK_EQ_INT(dec_decode(DEC_LINK_RAW, junk, 3, 3, 0, &p, NULL), DEC_BAD_IPV4_VERSION);
	CHECK_EQ_INT(st.frames, 3);
	CHECK_EQ_INT(st.by_reason[DEC_TRUNC_LINK], 2);
	CHECK_EQ_INT(st.by_reason[DEC_BAD_LINKTYPE], 1);
	CHECK_EQ_INT(p.linktype, DEC_LINK_RAW);

	/* Over the whole run: every frame counted exactly once. */
	uint64_t sum = 0;
	for (int r = 0; r < DEC_REASON_MAX; r++)
		sum += g_stats.by_reason[r];
	CHECK_EQ_INT(sum, g_stats.frames);
	CHECK(g_stats.frames > 1000);
}

int main(void)
{
	test_ethernet_tcp();
	test_vlan();
	test_ethernet_other();
	test_sll();
	test_loopback_raw();
	test_ipv4_options_and_errors();
	test_ipv4_fragments();
	test_ipv6_ext_chain();
	test_tcp_errors();
	test_icmp();
	test_arp();
	test_dns_query();
	test_dns_response_compression();
	test_dns_long_names();
	test_dns_tcp();
	test_http();
	test_reasons_and_stats();
	return check_exit();
}
