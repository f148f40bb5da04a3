/* decode.h - turn one captured frame into a struct dec_packet.
 *
 * The decoder reads only through struct cursor (common/cursor.h). It never
 * fails fatally: a frame it cannot use is counted under a reason in
 * struct dec_stats and skipped. Every field below is filled from the packet
 * or zeroed (but for the tail of dns.qname after its NUL); nothing points
 * into the frame after dec_decode() returns.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

/* Link types we decode (values are libpcap's DLT_* / LINKTYPE_* numbers). */
enum {
	DEC_LINK_NULL = 0,        /* BSD loopback: 4-byte host-order family */
	DEC_LINK_ETHERNET = 1,
	DEC_LINK_RAW = 101,       /* LINKTYPE_RAW: raw IPv4/IPv6 */
	DEC_LINK_LOOP = 108,      /* OpenBSD loopback: network-order family */
	DEC_LINK_LINUX_SLL = 113,
	DEC_LINK_IPV4 = 228,
	DEC_LINK_IPV6 = 229,
	DEC_LINK_LINUX_SLL2 = 276,
	DEC_LINK_DLT_RAW12 = 12,  /* DLT_RAW on some platforms */
	DEC_LINK_DLT_RAW14 = 14,  /* DLT_RAW on OpenBSD */
};

bool dec_link_supported(int linktype);

enum dec_l3 {
	DEC_L3_NONE = 0,   /* not IP and not ARP (e.g. LLDP, STP): counted, not an error */
	DEC_L3_IPV4 = 4,
	DEC_L3_IPV6 = 6,
	DEC_L3_ARP = 1,
};

/* An IP address; IPv4 lives in a[0..3] with a[4..15] zero. */
struct dec_addr {
	uint8_t family;   /* 4 or 6; 0 when absent */
	uint8_t a[16];
};

#define DEC_TCP_FIN 0x01
#define DEC_TCP_SYN 0x02
#define DEC_TCP_RST 0x04
#define DEC_TCP_PSH 0x08
#define DEC_TCP_ACK 0x10
#define DEC_TCP_URG 0x20
#define DEC_TCP_ECE 0x40
#define DEC_TCP_CWR 0x80

/* IPv4 options (RFC 791, RFC 2113); source routes and record route are rare
 * on a home network and worth a feature. BAD: the option list is malformed
 * (the packet is still decoded, options are not trusted). */
#define DEC_IPOPT_RR       0x01
#define DEC_IPOPT_SRCROUTE 0x02 /* LSRR or SSRR */
#define DEC_IPOPT_TS       0x04
#define DEC_IPOPT_RA       0x08 /* router alert */
#define DEC_IPOPT_OTHER    0x10
#define DEC_IPOPT_BAD      0x80

/* IPv6 extension headers (RFC 8200 section 4, RFC 4302 AH, RFC 4303 ESP). */
#define DEC_IP6EXT_HBH     0x01
#define DEC_IP6EXT_ROUTING 0x02
#define DEC_IP6EXT_FRAG    0x04
#define DEC_IP6EXT_DSTOPTS 0x08
#define DEC_IP6EXT_AH      0x10
#define DEC_IP6EXT_ESP     0x20 /* the chain ends here: the rest is encrypted */
#define DEC_IP6EXT_OTHER   0x40 /* mobility, HIP, shim6 */

/* More extension headers than this is DEC_IPV6_EXT_TOO_DEEP: real stacks
 * send at most a handful, long chains are an evasion or DoS trick. */
#define DEC_IPV6_EXT_MAX 8
/* More VLAN tags than this is DEC_VLAN_TOO_DEEP (QinQ is 2). */
#define DEC_VLAN_MAX 4

/* TCP options (RFC 9293, RFC 7323, RFC 2018). BAD: malformed option list. */
#define DEC_TCPOPT_MSS    0x01
#define DEC_TCPOPT_WSCALE 0x02
#define DEC_TCPOPT_SACKOK 0x04
#define DEC_TCPOPT_SACK   0x08
#define DEC_TCPOPT_TS     0x10
#define DEC_TCPOPT_OTHER  0x20
#define DEC_TCPOPT_BAD    0x80

#define DEC_DNS_NAME_MAX 255

