/* capture.h - where packets come from: a capture file or a live interface.
 *
 * Both sources are libpcap underneath (pcap and pcapng files, AF_PACKET
 * live capture) behind one small API, so the rest of the pipeline does not
 * care which one it reads. Timestamps are microseconds and come from the
 * packet, never from the wall clock, so a file always gives the same result.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cap_options {
	const char *file;        /* -r: pcap/pcapng path ("-" = stdin); exclusive with iface */
	const char *iface;       /* -i: live interface */
	const char *bpf;         /* -f: BPF filter expression, or NULL */
	int snaplen;             /* bytes kept per packet (live); 0 = default 262144 */
	bool promisc;
	int buffer_mb;           /* kernel ring size for live capture; 0 = libpcap default */
	int timeout_ms;          /* live read timeout (how often cap_next returns 0 when idle); 0 = 100 */
};

struct cap_packet {
	uint64_t ts_us;
	uint32_t caplen;
	uint32_t wirelen;
	const uint8_t *data;     /* valid until the next cap_next() */
};

struct cap_stats {
	uint64_t packets;        /* packets handed out by cap_next */
	uint64_t bytes;          /* sum of wirelen */
	bool have_kernel;        /* live: pcap_stats values below are valid */
	uint64_t kernel_received;
	uint64_t kernel_dropped; /* dropped by the kernel: buffer full */
	uint64_t if_dropped;     /* dropped by the interface/driver */
};

struct cap_source;

enum {
	CAP_PACKET = 1,          /* *ret holds a packet */
	CAP_IDLE = 0,            /* live: read timeout expired with nothing to read */
	CAP_END = -1,            /* end of file, or cap_break() was called */
	CAP_ERROR = -2,          /* read error; cap_error() says what (file: truncated at offset N) */
};

/* Open a source. On failure returns a negative errno and writes a message
 * naming the file or interface into err; *ret is set only on success. */
int cap_open(const struct cap_options *opt, struct cap_source **ret, char *err, size_t errlen);

/* Next packet: CAP_PACKET, CAP_IDLE, CAP_END or CAP_ERROR. */
int cap_next(struct cap_source *s, struct cap_packet *ret);

/* Data link type (LINKTYPE_* value), e.g. 1 = Ethernet, 113 = Linux SLL. */
int cap_linktype(const struct cap_source *s);
const char *cap_linktype_name(const struct cap_source *s);

/* Counters; for live sources this also asks the kernel (pcap_stats). */
void cap_get_stats(struct cap_source *s, struct cap_stats *ret);

/* Message for the last CAP_ERROR, naming the file and byte offset. */
const char *cap_error(const struct cap_source *s);

/* True for -r sources. */
bool cap_is_file(const struct cap_source *s);

/* Make a blocked cap_next() return CAP_END soon (async-signal-safe). */
void cap_break(struct cap_source *s);

/* Close and free; accepts NULL. */
void cap_free(struct cap_source *s);
