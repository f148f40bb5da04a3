/* test_feat_host.c - host context: decayed counters, distinct-peer sketches,
 * windows, and the bounded host table. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "features/feat_compute.h"
#include "features/host_context.h"

#define S 1000000ull

static const uint8_t host_a[4] = { 192, 168, 1, 10 };

static void peer(uint32_t i, uint8_t out[4])
{
	out[0] = 10;
	out[1] = (uint8_t)(i >> 16);
	out[2] = (uint8_t)(i >> 8);
	out[3] = (uint8_t)i;
}

/* The context of a TCP flow from src to dst:dport as of ts. */
static void ctx_proto(const struct feat_hosts *h, uint8_t proto, const uint8_t *src, const uint8_t *dst,
		      uint16_t dport, uint64_t ts, double f[FEAT_COUNT])
{
	struct feat_flow_id id = { .family = 4, .proto = proto, .src = src, .dst = dst, .dport = dport };

	feat_hosts_context(h, &id, ts, f);
}

static const uint8_t nowhere[4] = { 203, 0, 113, 1 };

static void ctx(const struct feat_hosts *h, const uint8_t *src, uint64_t ts, double f[FEAT_COUNT])
{
	ctx_proto(h, 6, src, nowhere, 9, ts, f);
}

static void test_rates_and_windows(void)
{
	struct feat_hosts h;
	double f[FEAT_COUNT];
	uint8_t p[4];

	CHECK_EQ_INT(feat_hosts_init(&h, 64), 0);
	peer(1, p);
	feat_hosts_flow_start(&h, 4, 6, host_a, p, 80, 100 * S);
	ctx(&h, host_a, 100 * S, f);
	CHECK_NEAR(f[FEAT_HOST_FLOW_RATE_10S], 0.1, 1e-12);         /* 1 flow / 10 s */
	CHECK_NEAR(f[FEAT_HOST_FLOW_RATE_300S], 1.0 / 300, 1e-12);
	CHECK_EQ_INT(f[FEAT_HOST_DST_ADDRS_10S], 1);
	CHECK_EQ_INT(f[FEAT_HOST_DST_PORTS_10S], 1);
	/* one time constant later the 10 s rate has fallen by e */
	ctx(&h, host_a, 110 * S, f);
	CHECK_NEAR(f[FEAT_HOST_FLOW_RATE_10S], 0.1 / M_E, 1e-12);
	/* the 10 s window forgets, the 300 s one does not (stamps are 0.1 s) */
	ctx(&h, host_a, 110 * S + 100000, f);
	CHECK_EQ_INT(f[FEAT_HOST_DST_ADDRS_10S], 0);
	CHECK_EQ_INT(f[FEAT_HOST_DST_ADDRS_300S], 1);
	ctx(&h, host_a, 401 * S, f);
	CHECK_EQ_INT(f[FEAT_HOST_DST_ADDRS_300S], 0);

	/* ended flows: bytes and the failed share */
	feat_hosts_flow_end(&h, 4, host_a, 1000, true, 401 * S);
	feat_hosts_flow_end(&h, 4, host_a, 3000, false, 401 * S);
	ctx(&h, host_a, 401 * S, f);
	CHECK_NEAR(f[FEAT_HOST_FAILED_RATIO_300S], 0.5, 1e-12);
	CHECK_NEAR(f[FEAT_HOST_BYTES_RATE_10S], 400, 1e-9);
	/* an unknown host has no context */
	ctx(&h, p, 401 * S, f);
	CHECK_EQ_INT(f[FEAT_HOST_FLOW_RATE_10S], 0);
	feat_hosts_release(&h);
}

/* Linear counting with 64 slots: close for tens of peers, a bounded
 * "very many" beyond that. */
static void test_sketch_accuracy(void)
{
	struct feat_hosts h;
	double f[FEAT_COUNT];
	uint8_t p[4];

	CHECK_EQ_INT(feat_hosts_init(&h, 64), 0);
	for (uint32_t i = 0; i < 20; i++) {
		peer(i, p);
		feat_hosts_flow_start(&h, 4, 6, host_a, p, (uint16_t)(1000 + i), S);
	}
	ctx(&h, host_a, S, f);
	CHECK_NEAR(f[FEAT_HOST_DST_ADDRS_10S], 20, 3);
	CHECK_NEAR(f[FEAT_HOST_DST_PORTS_10S], 20, 3);
	/* repeats do not count twice */
	for (uint32_t i = 0; i < 20; i++) {
		peer(i, p);
		feat_hosts_flow_start(&h, 4, 6, host_a, p, 1000, 2 * S);
	}
	ctx(&h, host_a, 2 * S, f);
	CHECK_NEAR(f[FEAT_HOST_DST_ADDRS_10S], 20, 3);
	/* a port scan saturates at a bounded large number */
	for (uint32_t i = 0; i < 5000; i++) {
		peer(1, p);
		feat_hosts_flow_start(&h, 4, 6, host_a, p, (uint16_t)i, 3 * S);
	}
	ctx(&h, host_a, 3 * S, f);
	/* all 64 slots used: 64 ln(128), the most the sketch can say */
	CHECK_EQ_INT(f[FEAT_HOST_DST_PORTS_10S], 311);
	CHECK_NEAR(f[FEAT_HOST_FLOW_RATE_10S], 5040 / 10.0, 60);
	feat_hosts_release(&h);
}

