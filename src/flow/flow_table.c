/* flow_table.c - the bounded bidirectional flow table (flow_table.h).
 *
 * Entries live in one array allocated at start-up and are linked by 32-bit
 * indices: one idle list per timeout class and one active list. Every idle
 * list holds flows of a single timeout, ordered by the table clock of their
 * last packet (a touched flow moves to the tail), so its head is always the
 * next to expire and expiry is O(1) per flow. The active list is ordered by
 * when each record began. A third kind of list, the finished list, holds
 * the flows that only linger for stragglers (see flow_finished()), in the
 * order of their last packet; they stay in their idle list too. A full
 * table evicts the finished list head first, then the closed-TCP idle list
 * head, and only when neither exists the least recently touched flow among
 * the idle list heads.
 *
 * Keys are found through a separate open-addressing index of (hash, entry)
 * pairs kept at most half full: a lookup reads one cache line of the index
 * and the one entry whose hash matches, and never walks through other
 * flows' entries as a chained table does.
 */
#include "flow/flow_table.h"

#include "common/bytes.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define NONE UINT32_MAX
/* in flow.fin_dirs beside the two directions' bits: a packet came after
 * the second FIN */
#define FIN_AFTER_CLOSE 4u
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

static const char *const evict_names[FLOW_EVICT_MAX] = {
	[FLOW_EVICT_FINISHED] = "finished",
	[FLOW_EVICT_CLOSED] = "closed",
	[FLOW_EVICT_LRU] = "least_recent",
};

