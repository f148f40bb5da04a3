/* labels.h - ground truth from a labels.tsv (the format of
 * ../shared/data/labels.tsv and of the testbed's output), and which flows it
 * makes attack flows.
 *
 * A row names a capture file, a category, the attacking and victim hosts
 * and a Wireshark display filter ("rule"). nad cannot run display filters,
 * so a flow belongs to a row when (docs/eval.md, "Ground truth"):
 *   1. its endpoints are one attack host and one victim host, either way
 *      round (an address, a CIDR prefix, or a wildcard: "spoofed",
 *      "reflectors", "any", "*" or "-"; a list is comma-separated);
 *   2. it overlaps the rule's time window, when the rule has top-level
 *      terms frame.time_epoch >= A / <= B;
 *   3. it has the rule's protocol and port, when the rule has top-level
 *      terms tcp / udp / icmp, or tcp.port / udp.port / tcp.dstport /
 *      udp.srcport ... == N (either end of the flow may hold N).
 * Only terms joined by && outside parentheses are read, and none at all
 * when the rule has a top-level ||; every other term (flags, DNS names) is
 * not checked and is listed in unchecked[] so the report can say so.
 * A row whose attack hosts are MAC addresses only (ARP spoofing, ARP
 * sweeps) has no IP flow: it is "layer 2", reported as not visible in flows.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EVAL_HOSTS_MAX 16
#define EVAL_LABELS_MAX 100000

struct eval_prefix {
	uint8_t family;            /* 4 or 6 */
	uint8_t bits;              /* prefix length; 32 / 128 for one address */
	uint8_t addr[16];
};

struct eval_hosts {
	bool any;                  /* a wildcard: every address matches */
	size_t n;
	struct eval_prefix ip[EVAL_HOSTS_MAX];
	size_t n_mac;              /* MAC addresses (kept as text only) */
};

struct eval_label {
	char *file;                /* capture base name, e.g. "attack.pcap" */
	char *category;
	char *attack_text, *victim_text;
	char *rule;
	struct eval_hosts attack, victim;
	bool layer2;               /* no IP flow can carry it */
	bool has_from, has_to;
	uint64_t from_us, to_us;   /* rule time window, inclusive */
	uint8_t proto;             /* 0 = any, else 6, 17, 1 (icmp: 1 or 58) */
	bool has_port;
	uint16_t port;
	char *unchecked;           /* rule terms not evaluated on flows ("" if none) */
	size_t line;               /* line in labels.tsv */
};

struct eval_labels {
	size_t n;
	struct eval_label *row;
};

/* Read a labels.tsv. Its header names the columns (file, category,
 * attack_hosts, victim_hosts, rule, note; more columns are allowed and
 * ignored). Blank lines and lines starting with '#' are skipped. 0, -ENOENT
 * / -EIO (cannot read), -EINVAL (err names the line, column and what was
 * expected) or -ENOMEM. The caller owns ret (eval_labels_release). */
int eval_labels_read(const char *path, struct eval_labels *ret, char *err, size_t errlen);
void eval_labels_release(struct eval_labels *l);

/* Parse one host column ("192.168.1.10", "10.0.0.0/24,10.0.1.5",
 * "spoofed", a MAC ...). 0 or -EINVAL. */
int eval_hosts_parse(const char *text, struct eval_hosts *ret);

/* Is the address (family 4: bytes 0..3) one of hosts' IP entries?
 * Wildcards do not count: this asks whether a host was *named*. */
bool eval_hosts_names(const struct eval_hosts *h, uint8_t family, const uint8_t *addr);

/* The identity of a flow as labelling needs it. */
struct eval_flow_key {
	uint8_t family, proto;
	const uint8_t *src, *dst;
	uint16_t sport, dport;
	uint64_t first_us, last_us;
};

/* Does the row make this flow an attack flow (rules 1-3 above)? */
bool eval_label_matches(const struct eval_label *l, const struct eval_flow_key *f);
