/* dec_http.c - the request line and a few headers of an HTTP/1.x request (RFC 9112). */
#include "decode/dec_internal.h"

#include <string.h>

/* The request line and headers are looked at in this many bytes at most:
 * a browser's request fits in one segment; a longer header block (big
 * cookies) is read as far as this, which bounds the work per packet. */
#define HTTP_SCAN_MAX 2048

struct http_method {
	const char *name;
	uint8_t len;
	uint8_t id;
};

/* RFC 9110 section 9 and RFC 5789 (PATCH). WebDAV and others are not
 * methods a home's plain-HTTP clients send. */
static const struct http_method methods[] = {
	{ "GET", 3, DEC_HTTP_GET },         { "POST", 4, DEC_HTTP_POST },
	{ "HEAD", 4, DEC_HTTP_HEAD },       { "PUT", 3, DEC_HTTP_PUT },
	{ "DELETE", 6, DEC_HTTP_DELETE },   { "OPTIONS", 7, DEC_HTTP_OPTIONS },
	{ "PATCH", 5, DEC_HTTP_PATCH },     { "CONNECT", 7, DEC_HTTP_CONNECT },
	{ "TRACE", 5, DEC_HTTP_TRACE },
};

bool dec_http_maybe(const struct cursor *c)
{
	uint8_t b;

	/* the first letters of the methods above: most TCP payload (TLS
	 * records start with 0x14..0x17) is turned away by one compare */
	if (!cursor_peek_u8(c, 0, &b))
		return false;
	switch (b) {
	case 'G': case 'P': case 'H': case 'D': case 'O': case 'C': case 'T':
		return true;
	default:
		return false;
	}
}

/* One line: the bytes up to LF (a CR before it dropped; RFC 9112 section 2.2
 * lets a recipient accept a bare LF). False when no LF is in the cursor. */
static bool next_line(struct cursor *c, struct cursor *ret)
{
	const uint8_t *lf = memchr(c->p, '\n', c->left);
	size_t n;

	if (!lf)
		return false;
	n = (size_t)(lf - c->p);
	ret->p = c->p;
	ret->left = n && c->p[n - 1] == '\r' ? n - 1 : n;
	cursor_skip(c, n + 1);
	return true;
}

static bool is_digit(uint8_t b) { return b >= '0' && b <= '9'; }

/* Dotted-quad IPv4: four groups of 1-3 digits, each at most 255. */
static bool ipv4_literal(const uint8_t *s, size_t n)
{
	unsigned groups = 0, digits = 0, val = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			if (!digits || val > 255)
				return false;
			groups++;
			digits = val = 0;
			continue;
		}
		if (!is_digit(s[i]) || ++digits > 3)
			return false;
		val = val * 10 + (unsigned)(s[i] - '0');
	}
	return groups == 4;
}

/* Host = uri-host [ ":" port ] (RFC 9110 section 7.2); an IPv6 literal is
 * in brackets (RFC 3986 section 3.2.2). Sets DEC_HTTP_HOST_IP for an IP
 * literal, DEC_HTTP_HOST_PORT for an explicit port. */
static void host_value(const uint8_t *v, size_t n, struct dec_http *h)
{
	size_t host_len = n;

	h->flags |= DEC_HTTP_HOST;
	if (n && v[0] == '[') {
		const uint8_t *close = memchr(v, ']', n);

		if (close) {
			h->flags |= DEC_HTTP_HOST_IP;
			if ((size_t)(close - v) + 1 < n && close[1] == ':')
				h->flags |= DEC_HTTP_HOST_PORT;
		}
		return;
	}
	for (size_t i = n; i-- > 0;) {
		if (v[i] == ':') {
			host_len = i;
			h->flags |= DEC_HTTP_HOST_PORT;
			break;
		}
		if (!is_digit(v[i]))
			break;
	}
	if (ipv4_literal(v, host_len))
		h->flags |= DEC_HTTP_HOST_IP;
}

static bool name_is(const uint8_t *name, size_t n, const char *want)
{
	size_t k = strlen(want);

	if (n != k)
		return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t b = name[i];

		if (b >= 'A' && b <= 'Z')
			b = (uint8_t)(b - 'A' + 'a');
		if (b != (uint8_t)want[i])
			return false;
	}
	return true;
}

/* field-line = field-name ":" OWS field-value OWS (RFC 9112 section 5);
 * no whitespace between the name and the colon (section 5.1 says reject). */
