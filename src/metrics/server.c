/* server.c - the HTTP endpoint: GET /metrics, /healthz, /status (libmicrohttpd).
 *
 * nad binds and listens itself and hands the socket to libmicrohttpd, so
 * that a port in use or a forbidden address is reported with its errno
 * before the service starts (exit 2), not as a bare failure. One internal
 * thread (epoll) serves every connection; a scrape renders the registry
 * into a fresh buffer and only ever reads the cells, so however slow a
 * client is, the capture thread never waits for it.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/listen_addr.h"
#include "metrics/metrics.h"

#ifdef NAD_HAVE_MHD
#include <microhttpd.h>
#endif

#define ADDRESS_MAX 160
/* A scraper, a status call and a few curious browsers: more is abuse. */
#define CONNECTION_LIMIT 32
#define CONNECTION_TIMEOUT_S 10

struct metrics_server {
	struct metrics_server_options opt;
	struct metrics_registry *registry;
	char address[ADDRESS_MAX];
#ifdef NAD_HAVE_MHD
	struct MHD_Daemon *daemon;
#endif
};

int metrics_listen_url(const char *listen_addr, const char *path, char *buf, size_t len)
{
	char host[ADDRESS_MAX], port[16];
	const char *h = host;

	if (listen_addr_split(listen_addr, host, sizeof host, port, sizeof port) < 0)
		return -EINVAL;
	/* A wildcard address is reached through the loopback of its family. */
	if (!strcmp(host, "0.0.0.0"))
		h = "127.0.0.1";
	else if (!strcmp(host, "::"))
		h = "::1";
	if (strchr(h, ':'))
		snprintf(buf, len, "http://[%s]:%s%s", h, port, path);
	else
		snprintf(buf, len, "http://%s:%s%s", h, port, path);
	return 0;
}

#ifdef NAD_HAVE_MHD

static void format_address(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN + 1] = "?", port[8] = "?";

	getnameinfo(sa, sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in),
		    host, sizeof host, port, sizeof port, NI_NUMERICHOST | NI_NUMERICSERV);
	if (sa->sa_family == AF_INET6)
		snprintf(buf, len, "[%s]:%s", host, port);
	else
		snprintf(buf, len, "%s:%s", host, port);
}

/* A listening TCP socket on the address; returns the fd or -errno with a
 * message in err. */
static int listen_on(const char *listen_addr, char *bound, size_t boundlen, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	char host[ADDRESS_MAX], port[16];
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof ss;
	int fd, r, one = 1;

	if (listen_addr_split(listen_addr, host, sizeof host, port, sizeof port) < 0) {
		snprintf(err, errlen, "cannot listen on '%s': expected ADDRESS:PORT or [IPV6ADDRESS]:PORT",
			 listen_addr ? listen_addr : "");
		return -EINVAL;
	}
	r = getaddrinfo(host, port, &hints, &res);
	if (r) {
		snprintf(err, errlen, "cannot listen on '%s': %s", listen_addr, gai_strerror(r));
		return -EINVAL;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		goto fail;
	}
	/* A restarted service must not wait for TIME_WAIT of its last scrape. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 16) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sslen) < 0) {
		r = -errno;
		close(fd);
		goto fail;
	}
	freeaddrinfo(res);
	format_address((struct sockaddr *)&ss, bound, boundlen);
	return fd;
fail:
	snprintf(err, errlen, "cannot listen on '%s': %s", listen_addr, strerror(-r));
	freeaddrinfo(res);
	return r;
}

static const char index_html[] =
	"<html><head><title>nad</title></head><body><h1>nad</h1><ul>"
	"<li><a href=\"/metrics\">/metrics</a></li><li><a href=\"/status\">/status</a></li>"
	"<li><a href=\"/healthz\">/healthz</a></li></ul></body></html>\n";

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type, char *body, size_t len,
			     bool must_free)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, must_free ? MHD_RESPMEM_MUST_FREE
									 : MHD_RESPMEM_PERSISTENT);
	enum MHD_Result r;

	if (!resp) {
		if (must_free)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	r = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return r;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned status, const char *text)
{
	return reply(c, status, "text/plain; charset=utf-8", (char *)text, strlen(text), false);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	struct metrics_server *srv = cls;

	(void)version;
	(void)upload_data;
	(void)con_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD)) {
		*upload_data_size = 0;
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
	}
	if (!strcmp(url, "/metrics")) {
		char *text;
		size_t len;

		if (metrics_render(srv->registry, &text, &len) < 0)
			return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot render metrics\n");
		return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text, len, true);
	}
	if (!strcmp(url, "/healthz")) {
		char why[256] = "", *body;
		bool ok = !srv->opt.health || srv->opt.health(srv->opt.user, why, sizeof why);

		if (ok)
			return reply_text(c, MHD_HTTP_OK, "ok\n");
		if (asprintf(&body, "unhealthy: %s\n", why) < 0)
			return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "unhealthy\n");
		return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain; charset=utf-8", body, strlen(body), true);
	}
	if (!strcmp(url, "/status") && srv->opt.status) {
		char *json = srv->opt.status(srv->opt.user);

		if (!json)
			return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot build status\n");
		return reply(c, MHD_HTTP_OK, "application/json", json, strlen(json), true);
	}
	if (!strcmp(url, "/"))
		return reply(c, MHD_HTTP_OK, "text/html; charset=utf-8", (char *)index_html, sizeof index_html - 1, false);
	return reply_text(c, MHD_HTTP_NOT_FOUND, "not found: try /metrics, /status or /healthz\n");
}

#endif /* NAD_HAVE_MHD */

int metrics_server_start(const struct metrics_server_options *opt, struct metrics_server **ret, char *err,
			 size_t errlen)
{
#ifdef NAD_HAVE_MHD
	struct metrics_server *srv;
	int fd;

	if (!opt->registry) {
		snprintf(err, errlen, "no metrics registry");
		return -EINVAL;
	}
	srv = calloc(1, sizeof *srv);
	if (!srv) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	srv->opt = *opt;
	srv->registry = opt->registry;
	fd = listen_on(opt->listen, srv->address, sizeof srv->address, err, errlen);
	if (fd < 0) {
		free(srv);
		return fd;
	}
	srv->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, 0, NULL, NULL, on_request, srv,
				       MHD_OPTION_LISTEN_SOCKET, fd,
				       MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNECTION_LIMIT,
				       MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT_S,
				       MHD_OPTION_END);
	if (!srv->daemon) {
		int e = errno ? errno : EIO;

		snprintf(err, errlen, "cannot serve on '%s': libmicrohttpd failed to start (%s)", opt->listen,
			 strerror(e));
		close(fd);
		free(srv);
		return -e;
	}
	*ret = srv;
	return 0;
#else
	(void)ret;
	snprintf(err, errlen, "cannot listen on '%s': nad was built without libmicrohttpd", opt->listen);
	return -ENOTSUP;
#endif
}

int metrics_server_add_collector(struct metrics_server *srv, metrics_collect_fn fn, void *user)
{
	if (!srv)
		return -EINVAL;
	return metrics_registry_add_collector(srv->registry, fn, user);
}

const char *metrics_server_address(const struct metrics_server *srv)
{
	return srv ? srv->address : "";
}

void metrics_server_stop(struct metrics_server *srv)
{
	if (!srv)
		return;
#ifdef NAD_HAVE_MHD
	/* Joins the thread and closes the listening socket it was given. */
	MHD_stop_daemon(srv->daemon);
#endif
	free(srv);
}
