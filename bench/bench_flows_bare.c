/* bench_flows_bare.c - the floor for the flow-meter benchmark: read a capture
 * file with libpcap's pcap_next_ex() and do nothing else.
 *
 * `nad flows` is measured against this loop over the same file: the ratio of
 * their packet rates says how much the decode + flow table + features path
 * costs on top of merely reading the packets.
 *
 * usage: bench_flows_bare [-b BYTES] FILE
 *   -b BYTES  read through a stdio buffer of BYTES (fopen + setvbuf +
 *             pcap_fopen_offline), as nad does (64 KiB), instead of
 *             pcap_open_offline's default stdio buffer (4 KiB): the floor
 *             for the same reading, apart from the flow work
 * prints one line: packets, seconds, packets/s, ns/packet, CPU seconds and
 * peak RSS (getrusage), as key=value pairs for bench/run_flows_bench.sh.
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct pcap_pkthdr *hdr;
	const u_char *data;
	uint64_t packets = 0;
	int r;

	size_t bufsize = 0;
	char *iobuf = NULL;
	const char *path;
	pcap_t *p;

	if (argc == 4 && !strcmp(argv[1], "-b")) {
		bufsize = (size_t)strtoul(argv[2], NULL, 10);
		path = argv[3];
	} else if (argc == 2) {
		path = argv[1];
	} else {
		fprintf(stderr, "usage: bench_flows_bare [-b BYTES] FILE\n");
		return 2;
	}
	double t0 = now_s();
	if (bufsize) {
		FILE *f = fopen(path, "rb");

		iobuf = malloc(bufsize);
		if (!f || !iobuf) {
			fprintf(stderr, "bench_flows_bare: cannot open '%s'\n", path);
			return 2;
		}
		setvbuf(f, iobuf, _IOFBF, bufsize);
		p = pcap_fopen_offline(f, ebuf);
		if (!p)
			fclose(f);
	} else {
		p = pcap_open_offline(path, ebuf);
	}
	if (!p) {
		fprintf(stderr, "bench_flows_bare: cannot read capture file '%s': %s\n", path, ebuf);
		return 2;
	}
	while ((r = pcap_next_ex(p, &hdr, &data)) == 1)
		packets++;
	if (r == PCAP_ERROR) {
		fprintf(stderr, "bench_flows_bare: error reading '%s': %s\n", path, pcap_geterr(p));
		pcap_close(p);
		free(iobuf);
		return 1;
	}
	pcap_close(p);
	free(iobuf);
	double secs = now_s() - t0;

	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		     (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	printf("packets=%llu seconds=%.6f pps=%.0f ns_per_packet=%.1f cpu_seconds=%.6f maxrss_kb=%ld\n",
	       (unsigned long long)packets, secs, packets / secs, secs * 1e9 / (double)packets, cpu,
	       ru.ru_maxrss);
	return 0;
}