struct dec_dns {
	bool present;          /* a DNS header (and question, if qdcount > 0) was parsed */
	bool is_response;      /* QR bit */
	uint16_t id;
	uint8_t opcode;
	uint8_t rcode;
	uint16_t qdcount, ancount, nscount, arcount;
	bool has_question;     /* first question parsed */
	uint16_t qtype, qclass;
	uint16_t qname_len;    /* length of the dotted name, e.g. "a.bc" = 4 */
	uint8_t qname_labels;
	uint8_t longest_label;
	float label_entropy;   /* Shannon entropy (bits/char) of the name's label characters */
	/* dotted, NUL-terminated; non-printable bytes as '?'; bytes after the
	 * NUL are unspecified. Last field of struct dec_packet (see dec_decode). */
	char qname[DEC_DNS_NAME_MAX + 1];
};

/* HTTP/1.x request methods (RFC 9110 section 9, RFC 5789); 0: no request. */
enum dec_http_method {
	DEC_HTTP_NONE = 0,
	DEC_HTTP_GET,
	DEC_HTTP_POST,
	DEC_HTTP_HEAD,
	DEC_HTTP_PUT,
	DEC_HTTP_DELETE,
	DEC_HTTP_OPTIONS,
	DEC_HTTP_PATCH,
	DEC_HTTP_CONNECT,
	DEC_HTTP_TRACE,
};

/* What the request's headers said (dec_http.flags). */
#define DEC_HTTP_HOST        0x01 /* a Host header */
#define DEC_HTTP_HOST_IP     0x02 /* its host is an IP literal (dotted quad or [IPv6]), not a name */
#define DEC_HTTP_HOST_PORT   0x04 /* it names a port */
#define DEC_HTTP_USER_AGENT  0x08 /* a User-Agent header */
#define DEC_HTTP_QUERY       0x10 /* the target has a query ("?") */
#define DEC_HTTP_NOT_ORIGIN_FORM 0x20 /* the target is not a path: absolute URI (proxy), authority, "*" */
#define DEC_HTTP_HEADERS_END 0x40 /* the empty line ending the headers is in this segment */

/* The start of an HTTP/1.x request (RFC 9112), decoded from a TCP segment
 * whose payload begins with a request line: method, target length and a
 * few header facts. Only the segment itself is read (no reassembly):
 * headers in later segments are not seen. */
struct dec_http {
	uint8_t method;        /* enum dec_http_method; DEC_HTTP_NONE when no request starts here */
	uint8_t flags;         /* DEC_HTTP_* */
	uint8_t headers;       /* header lines read (saturating) */
	uint16_t uri_len;      /* length of the request target (saturating) */
};

struct dec_arp {
	uint16_t op;           /* 1 request, 2 reply */
	uint8_t sha[6], spa[4], tha[6], tpa[4];
};

struct dec_packet {
	uint64_t ts_us;        /* packet timestamp, microseconds since the epoch */
	uint32_t caplen, wirelen;
	int linktype;

	bool has_mac;
	uint8_t src_mac[6], dst_mac[6];
	uint16_t vlan;         /* outermost 802.1Q/802.1ad VLAN ID; 0 when untagged */
	uint8_t vlan_count;    /* VLAN tags seen (0 untagged, 2 for QinQ) */

	uint8_t l3;            /* enum dec_l3 */
	struct dec_addr src, dst;
	uint32_t ip_len;       /* IP-layer bytes: IPv4 total length; IPv6 payload length + 40 */
	uint8_t ttl;           /* IPv4 TTL or IPv6 hop limit */
	uint8_t ip_proto;      /* transport protocol (after IPv6 extension headers) */
	uint8_t ip_tos;        /* IPv4 TOS / IPv6 traffic class (DSCP and ECN bits) */
	bool ip_df;            /* IPv4 Don't Fragment */
	uint16_t ip_hdr_len;   /* IPv4 header with options; IPv6 40 + extension headers walked */
	uint8_t ip_opts;       /* DEC_IPOPT_* seen in the IPv4 options */
	uint8_t ip6_exts;      /* DEC_IP6EXT_* headers seen in the IPv6 chain */
	uint8_t ip6_ext_count; /* IPv6 extension headers walked (at most DEC_IPV6_EXT_MAX) */

	/* Fragments: is_fragment is set for every fragment; only the first one
	 * (frag_offset == 0) carries transport headers. */
	bool is_fragment;
	bool more_fragments;
	uint16_t frag_offset;  /* in bytes */
	uint32_t frag_id;      /* IPv4 identification or IPv6 fragment header id */

	bool has_ports;        /* TCP/UDP ports decoded (sport/dport valid) */
	uint16_t sport, dport;

	uint8_t tcp_flags;     /* DEC_TCP_* */
	uint16_t tcp_window;
	uint8_t tcp_hdr_len;   /* bytes, including options */
	uint32_t tcp_seq, tcp_ack;
	uint8_t tcp_opts;      /* DEC_TCPOPT_* seen */
	uint8_t tcp_wscale;    /* window scale shift when DEC_TCPOPT_WSCALE */
	uint16_t tcp_mss;      /* when DEC_TCPOPT_MSS */

