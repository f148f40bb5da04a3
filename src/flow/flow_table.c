/* flow_table.c - the bounded bidirectional flow table (flow_table.h).
 *
 * Entries live in one array allocated at start-up and are linked by 32-bit
 * indices: a hash chain, one idle list per timeout class and one active
 * list. Every idle list holds flows of a single timeout, ordered by the
 * table clock of their last packet (a touched flow moves to the tail), so
 * its head is always the next to expire and expiry is O(1) per flow. The
 * active list is ordered by when each record began. Eviction takes the
 * least recently touched flow among the idle list heads.
 */
#include "flow/flow_table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX
#define US 1000000ull

static const char *const end_names[FLOW_END_MAX] = {
	[FLOW_END_IDLE] = "idle",
	[FLOW_END_ACTIVE] = "active",
	[FLOW_END_FIN] = "fin",
	[FLOW_END_RST] = "rst",
	[FLOW_END_EVICTED] = "evicted",
	[FLOW_END_EOF] = "end_of_input",
};

static const char *const timeout_names[FLOW_TO_MAX] = {
	[FLOW_TO_TCP_HALF_OPEN] = "tcp-half-open",
	[FLOW_TO_TCP] = "tcp",
	[FLOW_TO_TCP_CLOSING] = "tcp-closing",
	[FLOW_TO_TCP_CLOSED] = "tcp-closed",
	[FLOW_TO_UDP] = "udp",
	[FLOW_TO_DNS] = "dns",
	[FLOW_TO_ICMP] = "icmp",
	[FLOW_TO_OTHER] = "other",
	[FLOW_TO_ACTIVE] = "active",
};

const char *flow_end_name(enum flow_end e)
{
	return (unsigned)e < FLOW_END_MAX ? end_names[e] : "unknown";
}

const char *flow_timeout_name(enum flow_timeout c)
{
	return (unsigned)c < FLOW_TO_MAX ? timeout_names[c] : NULL;
}

int flow_timeout_by_name(const char *name)
{
	for (int i = 0; i < FLOW_TO_MAX; i++)
		if (!strcmp(timeout_names[i], name))
			return i;
	return -1;
}

void flow_table_options_default(struct flow_table_options *ret)
{
	static const uint32_t def[FLOW_TO_MAX] = {
		/* Linux gives up on an unanswered SYN after about two minutes of
		 * retries, but the retries come within 30 s for the first four. */
		[FLOW_TO_TCP_HALF_OPEN] = 30,
		[FLOW_TO_TCP] = 300,
		/* a half-closed connection may still stream the other way */
		[FLOW_TO_TCP_CLOSING] = 120,
		/* long enough to keep the last ACK and retransmitted FINs */
		[FLOW_TO_TCP_CLOSED] = 10,
		[FLOW_TO_UDP] = 120,
		/* one query, one answer: a resolver retries within 5 s */
		[FLOW_TO_DNS] = 10,
		[FLOW_TO_ICMP] = 30,
		[FLOW_TO_OTHER] = 120,
		[FLOW_TO_ACTIVE] = 1800,
	};

	ret->max_flows = FLOW_MAX_FLOWS_DEFAULT;
	memcpy(ret->timeout_s, def, sizeof def);
}

static inline struct flow *entry(const struct flow_table *t, uint32_t i)
{
	return (struct flow *)(t->entries + (size_t)i * t->stride);
}

static inline uint32_t index_of(const struct flow_table *t, const struct flow *f)
{
	return (uint32_t)(((const unsigned char *)f - t->entries) / t->stride);
}

