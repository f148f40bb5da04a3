/* alert_spool.c - alerts on disk until a receiver accepted them.
 *
 * One file per alert, "<seq as 16 hex digits>-<sink>.alert", holding a small
 * JSON object (the alert and its incident). A file is written under a
 * temporary name, fsync'd, renamed into place and the directory fsync'd, so
 * after a crash an alert file is either whole or absent; temporary files
 * left behind are deleted at the next open. Files that do not parse are
 * moved to corrupt/, alerts a receiver refused for good to rejected/.
 *
 * delivered.log lists "<sink> <key>" of alerts already accepted, the last
 * ALERT_LEDGER_MAX of them: incident ids depend only on the traffic, so a
 * restart that replays the same traffic raises the same keys, and those
 * are not sent twice.
 */
#include "alert/alert_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef NAD_HAVE_JANSSON
#include <jansson.h>
#endif

#define FILE_MAX (64 * 1024)         /* an alert file is about 2 KiB */
#define LEDGER_NAME "delivered.log"
#define LEDGER_LINE (ALERT_KEY_MAX + 16)
#define NOTES_MAX 8

struct entry {
	uint64_t seq;
	uint8_t sink, kind;
	char key[ALERT_KEY_MAX];
};

struct alert_spool {
	char *dir;
	int dirfd;
	uint32_t max;
	struct entry *e;                 /* sorted by seq; at most max */
	size_t n;
	uint64_t next_seq;
	uint64_t dropped, corrupt;

	char (*ledger)[LEDGER_LINE];     /* ring of "<sink> <key>" */
	uint32_t lhead, lcount;
	int ledger_fd;
	uint64_t ledger_lines;           /* lines in the file now */

	char notes[NOTES_MAX][320];
	unsigned note_first, nnotes;
};

static void note(struct alert_spool *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct alert_spool *s, const char *fmt, ...)
{
	va_list ap;

	if (s->nnotes == NOTES_MAX)
		return;   /* the counters still tell */
	va_start(ap, fmt);
	vsnprintf(s->notes[(s->note_first + s->nnotes) % NOTES_MAX], sizeof s->notes[0], fmt, ap);
	va_end(ap);
	s->nnotes++;
}

bool alert_spool_note(struct alert_spool *s, char *buf, size_t len)
{
	if (!s->nnotes)
		return false;
	snprintf(buf, len, "%s", s->notes[s->note_first]);
	s->note_first = (s->note_first + 1) % NOTES_MAX;
	s->nnotes--;
	return true;
}

static void file_name(uint64_t seq, uint8_t sink, char *buf, size_t len)
{
	snprintf(buf, len, "%016" PRIx64 "-%s.alert", seq, alert_sink_name(sink));
}

static int sink_parse(const char *name)
{
	for (int i = 0; i < ALERT_SINKS; i++)
		if (!strcmp(name, alert_sink_name(i)))
			return i;
	return -1;
}

static int kind_parse(const char *name)
{
	for (int i = 0; i < ALERT_KINDS; i++)
		if (!strcmp(name, alert_kind_name(i)))
			return i;
	return -1;
}

/* Write a whole file durably under name (via a temporary). 0 or -errno. */
static int write_durably(struct alert_spool *s, const char *name, const char *data, size_t len)
{
	char tmp[96];
	size_t off = 0;
	int fd, r = 0;

	snprintf(tmp, sizeof tmp, ".tmp-%s", name);
	fd = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			r = w < 0 ? -errno : -EIO;
			break;
		}
		off += (size_t)w;
	}
	if (!r && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && !r)
		r = -errno;
	if (!r && renameat(s->dirfd, tmp, s->dirfd, name) < 0)
		r = -errno;
	if (r) {
		unlinkat(s->dirfd, tmp, 0);
		return r;
	}
	/* the rename itself is durable only once the directory is */
	return fsync(s->dirfd) < 0 ? -errno : 0;
}

/* Move name into subdir (created if needed). 0 or -errno. */
static int move_aside(struct alert_spool *s, const char *name, const char *subdir)
{
	char to[160];

	if (mkdirat(s->dirfd, subdir, 0750) < 0 && errno != EEXIST)
		return -errno;
	snprintf(to, sizeof to, "%s/%s", subdir, name);
	if (renameat(s->dirfd, name, s->dirfd, to) < 0)
		return -errno;
	fsync(s->dirfd);
	return 0;
}

