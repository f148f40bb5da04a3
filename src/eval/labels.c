/* labels.c - read labels.tsv and decide which flows a row labels (labels.h). */
#include "eval/labels.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LINE_MAX_BYTES 65536

enum { COL_FILE, COL_CATEGORY, COL_ATTACK, COL_VICTIM, COL_RULE, COL_NOTE, COL_COUNT };
static const char *const col_names[COL_COUNT] = { "file", "category", "attack_hosts", "victim_hosts", "rule", "note" };

static bool is_wildcard(const char *s)
{
	static const char *const words[] = { "spoofed", "reflectors", "any", "*", "-" };

	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (!strcasecmp(s, words[i]))
			return true;
	return false;
}

static bool is_mac(const char *s)
{
	if (strlen(s) != 17)
		return false;
	for (int i = 0; i < 17; i++) {
		if (i % 3 == 2) {
			if (s[i] != ':' && s[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

static int parse_prefix(const char *s, struct eval_prefix *ret)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t len = slash ? (size_t)(slash - s) : strlen(s);
	struct eval_prefix p = { 0 };

	if (len == 0 || len >= sizeof buf)
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = 0;
	if (inet_pton(AF_INET, buf, p.addr) == 1) {
		p.family = 4;
		p.bits = 32;
	} else if (inet_pton(AF_INET6, buf, p.addr) == 1) {
		p.family = 6;
		p.bits = 128;
	} else {
		return -EINVAL;
	}
	if (slash) {
		char *end;
		long bits;

		errno = 0;
		bits = strtol(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end || bits < 0 || bits > p.bits)
			return -EINVAL;
		p.bits = (uint8_t)bits;
	}
	*ret = p;
	return 0;
}

int eval_hosts_parse(const char *text, struct eval_hosts *ret)
{
	struct eval_hosts h = { 0 };
	const char *p = text;

	while (*p) {
		char item[80];
		size_t len = strcspn(p, ",");
		const char *next = p[len] ? p + len + 1 : p + len;

		while (len && isspace((unsigned char)*p)) {
			p++;
			len--;
		}
		while (len && isspace((unsigned char)p[len - 1]))
			len--;
		if (len == 0 || len >= sizeof item)
			return -EINVAL;
		memcpy(item, p, len);
		item[len] = 0;
		if (is_wildcard(item)) {
			h.any = true;
		} else if (is_mac(item)) {
			h.n_mac++;
		} else {
			if (h.n == EVAL_HOSTS_MAX || parse_prefix(item, &h.ip[h.n]) < 0)
				return -EINVAL;
			h.n++;
		}
		p = next;
	}
	if (!h.any && !h.n && !h.n_mac)
		return -EINVAL;
	*ret = h;
	return 0;
}

static bool prefix_has(const struct eval_prefix *p, uint8_t family, const uint8_t *addr)
{
	unsigned full = p->bits / 8, rest = p->bits % 8;

	if (p->family != family)
		return false;
	if (memcmp(p->addr, addr, full))
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));
		if ((p->addr[full] & mask) != (addr[full] & mask))
			return false;
	}
	return true;
}

bool eval_hosts_names(const struct eval_hosts *h, uint8_t family, const uint8_t *addr)
{
	for (size_t i = 0; i < h->n; i++)
		if (prefix_has(&h->ip[i], family, addr))
			return true;
	return false;
}

static bool side(const struct eval_hosts *h, uint8_t family, const uint8_t *addr)
{
	return h->any || eval_hosts_names(h, family, addr);
}

bool eval_label_matches(const struct eval_label *l, const struct eval_flow_key *f)
{
	bool hosts;

	if (l->layer2)
		return false;
	if (l->attack.any && !l->victim.any)
		/* spoofed or reflected: what reaches the victim, which is
		 * the responder; the victim's own sessions are not the attack */
		hosts = eval_hosts_names(&l->victim, f->family, f->dst);
	else
		hosts = (side(&l->attack, f->family, f->src) && side(&l->victim, f->family, f->dst)) ||
			(side(&l->victim, f->family, f->src) && side(&l->attack, f->family, f->dst));
	if (!hosts)
		return false;
	if (l->has_from && f->last_us < l->from_us)
		return false;
	if (l->has_to && f->first_us > l->to_us)
		return false;
	if (l->proto) {
		bool icmp = l->proto == 1 && (f->proto == 1 || f->proto == 58);
		if (f->proto != l->proto && !icmp)
			return false;
	}
	if (l->has_port && f->sport != l->port && f->dport != l->port)
		return false;
	return true;
}

/* ---- the rule: top-level conjuncts we can check on a flow -------------- */

static void append_unchecked(char *buf, size_t len, const char *term, size_t tlen)
{
	size_t used = strlen(buf);

	snprintf(buf + used, len - used, "%s%.*s", used ? " && " : "", (int)tlen, term);
}

static int parse_time(const char *v, uint64_t *ret)
{
	char *end;
	double t;

	errno = 0;
	t = strtod(v, &end);
	while (isspace((unsigned char)*end))
		end++;
	if (errno || end == v || *end || !(t >= 0 && t < 1e11))
		return -EINVAL;
	*ret = (uint64_t)llround(t * 1e6);
	return 0;
}

/* One term "name op value" (the value may be empty for a bare protocol).
 * Returns true when it was understood and applied. */
static bool apply_term(struct eval_label *l, const char *term, size_t tlen)
{
	char buf[256], name[64], op[3] = "", *p;
	size_t n = 0;

	if (tlen >= sizeof buf)
		return false;
	memcpy(buf, term, tlen);
	buf[tlen] = 0;
	p = buf;
	while (*p && (isalnum((unsigned char)*p) || *p == '.' || *p == '_') && n < sizeof name - 1)
		name[n++] = *p++;
	name[n] = 0;
	while (isspace((unsigned char)*p))
		p++;
	if (strchr("=<>!", *p) && *p) {
		op[0] = *p++;
		if (*p == '=')
			op[1] = *p++;
	}
	while (isspace((unsigned char)*p))
		p++;
	const char *value = p;

	if (!*op) {
		if (*value)
			return false;
		if (!strcmp(name, "tcp") || !strcmp(name, "udp") || !strcmp(name, "icmp") || !strcmp(name, "icmpv6")) {
			uint8_t proto = name[0] == 't' ? 6 : name[0] == 'u' ? 17 : 1;
			if (l->proto && l->proto != proto)
				return false;
			l->proto = proto;
			return true;
		}
		return false;
	}
	if (!strcmp(name, "frame.time_epoch")) {
		uint64_t t;
		if (parse_time(value, &t) < 0)
			return false;
		if (op[0] == '>') {
			l->has_from = true;
			l->from_us = t;
			return true;
		}
		if (op[0] == '<') {
			l->has_to = true;
			l->to_us = t;
			return true;
		}
		return false;
	}
	/* The hosts come from the host columns; these terms only repeat them. */
	if (!strcmp(op, "==") && (!strcmp(name, "ip.addr") || !strcmp(name, "ip.src") || !strcmp(name, "ip.dst") ||
				  !strcmp(name, "ipv6.addr") || !strcmp(name, "ipv6.src") || !strcmp(name, "ipv6.dst")))
		return true;
	if (!strcmp(op, "==") && (!strncmp(name, "tcp.", 4) || !strncmp(name, "udp.", 4))) {
		const char *field = name + 4;
		uint8_t proto = name[0] == 't' ? 6 : 17;
		char *end;
		long port;

		if (strcmp(field, "port") && strcmp(field, "srcport") && strcmp(field, "dstport"))
			return false;
		errno = 0;
		port = strtol(value, &end, 10);
		if (errno || end == value || *end || port < 0 || port > 65535 || (l->proto && l->proto != proto) ||
		    (l->has_port && l->port != port))
			return false;
		l->proto = proto;
		l->has_port = true;
		l->port = (uint16_t)port;
		return true;
	}
	return false;
}

static int parse_rule(struct eval_label *l)
{
	const char *r = l->rule;
	char unchecked[1024] = "";
	int depth = 0;

	for (const char *p = r; *p; p++) {
		if (*p == '(')
			depth++;
		else if (*p == ')')
			depth--;
		else if (!depth && p[0] == '|' && p[1] == '|') {
			/* a disjunction: no single term constrains the flows */
			snprintf(unchecked, sizeof unchecked, "%s", r);
			goto done;
		}
	}
	depth = 0;
	const char *start = r;
	for (const char *p = r;; p++) {
		bool end = !*p || (!depth && p[0] == '&' && p[1] == '&');

		if (*p == '(')
			depth++;
		else if (*p == ')')
			depth--;
		if (!end)
			continue;
		const char *a = start, *b = p;
		while (a < b && isspace((unsigned char)*a))
			a++;
		while (b > a && isspace((unsigned char)b[-1]))
			b--;
		if (b > a && !apply_term(l, a, (size_t)(b - a)))
			append_unchecked(unchecked, sizeof unchecked, a, (size_t)(b - a));
		if (!*p)
			break;
		p++; /* the second '&'; the next term starts after it */
		start = p + 1;
	}
done:
	l->unchecked = strdup(unchecked);
	return l->unchecked ? 0 : -ENOMEM;
}

/* ---- reading the file --------------------------------------------------- */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Split line (modified in place) at tabs into at most max fields. */
static size_t split_tabs(char *line, char **field, size_t max)
{
	size_t n = 0;

	line[strcspn(line, "\r\n")] = 0;
	while (n < max) {
		field[n++] = line;
		char *tab = strchr(line, '\t');
		if (!tab)
			break;
		*tab = 0;
		line = tab + 1;
	}
	return n;
}

static void label_release(struct eval_label *l)
{
	free(l->file);
	free(l->category);
	free(l->attack_text);
	free(l->victim_text);
	free(l->rule);
	free(l->unchecked);
}

void eval_labels_release(struct eval_labels *l)
{
	for (size_t i = 0; i < l->n; i++)
		label_release(&l->row[i]);
	free(l->row);
	memset(l, 0, sizeof *l);
}

static int read_row(char **field, size_t nf, const int *col, size_t line, const char *path,
		    struct eval_label *l, char *err, size_t errlen)
{
	memset(l, 0, sizeof *l);
	l->line = line;
	for (int c = 0; c < COL_NOTE; c++)
		if ((size_t)col[c] >= nf) {
			set_err(err, errlen, "bad labels '%s':%zu: %zu columns, expected at least %d (no '%s')", path,
				line, nf, col[c] + 1, col_names[c]);
			return -EINVAL;
		}
	if (!*field[col[COL_FILE]] || !*field[col[COL_CATEGORY]]) {
		set_err(err, errlen, "bad labels '%s':%zu: empty '%s'", path, line,
			*field[col[COL_FILE]] ? "category" : "file");
		return -EINVAL;
	}
	for (int c = COL_ATTACK; c <= COL_VICTIM; c++) {
		struct eval_hosts *h = c == COL_ATTACK ? &l->attack : &l->victim;
		if (eval_hosts_parse(field[col[c]], h) < 0) {
			set_err(err, errlen,
				"bad labels '%s':%zu:%d (%s): '%s': expected addresses, CIDR prefixes or MAC addresses "
				"separated by commas, or spoofed, reflectors, any, -",
				path, line, col[c] + 1, col_names[c], field[col[c]]);
			return -EINVAL;
		}
	}
	l->file = strdup(field[col[COL_FILE]]);
	l->category = strdup(field[col[COL_CATEGORY]]);
	l->attack_text = strdup(field[col[COL_ATTACK]]);
	l->victim_text = strdup(field[col[COL_VICTIM]]);
	l->rule = strdup(field[col[COL_RULE]]);
	if (!l->file || !l->category || !l->attack_text || !l->victim_text || !l->rule)
		return -ENOMEM;
	/* ARP spoofing and ARP sweeps: the attacker is named by MAC only */
	l->layer2 = !l->attack.any && !l->attack.n;
	return parse_rule(l);
}

int eval_labels_read(const char *path, struct eval_labels *ret, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	struct eval_labels L = { 0 };
	char *line = NULL, *field[64];
	size_t cap = 0, lineno = 0, capn = 0;
	ssize_t len;
	int col[COL_COUNT], r = 0;
	bool header = false;

	if (!f) {
		r = -errno;
		set_err(err, errlen, "cannot read labels '%s': %s", path, strerror(errno));
		return r;
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (len > LINE_MAX_BYTES) {
			set_err(err, errlen, "bad labels '%s':%zu: line of %zd bytes, expected at most %d", path, lineno,
				len, LINE_MAX_BYTES);
			r = -EINVAL;
			break;
		}
		if (line[strspn(line, " \t\r\n")] == 0 || line[0] == '#')
			continue;
		size_t nf = split_tabs(line, field, sizeof field / sizeof field[0]);
		if (!header) {
			for (int c = 0; c < COL_COUNT; c++) {
				col[c] = -1;
				for (size_t k = 0; k < nf; k++)
					if (!strcmp(field[k], col_names[c]))
						col[c] = (int)k;
				if (col[c] < 0 && c != COL_NOTE) {
					set_err(err, errlen,
						"bad labels '%s':%zu: header has no column '%s' (expected file, category, "
						"attack_hosts, victim_hosts, rule, note separated by tabs)",
						path, lineno, col_names[c]);
					r = -EINVAL;
					goto out;
				}
			}
			header = true;
			continue;
		}
		if (L.n == EVAL_LABELS_MAX) {
			set_err(err, errlen, "bad labels '%s':%zu: more than %d rows", path, lineno, EVAL_LABELS_MAX);
			r = -EINVAL;
			break;
		}
		if (L.n == capn) {
			size_t nc = capn ? capn * 2 : 64;
			struct eval_label *nr = realloc(L.row, nc * sizeof *nr);
			if (!nr) {
				r = -ENOMEM;
				break;
			}
			L.row = nr;
			capn = nc;
		}
		r = read_row(field, nf, col, lineno, path, &L.row[L.n], err, errlen);
		L.n++; /* released with the others even when half filled */
		if (r < 0)
			break;
	}
	if (!r && ferror(f)) {
		set_err(err, errlen, "cannot read labels '%s': %s", path, strerror(errno));
		r = -EIO;
	}
	if (!r && !header) {
		set_err(err, errlen, "bad labels '%s': empty, expected a header line", path);
		r = -EINVAL;
	}
out:
	free(line);
	fclose(f);
	if (r < 0) {
		if (r == -ENOMEM)
			set_err(err, errlen, "cannot read labels '%s': out of memory", path);
		eval_labels_release(&L);
		return r;
	}
	*ret = L;
	return 0;
}
