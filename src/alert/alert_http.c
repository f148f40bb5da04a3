/* alert_http.c - POST a JSON body to a receiver with libcurl.
 *
 * One easy handle per receiver, reused so the connection is kept alive.
 * No redirects (a receiver that moved is a configuration error worth
 * seeing), only http and https, TLS verified, and every request bounded in
 * time: connect 5 s, whole request 15 s, less when the service is stopping.
 */
#include "alert/alert_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef NAD_HAVE_CURL
#include <curl/curl.h>

#define CONNECT_TIMEOUT_MS 5000L
#define REQUEST_TIMEOUT_MS 15000L

struct alert_http {
	CURL *curl;
	struct curl_slist *headers;  /* configured ones; per-post ones are added on a copy */
	char *base;                  /* the configured URL */
	const atomic_uint_fast64_t *deadline_us; /* for the progress callback */
	char reply[160];             /* start of the receiver's answer, for messages */
	size_t reply_len;
};

static size_t on_body(char *data, size_t size, size_t n, void *user)
{
	struct alert_http *h = user;
	size_t len = size * n, room = sizeof h->reply - 1 - h->reply_len;

	if (room) {
		size_t take = len < room ? len : room;
		memcpy(h->reply + h->reply_len, data, take);
		h->reply_len += take;
		h->reply[h->reply_len] = '\0';
	}
	return len;
}

/* Cut a transfer at the stop deadline even while the receiver trickles. */
static int on_progress(void *user, curl_off_t dlt, curl_off_t dln, curl_off_t ult, curl_off_t uln)
{
	struct alert_http *h = user;

	(void)dlt;
	(void)dln;
	(void)ult;
	(void)uln;
	uint64_t d = h->deadline_us ? atomic_load(h->deadline_us) : 0;

	return d && alert_mono_us() >= d;
}

/* Split "Name: value|Name: value" into a curl list. */
static int parse_headers(const char *spec, struct curl_slist **ret, char *err, size_t errlen)
{
	struct curl_slist *list = NULL;

	while (spec && *spec) {
		const char *end = strchr(spec, '|');
		size_t len = end ? (size_t)(end - spec) : strlen(spec);
		char item[CFG_TEXT_MAX];
		struct curl_slist *n;

		while (len && isspace((unsigned char)*spec)) {
			spec++;
			len--;
		}
		while (len && isspace((unsigned char)spec[len - 1]))
			len--;
		if (len) {
			if (len >= sizeof item || !memchr(spec, ':', len) || *spec == ':') {
				snprintf(err, errlen, "bad header '%.*s': expected 'Name: value'", (int)len, spec);
				curl_slist_free_all(list);
				return -EINVAL;
			}
			memcpy(item, spec, len);
			item[len] = '\0';
			n = curl_slist_append(list, item);
			if (!n) {
				curl_slist_free_all(list);
				return -ENOMEM;
			}
			list = n;
		}
		spec = end ? end + 1 : NULL;
	}
	*ret = list;
	return 0;
}

int alert_http_new(const char *url, const char *headers, const char *user_agent, struct alert_http **ret,
		   char *err, size_t errlen)
{
	struct alert_http *h;
	CURLU *u;
	CURLUcode uc;
	int r;

	/* libcurl's own parser, so that what we accept is what it can use */
	u = curl_url();
	if (!u)
		return -ENOMEM;
	uc = curl_url_set(u, CURLUPART_URL, url, 0);
	curl_url_cleanup(u);
	if (uc != CURLUE_OK || (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))) {
		snprintf(err, errlen, "bad URL '%s': %s", url,
			 uc != CURLUE_OK ? curl_url_strerror(uc) : "expected http:// or https://");
		return -EINVAL;
	}
	h = calloc(1, sizeof *h);
	if (!h)
		return -ENOMEM;
	r = parse_headers(headers, &h->headers, err, errlen);
	if (r < 0) {
		free(h);
		return r;
	}
	h->base = strdup(url);
	h->curl = curl_easy_init();
	if (!h->base || !h->curl) {
		alert_http_free(h);
		return -ENOMEM;
	}
	curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	curl_easy_setopt(h->curl, CURLOPT_USERAGENT, user_agent);
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(h->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h->curl, CURLOPT_XFERINFODATA, h);
	curl_easy_setopt(h->curl, CURLOPT_NOPROGRESS, 0L);
	*ret = h;
	return 0;
}