int flow_table_init(struct flow_table *t, const struct flow_table_options *opt, size_t user_size,
		    uint64_t seed, flow_end_fn on_end, void *user)
{
	size_t head = (sizeof(struct flow) + 7) & ~(size_t)7;
	uint32_t nb = 1;

	memset(t, 0, sizeof *t);
	if (!opt->max_flows || opt->max_flows >= NONE / 2 || !on_end)
		return -EINVAL;
	while (nb < opt->max_flows)
		nb <<= 1;
	t->opt = *opt;
	t->stride = head + ((user_size + 7) & ~(size_t)7);
	/* calloc and the fresh mark keep untouched entries out of the
	 * resident set: a table sized for 262144 flows costs little RAM until
	 * the flows exist. */
	t->entries = calloc(opt->max_flows, t->stride);
	t->buckets = malloc((size_t)nb * sizeof *t->buckets);
	if (!t->entries || !t->buckets) {
		flow_table_release(t);
		return -ENOMEM;
	}
	memset(t->buckets, 0xff, (size_t)nb * sizeof *t->buckets);
	t->nbuckets = nb;
	t->free_head = NONE;
	for (int c = 0; c < FLOW_IDLE_CLASSES; c++)
		t->ihead[c] = t->itail[c] = NONE;
	t->ahead = t->atail = NONE;
	for (int c = 0; c < FLOW_TO_MAX; c++)
		t->to_us[c] = (uint64_t)opt->timeout_s[c] * US;
	t->seed = seed;
	t->on_end = on_end;
	t->user = user;
	return 0;
}

void flow_table_release(struct flow_table *t)
{
	free(t->entries);
	free(t->buckets);
	t->entries = NULL;
	t->buckets = NULL;
}

/* A multiply-xorshift mix over the key's five 64-bit words: cheap, and every
 * input bit reaches the bucket bits. */
static uint32_t key_hash(const struct flow_table *t, const struct flow_key *k)
{
	uint64_t w[5], h = t->seed ^ 0x9e3779b97f4a7c15ull;

	memcpy(w, k, sizeof w);
	for (int i = 0; i < 5; i++) {
		h ^= w[i];
		h *= 0xbf58476d1ce4e5b9ull;
		h ^= h >> 31;
	}
	h *= 0x94d049bb133111ebull;
	h ^= h >> 29;
	return (uint32_t)h;
}

_Static_assert(sizeof(struct flow_key) == 40, "flow_key is hashed as five 64-bit words");

/* Canonical order: side 0 holds the smaller (address, port). Returns the
 * key side the packet's sender ended up on. */
static int canonicalise(const struct flow_key *in, struct flow_key *out)
{
	int c = memcmp(in->addr[0], in->addr[1], 16);

	*out = *in;
	if (c > 0 || (c == 0 && in->port[0] > in->port[1])) {
		memcpy(out->addr[0], in->addr[1], 16);
		memcpy(out->addr[1], in->addr[0], 16);
		out->port[0] = in->port[1];
		out->port[1] = in->port[0];
		return 1;
	}
	return 0;
}

/* Doubly linked lists through index fields: the idle lists use iprev/inext,
 * the active list aprev/anext. */
#define LIST_UNLINK(t, f, prev, next, head, tail)                  \
	do {                                                       \
		if ((f)->prev != NONE)                             \
			entry(t, (f)->prev)->next = (f)->next;     \
		else                                               \
			(head) = (f)->next;                        \
		if ((f)->next != NONE)                             \
			entry(t, (f)->next)->prev = (f)->prev;     \
		else                                               \
			(tail) = (f)->prev;                        \
	} while (0)

#define LIST_APPEND(t, f, i, prev, next, head, tail)               \
	do {                                                       \
		(f)->prev = (tail);                                \
		(f)->next = NONE;                                  \
		if ((tail) != NONE)                                \
			entry(t, tail)->next = (i);                \
		else                                               \
			(head) = (i);                              \
		(tail) = (i);                                      \
	} while (0)

static void idle_unlink(struct flow_table *t, struct flow *f)
{
	LIST_UNLINK(t, f, iprev, inext, t->ihead[f->tclass], t->itail[f->tclass]);
}

static void idle_append(struct flow_table *t, struct flow *f)
{
	uint32_t i = index_of(t, f);

	LIST_APPEND(t, f, i, iprev, inext, t->ihead[f->tclass], t->itail[f->tclass]);
}

