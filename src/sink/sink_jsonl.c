/* sink_jsonl.c - JSON lines log of anomalies and incident events (docs/output.md). */
#include "sink/sink_jsonl.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "features/features.h"

/* Pending lines are held up to this size; an anomaly line with every
 * feature is about 5 KiB, so a batch of a few dozen fits. */
#define PENDING_MAX (256 * 1024)

struct sink_jsonl {
	char *path;
	int fd;
	char *buf;          /* whole lines not yet written */
	size_t len;
	uint64_t lines;     /* written since open */
	uint64_t pending_lines;
};

void sink_time_iso(uint64_t us, char *buf, size_t len)
{
	time_t secs = (time_t)(us / 1000000);
	struct tm tm;
	char date[32];

	if (!gmtime_r(&secs, &tm) || !strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm)) {
		snprintf(buf, len, "invalid");
		return;
	}
	snprintf(buf, len, "%s.%06uZ", date, (unsigned)(us % 1000000));
}

const char *sink_proto_name(uint8_t proto, char *buf, size_t len)
{
	switch (proto) {
	case 1: return "icmp";
	case 6: return "tcp";
	case 17: return "udp";
	case 58: return "icmpv6";
	default:
		snprintf(buf, len, "%u", proto);
		return buf;
	}
}

static int open_append(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	struct stat st;
	char last;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	/* (a FIFO or /dev/stdout is fine too; only a file can end mid-line) */
	if (S_ISREG(st.st_mode) && st.st_size > 0) {
		/* The file is open write-only; peek at its last byte through a
		 * second descriptor. A half line left by a crash gets ended here. */
		int rfd = open(path, O_RDONLY | O_CLOEXEC);
		if (rfd >= 0) {
			if (pread(rfd, &last, 1, st.st_size - 1) == 1 && last != '\n' &&
			    write(fd, "\n", 1) != 1) {
				int r = -errno;
				close(rfd);
				close(fd);
				return r;
			}
			close(rfd);
		}
	}
	return fd;
}

int sink_jsonl_open(const char *path, struct sink_jsonl **ret_sink)
{
	struct sink_jsonl *s = calloc(1, sizeof *s);
	int fd;

	if (!s)
		return -ENOMEM;
	s->path = strdup(path);
	s->buf = malloc(PENDING_MAX);
	if (!s->path || !s->buf) {
		free(s->path);
		free(s->buf);
		free(s);
		return -ENOMEM;
	}
	fd = open_append(path);
	if (fd < 0) {
		free(s->path);
		free(s->buf);
		free(s);
		return fd;
	}
	s->fd = fd;
	*ret_sink = s;
	return 0;
}

int sink_jsonl_flush(struct sink_jsonl *s)
{
	struct stat st;
	size_t done = 0;

	if (!s->len)
		return 0;
	if (fstat(s->fd, &st) < 0)
		return -errno;
	while (done < s->len) {
		ssize_t n = write(s->fd, s->buf + done, s->len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int r = n < 0 ? -errno : -EIO;
			/* Cut the partial batch off so no reader sees half a line;
			 * the lines stay pending for the next attempt. */
			if (done && ftruncate(s->fd, st.st_size) < 0)
				r = -errno;
			return r;
		}
		done += (size_t)n;
	}
	s->lines += s->pending_lines;
	s->pending_lines = 0;
	s->len = 0;
	return 0;
}

#ifdef NAD_HAVE_JANSSON
static json_t *real_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static void set_time(json_t *o, const char *key, uint64_t us)
{
	char iso[40];

	sink_time_iso(us, iso, sizeof iso);
	json_object_set_new(o, key, json_string(iso));
}

/* Text fields come from fixed-size arrays; never read past them even if a
 * producer forgot the terminator, and never emit invalid UTF-8. */
static json_t *text(const char *s, size_t size)
{
	json_t *j = json_stringn(s, strnlen(s, size));
	return j ? j : json_string("");
}
#define TEXT(field) text(field, sizeof(field))

json_t *sink_json_top_features(const struct rec_anomaly *a)
{
	json_t *top = json_array();

	for (unsigned i = 0; top && i < a->ntop && i < REC_TOP_FEATURES; i++) {
		const struct rec_contrib *c = &a->top[i];
		json_t *o = json_object();
		json_object_set_new(o, "feature", TEXT(c->feature));
		json_object_set_new(o, "value", real_or_null(c->value));
		json_object_set_new(o, "typical_lo", real_or_null(c->typical_lo));
		json_object_set_new(o, "typical_hi", real_or_null(c->typical_hi));
		json_object_set_new(o, "share", real_or_null(c->share));
		json_array_append_new(top, o);
	}
	return top;
}

json_t *sink_json_features(const struct rec_anomaly *a)
{
	json_t *o = json_object();

	for (size_t i = 0; o && i < a->nfeat && i < feat_count && i < REC_FEATURES_MAX; i++)
		json_object_set_new(o, feat_registry[i].name, real_or_null(a->feat[i]));
	return o;
}

