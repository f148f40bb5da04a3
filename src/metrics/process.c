/* process.c - the standard process_* metrics, read from /proc/self at scrape time.
 *
 * Names and meanings follow the Prometheus client libraries' process
 * collector, so existing dashboards and rules for "process_resident_memory_bytes"
 * work on nad unchanged. Only /proc/self is read: the systemd unit's
 * ProcSubset=pid hides the rest of /proc (boot time comes from
 * CLOCK_BOOTTIME instead of /proc/stat).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "metrics/metrics.h"

struct proc_stat {
	double cpu_s;        /* user + system */
	double start_ticks;  /* since boot, in clock ticks */
	double vsize;        /* bytes */
	double rss_pages;
};

/* Fields of /proc/self/stat after "(comm)": state is field 3, utime 14,
 * stime 15, starttime 22, vsize 23, rss 24 (proc(5)). comm may hold
 * spaces and parentheses, hence the last ')'. */
static int read_stat(struct proc_stat *ret)
{
	char buf[1024], *p, *save = NULL;
	FILE *f = fopen("/proc/self/stat", "re");
	size_t n;
	int field = 3;
	double utime = 0, stime = 0;

	if (!f)
		return -1;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p)
		return -1;
	memset(ret, 0, sizeof *ret);
	for (char *tok = strtok_r(p + 1, " ", &save); tok && field <= 24; tok = strtok_r(NULL, " ", &save), field++) {
		double v = strtod(tok, NULL);

		switch (field) {
		case 14: utime = v; break;
		case 15: stime = v; break;
		case 22: ret->start_ticks = v; break;
		case 23: ret->vsize = v; break;
		case 24: ret->rss_pages = v; break;
		default: break;
		}
	}
	if (field <= 24)
		return -1;
	ret->cpu_s = (utime + stime) / (double)sysconf(_SC_CLK_TCK);
	return 0;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory stream's own descriptor */
}

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void metrics_collect_process(struct metrics_writer *w, void *user)
{
	struct proc_stat st;
	struct rlimit rl;
	int fds = count_fds();

	(void)user;
	if (read_stat(&st) == 0) {
		double ticks = (double)sysconf(_SC_CLK_TCK);
		double boot = clock_s(CLOCK_REALTIME) - clock_s(CLOCK_BOOTTIME);

		metrics_family(w, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
		metrics_sample(w, "process_cpu_seconds_total", NULL, st.cpu_s);
		metrics_family(w, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
		metrics_sample(w, "process_resident_memory_bytes", NULL, st.rss_pages * (double)sysconf(_SC_PAGESIZE));
		metrics_family(w, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
		metrics_sample(w, "process_virtual_memory_bytes", NULL, st.vsize);
		/* Whole seconds: the boot time derived from two clocks jitters. */
		metrics_family(w, "process_start_time_seconds", "gauge",
			       "Start time of the process since unix epoch in seconds.");
		metrics_sample(w, "process_start_time_seconds", NULL, (double)(long long)(boot + st.start_ticks / ticks));
	}
	if (fds >= 0) {
		metrics_family(w, "process_open_fds", "gauge", "Number of open file descriptors.");
		metrics_sample(w, "process_open_fds", NULL, fds);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		metrics_family(w, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
		metrics_sample(w, "process_max_fds", NULL, (double)rl.rlim_cur);
	}
}
