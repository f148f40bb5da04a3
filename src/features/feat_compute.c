/* feat_compute.c - per-flow features: accumulate per packet, finish per record. */
#include "features/feat_compute.h"

#include <math.h>
#include <string.h>

/* Welford's update: numerically stable where sum-of-squares would cancel
 * (long flows of near-equal packet sizes). */
static void welford_add(double *mean, double *m2, uint32_t n_after, double x)
{
	double d = x - *mean;

	*mean += d / n_after;
	*m2 += d * (x - *mean);
}

static double pop_std(double m2, uint32_t n)
{
	return n > 1 && m2 > 0 ? sqrt(m2 / n) : 0;
}

/* Question types in three groups the model can use (a type code is not a
 * quantity): 0 addresses and service bindings (A 1, AAAA 28, SVCB 64,
 * HTTPS 65: what browsing asks), 1 PTR (12: reverse lookups, mDNS/DNS-SD
 * browsing), 2 everything else (TXT, NULL, CNAME, MX, SRV, ANY...: rarer in
 * a home, and the types tunnels carry data in). */
static int dns_qtype_class(uint16_t qtype)
{
	if (qtype == 1 || qtype == 28 || qtype == 64 || qtype == 65)
		return 0;
	return qtype == 12 ? 1 : 2;
}

static void sat_add16(uint16_t *c, uint16_t n)
{
	*c = *c > UINT16_MAX - n ? UINT16_MAX : (uint16_t)(*c + n);
}

void feat_flow_add(struct feat_flow *a, const struct dec_packet *p, int dir)
{
	struct feat_dir *d = &a->dir[dir];
	uint32_t total = a->dir[0].n + a->dir[1].n;
	uint32_t len = p->ip_len;

	if (total < FEAT_FIRST_N)
		a->first_len[total] = dir ? -(int32_t)len : (int32_t)len;
	if (total) {
		/* a packet stamped earlier than its predecessor (reordered
		 * capture) counts as a zero gap, keeping n-1 gaps for n packets */
		double gap = p->ts_us >= a->last_us ? (double)(p->ts_us - a->last_us) / 1e6 : 0;

		welford_add(&a->iat_mean, &a->iat_m2, total, gap);
	}
	if (d->n) {
		double gap = p->ts_us >= d->last_us ? (double)(p->ts_us - d->last_us) / 1e6 : 0;

		welford_add(&d->iat_mean, &d->iat_m2, d->n, gap);
		if (d->n == 1 || gap < d->iat_min)
			d->iat_min = gap;
		if (gap > d->iat_max)
			d->iat_max = gap;
	}
	if (p->ts_us > a->last_us || !total)
		a->last_us = p->ts_us;
	if (p->ts_us > d->last_us || !d->n)
		d->last_us = p->ts_us;

	/* HTTP: only the request that opens the conversation (later
	 * requests on a kept-alive connection are the same client's) */
	if (dir == 0 && !d->payload && p->l4_payload_len && p->http.method)
		a->http = p->http.flags & DEC_HTTP_HOST_IP ? FEAT_HTTP_BY_IP : FEAT_HTTP_BY_NAME;

	d->n++;
	welford_add(&d->len_mean, &d->len_m2, d->n, len);
	if (d->n == 1 || len < d->len_min)
		d->len_min = len;
	if (len > d->len_max)
		d->len_max = len;
	d->payload += p->l4_payload_len;

	if (p->ip_proto == 6 && p->tcp_hdr_len) {
		uint8_t fl = p->tcp_flags;

		a->flags[0] += !!(fl & DEC_TCP_SYN);
		a->flags[1] += !!(fl & DEC_TCP_FIN);
		a->flags[2] += !!(fl & DEC_TCP_RST);
		a->flags[3] += !!(fl & DEC_TCP_PSH);
		a->flags[4] += !!(fl & DEC_TCP_ACK);
		if (!d->seen_tcp) {
			d->seen_tcp = true;
			d->init_win = p->tcp_window;
		}
		if (dir == 0 && (fl & (DEC_TCP_SYN | DEC_TCP_ACK)) == DEC_TCP_SYN && !a->syn_us)
			a->syn_us = p->ts_us;
		else if (dir == 1 && (fl & (DEC_TCP_SYN | DEC_TCP_ACK)) == (DEC_TCP_SYN | DEC_TCP_ACK) &&
			 a->syn_us && !a->synack_us)
			a->synack_us = p->ts_us;
		else if (dir == 0 && (fl & (DEC_TCP_SYN | DEC_TCP_ACK)) == DEC_TCP_ACK && a->synack_us &&
			 !a->ack_us)
			a->ack_us = p->ts_us;
		if (dir == 1 && (fl & DEC_TCP_RST))
			a->bwd_rst = true;
	}

	if (p->dns.present) {
		const struct dec_dns *q = &p->dns;

		if (!q->is_response)
			sat_add16(&a->dns_queries, 1);
		if (q->has_question) {
			int cls = dns_qtype_class(q->qtype);

			sat_add16(&a->dns_qclass[cls], 1);
			/* the decoder keeps qname_len <= 253 (a name is at
			 * most 255 bytes on the wire) */
			if (q->qname_len > a->dns_qlen_max)
				a->dns_qlen_max = (uint8_t)q->qname_len;
			if (q->longest_label > a->dns_longest_max)
				a->dns_longest_max = q->longest_label;
			/* mDNS stays on the link (RFC 6762), so it cannot tunnel
			 * out; its TXT, SRV and ANY questions are service
			 * discovery and probing */
			if (!q->is_response && cls == 2 /* other types */ && p->sport != 5353 &&
			    p->dport != 5353)
				sat_add16(&a->dns_data_qname_chars, q->qname_len);
		}

		if (q->has_question && !a->dns_query && (!q->is_response || !a->dns_response)) {
			/* the name comes from the first query; a flow whose query
			 * was missed takes it from the response */
			a->dns_qlen = (uint8_t)q->qname_len;
			a->dns_labels = q->qname_labels;
			a->dns_longest = q->longest_label;
			a->dns_entropy = q->label_entropy;
			a->dns_qtype = q->qtype;
			a->dns_query = !q->is_response;
		}
		if (q->is_response && !a->dns_response) {
			a->dns_response = true;
			a->dns_rcode = q->rcode;
			a->dns_answers = q->ancount;
		}
	}
}

