/* listen_addr.h - split a listen address, "HOST:PORT" or "[V6ADDR]:PORT".
 *
 * One reading of the syntax for both places that need it: the configuration
 * check (daemon/config.c, which adds what only a configuration value must
 * meet) and the metrics server, which binds to what it gets back.
 */
#pragma once
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Copy the host (without brackets) and the port text into the buffers.
 * Returns 0, or -EINVAL when s is empty, has no port, an empty host, an
 * unclosed bracket, or a part that does not fit its buffer. The host of an
 * unbracketed address is everything before the last ':'. */
static inline int listen_addr_split(const char *s, char *host, size_t hostlen, char *port, size_t portlen)
{
	const char *colon;
	size_t n;

	if (!s || !*s)
		return -EINVAL;
	if (*s == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':')
			return -EINVAL;
		n = (size_t)(close - s - 1);
		colon = close + 1;
		s++;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		n = (size_t)(colon - s);
	}
	if (!n || n >= hostlen || !colon[1] || strlen(colon + 1) >= portlen)
		return -EINVAL;
	memcpy(host, s, n);
	host[n] = '\0';
	snprintf(port, portlen, "%s", colon + 1);
	return 0;
}
