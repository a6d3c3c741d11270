// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <arpa/inet.h>
#include <stdarg.h>
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

/* Rewrites ' key=value key2="v w"' as ',"key":"value","key2":"v w"'. */
static void print_json_pairs(FILE *out, const char *kv)
{
	const char *p = kv;

	while (*p) {
		const char *eq, *val, *end;

		while (*p == ' ')
			p++;
		eq = strchr(p, '=');
		if (!*p || !eq)
			break;
		val = eq + 1;
		if (*val == '"') {
			val++;
			end = strchr(val, '"');
			if (!end)
				end = val + strlen(val);
		} else {
			end = strchr(val, ' ');
			if (!end)
				end = val + strlen(val);
		}
		fprintf(out, ",\"%.*s\":\"", (int)(eq - p), p);
		for (; val < end; val++) {
			if (*val == '"' || *val == '\\')
				fputc('\\', out);
			if ((unsigned char)*val >= 0x20)
				fputc(*val, out);
		}
		fputc('"', out);
		p = *end == '"' ? end + 1 : end;
	}
}

void log_event(enum log_level level, const char *msg, const char *fmt, ...)
{
	char kv[1024], ts[32];
	struct timespec now;
	struct tm tm;
	va_list ap;

	if (level > max_level)
		return;
	va_start(ap, fmt);
	vsnprintf(kv, sizeof(kv), fmt, ap);
	va_end(ap);
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	if (as_json) {
		fprintf(stderr,
			"{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\",\"msg\":\"%s\"",
			ts, now.tv_nsec / 1000000, log_level_names[level], msg);
		print_json_pairs(stderr, kv);
		fputs("}\n", stderr);
	} else {
		fprintf(stderr, "ts=%s.%03ldZ level=%s msg=%s%s%s\n", ts,
			now.tv_nsec / 1000000, log_level_names[level], msg,
			*kv && *kv != ' ' ? " " : "", kv);
	}
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

void log_access(const char *via, const struct http_request *req,
		int status, uint8_t family, const void *client)
{
	char method[32], path[256], addr[INET6_ADDRSTRLEN] = "";

	printable(method, sizeof(method), &req->method);
	printable(path, sizeof(path), &req->path);
	if (client)
		inet_ntop(family == 4 ? AF_INET : AF_INET6, client, addr,
			  sizeof(addr));
	log_event(LOG_DEBUG, "request",
		  " via=%s method=%s path=\"%s\" status=%d%s%s", via,
		  method[0] ? method : "-", path, status,
		  client ? " client=" : "", addr);
}