bool feat_flow_failed(const struct feat_flow *a, const struct feat_flow_id *id)
{
	if (!id->packets[1])
		return true;
	return id->proto == 6 && a->bwd_rst && !a->ack_us;
}

enum feat_addr_class feat_addr_class(uint8_t family, const uint8_t *a)
{
	if (family == 4) {
		if (a[0] == 10 || (a[0] == 172 && (a[1] & 0xf0) == 16) || (a[0] == 192 && a[1] == 168) ||
		    (a[0] == 100 && (a[1] & 0xc0) == 64))
			return FEAT_ADDR_PRIVATE;
		if (a[0] == 169 && a[1] == 254)
			return FEAT_ADDR_LINK_LOCAL;
		if ((a[0] & 0xf0) == 224 || (a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255))
			return FEAT_ADDR_MULTICAST;
		if (a[0] == 127)
			return FEAT_ADDR_LOOPBACK;
		if (a[0] == 0)
			return FEAT_ADDR_UNSPECIFIED;
		return FEAT_ADDR_PUBLIC;
	}
	static const uint8_t zero[15];

	if ((a[0] & 0xfe) == 0xfc)
		return FEAT_ADDR_PRIVATE;
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return FEAT_ADDR_LINK_LOCAL;
	if (a[0] == 0xff)
		return FEAT_ADDR_MULTICAST;
	if (!memcmp(a, zero, 15))
		return a[15] == 1 ? FEAT_ADDR_LOOPBACK : a[15] == 0 ? FEAT_ADDR_UNSPECIFIED : FEAT_ADDR_PUBLIC;
	return FEAT_ADDR_PUBLIC;
}

static bool addr_local(enum feat_addr_class c)
{
	return c == FEAT_ADDR_PRIVATE || c == FEAT_ADDR_LINK_LOCAL || c == FEAT_ADDR_LOOPBACK;
}

/* TCP services that take a password and get guessed at: FTP, SSH, telnet,
 * SMTP submission and POP3/IMAP (plain and TLS), NetBIOS session and SMB,
 * MSSQL, MySQL, RDP, PostgreSQL, VNC. Web logins are not told apart from
 * web browsing by port, so 80/443 are not on the list. */
