/* flow_table.h - bidirectional flows: a bounded, preallocated table.
 *
 * A flow is keyed by (addresses, ports, protocol, VLAN) in canonical order,
 * so both directions of a conversation land in one entry; the side that sent
 * its first packet is the initiator ("fwd"). All entries are allocated by
 * flow_table_init(); a packet never allocates. Time is the packets' own
 * clock: every flow_table_packet() first expires what the packet's timestamp
 * says is over, so a capture file always gives the same flows.
 *
 * Each entry carries `user_size` bytes of caller data (the feature
 * accumulators of flow_meter) reached with flow_user(). Expired flows are
 * handed to the on_end callback before their entry is reused.
 * docs/internals/flow.md describes the timeouts and the memory per flow.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Why a record was emitted. The names (flow_end_name) appear in output. */
enum flow_end {
	FLOW_END_IDLE = 0,     /* no packet for longer than its idle timeout */
	FLOW_END_ACTIVE,       /* active timeout: a partial record, the flow goes on */
	FLOW_END_FIN,          /* TCP FIN from both sides */
	FLOW_END_RST,          /* TCP RST */
	FLOW_END_EVICTED,      /* the table was full (docs/internals/flow.md: which flow goes first) */
	FLOW_END_EOF,          /* end of input (or shutdown) */
	FLOW_END_MAX
};

const char *flow_end_name(enum flow_end e);

/* Timeout classes: a flow's idle timeout depends on its protocol and TCP
 * state; FLOW_TO_ACTIVE is the active timeout. */
enum flow_timeout {
	FLOW_TO_TCP_HALF_OPEN = 0, /* only SYNs from the initiator so far */
	FLOW_TO_TCP,               /* established, or picked up mid-stream */
	FLOW_TO_TCP_CLOSING,       /* one side sent FIN */
	FLOW_TO_TCP_CLOSED,        /* FIN from both sides or RST: linger for stragglers */
	FLOW_TO_UDP,
	FLOW_TO_DNS,               /* UDP with port 53, 5353 or 5355 on either side */
	FLOW_TO_ICMP,
	FLOW_TO_OTHER,
	FLOW_IDLE_CLASSES,
	FLOW_TO_ACTIVE = FLOW_IDLE_CLASSES,
	FLOW_TO_MAX
};

/* Option name of a timeout ("tcp-half-open", ..., "active"); NULL if out of range. */
const char *flow_timeout_name(enum flow_timeout c);
/* Class by option name, or -1. */
int flow_timeout_by_name(const char *name);

#define FLOW_MAX_FLOWS_DEFAULT 262144u

struct flow_table_options {
	uint32_t max_flows;                 /* > 0 */
	uint32_t timeout_s[FLOW_TO_MAX];    /* seconds; a gap longer than this expires */
};

/* Defaults: see docs/internals/flow.md. */
void flow_table_options_default(struct flow_table_options *ret);

/* A key in packet order (side 0 = sender) or canonical order (side 0 =
 * the smaller address/port pair). IPv4 addresses use bytes 0..3, the rest
 * zero; unused bytes must be zero because keys are compared with memcmp. */
struct flow_key {
	uint8_t family;       /* 4 or 6 */
	uint8_t proto;
	uint16_t vlan;
	uint16_t port[2];
	uint8_t addr[2][16];
};

struct flow {
	struct flow_key key;        /* canonical */
	uint64_t first_us, last_us; /* packet times of this record's first and last packet */
	uint64_t touch_us;          /* table clock at the last packet: idle order */
	uint64_t seg_us;            /* table clock when this record began: active order */
	uint64_t packets[2];        /* [0] initiator to responder, [1] back */
	uint64_t bytes[2];
	uint32_t hash;              /* key_hash() of key: its place in the index */
	uint8_t init_side;          /* key side of the initiator */
	uint8_t tclass;             /* enum flow_timeout */
	uint8_t fin_dirs;           /* bit d: direction d sent FIN; bit 2: a packet came after the close (both FINs, or RST) */
	uint8_t close_reason;       /* FLOW_END_FIN/RST once closed, else 0 */
};

/* Called for every record. For FLOW_END_ACTIVE the flow stays in the table
 * and the callback should reset its user data for the next record;
 * otherwise the entry is freed when the callback returns. The callback must
 * not call back into the table. */
typedef void (*flow_end_fn)(struct flow *f, enum flow_end why, void *user);

/* Optional hint for a caller whose on_end reads memory of its own, so it
 * can prefetch in two dependent steps: called with stage 1 for a flow that
 * will end soon and with stage 0 a little later, before it ends. While
 * flow_table_flush() ends flows one after the other, stage 1 comes two
 * records ahead and stage 0 one; after idle flows expired, the idle list
 * head due first, and after an eviction, the next flow to evict, get
 * stage 1 at once and stage 0 with the next packet. It must not change
 * anything. */
typedef void (*flow_soon_fn)(const struct flow *f, int stage, void *user);

/* Which step of the eviction order chose a flow (docs/internals/flow.md). */
enum flow_evict {
	FLOW_EVICT_FINISHED = 0, /* closed and acknowledged TCP, RST, answered DNS */
	FLOW_EVICT_CLOSED,       /* TCP closed by FIN both ways, last ACK not seen */
	FLOW_EVICT_LRU,          /* none of those: the least recently seen, maybe live */
	FLOW_EVICT_MAX
};

/* "finished", "closed" or "least_recent" (metric labels), NULL when out of range. */
const char *flow_evict_name(enum flow_evict s);