static void active_unlink(struct flow_table *t, struct flow *f)
{
	LIST_UNLINK(t, f, aprev, anext, t->ahead, t->atail);
}

static void active_append(struct flow_table *t, struct flow *f)
{
	uint32_t i = index_of(t, f);

	LIST_APPEND(t, f, i, aprev, anext, t->ahead, t->atail);
}

static struct flow *find(const struct flow_table *t, const struct flow_key *k, uint32_t h)
{
	for (uint32_t i = t->buckets[h & (t->nbuckets - 1)]; i != NONE;) {
		struct flow *f = entry(t, i);

		if (!memcmp(&f->key, k, sizeof *k))
			return f;
		i = f->hnext;
	}
	return NULL;
}

static void hash_unlink(struct flow_table *t, struct flow *f)
{
	uint32_t *p = &t->buckets[key_hash(t, &f->key) & (t->nbuckets - 1)];
	uint32_t i = index_of(t, f);

	while (*p != i)
		p = &entry(t, *p)->hnext;
	*p = f->hnext;
}

/* Emit and remove. Flows that carry no packet (the remainder after an
 * active-timeout record saw nothing more) leave without a record. */
static void end_flow(struct flow_table *t, struct flow *f, enum flow_end why)
{
	if (f->close_reason && why != FLOW_END_ACTIVE)
		why = f->close_reason;
	if (f->packets[0] + f->packets[1]) {
		t->stats.ended[why]++;
		t->on_end(f, why, t->user);
	}
	hash_unlink(t, f);
	idle_unlink(t, f);
	active_unlink(t, f);
	f->hnext = t->free_head;
	t->free_head = index_of(t, f);
	t->stats.active--;
}

static void active_expire(struct flow_table *t, struct flow *f)
{
	if (f->packets[0] + f->packets[1]) {
		t->stats.ended[FLOW_END_ACTIVE]++;
		t->on_end(f, FLOW_END_ACTIVE, t->user);
	}
	f->packets[0] = f->packets[1] = 0;
	f->bytes[0] = f->bytes[1] = 0;
	f->first_us = f->last_us = 0;
	f->seg_us = t->now_us;
	active_unlink(t, f);
	active_append(t, f);
}

void flow_table_advance(struct flow_table *t, uint64_t now_us)
{
	if (now_us > t->now_us)
		t->now_us = now_us;
	for (int c = 0; c < FLOW_IDLE_CLASSES; c++) {
		while (t->ihead[c] != NONE) {
			struct flow *f = entry(t, t->ihead[c]);

			if (t->now_us - f->touch_us <= t->to_us[c])
				break;
			end_flow(t, f, FLOW_END_IDLE);
		}
	}
	while (t->ahead != NONE) {
		struct flow *f = entry(t, t->ahead);

		if (t->now_us - f->seg_us <= t->to_us[FLOW_TO_ACTIVE])
			break;
		active_expire(t, f);
	}
}

static void evict_one(struct flow_table *t)
{
	struct flow *victim = NULL;

	for (int c = 0; c < FLOW_IDLE_CLASSES; c++) {
		struct flow *f;

		if (t->ihead[c] == NONE)
			continue;
		f = entry(t, t->ihead[c]);
		if (!victim || f->touch_us < victim->touch_us)
			victim = f;
	}
	end_flow(t, victim, FLOW_END_EVICTED);
}

static struct flow *alloc_entry(struct flow_table *t)
{
	struct flow *f;

	if (t->free_head == NONE && t->fresh == t->opt.max_flows)
		evict_one(t);
	if (t->free_head != NONE) {
		f = entry(t, t->free_head);
		t->free_head = f->hnext;
		memset(f, 0, t->stride);
	} else {
		f = entry(t, t->fresh++); /* still zero from calloc */
	}
	return f;
}