void alert_http_free(struct alert_http *h)
{
	if (!h)
		return;
	if (h->curl)
		curl_easy_cleanup(h->curl);
	curl_slist_free_all(h->headers);
	free(h->base);
	free(h);
}

long alert_http_post(struct alert_http *h, const char *path, const char *body, const char *key,
		     const atomic_uint_fast64_t *deadline_us, char *err, size_t errlen)
{
	struct curl_slist *hdr = NULL, *n;
	char url[CFG_TEXT_MAX + 64], line[ALERT_KEY_MAX + 32];
	long timeout = REQUEST_TIMEOUT_MS, status = 0;
	uint64_t now = alert_mono_us(), deadline = deadline_us ? atomic_load(deadline_us) : 0;
	CURLcode c;

	if (deadline) {
		if (now >= deadline) {
			snprintf(err, errlen, "no time left before stopping");
			return -ETIMEDOUT;
		}
		if ((deadline - now) / 1000 < (uint64_t)timeout)
			timeout = (long)((deadline - now) / 1000) + 1;
	}
	/* "http://am:9093/" + "/api/v2/alerts": one slash between them */
	if (path && *path == '/' && *h->base && h->base[strlen(h->base) - 1] == '/')
		path++;
	snprintf(url, sizeof url, "%s%s", h->base, path ? path : "");
	/* the configured headers first: a receiver's token, a template */
	for (struct curl_slist *i = h->headers; i; i = i->next) {
		n = curl_slist_append(hdr, i->data);
		if (!n)
			goto nomem;
		hdr = n;
	}
	n = curl_slist_append(hdr, "Content-Type: application/json");
	if (!n)
		goto nomem;
	hdr = n;
	if (key) {
		snprintf(line, sizeof line, "Idempotency-Key: %s", key);
		n = curl_slist_append(hdr, line);
		if (!n)
			goto nomem;
		hdr = n;
	}
	h->deadline_us = deadline_us;
	h->reply_len = 0;
	h->reply[0] = '\0';
	curl_easy_setopt(h->curl, CURLOPT_URL, url);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, timeout);
	c = curl_easy_perform(h->curl);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdr);
	if (c != CURLE_OK) {
		snprintf(err, errlen, "%s", c == CURLE_ABORTED_BY_CALLBACK ? "cut at the stop deadline"
			 : curl_easy_strerror(c));
		return c == CURLE_OPERATION_TIMEDOUT || c == CURLE_ABORTED_BY_CALLBACK ? -ETIMEDOUT
			: c == CURLE_COULDNT_CONNECT ? -ECONNREFUSED : -EIO;
	}
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299) {
		/* one line of the answer: Alertmanager says what it disliked */
		for (char *p = h->reply; *p; p++)
			if (*p == '\n' || *p == '\r')
				*p = ' ';
		snprintf(err, errlen, "HTTP %ld%s%s", status, h->reply[0] ? ": " : "", h->reply);
	}
	return status;
nomem:
	curl_slist_free_all(hdr);
	snprintf(err, errlen, "out of memory");
	return -ENOMEM;
}

#else

int alert_http_new(const char *url, const char *headers, const char *user_agent, struct alert_http **ret,
		   char *err, size_t errlen)
{
	(void)url;
	(void)headers;
	(void)user_agent;
	(void)ret;
	snprintf(err, errlen, "nad was built without libcurl: alerts cannot be sent");
	return -ENOTSUP;
}

void alert_http_free(struct alert_http *h)
{
	(void)h;
}

long alert_http_post(struct alert_http *h, const char *path, const char *body, const char *key,
		     const atomic_uint_fast64_t *deadline_us, char *err, size_t errlen)
{
	(void)h;
	(void)path;
	(void)body;
	(void)key;
	(void)deadline_us;
	snprintf(err, errlen, "built without libcurl");
	return -ENOTSUP;
}

#endif