static bool header_line(struct cursor line, struct dec_http *h)
{
	const uint8_t *colon = memchr(line.p, ':', line.left);
	size_t name_len, vlen;
	const uint8_t *v;

	if (!colon || colon == line.p)
		return false;
	name_len = (size_t)(colon - line.p);
	if (line.p[name_len - 1] == ' ' || line.p[name_len - 1] == '\t')
		return false;
	v = colon + 1;
	vlen = line.left - name_len - 1;
	while (vlen && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	if (h->headers < UINT8_MAX)
		h->headers++;
	if (name_is(line.p, name_len, "host"))
		host_value(v, vlen, h);
	else if (name_is(line.p, name_len, "user-agent"))
		h->flags |= DEC_HTTP_USER_AGENT;
	return true;
}

/* The method whose token and SP start the payload, or NULL. */
static const struct http_method *method_of(const struct cursor *c)
{
	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
		const struct http_method *m = &methods[i];

		if (c->left > m->len && !memcmp(c->p, m->name, m->len) && c->p[m->len] == ' ')
			return m;
	}
	return NULL;
}

/* request-line = method SP request-target SP HTTP-version, the version
 * "HTTP/" DIGIT "." DIGIT (RFC 9112 section 3). `line` starts after the
 * method's SP. */
static enum dec_reason request_line(struct cursor line, struct dec_http *h)
{
	const uint8_t *ver = NULL;
	size_t target_len;

	/* the version is the last token: a target has no spaces */
	for (size_t i = line.left; i-- > 0;) {
		if (line.p[i] == ' ') {
			ver = line.p + i + 1;
			break;
		}
	}
	if (!ver && line.left >= 5 && !memcmp(line.p, "HTTP/", 5))
		return DEC_BAD_HTTP; /* a version but no target */
	/* without a version "HTTP/..." it is another protocol that starts
	 * with a verb (Redis inline commands: "GET key") */
	if (!ver || (size_t)(line.p + line.left - ver) < 5 || memcmp(ver, "HTTP/", 5)) {
		h->method = 0;
		return DEC_OK;
	}
	target_len = (size_t)(ver - 1 - line.p);
	if (!target_len || line.p + line.left - ver != 8 || !is_digit(ver[5]) || ver[6] != '.' || !is_digit(ver[7]))
		return DEC_BAD_HTTP;
	for (size_t i = 0; i < target_len; i++)
		if (line.p[i] <= 0x20 || line.p[i] == 0x7f)
			return DEC_BAD_HTTP;
	h->uri_len = target_len > UINT16_MAX ? UINT16_MAX : (uint16_t)target_len;
	if (memchr(line.p, '?', target_len))
		h->flags |= DEC_HTTP_QUERY;
	if (line.p[0] != '/')
		h->flags |= DEC_HTTP_NOT_ORIGIN_FORM; /* absolute form (to a proxy), authority or "*" */
	return DEC_OK;
}

enum dec_reason dec_http(const struct cursor *payload, bool whole, struct dec_http *h)
{
	struct cursor c = *payload, line;
	const struct http_method *method = method_of(&c);
	enum dec_reason r;

	memset(h, 0, sizeof *h);
	if (!method)
		return DEC_OK;
	if (c.left > HTTP_SCAN_MAX) {
		c.left = HTTP_SCAN_MAX;
		whole = true; /* running out of the scan window is not snaplen */
	}
	if (!next_line(&c, &line))
		/* the request line does not end here: cut by snaplen, or
		 * (rarely) a target longer than a segment */
		return whole ? DEC_OK : DEC_TRUNC_HTTP;
	h->method = method->id;
	cursor_skip(&line, method->len + 1u);
	r = request_line(line, h);
	if (r != DEC_OK || !h->method) {
		memset(h, 0, sizeof *h);
		return r;
	}
	while (next_line(&c, &line)) {
		if (!line.left) {
			h->flags |= DEC_HTTP_HEADERS_END;
			break;
		}
		/* obs-fold (RFC 9112 section 5.2): a continuation of the
		 * previous value; nothing we read spans lines */
		if (line.p[0] == ' ' || line.p[0] == '\t')
			continue;
		if (!header_line(line, h)) {
			memset(h, 0, sizeof *h);
			return DEC_BAD_HTTP;
		}
	}
	return DEC_OK;
}
