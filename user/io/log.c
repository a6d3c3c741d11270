// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "log.h"

static enum log_level max_level = LOG_INFO;
static bool as_json;

const char *const log_level_names[] = { "error", "warn", "info", "debug",
					NULL };

void log_setup(enum log_level level, bool json)
{
	max_level = level;
	as_json = json;
}

bool log_enabled(enum log_level level)
{
	return level <= max_level;
}

void log_fields(enum log_level level, const char *msg,
		const struct log_field *f, size_t n)
{
	char line[LOG_LINE_MAX], ts[32], when[48];
	struct timespec now;
	struct tm tm;
	size_t len;

	if (level > max_level)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when, sizeof(when), "%s.%03ldZ", ts, now.tv_nsec / 1000000);
	len = log_format(line, sizeof(line), as_json, when,
			 log_level_names[level], msg, f, n);
	fwrite(line, 1, len, stderr);
}

/* Request bytes in a log line: printable ASCII, at most 200, never a quote. */
static void printable(char *out, size_t len, const struct http_span *s)
{
	size_t i, n = 0;

	for (i = 0; s->p && i < s->len && n + 1 < len && i < 200; i++) {
		uint8_t ch = s->p[i];

		out[n++] = ch > 0x20 && ch < 0x7f && ch != '"' && ch != '\\' ?
				   (char)ch :
				   '?';
	}
	out[n] = 0;
}

void log_access(const char *via, const struct http_request *req, int status,
		uint8_t family, const void *client)
{
	char method[32], path[256], addr[INET6_ADDRSTRLEN] = "";
	const struct log_field f[] = {
		LOG_STR("via", via),	 LOG_STR("method", method),
		LOG_STR("path", path),	 LOG_INT("status", status),
		LOG_STR("client", addr),
	};

	printable(method, sizeof(method), &req->method);
	if (!method[0])
		snprintf(method, sizeof(method), "-");
	printable(path, sizeof(path), &req->path);
	if (client)
		inet_ntop(family == 4 ? AF_INET : AF_INET6, client, addr,
			  sizeof(addr));
	/* The client's address only when asked for (--log-clients). */
	log_fields(LOG_DEBUG, "request", f, client ? 5 : 4);
}