struct flow_table_stats {
	uint64_t created;
	uint64_t ended[FLOW_END_MAX];  /* records by reason */
	uint64_t active;               /* flows in the table now */
	uint64_t peak_active;          /* most flows in the table at once */
	uint64_t restarted;            /* SYN on a closed flow's key started a new flow */
	uint64_t evicted[FLOW_EVICT_MAX]; /* flows ended because the table was full, by step
					   (a closed TCP flow's record still says fin or rst) */
};

/* One slot of the hash index: the low 32 bits of the key's hash and the
 * entry's index (UINT32_MAX: empty). Eight slots share a cache line, so a
 * lookup reads one line of the index and, unless two keys share all 32
 * bits, only the entry it is looking for. */
struct flow_slot {
	uint32_t hash;
	uint32_t entry;
};

struct flow_link {
	uint32_t prev, next;
};

struct flow_table {
	struct flow_table_options opt;
	size_t stride;               /* bytes per entry: struct flow + user data */
	unsigned char *entries;      /* max_flows entries */
	struct flow_link *idle;      /* per entry: neighbours in the idle list of its timeout class */
	struct flow_link *active;    /* per entry: neighbours in the active list, oldest record first */
	struct flow_link *finished;  /* per entry: neighbours in the finished list (lingering flows), by last packet */
	size_t entries_len, slots_len, idle_len, active_len, finished_len; /* bytes mapped */
	struct flow_slot *slots;     /* open addressing, linear probing, at most half full */
	uint32_t slot_mask;          /* slots - 1; slots is a power of two */
	uint32_t fresh;              /* entries below this index have been used */
	uint32_t free_head;          /* list through idle[].next of returned entries */
	uint32_t ihead[FLOW_IDLE_CLASSES], itail[FLOW_IDLE_CLASSES];
	uint32_t ahead, atail;
	uint32_t dhead, dtail;       /* the finished list */
	uint64_t now_us;             /* largest packet time seen */
	uint64_t next_due_us;        /* no list head expires while now_us is not past this */
	uint64_t to_us[FLOW_TO_MAX];
	uint64_t seed;
	flow_end_fn on_end;
	flow_soon_fn end_soon;       /* NULL: no hint */
	uint32_t soon;               /* idle flow due first: prefetched for with the next packet, or none */
	void *user;
	struct flow_table_stats stats;
};

/* Allocate every entry. 0 or -EINVAL/-ENOMEM. seed keys the hash (pass a
 * random value in a service so crafted traffic cannot aim at one chain;
 * output never depends on it). */
int flow_table_init(struct flow_table *t, const struct flow_table_options *opt, size_t user_size,
		    uint64_t seed, flow_end_fn on_end, void *user);
void flow_table_set_end_soon(struct flow_table *t, flow_soon_fn fn);
/* For tests: NULL when the lists agree with each other and with the flows'
 * state (every live flow on the active list and on the idle list of its
 * class, the finished list exactly the finished ones, links symmetric, no
 * cycle), else what is wrong. Walks every list: O(flows). */
const char *flow_table_check(const struct flow_table *t);
/* Free the entries (no records are emitted; flush first). Accepts a zeroed table. */
void flow_table_release(struct flow_table *t);

/* Account one packet sent from side 0 of *k (packet order) to side 1 at
 * ts_us: expire what is due, find or create the flow, update its counters
 * and TCP state. *ret_dir is 0 if the sender is the initiator, 1 if not;
 * *ret_new is true if the packet started a new flow. Never NULL. */
struct flow *flow_table_packet(struct flow_table *t, const struct flow_key *k, uint64_t ts_us,
			       uint32_t ip_len, uint8_t tcp_flags, int *ret_dir, bool *ret_new);

/* The same in three steps, so that a caller holding several packets can
 * start the memory loads of later packets while it accounts earlier ones
 * (at 100k flows nearly every lookup misses the cache):
 *   flow_table_prepare()     canonical key and hash; prefetches its index line
 *   flow_table_prefetch()    reads the index line; prefetches the matching entry
 *   flow_table_packet_at()   what flow_table_packet() does, with that key
 * Prefetching is only a hint: any number of other packets may be accounted
 * between the steps, and the result is exactly that of flow_table_packet(). */
struct flow_lookup {
	struct flow_key key;   /* canonical */
	uint32_t hash;
	int side;              /* key side of the packet's sender */
	uint32_t hint;         /* flow_table_prefetch(): the entry whose hash matched, or UINT32_MAX */
};

void flow_table_prepare(const struct flow_table *t, const struct flow_key *k, struct flow_lookup *ret);
/* Returns false when no flow can have this key (the packet would start one). */
bool flow_table_prefetch(const struct flow_table *t, struct flow_lookup *l);
/* A little later: prefetch the idle-list neighbours accounting will update. */
void flow_table_prefetch_links(const struct flow_table *t, const struct flow_lookup *l);
struct flow *flow_table_packet_at(struct flow_table *t, const struct flow_lookup *l, uint64_t ts_us,
				  uint32_t ip_len, uint8_t tcp_flags, int *ret_dir, bool *ret_new);

/* Expire what is due at time now_us (advances the clock; never moves it back). */
void flow_table_advance(struct flow_table *t, uint64_t now_us);

/* End every flow (FLOW_END_EOF, or FIN/RST for closed ones that linger), oldest first. */
void flow_table_flush(struct flow_table *t);

/* The caller's data of an entry (user_size bytes, 8-byte aligned, zeroed when the flow is new). */
static inline void *flow_user(struct flow *f) { return (unsigned char *)f + ((sizeof *f + 7) & ~(size_t)7); }

/* Initiator (side 0) or responder (side 1) address/port of a flow. */
static inline const uint8_t *flow_addr(const struct flow *f, int who) { return f->key.addr[f->init_side ^ who]; }
static inline uint16_t flow_port(const struct flow *f, int who) { return f->key.port[f->init_side ^ who]; }