/* ---- the file format ------------------------------------------------------- */

#ifdef NAD_HAVE_JANSSON
static json_t *text(const char *s, size_t size)
{
	json_t *j = json_stringn(s, strnlen(s, size));

	return j ? j : json_string("");
}
#define TEXT(field) text(field, sizeof(field))

char *alert_msg_format(const struct alert_msg *m)
{
	const struct rec_incident *inc = &m->inc;
	json_t *o = json_object(), *i = json_object();
	char *out = NULL;

	if (o && i) {
		json_object_set_new(i, "uid", TEXT(inc->uid));
		json_object_set_new(i, "event", json_integer(inc->event));
		json_object_set_new(i, "host", TEXT(inc->host));
		json_object_set_new(i, "role", TEXT(inc->role));
		json_object_set_new(i, "category", TEXT(inc->category));
		json_object_set_new(i, "level", json_string(rec_level_name(inc->level)));
		json_object_set_new(i, "score", json_real(inc->score));
		json_object_set_new(i, "max_anomaly_score", json_real(inc->max_anomaly_score));
		json_object_set_new(i, "anomalies", json_integer((json_int_t)inc->anomalies));
		json_object_set_new(i, "distinct_peers", json_integer(inc->distinct_peers));
		json_object_set_new(i, "distinct_ports", json_integer(inc->distinct_ports));
		json_object_set_new(i, "first_ts_us", json_integer((json_int_t)inc->first_ts_us));
		json_object_set_new(i, "last_ts_us", json_integer((json_int_t)inc->last_ts_us));
		json_object_set_new(i, "summary", TEXT(inc->summary));
		json_object_set_new(i, "explanation", TEXT(inc->explanation));
		json_object_set_new(o, "nad_alert", json_integer(1));
		json_object_set_new(o, "sink", json_string(alert_sink_name(m->sink)));
		json_object_set_new(o, "kind", json_string(alert_kind_name(m->kind)));
		json_object_set_new(o, "key", TEXT(m->key));
		json_object_set_new(o, "created_us", json_integer((json_int_t)m->created_us));
		json_object_set_new(o, "resolved_us", json_integer((json_int_t)m->resolved_us));
		json_object_set_new(o, "previous_level", json_string(rec_level_name(m->prev_level)));
		json_object_set_new(o, "incident", i);
		i = NULL;
		out = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17));
	}
	json_decref(i);
	json_decref(o);
	return out;
}

static bool copy_text(char *dst, size_t size, const char *src)
{
	size_t len = strlen(src);

	if (len >= size)
		return false;
	memcpy(dst, src, len + 1);
	return true;
}

static bool nonneg(json_int_t v)
{
	return v >= 0;
}

