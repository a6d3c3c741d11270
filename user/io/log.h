/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* One line per event, key=value or JSON, to stderr. */
#ifndef XREDIR_LOG_H
#define XREDIR_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "logfmt.h"

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_setup(enum log_level level, bool json);
bool log_enabled(enum log_level level);
/* By enum log_level, NULL-terminated: --log-level's choices. */
extern const char *const log_level_names[];
/* msg is an event name; f its n typed fields (logfmt.h). */
void log_fields(enum log_level level, const char *msg,
		const struct log_field *f, size_t n);

/* log_info("event", LOG_STR("iface", name), LOG_UINT("port", port)). */
#define LOG_FIELDS_(...)                                             \
	((const struct log_field[]){ __VA_ARGS__ }),                 \
		(sizeof((const struct log_field[]){ __VA_ARGS__ }) / \
		 sizeof(struct log_field))
#define log_event(level, msg, ...) \
	log_fields(level, msg, LOG_FIELDS_(__VA_ARGS__))
#define log_err(msg, ...) log_event(LOG_ERROR, msg, __VA_ARGS__)
#define log_warn(msg, ...) log_event(LOG_WARN, msg, __VA_ARGS__)
#define log_info(msg, ...) log_event(LOG_INFO, msg, __VA_ARGS__)
#define log_debug(msg, ...) log_event(LOG_DEBUG, msg, __VA_ARGS__)

struct http_request;
/* One request (debug level): via (xdp or kernel), method, path, status;
 * the client's address (family 4 or 6, network order) unless client is
 * NULL. */
void log_access(const char *via, const struct http_request *req, int status,
		uint8_t family, const void *client);

#endif /* XREDIR_LOG_H */
