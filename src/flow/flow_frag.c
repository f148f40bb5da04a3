/* flow_frag.c - first-fragment port cache (flow_frag.h). */
#include "flow/flow_frag.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int flow_frag_init(struct flow_frag *c, uint32_t slots)
{
	uint32_t n = 1;

	memset(c, 0, sizeof *c);
	if (!slots || slots > (1u << 20))
		return -EINVAL;
	while (n < slots)
		n <<= 1;
	c->slots = calloc(n, sizeof *c->slots);
	if (!c->slots)
		return -ENOMEM;
	c->nslots = n;
	return 0;
}

void flow_frag_release(struct flow_frag *c)
{
	free(c->slots);
	c->slots = NULL;
}

static struct flow_frag_entry *slot(const struct flow_frag *c, uint8_t family, const uint8_t *src,
				    const uint8_t *dst, uint32_t id)
{
	uint64_t h = id * 0x9e3779b97f4a7c15ull;

	for (int i = 0; i < (family == 6 ? 16 : 4); i++)
		h = (h ^ src[i] ^ ((uint64_t)dst[i] << 8)) * 0x100000001b3ull;
	return &c->slots[(h ^ (h >> 29)) & (c->nslots - 1)];
}

static bool same(const struct flow_frag_entry *e, uint8_t family, uint8_t proto, const uint8_t *src,
		 const uint8_t *dst, uint32_t id)
{
	size_t len = family == 6 ? 16 : 4;

	return e->family == family && e->proto == proto && e->id == id && !memcmp(e->src, src, len) &&
	       !memcmp(e->dst, dst, len);
}

void flow_frag_remember(struct flow_frag *c, uint8_t family, uint8_t proto, const uint8_t *src,
			const uint8_t *dst, uint32_t id, uint16_t sport, uint16_t dport, uint64_t ts_us)
{
	struct flow_frag_entry *e = slot(c, family, src, dst, id);
	size_t len = family == 6 ? 16 : 4;

	memset(e, 0, sizeof *e);
	e->ts_us = ts_us;
	e->id = id;
	e->family = family;
	e->proto = proto;
	e->port[0] = sport;
	e->port[1] = dport;
	memcpy(e->src, src, len);
	memcpy(e->dst, dst, len);
}

bool flow_frag_lookup(struct flow_frag *c, uint8_t family, uint8_t proto, const uint8_t *src,
		      const uint8_t *dst, uint32_t id, uint64_t ts_us, uint16_t *ret_sport, uint16_t *ret_dport)
{
	const struct flow_frag_entry *e = slot(c, family, src, dst, id);

	if (!e->family || !same(e, family, proto, src, dst, id) ||
	    (ts_us > e->ts_us && ts_us - e->ts_us > FLOW_FRAG_TTL_US)) {
		c->unmatched++;
		return false;
	}
	c->matched++;
	*ret_sport = e->port[0];
	*ret_dport = e->port[1];
	return true;
}