json_t *sink_json_anomaly(const struct rec_anomaly *a)
{
	json_t *o = json_object();
	char pbuf[8];

	if (!o)
		return NULL;
	json_object_set_new(o, "type", json_string("anomaly"));
	set_time(o, "time", a->last_ts_us);
	set_time(o, "first_ts", a->first_ts_us);
	set_time(o, "last_ts", a->last_ts_us);
	json_object_set_new(o, "src", TEXT(a->src));
	json_object_set_new(o, "sport", json_integer(a->sport));
	json_object_set_new(o, "dst", TEXT(a->dst));
	json_object_set_new(o, "dport", json_integer(a->dport));
	json_object_set_new(o, "proto", json_string(sink_proto_name(a->proto, pbuf, sizeof pbuf)));
	json_object_set_new(o, "vlan", json_integer(a->vlan));
	json_object_set_new(o, "end_reason", TEXT(a->end_reason));
	json_object_set_new(o, "packets_fwd", json_integer((json_int_t)a->packets_fwd));
	json_object_set_new(o, "packets_bwd", json_integer((json_int_t)a->packets_bwd));
	json_object_set_new(o, "bytes_fwd", json_integer((json_int_t)a->bytes_fwd));
	json_object_set_new(o, "bytes_bwd", json_integer((json_int_t)a->bytes_bwd));
	json_object_set_new(o, "score", real_or_null(a->score));
	json_object_set_new(o, "level", json_string(rec_level_name(a->level)));
	json_object_set_new(o, "category", TEXT(a->category));
	json_object_set_new(o, "error", real_or_null(a->error));
	json_object_set_new(o, "tail_prob", real_or_null(a->tail_prob));
	json_object_set_new(o, "explanation", TEXT(a->explanation));
	json_object_set_new(o, "top_features", sink_json_top_features(a));
	json_object_set_new(o, "incident_uid", TEXT(a->incident_uid));
	json_object_set_new(o, "features", sink_json_features(a));
	return o;
}

json_t *sink_json_incident(const struct rec_incident *inc)
{
	static const char *const events[] = { "opened", "updated", "closed" };
	json_t *o = json_object();

	if (!o)
		return NULL;
	json_object_set_new(o, "type", json_string("incident"));
	json_object_set_new(o, "event", json_string(inc->event < 3 ? events[inc->event] : "updated"));
	set_time(o, "time", inc->last_ts_us);
	json_object_set_new(o, "uid", TEXT(inc->uid));
	json_object_set_new(o, "host", TEXT(inc->host));
	json_object_set_new(o, "role", TEXT(inc->role));
	json_object_set_new(o, "category", TEXT(inc->category));
	json_object_set_new(o, "level", json_string(rec_level_name(inc->level)));
	json_object_set_new(o, "score", real_or_null(inc->score));
	json_object_set_new(o, "max_anomaly_score", real_or_null(inc->max_anomaly_score));
	json_object_set_new(o, "anomalies", json_integer((json_int_t)inc->anomalies));
	json_object_set_new(o, "distinct_peers", json_integer(inc->distinct_peers));
	json_object_set_new(o, "distinct_ports", json_integer(inc->distinct_ports));
	set_time(o, "first_ts", inc->first_ts_us);
	set_time(o, "last_ts", inc->last_ts_us);
	json_object_set_new(o, "summary", TEXT(inc->summary));
	json_object_set_new(o, "explanation", TEXT(inc->explanation));
	return o;
}

static int add_json(struct sink_jsonl *s, json_t *o)
{
	char *line;
	size_t n;
	int r;

	if (!o)
		return -ENOMEM;
	line = json_dumps(o, SINK_JSON_FLAGS);
	json_decref(o);
	if (!line)
		return -ENOMEM;
	n = strlen(line);
	if (n + 1 > PENDING_MAX) {
		free(line);
		return -E2BIG;
	}
	if (s->len + n + 1 > PENDING_MAX && (r = sink_jsonl_flush(s)) < 0) {
		free(line);
		return r;
	}
	memcpy(s->buf + s->len, line, n);
	s->buf[s->len + n] = '\n';
	s->len += n + 1;
	s->pending_lines++;
	free(line);
	return 0;
}

int sink_jsonl_add_anomaly(struct sink_jsonl *s, const struct rec_anomaly *a)
{
	return add_json(s, sink_json_anomaly(a));
}

int sink_jsonl_add_incident(struct sink_jsonl *s, const struct rec_incident *inc)
{
	return add_json(s, sink_json_incident(inc));
}
#else
int sink_jsonl_add_anomaly(struct sink_jsonl *s, const struct rec_anomaly *a)
{
	return -ENOTSUP;
}

int sink_jsonl_add_incident(struct sink_jsonl *s, const struct rec_incident *inc)
{
	return -ENOTSUP;
}
#endif

int sink_jsonl_reopen(struct sink_jsonl *s)
{
	int r = sink_jsonl_flush(s), fd;

	if (r < 0)
		return r;
	fd = open_append(s->path);
	if (fd < 0)
		return fd;   /* keep writing to the old file rather than nowhere */
	(void)fsync(s->fd);
	close(s->fd);
	s->fd = fd;
	return 0;
}

uint64_t sink_jsonl_lines(const struct sink_jsonl *s)
{
	return s->lines;
}

int sink_jsonl_close(struct sink_jsonl *s)
{
	int r;

	if (!s)
		return 0;
	r = sink_jsonl_flush(s);
	if (fsync(s->fd) < 0 && !r && errno != EINVAL)
		r = -errno;
	if (close(s->fd) < 0 && !r)
		r = -errno;
	free(s->path);
	free(s->buf);
	free(s);
	return r;
}