bool feat_login_port(uint16_t port)
{
	static const uint16_t ports[] = { 21, 22, 23, 110, 139, 143, 445, 465, 587, 993, 995,
					  1433, 3306, 3389, 5432, 5900 };

	for (size_t i = 0; i < sizeof ports / sizeof ports[0]; i++)
		if (port == ports[i])
			return true;
	return false;
}

static int port_class(uint16_t port)
{
	if (!port)
		return 0;
	return port < 1024 ? 1 : port < 49152 ? 2 : 3;
}

/* Population variance of the union of both directions, from each side's
 * mean and M2 (Chan et al.'s pairwise combination): exact, no third pass. */
static double pooled_std(const struct feat_dir *x, const struct feat_dir *y)
{
	double n = (double)x->n + y->n, d, m2;

	if (n < 2)
		return 0;
	d = y->len_mean - x->len_mean;
	m2 = x->len_m2 + y->len_m2 + d * d * x->n * y->n / n;
	return m2 > 0 ? sqrt(m2 / n) : 0;
}

static void dir_features(const struct feat_dir *d, double *out, int len_min, int len_max, int len_std,
			 int iat_mean, int iat_std, int iat_min, int iat_max)
{
	out[len_min] = d->n ? d->len_min : 0;
	out[len_max] = d->len_max;
	out[len_std] = pop_std(d->len_m2, d->n);
	out[iat_mean] = d->n > 1 ? d->iat_mean : 0;
	out[iat_std] = d->n > 1 ? pop_std(d->iat_m2, d->n - 1) : 0;
	out[iat_min] = d->n > 1 ? d->iat_min : 0;
	out[iat_max] = d->iat_max;
}