const char *flow_evict_name(enum flow_evict s)
{
	return (unsigned)s < FLOW_EVICT_MAX ? evict_names[s] : NULL;
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
		/* Linux gives up on an unfinished SYN after about two minutes of
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

/* Zeroed memory straight from mmap, so pages never touched stay out of the
 * resident set, asked for in huge pages where the kernel has them: at 100k
 * flows every packet reaches a random entry, and with 4 KiB pages nearly
 * every one of those is also a TLB miss. */
static void *big_alloc(size_t len, bool huge_pages, size_t *ret_len)
{
	const size_t huge = 2u << 20;
	size_t full = (len + huge - 1) & ~(huge - 1);
	unsigned char *p = mmap(NULL, full + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uintptr_t a;

	if (p == MAP_FAILED)
		return NULL;
	/* keep a huge-page aligned piece, return the rest */
	a = ((uintptr_t)p + huge - 1) & ~(uintptr_t)(huge - 1);
	if (a > (uintptr_t)p)
		munmap(p, a - (uintptr_t)p);
	if ((uintptr_t)p + full + huge > a + full)
		munmap((void *)(a + full), (uintptr_t)p + full + huge - (a + full));
#ifdef MADV_HUGEPAGE
	/* Whole huge pages only: a huge page is resident in full once any
	 * byte of it is touched, so the last, partly used one (and an array
	 * smaller than one) keeps 4 KiB pages; that saves up to 2 MiB. */
	if (huge_pages && len >= huge)
		madvise((void *)a, len & ~(huge - 1), MADV_HUGEPAGE);
#endif
	*ret_len = full;
	return (void *)a;
}

static void big_free(void *p, size_t len)
{
	if (p)
		munmap(p, len);
}

int flow_table_init(struct flow_table *t, const struct flow_table_options *opt, size_t user_size,
		    uint64_t seed, flow_end_fn on_end, void *user)
{
	size_t head = (sizeof(struct flow) + 7) & ~(size_t)7;
	uint32_t nb = 2;

	memset(t, 0, sizeof *t);
	if (!opt->max_flows || opt->max_flows >= NONE / 4 || !on_end)
		return -EINVAL;
	/* at most half full: probe runs stay short */
	while (nb < 2 * opt->max_flows)
		nb <<= 1;
	t->opt = *opt;
	t->stride = head + ((user_size + 7) & ~(size_t)7);
	/* calloc and the fresh mark keep untouched entries out of the
	 * resident set: a table sized for 262144 flows costs little RAM until
	 * the flows exist. */
	t->entries = big_alloc((size_t)opt->max_flows * t->stride, true, &t->entries_len);
	t->slots = big_alloc((size_t)nb * sizeof *t->slots, true, &t->slots_len);
	t->idle = big_alloc((size_t)opt->max_flows * sizeof *t->idle, true, &t->idle_len);
	t->active = big_alloc((size_t)opt->max_flows * sizeof *t->active, true, &t->active_len);
	/* only DNS and closing TCP flows touch it, a few times each: 4 KiB
	 * pages keep the rest of it out of the resident set */
	t->finished = big_alloc((size_t)opt->max_flows * sizeof *t->finished, false, &t->finished_len);
	if (!t->entries || !t->slots || !t->idle || !t->active || !t->finished) {
		flow_table_release(t);
		return -ENOMEM;
	}
	memset(t->slots, 0xff, (size_t)nb * sizeof *t->slots);
	t->slot_mask = nb - 1;
	t->free_head = NONE;
	for (int c = 0; c < FLOW_IDLE_CLASSES; c++)
		t->ihead[c] = t->itail[c] = NONE;
	t->ahead = t->atail = NONE;
	t->dhead = t->dtail = NONE;
	t->soon = NONE;
	for (int c = 0; c < FLOW_TO_MAX; c++)
		t->to_us[c] = (uint64_t)opt->timeout_s[c] * US;
	t->seed = seed;
	t->on_end = on_end;
	t->user = user;
	return 0;
}

void flow_table_release(struct flow_table *t)
{
	big_free(t->entries, t->entries_len);
	big_free(t->slots, t->slots_len);
	big_free(t->idle, t->idle_len);
	big_free(t->active, t->active_len);
	big_free(t->finished, t->finished_len);
	t->entries = NULL;
	t->slots = NULL;
	t->idle = NULL;
	t->active = NULL;
	t->finished = NULL;
}

/* A multiply-xorshift mix over five 64-bit words: cheap, and every input
 * bit reaches the bucket bits. The first word is made from the small
 * fields' values, not loaded from memory: the key was just written field
 * by field, and a wide load over several narrow stores waits for them to
 * drain. (Only where entries go depends on the hash, never the output.) */
static uint32_t key_hash(const struct flow_table *t, const struct flow_key *k)
{
	uint64_t w[5], h = t->seed ^ 0x9e3779b97f4a7c15ull;

	w[0] = (uint64_t)k->family | (uint64_t)k->proto << 8 | (uint64_t)k->vlan << 16 |
	       (uint64_t)k->port[0] << 32 | (uint64_t)k->port[1] << 48;
	memcpy(&w[1], k->addr, 32);
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
/* memcmp() order of two addresses, a word at a time (no library call;
 * IPv4 is decided by the first word). */
static int addr_cmp(const uint8_t *a, const uint8_t *b)
{
	for (int i = 0; i < 16; i += 4) {
		uint32_t x = load_be32(a + i), y = load_be32(b + i);

		if (x != y)
			return x < y ? -1 : 1;
	}
	return 0;
}

/* Field by field, for the same reason as key_hash(). */
static int canonicalise(const struct flow_key *in, struct flow_key *out)
{
	int c = addr_cmp(in->addr[0], in->addr[1]);
	int swap = c > 0 || (c == 0 && in->port[0] > in->port[1]);

	out->family = in->family;
	out->proto = in->proto;
	out->vlan = in->vlan;
	out->port[0] = in->port[swap];
	out->port[1] = in->port[!swap];
	memcpy(out->addr[0], in->addr[swap], 16);
	memcpy(out->addr[1], in->addr[!swap], 16);
	return swap;
}

/* Every cache line of entry i. A macro, not a function: GCC 12 finds
 * that a function doing nothing but prefetch has no effect, and drops its
 * calls. */
#define PREFETCH_ENTRY(t, i)                                                 \
	do {                                                                 \
		const char *pe_ = (const char *)entry((t), (i));             \
		for (size_t off_ = 0; off_ < (t)->stride; off_ += 64)        \
			__builtin_prefetch(pe_ + off_, 1);                   \
		if ((t)->stride % 64)                                        \
			__builtin_prefetch(pe_ + (t)->stride - 1, 1);        \
	} while (0)

/* The idle lists and the active list are doubly linked through arrays of
 * links apart from the entries (t->idle, t->active). Every packet moves
 * its flow to the tail of its idle list, which writes to both neighbours,
 * and every flow's end unlinks it from both lists: in the dense arrays
 * those are small writes, not more random entries of the big array. */
static void list_unlink(struct flow_link *links, uint32_t i, uint32_t *head, uint32_t *tail)
{
	struct flow_link *l = &links[i];

	if (l->prev != NONE)
		links[l->prev].next = l->next;
	else
		*head = l->next;
	if (l->next != NONE)
		links[l->next].prev = l->prev;
	else
		*tail = l->prev;
}

static void list_append(struct flow_link *links, uint32_t i, uint32_t *head, uint32_t *tail)
{
	links[i].prev = *tail;
	links[i].next = NONE;
	if (*tail != NONE)
		links[*tail].next = i;
	else
		*head = i;
	*tail = i;
}

static void idle_unlink(struct flow_table *t, uint32_t i, enum flow_timeout c)
{
	list_unlink(t->idle, i, &t->ihead[c], &t->itail[c]);
}

/* A flow appended now is due at now + its timeout: the earliest due
 * time can only come closer (unlinking only moves it away). */
static void due_at_most(struct flow_table *t, enum flow_timeout c)
{
	uint64_t due = t->now_us + t->to_us[c];

	if (due < t->next_due_us)
		t->next_due_us = due;
}

static void idle_append(struct flow_table *t, uint32_t i, enum flow_timeout c)
{
	list_append(t->idle, i, &t->ihead[c], &t->itail[c]);
	due_at_most(t, c);
}

static void active_unlink(struct flow_table *t, uint32_t i)
{
	list_unlink(t->active, i, &t->ahead, &t->atail);
}

static void active_append(struct flow_table *t, uint32_t i)
{
	list_append(t->active, i, &t->ahead, &t->atail);
	due_at_most(t, FLOW_TO_ACTIVE);
}

/* A flow is finished, as far as a full table is concerned, when all it
 * still waits for is stragglers: a DNS flow once the side that did not
 * speak first has sent at least as many packets as the side that did
 * (every query has its answer; A and AAAA asked from one port need two), a
 * TCP flow closed by RST, or closed by FIN from both sides and followed by
 * one more packet (the last ACK; FIN_AFTER_CLOSE). A record with no
 * packet yet (the next one after an active timeout) is not finished, and
 * becomes so with its first packet. Membership in the finished list is a
 * function of the flow's state, so no flag says it: every change of that
 * state goes through finished_update(). */
static bool flow_finished(const struct flow *f)
{
	if (!f->packets[0] && !f->packets[1])
		return false;
	if (f->tclass == FLOW_TO_DNS)
		return f->packets[0] && f->packets[1] >= f->packets[0];
	return f->tclass == FLOW_TO_TCP_CLOSED && (f->close_reason == FLOW_END_RST || (f->fin_dirs & FIN_AFTER_CLOSE));
}

/* Flow i was finished before a change (was) and is now: leave, join, or
 * move to the tail (the list stays in the order of last packets). */
static void finished_update(struct flow_table *t, uint32_t i, bool was, bool now)
{
	if (was)
		list_unlink(t->finished, i, &t->dhead, &t->dtail);
	if (now)
		list_append(t->finished, i, &t->dhead, &t->dtail);
}

/* The index slot holding entry i (whose hash is h); it is there by construction. */
static uint32_t slot_of(const struct flow_table *t, uint32_t h, uint32_t i)
{
	uint32_t p = h & t->slot_mask;

	while (t->slots[p].entry != i)
		p = (p + 1) & t->slot_mask;
	return p;
}

/* Keys are equal: five word compares instead of a call to memcmp. */
static inline bool same_key(const struct flow_key *a, const struct flow_key *b)
{
	uint64_t x[5], y[5], d = 0;

	memcpy(x, a, sizeof x);
	memcpy(y, b, sizeof y);
	for (int i = 0; i < 5; i++)
		d |= x[i] ^ y[i];
	return !d;
}

/* The flow with key k (hash h), or NULL; *ret_slot is where k is or would go. */
static struct flow *find(const struct flow_table *t, const struct flow_key *k, uint32_t h, uint32_t *ret_slot)
{
	uint32_t p = h & t->slot_mask;

	for (;; p = (p + 1) & t->slot_mask) {
		const struct flow_slot *s = &t->slots[p];
		struct flow *f;

		if (s->entry == NONE)
			break;
		if (s->hash != h)
			continue;
		f = entry(t, s->entry);
		if (same_key(&f->key, k)) {
			*ret_slot = p;
			return f;
		}
	}
	*ret_slot = p;
	return NULL;
}

/* Remove the slot at p; later slots of the run move back into the hole if
 * that is no further from their home slot, so no tombstones are needed
 * and a lookup still stops at the first empty slot. */
static void index_remove(struct flow_table *t, uint32_t p)
{
	uint32_t q = p;

	for (;;) {
		uint32_t home;

		q = (q + 1) & t->slot_mask;
		if (t->slots[q].entry == NONE)
			break;
		home = t->slots[q].hash & t->slot_mask;
		/* the slot at q may fill the hole at p unless its home lies
		 * cyclically in (p, q] */
		if (((q - home) & t->slot_mask) >= ((q - p) & t->slot_mask)) {
			t->slots[p] = t->slots[q];
			p = q;
		}
	}
	t->slots[p].entry = NONE;
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
	uint32_t i = index_of(t, f);

	index_remove(t, slot_of(t, f->hash, i));
	finished_update(t, i, flow_finished(f), false);
	idle_unlink(t, i, f->tclass);
	active_unlink(t, i);
	t->idle[i].next = t->free_head;
	t->free_head = i;
	t->stats.active--;
}

static void active_expire(struct flow_table *t, struct flow *f)
{
	bool was_finished = flow_finished(f);

	if (f->packets[0] + f->packets[1]) {
		t->stats.ended[FLOW_END_ACTIVE]++;
		t->on_end(f, FLOW_END_ACTIVE, t->user);
	}
	f->packets[0] = f->packets[1] = 0;
	f->bytes[0] = f->bytes[1] = 0;
	f->first_us = f->last_us = 0;
	f->seg_us = t->now_us;
	/* the next record has no packet yet: not finished (flow_finished) */
	finished_update(t, index_of(t, f), was_finished, flow_finished(f));
	active_unlink(t, index_of(t, f));
	active_append(t, index_of(t, f));
}

/* Entry i (just read) is the next to end, by expiry or eviction: it will
 * need its index line and active-list links, and its neighbours' links
 * (the next packet prefetches those), and the caller's data. */
static void ends_soon(struct flow_table *t, uint32_t i)
{
	t->soon = i;
	__builtin_prefetch(&t->slots[entry(t, i)->hash & t->slot_mask], 1);
	__builtin_prefetch(&t->active[i], 1);
	if (t->end_soon)
		t->end_soon(entry(t, i), 1, t->user);
}

void flow_table_advance(struct flow_table *t, uint64_t now_us)
{
	if (now_us > t->now_us)
		t->now_us = now_us;
	/* Every list is in the order of its flows' due times (touch_us or
	 * seg_us plus one timeout), so nothing is due before the earliest
	 * head is: most packets need not look at the heads' entries. */
	if (t->now_us <= t->next_due_us) {
		if (t->soon != NONE) {
			const struct flow_link *a = &t->active[t->soon];

			/* ending it unlinks it from the active list */
			if (a->prev != NONE)
				__builtin_prefetch(&t->active[a->prev], 1);
			if (a->next != NONE)
				__builtin_prefetch(&t->active[a->next], 1);
			if (t->end_soon)
				t->end_soon(entry(t, t->soon), 0, t->user);
			t->soon = NONE;
		}
		return;
	}
	for (int c = 0; c < FLOW_IDLE_CLASSES; c++) {
		while (t->ihead[c] != NONE) {
			struct flow *f = entry(t, t->ihead[c]);

			if (t->now_us - f->touch_us <= t->to_us[c])
				break;
			/* the next head is read at once if this burst goes on,
			 * else by the next packet */
			if (t->idle[t->ihead[c]].next != NONE)
				PREFETCH_ENTRY(t, t->idle[t->ihead[c]].next);
			end_flow(t, f, FLOW_END_IDLE);
		}
	}
	while (t->ahead != NONE) {
		struct flow *f = entry(t, t->ahead);

		if (t->now_us - f->seg_us <= t->to_us[FLOW_TO_ACTIVE])
			break;
		active_expire(t, f);
	}
	t->next_due_us = UINT64_MAX;
	t->soon = NONE;
	for (int c = 0; c < FLOW_IDLE_CLASSES; c++)
		if (t->ihead[c] != NONE && entry(t, t->ihead[c])->touch_us + t->to_us[c] < t->next_due_us) {
			t->next_due_us = entry(t, t->ihead[c])->touch_us + t->to_us[c];
			t->soon = t->ihead[c];
		}
	if (t->ahead != NONE && entry(t, t->ahead)->seg_us + t->to_us[FLOW_TO_ACTIVE] < t->next_due_us)
		t->next_due_us = entry(t, t->ahead)->seg_us + t->to_us[FLOW_TO_ACTIVE];
	if (t->soon != NONE)
		ends_soon(t, t->soon);
}

/* The least recently touched flow: the oldest of the idle list heads. */
static struct flow *lru_flow(const struct flow_table *t)
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
	return victim;
}

/* What a full table gives up first: a finished flow (flow_finished()),
 * the one whose last packet is oldest; then a closed TCP flow still
 * waiting for its last ACK; only when there is neither the least recently
 * seen flow, which may still be live. */
static struct flow *victim_flow(const struct flow_table *t, enum flow_evict *ret_step)
{
	if (t->dhead != NONE) {
		*ret_step = FLOW_EVICT_FINISHED;
		return entry(t, t->dhead);
	}
	if (t->ihead[FLOW_TO_TCP_CLOSED] != NONE) {
		*ret_step = FLOW_EVICT_CLOSED;
		return entry(t, t->ihead[FLOW_TO_TCP_CLOSED]);
	}
	*ret_step = FLOW_EVICT_LRU;
	return lru_flow(t);
}

static void evict_one(struct flow_table *t)
{
	enum flow_evict step;
	struct flow *f = victim_flow(t, &step), *next;

	t->stats.evicted[step]++;
	end_flow(t, f, FLOW_END_EVICTED);
	/* a full table stays full: the next new flow evicts the next one */
	next = victim_flow(t, &step);
	if (next)
		ends_soon(t, index_of(t, next));
}

static struct flow *alloc_entry(struct flow_table *t)
{
	struct flow *f;

	if (t->free_head == NONE && t->fresh == t->opt.max_flows)
		evict_one(t);
	if (t->free_head != NONE) {
		f = entry(t, t->free_head);
		t->free_head = t->idle[t->free_head].next;
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

	if (c == FLOW_TO_TCP_CLOSED) {
		f->fin_dirs |= FIN_AFTER_CLOSE;
		return c;
	}
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

void flow_table_prepare(const struct flow_table *t, const struct flow_key *k, struct flow_lookup *ret)
{
	ret->side = canonicalise(k, &ret->key);
	ret->hash = key_hash(t, &ret->key);
	ret->hint = NONE;
	__builtin_prefetch(&t->slots[ret->hash & t->slot_mask]);
}

bool flow_table_prefetch(const struct flow_table *t, struct flow_lookup *l)
{
	uint32_t p = l->hash & t->slot_mask;

	/* the run's first line only: a longer run is rare at half load, and
	 * "maybe" is the safe answer there */
	for (int n = 0; n < 8; n++, p = (p + 1) & t->slot_mask) {
		const struct flow_slot *s = &t->slots[p];

		if (s->entry == NONE)
			return false;
		if (s->hash == l->hash) {
			PREFETCH_ENTRY(t, s->entry);
			__builtin_prefetch(&t->idle[s->entry], 1);
			l->hint = s->entry;
			return true;
		}
	}
	return true;
}

void flow_table_prefetch_links(const struct flow_table *t, const struct flow_lookup *l)
{
	const struct flow_link *k;

	/* Accounting moves the flow to the tail of its idle list, which
	 * writes to both of its neighbours there. The hint is not checked
	 * (the entry may have ended since, or be another key with the same
	 * hash): a wrong guess costs two useless prefetches. */
	if (l->hint == NONE)
		return;
	k = &t->idle[l->hint];
	if (k->prev != NONE)
		__builtin_prefetch(&t->idle[k->prev], 1);
	if (k->next != NONE)
		__builtin_prefetch(&t->idle[k->next], 1);
	/* A DNS flow's answer and a closed TCP flow's last ACK add it to the
	 * finished list (the entry has arrived by now; its class says whether
	 * this packet may touch that list). */
	switch (entry(t, l->hint)->tclass) {
	case FLOW_TO_DNS:
	case FLOW_TO_TCP_CLOSING:
	case FLOW_TO_TCP_CLOSED:
		__builtin_prefetch(&t->finished[l->hint], 1);
		break;
	default:
		break;
	}
}

struct flow *flow_table_packet_at(struct flow_table *t, const struct flow_lookup *l, uint64_t ts_us,
				  uint32_t ip_len, uint8_t tcp_flags, int *ret_dir, bool *ret_new)
{
	const struct flow_key *ck = &l->key;
	struct flow *f;
	bool is_new = false, was_finished;
	uint32_t slot;
	int dir;

	flow_table_advance(t, ts_us);
	f = find(t, ck, l->hash, &slot);
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
		f->key = *ck;
		f->hash = l->hash;
		f->init_side = (uint8_t)l->side;
		f->tclass = base_class(ck, tcp_flags);
		f->seg_us = t->now_us;
		/* ending or evicting flows may have moved slots: look again */
		find(t, ck, l->hash, &slot);
		t->slots[slot].hash = l->hash;
		t->slots[slot].entry = i;
		f->touch_us = t->now_us;
		idle_append(t, i, f->tclass);
		active_append(t, i);
		t->stats.created++;
		if (++t->stats.active > t->stats.peak_active)
			t->stats.peak_active = t->stats.active;
		is_new = true;
	}
	dir = l->side ^ f->init_side;
	was_finished = flow_finished(f);
	if ((!f->packets[0] && !f->packets[1]) || ts_us < f->first_us)
		f->first_us = ts_us;
	if (ts_us > f->last_us)
		f->last_us = ts_us;
	f->packets[dir]++;
	f->bytes[dir] += ip_len;

	{
		uint32_t i = index_of(t, f);
		enum flow_timeout c = f->tclass;

		if (ck->proto == 6)
			f->tclass = tcp_next(f, dir, tcp_flags);
		f->touch_us = t->now_us;
		/* a flow sending a burst is already the tail of its list */
		if (f->tclass != c || t->itail[c] != i) {
			idle_unlink(t, i, c);
			idle_append(t, i, f->tclass);
		}
		if (c == FLOW_TO_DNS || f->tclass == FLOW_TO_TCP_CLOSED)
			finished_update(t, i, was_finished, flow_finished(f));
	}

	*ret_dir = dir;
	*ret_new = is_new;
	return f;
}

struct flow *flow_table_packet(struct flow_table *t, const struct flow_key *k, uint64_t ts_us,
			       uint32_t ip_len, uint8_t tcp_flags, int *ret_dir, bool *ret_new)
{
	struct flow_lookup l;

	flow_table_prepare(t, k, &l);
	return flow_table_packet_at(t, &l, ts_us, ip_len, tcp_flags, ret_dir, ret_new);
}

/* Walk one list from head: its length (at most max_flows, else a cycle),
 * or -1 when a link does not point back or the tail is not the last. */
static long walk(const struct flow_table *t, const struct flow_link *links, uint32_t head, uint32_t tail)
{
	uint32_t prev = NONE;
	long n = 0;

	for (uint32_t i = head; i != NONE; prev = i, i = links[i].next) {
		if (i >= t->opt.max_flows || links[i].prev != prev || ++n > (long)t->opt.max_flows)
			return -1;
	}
	return prev == tail ? n : -1;
}

const char *flow_table_check(const struct flow_table *t)
{
	long active = walk(t, t->active, t->ahead, t->atail), idle = 0, finished;
	long want_finished = 0;

	if (active < 0 || (uint64_t)active != t->stats.active)
		return "active list broken or not as long as the live flow count";
	for (int c = 0; c < FLOW_IDLE_CLASSES; c++) {
		long n = walk(t, t->idle, t->ihead[c], t->itail[c]);

		if (n < 0)
			return "an idle list is broken";
		for (uint32_t i = t->ihead[c]; i != NONE; i = t->idle[i].next)
			if (entry(t, i)->tclass != c)
				return "a flow is on the idle list of another class";
		idle += n;
	}
	if (idle != active)
		return "the idle lists do not hold every live flow once";
	finished = walk(t, t->finished, t->dhead, t->dtail);
	if (finished < 0)
		return "finished list broken";
	for (uint32_t i = t->dhead; i != NONE; i = t->finished[i].next)
		if (!flow_finished(entry(t, i)))
			return "a flow on the finished list is not finished";
	for (uint32_t i = t->ahead; i != NONE; i = t->active[i].next)
		want_finished += flow_finished(entry(t, i));
	if (finished != want_finished)
		return "the finished list does not hold exactly the finished live flows";
	return NULL;
}

void flow_table_set_end_soon(struct flow_table *t, flow_soon_fn fn)
{
	t->end_soon = fn;
}

void flow_table_flush(struct flow_table *t)
{
	/* Writing a record takes long enough to fetch the entry three ahead
	 * in the list and its link, and the index line and idle links of the
	 * next one; the caller's hint sees the entries that have arrived. */
	while (t->ahead != NONE) {
		uint32_t n1 = t->active[t->ahead].next;

		if (n1 != NONE) {
			uint32_t n2 = t->active[n1].next;

			__builtin_prefetch(&t->slots[entry(t, n1)->hash & t->slot_mask], 1);
			__builtin_prefetch(&t->idle[n1], 1);
			if (t->end_soon)
				t->end_soon(entry(t, n1), 0, t->user);
			if (n2 != NONE) {
				uint32_t n3 = t->active[n2].next;

				if (t->end_soon)
					t->end_soon(entry(t, n2), 1, t->user);
				if (n3 != NONE) {
					PREFETCH_ENTRY(t, n3);
					__builtin_prefetch(&t->active[n3]);
				}
			}
		}
		end_flow(t, entry(t, t->ahead), FLOW_END_EOF);
	}
}
