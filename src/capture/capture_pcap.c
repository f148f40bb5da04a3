/* capture_pcap.c - libpcap back end for files (pcap, pcapng) and live interfaces. */
#include "capture/capture.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cap_source {
	pcap_t *pcap;
	bool is_file;
	char name[256];
	int linktype;
	long next_offset;        /* file: byte offset of the record cap_next reads next */
	bool classic_pcap;       /* offsets follow from record sizes; no ftell() per packet */
	char *iobuf;             /* file: the stdio buffer libpcap reads through (freed after pcap_close) */
	struct cap_stats stats;
	char error[PCAP_ERRBUF_SIZE + 512];
};

static int apply_filter(struct cap_source *s, const char *bpf, char *err, size_t errlen)
{
	struct bpf_program prog;

	if (!bpf || !*bpf)
		return 0;
	if (pcap_compile(s->pcap, &prog, bpf, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		snprintf(err, errlen, "invalid BPF filter '%s': %s", bpf, pcap_geterr(s->pcap));
		return -EINVAL;
	}
	if (pcap_setfilter(s->pcap, &prog) < 0) {
		snprintf(err, errlen, "cannot set BPF filter '%s' on '%s': %s", bpf, s->name,
			 pcap_geterr(s->pcap));
		pcap_freecode(&prog);
		return -EINVAL;
	}
	pcap_freecode(&prog);
	return 0;
}

/* libpcap reads a capture file record by record through stdio, whose
 * buffer defaults to one 4 KiB block: a read() system call for every six
 * packets or so, a third of the time a bare pcap_next_ex() loop takes.
 * 64 KiB makes those calls rare and still fits the L2 cache of a
 * Raspberry Pi 5 core with room to spare. */
#define CAP_FILE_BUFFER (64u << 10)

/* The file as a stream with our buffer, for pcap_fopen_offline; NULL
 * with the message pcap_open_offline would give if it cannot be opened. */
static FILE *open_stream(struct cap_source *s, const char *path, char *ebuf, size_t ebuflen)
{
	FILE *f = fopen(path, "rb");

	if (!f) {
		snprintf(ebuf, ebuflen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	s->iobuf = malloc(CAP_FILE_BUFFER);
	if (s->iobuf)
		setvbuf(f, s->iobuf, _IOFBF, CAP_FILE_BUFFER);
	return f;
}

static int open_file(struct cap_source *s, const struct cap_options *opt, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";

	s->is_file = true;
	if (strcmp(opt->file, "-") != 0) {
		FILE *stream = open_stream(s, opt->file, ebuf, sizeof ebuf);

		if (stream) {
			s->pcap = pcap_fopen_offline_with_tstamp_precision(stream, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
			/* on failure the stream is still ours */
			if (!s->pcap)
				fclose(stream);
		}
	} else {
		s->pcap = pcap_open_offline_with_tstamp_precision(opt->file, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
	}
	if (!s->pcap) {
		/* libpcap says "unknown file format" for non-captures and the
		 * strerror text for unreadable files; keep its words, name the file. */
		snprintf(err, errlen, "cannot read capture file '%s': %s", opt->file, ebuf);
		return -EINVAL;
	}
	FILE *f = pcap_file(s->pcap);
	s->next_offset = f ? ftell(f) : -1;
	/* Classic pcap (microsecond or nanosecond magic, either byte order)
	 * has a 24-byte file header and 16-byte record headers, so the offset
	 * of the next record is arithmetic; pcapng and the rare modified
	 * formats ask the stream (ftell is an lseek system call per packet,
	 * ~5% of the flow meter's time). */
	s->classic_pcap = false;
	if (strcmp(opt->file, "-") != 0) {
		FILE *peek = fopen(opt->file, "rb");
		uint8_t m[4];
		if (peek && fread(m, 1, 4, peek) == 4) {
			uint32_t magic = (uint32_t)m[0] | (uint32_t)m[1] << 8 | (uint32_t)m[2] << 16 | (uint32_t)m[3] << 24;
			s->classic_pcap = magic == 0xa1b2c3d4u || magic == 0xd4c3b2a1u || magic == 0xa1b23c4du ||
					  magic == 0x4d3cb2a1u;
		}
		if (peek)
			fclose(peek);
	}
	if (s->classic_pcap)
		s->next_offset = 24;
	return 0;
}

static int open_live(struct cap_source *s, const struct cap_options *opt, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	int r;

	s->pcap = pcap_create(opt->iface, ebuf);
	if (!s->pcap) {
		snprintf(err, errlen, "cannot open interface '%s': %s", opt->iface, ebuf);
		return -ENODEV;
	}
	pcap_set_snaplen(s->pcap, opt->snaplen > 0 ? opt->snaplen : 262144);
	pcap_set_promisc(s->pcap, opt->promisc ? 1 : 0);
	pcap_set_timeout(s->pcap, opt->timeout_ms > 0 ? opt->timeout_ms : 100);
	pcap_set_tstamp_precision(s->pcap, PCAP_TSTAMP_PRECISION_MICRO);
	if (opt->buffer_mb > 0)
		pcap_set_buffer_size(s->pcap, opt->buffer_mb * 1024 * 1024);
	r = pcap_activate(s->pcap);
	if (r < 0) {
		snprintf(err, errlen, "cannot capture on interface '%s': %s (%s)", opt->iface,
			 pcap_statustostr(r), pcap_geterr(s->pcap));
		return r == PCAP_ERROR_PERM_DENIED ? -EPERM : -ENODEV;
	}
	/* Warnings (e.g. promiscuous mode not supported) are not fatal. */
	return 0;
}

int cap_open(const struct cap_options *opt, struct cap_source **ret, char *err, size_t errlen)
{
	struct cap_source *s;
	int r;

	if (!!opt->file == !!opt->iface) {
		snprintf(err, errlen, "exactly one of a capture file (-r) or an interface (-i) is needed");
		return -EINVAL;
	}
	s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	snprintf(s->name, sizeof s->name, "%s", opt->file ? opt->file : opt->iface);
	r = opt->file ? open_file(s, opt, err, errlen) : open_live(s, opt, err, errlen);
	if (r == 0)
		r = apply_filter(s, opt->bpf, err, errlen);
	if (r < 0) {
		cap_free(s);
		return r;
	}
	s->linktype = pcap_datalink(s->pcap);
	*ret = s;
	return 0;
}

int cap_next(struct cap_source *s, struct cap_packet *ret)
{
	struct pcap_pkthdr *hdr;
	const u_char *data;
	long before = s->next_offset;
	int r = pcap_next_ex(s->pcap, &hdr, &data);

	if (s->is_file) {
		if (s->classic_pcap) {
			if (r == 1)
				s->next_offset += 16 + (long)hdr->caplen;
		} else {
			FILE *f = pcap_file(s->pcap);
			if (f)
				s->next_offset = ftell(f);
		}
	}
	switch (r) {
	case 1:
		ret->ts_us = (uint64_t)hdr->ts.tv_sec * 1000000u + (uint64_t)hdr->ts.tv_usec;
		ret->caplen = hdr->caplen;
		ret->wirelen = hdr->len;
		ret->data = data;
		s->stats.packets++;
		s->stats.bytes += hdr->len;
		return CAP_PACKET;
	case 0:
		return CAP_IDLE;
	case PCAP_ERROR_BREAK:
		return CAP_END;
	default:
		if (s->is_file)
			snprintf(s->error, sizeof s->error,
				 "capture file '%s' is cut short: the record at byte offset %ld is incomplete (%s)",
				 s->name, before, pcap_geterr(s->pcap));
		else
			snprintf(s->error, sizeof s->error, "capture on '%s' failed: %s", s->name,
				 pcap_geterr(s->pcap));
		return CAP_ERROR;
	}
}

int cap_linktype(const struct cap_source *s) { return s->linktype; }

const char *cap_linktype_name(const struct cap_source *s)
{
	const char *n = pcap_datalink_val_to_name(s->linktype);
	return n ? n : "unknown";
}

void cap_get_stats(struct cap_source *s, struct cap_stats *ret)
{
	struct pcap_stat ps;

	if (!s->is_file && pcap_stats(s->pcap, &ps) == 0) {
		s->stats.have_kernel = true;
		s->stats.kernel_received = ps.ps_recv;
		s->stats.kernel_dropped = ps.ps_drop;
		s->stats.if_dropped = ps.ps_ifdrop;
	}
	*ret = s->stats;
}

const char *cap_error(const struct cap_source *s) { return s->error; }

bool cap_is_file(const struct cap_source *s) { return s->is_file; }

void cap_break(struct cap_source *s)
{
	if (s && s->pcap)
		pcap_breakloop(s->pcap);
}

void cap_free(struct cap_source *s)
{
	if (!s)
		return;
	if (s->pcap)
		pcap_close(s->pcap); /* closes a file's stream: its buffer is free after */
	free(s->iobuf);
	free(s);
}