void feat_flow_compute(const struct feat_flow *a, const struct feat_flow_id *id, double out[FEAT_COUNT])
{
	double dur = id->last_us > id->first_us ? (double)(id->last_us - id->first_us) / 1e6 : 0;
	uint64_t pk = id->packets[0] + id->packets[1], by = id->bytes[0] + id->bytes[1];
	uint32_t n = a->dir[0].n + a->dir[1].n;
	enum feat_addr_class sc = feat_addr_class(id->family, id->src);
	enum feat_addr_class dc = feat_addr_class(id->family, id->dst);
	uint32_t nq;

	out[FEAT_DURATION] = dur;
	out[FEAT_PACKETS_FWD] = (double)id->packets[0];
	out[FEAT_PACKETS_BWD] = (double)id->packets[1];
	out[FEAT_BYTES_FWD] = (double)id->bytes[0];
	out[FEAT_BYTES_BWD] = (double)id->bytes[1];
	out[FEAT_PKT_LEN_MEAN_FWD] = a->dir[0].n ? a->dir[0].len_mean : 0;
	out[FEAT_PKT_LEN_MEAN_BWD] = a->dir[1].n ? a->dir[1].len_mean : 0;
	out[FEAT_PKT_LEN_STD] = pooled_std(&a->dir[0], &a->dir[1]);
	out[FEAT_IAT_MEAN] = n > 1 ? a->iat_mean : 0;
	out[FEAT_IAT_STD] = n > 1 ? pop_std(a->iat_m2, n - 1) : 0;
	out[FEAT_SYN_COUNT] = a->flags[0];
	out[FEAT_FIN_COUNT] = a->flags[1];
	out[FEAT_RST_COUNT] = a->flags[2];
	out[FEAT_PSH_COUNT] = a->flags[3];
	out[FEAT_ACK_COUNT] = a->flags[4];
	out[FEAT_BYTES_PER_S] = dur > 0 ? (double)by / dur : 0;
	out[FEAT_PACKETS_PER_S] = dur > 0 ? (double)pk / dur : 0;

	dir_features(&a->dir[0], out, FEAT_PKT_LEN_MIN_FWD, FEAT_PKT_LEN_MAX_FWD, FEAT_PKT_LEN_STD_FWD,
		     FEAT_IAT_MEAN_FWD, FEAT_IAT_STD_FWD, FEAT_IAT_MIN_FWD, FEAT_IAT_MAX_FWD);
	dir_features(&a->dir[1], out, FEAT_PKT_LEN_MIN_BWD, FEAT_PKT_LEN_MAX_BWD, FEAT_PKT_LEN_STD_BWD,
		     FEAT_IAT_MEAN_BWD, FEAT_IAT_STD_BWD, FEAT_IAT_MIN_BWD, FEAT_IAT_MAX_BWD);
	out[FEAT_PAYLOAD_BYTES_FWD] = (double)a->dir[0].payload;
	out[FEAT_PAYLOAD_BYTES_BWD] = (double)a->dir[1].payload;

	out[FEAT_TCP_SYNACK_RTT] = a->synack_us ? (double)(a->synack_us - a->syn_us) / 1e6 : 0;
	out[FEAT_TCP_ACK_RTT] = a->ack_us ? (double)(a->ack_us - a->synack_us) / 1e6 : 0;
	out[FEAT_TCP_INIT_WIN_FWD] = a->dir[0].init_win;
	out[FEAT_TCP_INIT_WIN_BWD] = a->dir[1].init_win;
	for (int i = 0; i < FEAT_FIRST_N; i++)
		out[FEAT_FIRST_LEN_1 + i] = a->first_len[i];

	out[FEAT_DNS_QUERY_LEN] = a->dns_qlen;
	out[FEAT_DNS_LABELS] = a->dns_labels;
	out[FEAT_DNS_LONGEST_LABEL] = a->dns_longest;
	/* through float: the decoder's precision, printed the same everywhere */
	out[FEAT_DNS_LABEL_ENTROPY] = round((double)a->dns_entropy * 1e4) / 1e4;
	out[FEAT_DNS_QTYPE] = a->dns_qtype;
	out[FEAT_DNS_RCODE] = a->dns_rcode;
	out[FEAT_DNS_ANSWERS] = a->dns_answers;
	out[FEAT_DNS_QUERIES] = a->dns_queries;
	out[FEAT_DNS_QUERY_LEN_MAX] = a->dns_qlen_max;
	nq = a->dns_qclass[0] + a->dns_qclass[1] + a->dns_qclass[2];
	out[FEAT_DNS_QTYPE_ADDR] = nq ? (double)a->dns_qclass[0] / nq : 0;
	out[FEAT_DNS_QTYPE_PTR] = nq ? (double)a->dns_qclass[1] / nq : 0;
	out[FEAT_DNS_QTYPE_OTHER] = nq ? (double)a->dns_qclass[2] / nq : 0;
	out[FEAT_DNS_LONGEST_LABEL_MAX] = a->dns_longest_max;
	out[FEAT_DNS_DATA_QNAME_CHARS] = a->dns_data_qname_chars;

	out[FEAT_HTTP_REQUEST] = a->http != FEAT_HTTP_NONE;
	out[FEAT_HTTP_HOST_IP] = a->http == FEAT_HTTP_BY_IP;
	out[FEAT_HTTP_BARE_IP_PAYLOAD_FWD] = a->http == FEAT_HTTP_BY_IP ? (double)a->dir[0].payload : 0;

	out[FEAT_PROTO] = id->proto;
	out[FEAT_PROTO_TCP] = id->proto == 6;
	out[FEAT_PROTO_UDP] = id->proto == 17;
	out[FEAT_PROTO_ICMP] = id->proto == 1 || id->proto == 58;
	out[FEAT_PROTO_OTHER] = !(id->proto == 6 || id->proto == 17 || id->proto == 1 || id->proto == 58);
	out[FEAT_IPV6] = id->family == 6;
	out[FEAT_RESP_PORT_CLASS] = (id->proto == 6 || id->proto == 17) ? port_class(id->dport) : 0;
	out[FEAT_RESP_PORT_WELL_KNOWN] = out[FEAT_RESP_PORT_CLASS] == 1;
	out[FEAT_RESP_PORT_REGISTERED] = out[FEAT_RESP_PORT_CLASS] == 2;
	out[FEAT_RESP_PORT_DYNAMIC] = out[FEAT_RESP_PORT_CLASS] == 3;
	out[FEAT_RESP_PORT_LOGIN] = id->proto == 6 && feat_login_port(id->dport);
	out[FEAT_SRC_ADDR_CLASS] = sc;
	out[FEAT_DST_ADDR_CLASS] = dc;
	out[FEAT_SRC_LOCAL] = addr_local(sc);
	out[FEAT_DST_LOCAL] = addr_local(dc);
	out[FEAT_DST_MULTICAST] = dc == FEAT_ADDR_MULTICAST;
}