static void test_bounded_table(void)
{
	struct feat_hosts h;
	double f[FEAT_COUNT];
	uint8_t src[4], dst[4] = { 8, 8, 8, 8 };
	uint64_t n;

	CHECK_EQ_INT(feat_hosts_init(&h, 16), 0);
	n = (uint64_t)h.nsets * FEAT_HOST_WAYS;
	CHECK(n >= 16 && n < 64);
	for (uint32_t i = 0; i < 1000; i++) {
		peer(i, src);
		feat_hosts_flow_start(&h, 4, 6, src, dst, 53, (uint64_t)i * S);
	}
	/* the responder takes a way too, and keeps it: it is touched by every flow */
	CHECK_EQ_INT(h.replaced, 1000 + 1 - n);
	/* the most recent host is still there, the first one is gone */
	peer(999, src);
	ctx(&h, src, 999 * S, f);
	CHECK_NEAR(f[FEAT_HOST_FLOW_RATE_10S], 0.1, 1e-12);
	peer(0, src);
	ctx(&h, src, 999 * S, f);
	CHECK_EQ_INT(f[FEAT_HOST_FLOW_RATE_10S], 0);
	feat_hosts_release(&h);
}

/* The responder's view: distinct initiators and flows received; the pair
 * sketch: repeated flows to one service; ICMP identifiers are not ports. */
static void test_responder_and_pairs(void)
{
	struct feat_hosts h;
	double f[FEAT_COUNT];
	uint8_t src[4], victim[4] = { 192, 168, 1, 1 };

	CHECK_EQ_INT(feat_hosts_init(&h, 256), 0);
	/* 30 sources, one SYN each, within a second: a small spoofed flood */
	for (uint32_t i = 0; i < 30; i++) {
		peer(i, src);
		feat_hosts_flow_start(&h, 4, 6, src, victim, 25565, 10 * S + i * 1000);
	}
	peer(29, src);
	ctx_proto(&h, 6, src, victim, 25565, 10 * S + 29000, f);
	CHECK_NEAR(f[FEAT_DST_SRC_ADDRS_10S], 30, 4);
	CHECK_NEAR(f[FEAT_DST_SRC_ADDRS_300S], 30, 4);
	CHECK_NEAR(f[FEAT_DST_FLOW_RATE_10S], 3.0, 0.01);  /* 30 flows / 10 s, barely decayed */
	CHECK_NEAR(f[FEAT_PAIR_FLOWS_10S], 1.0, 1e-12);    /* each source sent one */
	/* 12 logins from one client to one SSH server, one per second */
	for (uint32_t i = 0; i < 12; i++)
		feat_hosts_flow_start(&h, 4, 6, host_a, victim, 22, (100 + i) * S);
	ctx_proto(&h, 6, host_a, victim, 22, 111 * S, f);
	/* sum of e^(-k/10) for k = 0..11 */
	double want = 0;
	for (int k = 0; k < 12; k++)
		want += exp(-k / 10.0);
	CHECK_NEAR(f[FEAT_PAIR_FLOWS_10S], want, 1e-9);
	CHECK(f[FEAT_PAIR_FLOWS_300S] > 11.7 && f[FEAT_PAIR_FLOWS_300S] <= 12.0);
	ctx_proto(&h, 6, host_a, victim, 23, 111 * S, f); /* another service: none */
	CHECK_EQ_INT(f[FEAT_PAIR_FLOWS_10S], 0);
	ctx_proto(&h, 17, host_a, victim, 22, 111 * S, f); /* another protocol: none */
	CHECK_EQ_INT(f[FEAT_PAIR_FLOWS_10S], 0);
	/* an ICMP sweep's echo identifiers do not look like ports */
	for (uint32_t i = 0; i < 40; i++) {
		peer(1000 + i, src);
		feat_hosts_flow_start(&h, 4, 1, host_a, src, (uint16_t)(7000 + i), 200 * S);
	}
	ctx_proto(&h, 1, host_a, src, 7039, 200 * S, f);
	CHECK_NEAR(f[FEAT_HOST_DST_ADDRS_10S], 40, 6);
	CHECK_EQ_INT(f[FEAT_HOST_DST_PORTS_10S], 0);
	feat_hosts_release(&h);
}

int main(void)
{
	test_responder_and_pairs();
	test_rates_and_windows();
	test_sketch_accuracy();
	test_bounded_table();
	return check_exit();
}