bool alert_msg_parse(const char *data, size_t len, struct alert_msg *m, char *why, size_t whylen)
{
	const char *sink, *kind, *key, *prev, *uid, *host, *role, *cat, *level, *summary, *expl;
	json_int_t version, created, resolved, event, anomalies, peers, ports, first, last;
	double score, max_score;
	json_error_t jerr;
	json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr), *inc = NULL;
	int sk, kd, lv, pl;
	bool ok = false;

	*m = (struct alert_msg){ 0 };
	if (!root) {
		snprintf(why, whylen, "not JSON (%s at byte %d)", jerr.text, jerr.position);
		return false;
	}
	if (json_unpack_ex(root, &jerr, 0, "{s:I, s:s, s:s, s:s, s:I, s:I, s:s, s:o}", "nad_alert", &version,
			   "sink", &sink, "kind", &kind, "key", &key, "created_us", &created, "resolved_us",
			   &resolved, "previous_level", &prev, "incident", &inc) < 0 ||
	    json_unpack_ex(inc, &jerr, 0, "{s:s, s:I, s:s, s:s, s:s, s:s, s:F, s:F, s:I, s:I, s:I, s:I, s:I, s:s, s:s}",
			   "uid", &uid, "event", &event, "host", &host, "role", &role, "category", &cat, "level",
			   &level, "score", &score, "max_anomaly_score", &max_score, "anomalies", &anomalies,
			   "distinct_peers", &peers, "distinct_ports", &ports, "first_ts_us", &first, "last_ts_us",
			   &last, "summary", &summary, "explanation", &expl) < 0) {
		snprintf(why, whylen, "unexpected content (%s)", jerr.text);
		goto out;
	}
	sk = sink_parse(sink);
	kd = kind_parse(kind);
	lv = rec_level_parse(level);
	pl = rec_level_parse(prev);
	if (version != 1 || sk < 0 || kd < 0 || lv < REC_LEVEL_LOW || pl < 0 || event < 0 || event > 2 ||
	    !nonneg(created) || !nonneg(resolved) || !nonneg(anomalies) || !nonneg(first) || !nonneg(last) ||
	    peers < 0 || peers > UINT32_MAX || ports < 0 || ports > UINT32_MAX) {
		snprintf(why, whylen, "a field is out of range (version, sink, kind, level or a count)");
		goto out;
	}
	m->sink = (uint8_t)sk;
	m->kind = (uint8_t)kd;
	m->prev_level = (uint8_t)pl;
	m->created_us = (uint64_t)created;
	m->resolved_us = (uint64_t)resolved;
	m->inc.event = (uint8_t)event;
	m->inc.level = (uint8_t)lv;
	m->inc.score = score;
	m->inc.max_anomaly_score = max_score;
	m->inc.anomalies = (uint64_t)anomalies;
	m->inc.distinct_peers = (uint32_t)peers;
	m->inc.distinct_ports = (uint32_t)ports;
	m->inc.first_ts_us = (uint64_t)first;
	m->inc.last_ts_us = (uint64_t)last;
	if (!copy_text(m->key, sizeof m->key, key) || !*key || !copy_text(m->inc.uid, sizeof m->inc.uid, uid) ||
	    !copy_text(m->inc.host, sizeof m->inc.host, host) || !copy_text(m->inc.role, sizeof m->inc.role, role) ||
	    !copy_text(m->inc.category, sizeof m->inc.category, cat) ||
	    !copy_text(m->inc.summary, sizeof m->inc.summary, summary) ||
	    !copy_text(m->inc.explanation, sizeof m->inc.explanation, expl)) {
		snprintf(why, whylen, "a text field is empty or too long");
		goto out;
	}
	ok = true;
out:
	json_decref(root);
	return ok;
}
#else
char *alert_msg_format(const struct alert_msg *m)
{
	(void)m;
	return NULL;
}

bool alert_msg_parse(const char *data, size_t len, struct alert_msg *m, char *why, size_t whylen)
{
	(void)data;
	(void)len;
	(void)m;
	snprintf(why, whylen, "nad was built without jansson");
	return false;
}
#endif