static enum flow_timeout udp_class(const struct flow_key *k)
{
	for (int s = 0; s < 2; s++)
		if (k->port[s] == 53 || k->port[s] == 5353 || k->port[s] == 5355)
			return FLOW_TO_DNS;
	return FLOW_TO_UDP;
}

static enum flow_timeout base_class(const struct flow_key *k, uint8_t tcp_flags)
{
	switch (k->proto) {
	case 6:
		return (tcp_flags & 0x12) == 0x02 ? FLOW_TO_TCP_HALF_OPEN : FLOW_TO_TCP;
	case 17:
		return udp_class(k);
	case 1:
	case 58:
		return FLOW_TO_ICMP;
	default:
		return FLOW_TO_OTHER;
	}
}

/* TCP state only moves forward: half-open -> established -> closing ->
 * closed; the close reason is the first of RST or the second FIN. */
static enum flow_timeout tcp_next(struct flow *f, int dir, uint8_t flags)
{
	enum flow_timeout c = f->tclass;

	if (c == FLOW_TO_TCP_CLOSED)
		return c;
	if (flags & 0x04) {
		f->close_reason = FLOW_END_RST;
		return FLOW_TO_TCP_CLOSED;
	}
	if (flags & 0x01) {
		f->fin_dirs |= (uint8_t)(1u << dir);
		if (f->fin_dirs == 3) {
			f->close_reason = FLOW_END_FIN;
			return FLOW_TO_TCP_CLOSED;
		}
		return FLOW_TO_TCP_CLOSING;
	}
	if (c == FLOW_TO_TCP_HALF_OPEN && (dir == 1 || (flags & 0x12) != 0x02))
		return FLOW_TO_TCP;
	return c;
}

struct flow *flow_table_packet(struct flow_table *t, const struct flow_key *k, uint64_t ts_us,
			       uint32_t ip_len, uint8_t tcp_flags, int *ret_dir, bool *ret_new)
{
	struct flow_key ck;
	int side = canonicalise(k, &ck);
	uint32_t h = key_hash(t, &ck);
	struct flow *f;
	bool is_new = false;
	int dir;

	flow_table_advance(t, ts_us);
	f = find(t, &ck, h);
	/* A new SYN on the key of a closed flow is the port being reused:
	 * the old flow is over, this packet starts the next one. */
	if (f && f->tclass == FLOW_TO_TCP_CLOSED && (tcp_flags & 0x12) == 0x02) {
		end_flow(t, f, FLOW_END_FIN);
		t->stats.restarted++;
		f = NULL;
	}
	if (!f) {
		uint32_t i;

		f = alloc_entry(t);
		i = index_of(t, f);
		f->key = ck;
		f->init_side = (uint8_t)side;
		f->tclass = base_class(&ck, tcp_flags);
		f->seg_us = t->now_us;
		f->hnext = t->buckets[h & (t->nbuckets - 1)];
		t->buckets[h & (t->nbuckets - 1)] = i;
		f->iprev = f->inext = f->aprev = f->anext = NONE;
		f->touch_us = t->now_us;
		idle_append(t, f);
		active_append(t, f);
		t->stats.created++;
		if (++t->stats.active > t->stats.peak_active)
			t->stats.peak_active = t->stats.active;
		is_new = true;
	}
	dir = side ^ f->init_side;
	if ((!f->packets[0] && !f->packets[1]) || ts_us < f->first_us)
		f->first_us = ts_us;
	if (ts_us > f->last_us)
		f->last_us = ts_us;
	f->packets[dir]++;
	f->bytes[dir] += ip_len;

	idle_unlink(t, f);
	if (ck.proto == 6)
		f->tclass = tcp_next(f, dir, tcp_flags);
	f->touch_us = t->now_us;
	idle_append(t, f);

	*ret_dir = dir;
	*ret_new = is_new;
	return f;
}

void flow_table_flush(struct flow_table *t)
{
	while (t->ahead != NONE)
		end_flow(t, entry(t, t->ahead), FLOW_END_EOF);
}
