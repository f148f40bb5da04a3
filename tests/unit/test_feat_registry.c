/* test_feat_registry.c - the registry is well formed, and the per-flow
 * arithmetic (Welford, pooled deviation, first sizes) matches a direct
 * computation. */
#include <ctype.h>
#include <math.h>
#include <string.h>

#include "check.h"
#include "features/feat_compute.h"
#include "features/features.h"

static void test_registry(void)
{
	size_t models = 0;

	CHECK_EQ_INT(feat_count, FEAT_COUNT);
	CHECK(feat_count >= 50 && feat_count <= 100);
	for (size_t i = 0; i < feat_count; i++) {
		const struct feat_def *d = &feat_registry[i];

		CHECK(d->name && d->unit && d->description && *d->description);
		for (const char *c = d->name; c && *c; c++)
			CHECK(islower((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '_');
		CHECK_EQ_INT(feat_index(d->name), (long long)i);
		models += d->model_input;
	}
	CHECK_EQ_INT(feat_model_count(), models);
	CHECK_EQ_INT(feat_model_index(0), FEAT_DURATION);
	CHECK_EQ_INT(feat_model_index(models), -1);
	CHECK_EQ_INT(feat_index("no_such_feature"), -1);
	CHECK(!feat_registry[FEAT_PROTO].model_input);
}

static void test_compute(void)
{
	static const uint32_t len[] = { 60, 1500, 52, 1500, 40, 700 };
	static const int dir[] = { 0, 1, 0, 1, 0, 1 };
	static const uint64_t ts[] = { 0, 1000, 3000, 3500, 10000, 30000 };
	struct feat_flow a;
	struct dec_packet p;
	struct feat_flow_id id = { .family = 4, .proto = 17 };
	uint8_t src[4] = { 192, 168, 0, 2 }, dst[4] = { 224, 0, 0, 251 };
	double f[FEAT_COUNT], sum = 0, sq = 0, mean, g[5], gm = 0, gv = 0;

	memset(&a, 0, sizeof a);
	for (int i = 0; i < 6; i++) {
		memset(&p, 0, sizeof p);
		p.ts_us = ts[i];
		p.ip_len = len[i];
		p.ip_proto = 17;
		p.l4_payload_len = len[i] - 28;
		feat_flow_add(&a, &p, dir[i]);
		id.packets[dir[i]]++;
		id.bytes[dir[i]] += len[i];
		sum += len[i];
		sq += (double)len[i] * len[i];
	}
	id.first_us = 0;
	id.last_us = 30000;
	id.src = src;
	id.dst = dst;
	id.dport = 5353;
	feat_flow_compute(&a, &id, f);
	mean = sum / 6;
	CHECK_NEAR(f[FEAT_PKT_LEN_STD], sqrt(sq / 6 - mean * mean), 1e-9);
	CHECK_NEAR(f[FEAT_PKT_LEN_MEAN_FWD], 152 / 3.0, 1e-9);
	CHECK_NEAR(f[FEAT_PKT_LEN_STD_BWD], sqrt((1500.0 * 1500 * 2 + 700 * 700) / 3 - pow(3700 / 3.0, 2)), 1e-9);
	for (int i = 0; i < 5; i++) {
		g[i] = (ts[i + 1] - ts[i]) / 1e6;
		gm += g[i] / 5;
	}
	for (int i = 0; i < 5; i++)
		gv += (g[i] - gm) * (g[i] - gm) / 5;
	CHECK_NEAR(f[FEAT_IAT_MEAN], gm, 1e-12);
	CHECK_NEAR(f[FEAT_IAT_STD], sqrt(gv), 1e-12);
	CHECK_NEAR(f[FEAT_IAT_MIN_FWD], 0.003, 1e-12);
	CHECK_NEAR(f[FEAT_IAT_MAX_BWD], 0.0265, 1e-12);
	CHECK_EQ_INT(f[FEAT_FIRST_LEN_2], -1500);
	CHECK_EQ_INT(f[FEAT_FIRST_LEN_4], -1500);
	CHECK_EQ_INT(f[FEAT_PAYLOAD_BYTES_FWD], 152 - 3 * 28);
	CHECK_NEAR(f[FEAT_DURATION], 0.03, 1e-12);
	CHECK_NEAR(f[FEAT_PACKETS_PER_S], 200, 1e-9);
	CHECK_EQ_INT(f[FEAT_RESP_PORT_CLASS], 2);
	CHECK_EQ_INT(f[FEAT_DST_MULTICAST], 1);
	CHECK_EQ_INT(f[FEAT_SRC_LOCAL], 1);
	CHECK(!feat_flow_failed(&a, &id));
}

static void test_addr_class(void)
{
	static const uint8_t v4[][4] = { { 8, 8, 8, 8 }, { 172, 31, 0, 1 }, { 172, 32, 0, 1 }, { 169, 254, 1, 1 },
					 { 255, 255, 255, 255 }, { 127, 0, 0, 1 }, { 100, 64, 0, 1 } };
	static const int want[] = { FEAT_ADDR_PUBLIC, FEAT_ADDR_PRIVATE, FEAT_ADDR_PUBLIC, FEAT_ADDR_LINK_LOCAL,
				    FEAT_ADDR_MULTICAST, FEAT_ADDR_LOOPBACK, FEAT_ADDR_PRIVATE };
	uint8_t v6[16] = { 0xfd, 0x12 };

	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		CHECK_EQ_INT(feat_addr_class(4, v4[i]), want[i]);
	CHECK_EQ_INT(feat_addr_class(6, v6), FEAT_ADDR_PRIVATE);
	v6[0] = 0xfe;
	v6[1] = 0x80;
	CHECK_EQ_INT(feat_addr_class(6, v6), FEAT_ADDR_LINK_LOCAL);
	v6[0] = 0xff;
	CHECK_EQ_INT(feat_addr_class(6, v6), FEAT_ADDR_MULTICAST);
	memset(v6, 0, 16);
	v6[15] = 1;
	CHECK_EQ_INT(feat_addr_class(6, v6), FEAT_ADDR_LOOPBACK);
	v6[0] = 0x20;
	CHECK_EQ_INT(feat_addr_class(6, v6), FEAT_ADDR_PUBLIC);
}

int main(void)
{
	test_registry();
	test_compute();
	test_addr_class();
	return check_exit();
}