/* Read and parse one file. 0, -EBADMSG (bad content; reason in why) or -errno. */
static int read_msg(struct alert_spool *s, const char *name, struct alert_msg *m, char *why, size_t whylen)
{
	char *buf;
	struct stat st;
	ssize_t got;
	int fd, r = 0;

	fd = openat(s->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > FILE_MAX) {
		r = -EBADMSG;
		snprintf(why, whylen, "not a regular file of at most %d bytes", FILE_MAX);
		close(fd);
		return r;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	got = pread(fd, buf, (size_t)st.st_size, 0);
	close(fd);
	if (got != st.st_size) {
		free(buf);
		snprintf(why, whylen, "short read");
		return got < 0 ? -errno : -EBADMSG;
	}
	if (!alert_msg_parse(buf, (size_t)got, m, why, whylen))
		r = -EBADMSG;
	free(buf);
	return r;
}

/* ---- the index ------------------------------------------------------------- */

static int cmp_seq(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static ssize_t find(const struct alert_spool *s, uint64_t seq)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (s->e[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->n && s->e[lo].seq == seq ? (ssize_t)lo : -1;
}

static void forget(struct alert_spool *s, size_t i)
{
	memmove(&s->e[i], &s->e[i + 1], (s->n - i - 1) * sizeof *s->e);
	s->n--;
}

/* Delete the oldest alert to make room; counted and noted. */
static void drop_oldest(struct alert_spool *s)
{
	char name[64];

	file_name(s->e[0].seq, s->e[0].sink, name, sizeof name);
	unlinkat(s->dirfd, name, 0);
	note(s, "spool '%s' is full (%u alerts): dropped the oldest, %s (%s)", s->dir, s->max, name, s->e[0].key);
	s->dropped++;
	forget(s, 0);
}

/* ---- the ledger ------------------------------------------------------------ */

static void ledger_put(struct alert_spool *s, const char *line)
{
	uint32_t slot = (s->lhead + s->lcount) % ALERT_LEDGER_MAX;

	if (s->lcount == ALERT_LEDGER_MAX) {
		slot = s->lhead;
		s->lhead = (s->lhead + 1) % ALERT_LEDGER_MAX;
	} else {
		s->lcount++;
	}
	snprintf(s->ledger[slot], LEDGER_LINE, "%s", line);
}

/* Rewrite the file with just the remembered lines. */
static int ledger_compact(struct alert_spool *s)
{
	size_t cap = (size_t)s->lcount * LEDGER_LINE + 1, len = 0;
	char *buf = malloc(cap);
	int r, fd;

	if (!buf)
		return -ENOMEM;
	for (uint32_t i = 0; i < s->lcount; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%s\n", s->ledger[(s->lhead + i) % ALERT_LEDGER_MAX]);
	r = write_durably(s, LEDGER_NAME, buf, len);
	free(buf);
	if (r < 0)
		return r;
	fd = openat(s->dirfd, LEDGER_NAME, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (s->ledger_fd >= 0)
		close(s->ledger_fd);
	s->ledger_fd = fd;
	s->ledger_lines = s->lcount;
	return 0;
}

static int ledger_open(struct alert_spool *s)
{
	char line[LEDGER_LINE + 2];
	FILE *f;
	int fd = openat(s->dirfd, LEDGER_NAME, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	s->ledger_fd = -1;
	if (fd >= 0) {
		f = fdopen(fd, "r");
		if (!f) {
			close(fd);
			return -errno;
		}
		while (fgets(line, sizeof line, f)) {
			size_t len = strlen(line);
			if (!len || line[len - 1] != '\n') {
				int c;   /* too long, or cut by a crash: not ours */
				while (len == sizeof line - 1 && (c = fgetc(f)) != EOF && c != '\n')
					;
				continue;
			}
			line[len - 1] = '\0';
			if (strchr(line, ' '))
				ledger_put(s, line);
			s->ledger_lines++;
		}
		fclose(f);
	} else if (errno != ENOENT) {
		return -errno;
	}
	if (fd < 0 || s->ledger_lines > s->lcount)
		return ledger_compact(s);
	s->ledger_fd = openat(s->dirfd, LEDGER_NAME, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	return s->ledger_fd < 0 ? -errno : 0;
}

static bool ledger_has(const struct alert_spool *s, const char *line)
{
	for (uint32_t i = 0; i < s->lcount; i++)
		if (!strcmp(s->ledger[(s->lhead + i) % ALERT_LEDGER_MAX], line))
			return true;
	return false;
}

static int ledger_add(struct alert_spool *s, const char *line)
{
	char buf[LEDGER_LINE + 1];
	int n = snprintf(buf, sizeof buf, "%s\n", line);

	ledger_put(s, line);
	if (s->ledger_lines >= 2 * ALERT_LEDGER_MAX)
		return ledger_compact(s);
	if (write(s->ledger_fd, buf, (size_t)n) != n || fdatasync(s->ledger_fd) < 0)
		return -errno ? -errno : -EIO;
	s->ledger_lines++;
	return 0;
}

static void ledger_line(uint8_t sink, const char *key, char *buf, size_t len)
{
	snprintf(buf, len, "%s %s", alert_sink_name(sink), key);
}

/* ---- the API ----------------------------------------------------------------- */

static void quarantine(struct alert_spool *s, const char *name, const char *why)
{
	int r = move_aside(s, name, "corrupt");

	s->corrupt++;
	if (r < 0) {
		/* cannot keep it: deleting it is the only way not to trip on it forever */
		unlinkat(s->dirfd, name, 0);
		note(s, "spool file '%s/%s' is unreadable (%s) and could not be moved aside (%s): deleted",
		     s->dir, name, why, strerror(-r));
	} else {
		note(s, "spool file '%s/%s' is unreadable (%s): moved to '%s/corrupt/'", s->dir, name, why, s->dir);
	}
}

static int scan(struct alert_spool *s, char *err, size_t errlen)
{
	int fd = dup(s->dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (!d) {
		if (fd >= 0)
			close(fd);
		snprintf(err, errlen, "cannot read spool '%s': %s", s->dir, strerror(errno));
		return -errno;
	}
	while ((de = readdir(d))) {
		char hex[17], sink[16], tail[8], why[160];
		struct alert_msg m;
		struct entry *e;
		int sk, r;

		if (!strncmp(de->d_name, ".tmp-", 5)) {
			unlinkat(s->dirfd, de->d_name, 0);   /* a crash mid-write: never acknowledged */
			continue;
		}
		if (sscanf(de->d_name, "%16[0-9a-f]-%15[a-z].%7s", hex, sink, tail) != 3 || strlen(hex) != 16 ||
		    strcmp(tail, "alert"))
			continue;   /* not an alert file (corrupt/, rejected/, the ledger) */
		sk = sink_parse(sink);
		r = sk < 0 ? -EBADMSG : read_msg(s, de->d_name, &m, why, sizeof why);
		if (sk < 0)
			snprintf(why, sizeof why, "unknown sink '%s' in its name", sink);
		else if (r == 0 && m.sink != sk)
			r = -EBADMSG, snprintf(why, sizeof why, "its sink differs from its name");
		if (r == -EBADMSG) {
			quarantine(s, de->d_name, why);
			continue;
		}
		if (r < 0) {
			snprintf(err, errlen, "cannot read spool file '%s/%s': %s", s->dir, de->d_name, strerror(-r));
			closedir(d);
			return r;
		}
		if (s->n == s->max) {
			/* more than now allowed: keep the newest, as drop_oldest would */
			struct entry *tmp = realloc(s->e, (s->n + 1) * sizeof *s->e);
			if (!tmp) {
				closedir(d);
				return -ENOMEM;
			}
			s->e = tmp;
		}
		e = &s->e[s->n++];
		e->seq = strtoull(hex, NULL, 16);
		e->sink = m.sink;
		e->kind = m.kind;
		snprintf(e->key, sizeof e->key, "%s", m.key);
	}
	closedir(d);
	qsort(s->e, s->n, sizeof *s->e, cmp_seq);
	while (s->n > s->max)
		drop_oldest(s);
	s->next_seq = s->n ? s->e[s->n - 1].seq + 1 : 1;
	return 0;
}

int alert_spool_open(const char *dir, uint32_t max, struct alert_spool **ret, char *err, size_t errlen)
{
	struct alert_spool *s;
	struct stat st;
	int r;

	if (!*dir) {
		snprintf(err, errlen, "no spool directory ([alerts] spool_path is empty)");
		return -EINVAL;
	}
	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		r = -errno;
		snprintf(err, errlen, "cannot create spool directory '%s': %s", dir, strerror(errno));
		return r;
	}
	s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	s->max = max ? max : ALERT_SPOOL_MAX_DEFAULT;
	s->ledger_fd = -1;
	s->dir = strdup(dir);
	s->e = calloc(s->max, sizeof *s->e);
	s->ledger = calloc(ALERT_LEDGER_MAX, sizeof *s->ledger);
	s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!s->dir || !s->e || !s->ledger || s->dirfd < 0) {
		r = s->dirfd < 0 && s->dir && s->e && s->ledger ? -errno : -ENOMEM;
		snprintf(err, errlen, "cannot open spool directory '%s': %s", dir, strerror(-r));
		alert_spool_free(s);
		return r;
	}
	if (fstat(s->dirfd, &st) < 0 || faccessat(s->dirfd, ".", W_OK | X_OK, 0) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot write spool directory '%s': %s", dir, strerror(errno));
		alert_spool_free(s);
		return r;
	}
	r = scan(s, err, errlen);
	if (r == 0) {
		r = ledger_open(s);
		if (r < 0)
			snprintf(err, errlen, "cannot use '%s/%s': %s", dir, LEDGER_NAME, strerror(-r));
	}
	if (r < 0) {
		alert_spool_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

void alert_spool_free(struct alert_spool *s)
{
	if (!s)
		return;
	if (s->dirfd >= 0)
		close(s->dirfd);
	if (s->ledger_fd >= 0)
		close(s->ledger_fd);
	free(s->dir);
	free(s->e);
	free(s->ledger);
	free(s);
}

int alert_spool_add(struct alert_spool *s, struct alert_msg *m, char *err, size_t errlen)
{
	char name[64], *data;
	struct entry *e;
	int r;

	data = alert_msg_format(m);
	if (!data) {
		snprintf(err, errlen, "cannot encode alert %s: out of memory", m->key);
		return -ENOMEM;
	}
	if (s->n == s->max)
		drop_oldest(s);
	m->seq = s->next_seq;
	file_name(m->seq, m->sink, name, sizeof name);
	r = write_durably(s, name, data, strlen(data));
	free(data);
	if (r < 0) {
		snprintf(err, errlen, "cannot write alert %s to '%s/%s': %s", m->key, s->dir, name, strerror(-r));
		return r;
	}
	s->next_seq++;
	e = &s->e[s->n++];
	e->seq = m->seq;
	e->sink = m->sink;
	e->kind = m->kind;
	snprintf(e->key, sizeof e->key, "%s", m->key);
	return 0;
}

bool alert_spool_seen(const struct alert_spool *s, uint8_t sink, const char *key)
{
	char line[LEDGER_LINE];

	for (size_t i = 0; i < s->n; i++)
		if (s->e[i].sink == sink && !strcmp(s->e[i].key, key))
			return true;
	ledger_line(sink, key, line, sizeof line);
	return ledger_has(s, line);
}

bool alert_spool_first(const struct alert_spool *s, uint8_t sink, uint64_t *ret_seq, uint8_t *ret_kind)
{
	for (size_t i = 0; i < s->n; i++) {
		if (s->e[i].sink == sink) {
			*ret_seq = s->e[i].seq;
			*ret_kind = s->e[i].kind;
			return true;
		}
	}
	return false;
}

int alert_spool_load(struct alert_spool *s, uint64_t seq, struct alert_msg *ret, char *err, size_t errlen)
{
	ssize_t i = find(s, seq);
	char name[64], why[160];
	struct alert_msg m;
	int r;

	if (i < 0)
		return -ENOENT;
	file_name(seq, s->e[i].sink, name, sizeof name);
	r = read_msg(s, name, &m, why, sizeof why);
	if (r == 0 && (m.sink != s->e[i].sink || strcmp(m.key, s->e[i].key))) {
		snprintf(why, sizeof why, "it changed on disk");
		r = -EBADMSG;
	}
	if (r == -EBADMSG || r == -ENOENT) {
		if (r == -EBADMSG)
			quarantine(s, name, why);
		snprintf(err, errlen, "spool file '%s/%s': %s", s->dir, name, r == -ENOENT ? "vanished" : why);
		forget(s, (size_t)i);
		return r;
	}
	if (r < 0) {
		snprintf(err, errlen, "cannot read spool file '%s/%s': %s", s->dir, name, strerror(-r));
		return r;
	}
	m.seq = seq;
	*ret = m;
	return 0;
}

int alert_spool_done(struct alert_spool *s, uint64_t seq)
{
	ssize_t i = find(s, seq);
	char name[64], line[LEDGER_LINE];
	int r, r2 = 0;

	if (i < 0)
		return -ENOENT;
	/* ledger first: a crash between the two resends (the receiver can
	 * tell by the key) rather than forgets */
	ledger_line(s->e[i].sink, s->e[i].key, line, sizeof line);
	r = ledger_add(s, line);
	file_name(seq, s->e[i].sink, name, sizeof name);
	if (unlinkat(s->dirfd, name, 0) < 0)
		r2 = -errno;
	forget(s, (size_t)i);
	return r < 0 ? r : r2;
}

int alert_spool_reject(struct alert_spool *s, uint64_t seq)
{
	ssize_t i = find(s, seq);
	char name[64];
	int r;

	if (i < 0)
		return -ENOENT;
	file_name(seq, s->e[i].sink, name, sizeof name);
	r = move_aside(s, name, "rejected");
	if (r < 0)
		unlinkat(s->dirfd, name, 0);
	forget(s, (size_t)i);
	return r;
}

void alert_spool_get_stats(const struct alert_spool *s, struct alert_spool_stats *ret)
{
	*ret = (struct alert_spool_stats){ .dropped = s->dropped, .corrupt = s->corrupt };
	for (size_t i = 0; i < s->n; i++)
		ret->depth[s->e[i].sink]++;
}