	bool has_icmp;
	uint8_t icmp_type, icmp_code;
	uint16_t icmp_id;      /* echo identifier (ICMP/ICMPv6 echo), else 0 */

	uint32_t l4_payload_len; /* transport payload bytes by the IP/transport lengths, not caplen */

	struct dec_arp arp;    /* valid when l3 == DEC_L3_ARP */
	struct dec_http http;  /* a TCP segment starting an HTTP request: http.method != 0 */
	struct dec_dns dns;    /* valid when dns.present; must stay the last field */
};

/* Why a frame was not usable, or DEC_OK. The names (dec_reason_name) are
 * stable: they appear in --stats output and as metric labels. */
enum dec_reason {
	DEC_OK = 0,
	DEC_NOT_IP,             /* decoded fine, but not IP/ARP (counted, not an error) */
	DEC_TRUNC_LINK,         /* frame too short for its link header */
	DEC_BAD_LINKTYPE,
	DEC_TRUNC_VLAN,
	DEC_VLAN_TOO_DEEP,
	DEC_TRUNC_IPV4,
	DEC_BAD_IPV4_VERSION,
	DEC_BAD_IPV4_HDRLEN,
	DEC_BAD_IPV4_TOTLEN,
	DEC_TRUNC_IPV6,
	DEC_BAD_IPV6_VERSION,
	DEC_TRUNC_IPV6_EXT,
	DEC_IPV6_EXT_TOO_DEEP,
	DEC_TRUNC_TCP,
	DEC_BAD_TCP_HDRLEN,
	DEC_TRUNC_UDP,
	DEC_BAD_UDP_LEN,
	DEC_TRUNC_ICMP,
	DEC_TRUNC_ARP,
	DEC_BAD_ARP,
	DEC_BAD_DNS,            /* DNS on port 53/5353 malformed: packet still used, DNS fields absent */
	DEC_TRUNC_DNS,          /* DNS cut by snaplen before the question ended: packet still used */
	DEC_BAD_IPV6_EXT,       /* extension header runs past the IPv6 payload length */
	DEC_BAD_ICMP,           /* IP payload shorter than the 8-byte ICMP header */
	DEC_BAD_HTTP,           /* HTTP request line or header malformed: packet still used, http absent */
	DEC_TRUNC_HTTP,         /* HTTP request line cut by snaplen: packet still used, http absent */
	DEC_REASON_MAX
};

const char *dec_reason_name(enum dec_reason r);

struct dec_stats {
	uint64_t frames;
	uint64_t by_reason[DEC_REASON_MAX];
};

/* Decode one frame. Returns DEC_OK (pkt is an IP or ARP packet ready for the
 * flow table) or the reason it is not usable; either way the reason is
 * counted in *stats (which may be NULL), exactly one reason per frame, so
 * the by_reason[] entries always sum to frames. DEC_BAD_DNS, DEC_TRUNC_DNS,
 * DEC_BAD_HTTP and DEC_TRUNC_HTTP are counted instead of DEC_OK but the
 * packet is still returned as DEC_OK, with dns.present false or
 * http.method 0.
 *
 * Lengths (decided once, docs/internals/decode.md has the table):
 * - every length field comes from the IP and transport headers, never from
 *   caplen: a payload cut by snaplen is fine and l4_payload_len still says
 *   what was sent; bytes after the IP length (Ethernet padding) are ignored;
 * - the transport header itself (TCP with its options, the 8 bytes of UDP
 *   and ICMP) must be captured, else DEC_TRUNC_TCP/UDP/ICMP: a frame whose
 *   ports are unreadable is not a usable packet;
 * - an IP length too small for the headers it announces is BAD_*, not
 *   TRUNC_*; IPv4 total length above caplen is snaplen, below IHL*4 is
 *   DEC_BAD_IPV4_TOTLEN;
 * - a later fragment (frag_offset > 0) is DEC_OK with is_fragment set,
 *   has_ports false and l4_payload_len the fragment's data; the flow stage
 *   attributes it. A first fragment (offset 0, more_fragments) has ports.
 * On a reason other than DEC_OK, pkt holds whatever was decoded before the
 * problem: useful for diagnostics, not for the flow table. */
enum dec_reason dec_decode(int linktype, const uint8_t *frame, uint32_t caplen, uint32_t wirelen,
			   uint64_t ts_us, struct dec_packet *pkt, struct dec_stats *stats);
