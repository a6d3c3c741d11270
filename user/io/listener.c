// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "tcp.h"

#define IN_CAP 16384
/* The largest response fits (see http_response.c). */
#define OUT_CAP (64 * 1024)
#define METRICS_CAP (256 * 1024)
/* epoll tags: a listening socket, or (pool + 1) << 32 | slot. */
#define TAG_SERVICE 1
#define TAG_METRICS 2
#define TAG_TLS 3
#define TAG_CONN(pool, i) ((uint64_t)((pool) + 1) << 32 | (i))
/*
 * Accepts per readiness event: a few, fewer than a source's metrics cap,
 * so a probe is read before its own source's newer connections could
 * displace it.
 */
#define ACCEPT_BATCH 4

struct lconn {
	int fd; /* -1: the slot is free */
	enum lpool_id pool;
	struct slot *slot; /* its admission record */
	struct http_conn http;
	uint8_t family, addr[16]; /* the peer */
	uint8_t *head; /* partial request head, while there is one */
	uint8_t *in; /* read but not yet taken by HTTP */
	uint32_t in_len;
	uint8_t *out; /* responses not yet written */
	uint32_t out_len, out_off;
	uint64_t deadline; /* ms */
	bool head_timer; /* deadline is the current head's (absolute) */
	bool closing; /* close once out is written */
	bool is_tls; /* came in on the TLS port */
	struct tls_session *tls; /* from its first byte on */
	struct listener *l;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Closes with an RST (SO_LINGER 0): nothing of it stays in the kernel. */
static void reset_close(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/* A close we begin (idle, drain): our close_notify first, best effort
 * (the socket's buffer has room for 31 bytes or the peer is gone). */
static void say_close_notify(struct lconn *c)
{
	uint8_t buf[TLS_RECORD_SLACK];
	struct http_out out = { buf, sizeof(buf), 0 };

	if (c->tls && tls_close_notify(c->tls, &out))
		send(c->fd, buf, out.len, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* Frees the slot; rst: abort the connection rather than close it. */
static void conn_free(struct lconn *c, bool rst)
{
	struct slot *slot = c->slot;
	enum lpool_id pool = c->pool;

	if (c->fd >= 0) {
		/* Closing also leaves the epoll set. */
		if (rst) {
			reset_close(c->fd);
		} else {
			say_close_notify(c);
			close(c->fd);
		}
	}
	free(c->head);
	free(c->in);
	free(c->out);
	tls_session_free(c->tls);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->pool = pool;
	c->slot = slot;
	if (slot)
		slot->used = false;
}

/* A connection closed unanswered, and why. */
static void conn_refuse(struct lconn *c, enum slot_reason why)
{
	c->l->stats.refused[c->pool][why]++;
	conn_free(c, true);
}

static void set_state(struct lconn *c, enum slot_state st, uint64_t now)
{
	if (c->slot->state != st) {
		c->slot->state = (uint8_t)st;
		c->slot->since = now;
	}
}

/* The debug-level access log; the client only with --log-clients. */
static void access_log(void *ctx, const struct http_request *req, int status)
{
	struct lconn *c = ctx;

	log_access("kernel", req, status, c->family,
		   c->l->cfg.log_clients ? c->addr : NULL);
}

/* The target: the same mapping as the AF_XDP path (no XDP lookup here). */
static const struct http_target *resolve(void *ctx,
					 const struct http_request *req)
{
	struct lconn *c = ctx;

	return target_for(&c->l->targets, c->l->cfg.maps, c->l->cfg.proxy,
			  c->family, c->addr, TCP_TARGET_NONE, req);
}

/* The peer's family and address (IPv4-mapped IPv6 as IPv4). */
static void peer_of(const struct sockaddr_storage *ss, uint8_t *family,
		    uint8_t addr[16])
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0,    0,
					    0, 0, 0, 0, 0xff, 0xff };

	memset(addr, 0, 16);
	*family = 4;
	if (ss->ss_family == AF_INET) {
		memcpy(addr, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		const uint8_t *a =
			((const struct sockaddr_in6 *)ss)->sin6_addr.s6_addr;

		if (!memcmp(a, mapped, 12)) {
			memcpy(addr, a + 12, 4);
		} else {
			*family = 6;
			memcpy(addr, a, 16);
		}
	}
}

/* Writes what is queued; false if the connection is gone. */
static bool flush_out(struct lconn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = write(c->fd, c->out + c->out_off,
				  c->out_len - c->out_off);

		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		c->out_off += (uint32_t)n;
	}
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
	return true;
}

static bool take_input(struct lconn *c, uint32_t n)
{
	memmove(c->in, c->in + n, c->in_len - n);
	c->in_len -= n;
	return true;
}

/*
 * After HTTP took input. A head's deadline runs from its first byte (a new
 * connection's from accept) and input never moves it; once a head is
 * answered, the idle timeout runs from the answer, until the next head's
 * first byte.
 */
static void update_deadline(struct lconn *c, uint32_t answered)
{
	uint64_t now = now_ms();

	if (answered) {
		c->head_timer = false;
		set_state(c, SLOT_IDLE, now);
	}
	if (c->http.head_len || (c->tls && tls_waiting(c->tls))) {
		if (!c->head_timer) {
			c->head_timer = true;
			c->deadline = now + c->l->cfg.header_ms;
		}
	} else if (!c->head_timer) {
		c->deadline = now + c->l->cfg.idle_ms;
	}
}

/* The TLS layer keeps a partial head where plain HTTP does. */
static uint32_t keep_head(void *ctx, const uint8_t *data, uint32_t len)
{
	struct lconn *c = ctx;

	if (!c->head)
		c->head = malloc(http_head_cap(c->l->cfg.lim));
	return c->head ? http_keep_pending(&c->http, c->head, data, len) : 0;
}

static uint8_t *head_buf(void *ctx)
{
	return ((struct lconn *)ctx)->head;
}

/* HTTP through TLS: as http_feed, with what was kept already kept. */
static struct http_feed feed_tls(struct lconn *c, const struct http_env *env,
				 struct http_out *out)
{
	const struct tls_head head = { keep_head, head_buf, c };
	struct tls_feed r;

	if (!c->tls) {
		c->tls = tls_session_new(certs_current(c->l->cfg.certs));
		if (!c->tls)
			return (struct http_feed){ .closed = true,
						   .consumed = c->in_len };
	}
	r = tls_feed(c->tls, &c->http, env, &head, c->in, c->in_len, out,
		     time(NULL));
	if (r.event == TLS_EV_FAILED)
		log_debug("tls_failed", LOG_STR("via", "kernel"),
			  LOG_STR("err", tls_session_error(c->tls)));
	return r.http;
}

/* Input to serve: read and not taken, or requests a TLS session holds. */
static bool has_input(const struct lconn *c)
{
	return c->in_len || (c->tls && tls_held(c->tls));
}

/* Feeds buffered input to HTTP; stops while responses wait to be written. */
static bool serve(struct lconn *c)
{
	struct listener *l = c->l;
	struct http_env env = { .lim = l->cfg.lim,
				.date = l->date,
				.resolve = resolve,
				.ctx = c,
				.responses = l->stats.responses,
				.close_all = l->draining,
				.on_response = log_enabled(LOG_DEBUG) ?
						       access_log :
						       NULL };
	struct http_out out;
	struct http_feed r;

	while (has_input(c) && !c->out) {
		c->out = malloc(OUT_CAP);
		if (!c->out)
			return false;
		out = (struct http_out){ c->out, OUT_CAP, 0 };
		if (c->http.head_len && !c->head)
			return false;
		if (c->is_tls)
			r = feed_tls(c, &env, &out);
		else
			r = http_feed(&c->http, &env, c->head, c->in, c->in_len,
				      &out);
		c->out_len = out.len;
		if (r.pending) {
			if (!c->head)
				c->head = malloc(http_head_cap(l->cfg.lim));
			if (!http_keep_pending(&c->http, c->head,
					       c->in + r.consumed, r.pending))
				return false;
		}
		take_input(c, r.consumed + r.pending);
		if (!c->http.head_len) {
			free(c->head);
			c->head = NULL;
		}
		if (r.closed)
			c->closing = true;
		update_deadline(c, r.responses);
		if (!flush_out(c))
			return false;
		if (!r.consumed && !r.pending && !out.len)
			break; /* blocked: wait for the output to drain */
	}
	return true;
}

static const char *health_body(const struct listener *l, const char *path,
			       int *status)
{
	const struct xr_status *st = l->cfg.maps->status;

	*status = 200;
	if (!strcmp(path, "/healthz"))
		return "ok\n";
	if (!strcmp(path, "/readyz")) {
		if (st->ready)
			return "ready\n";
		*status = 503;
		return "not ready\n";
	}
	*status = 404;
	return "not found: try /metrics, /healthz or /readyz\n";
}

/* /metrics, /healthz, /readyz: one request per connection, then close. */
static bool serve_metrics(struct lconn *c)
{
	static const char type_text[] = "text/plain; charset=utf-8";
	static const char type_prom[] = "text/plain; version=0.0.4";
	struct listener *l = c->l;
	struct http_request req;
	char path[64];
	const char *body, *type = type_text;
	size_t blen, hlen;
	int status, ret;

	ret = http_parse_head(c->in, c->in_len, l->cfg.lim, &req);
	if (ret == HTTP_INCOMPLETE)
		return true;
	c->out = malloc(METRICS_CAP);
	if (!c->out)
		return false;
	c->closing = true;
	/* Answered: the rest is writing, at the reader's pace. */
	c->head_timer = false;
	c->deadline = now_ms() + l->cfg.idle_ms;
	set_state(c, SLOT_ANSWERING, now_ms());
	if (ret != HTTP_OK) {
		c->out_len = http_write_error(c->out, METRICS_CAP, ret,
					      l->cfg.lim, l->date);
		return flush_out(c);
	}
	snprintf(path, sizeof(path), "%.*s",
		 (int)(req.path.len < 63 ? req.path.len : 63), req.path.p);
	path[strcspn(path, "?")] = 0;
	hlen = 160;
	if (!strcmp(path, "/metrics")) {
		status = 200;
		type = type_prom;
		body = (const char *)c->out + hlen;
		blen = metrics_render(l->cfg.maps, l, (char *)c->out + hlen,
				      METRICS_CAP - hlen);
		if (blen >= METRICS_CAP - hlen)
			blen = METRICS_CAP - hlen - 1;
	} else {
		body = health_body(l, path, &status);
		blen = strlen(body);
		if (status == 503)
			__atomic_fetch_add(&l->not_ready_answers, 1,
					   __ATOMIC_RELAXED);
		memcpy(c->out + hlen, body, blen);
	}
	/* The head goes right before the body, already in place. */
	{
		char h[160];
		int n = snprintf(
			h, sizeof(h),
			"HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
			"Content-Length: %zu\r\nConnection: close\r\n\r\n",
			status,
			status == 200 ? "OK" :
			status == 503 ? "Service Unavailable" :
					"Not Found",
			type, blen);

		c->out_off = (uint32_t)(hlen - (size_t)n);
		memcpy(c->out + c->out_off, h, (size_t)n);
		c->out_len =
			(uint32_t)(hlen +
				   ((req.flags & HTTP_REQ_HEAD) ? 0 : blen));
	}
	return flush_out(c);
}

/*
 * Makes what progress a connection allows: pending output first, then
 * input already read, then more input. False when it is to be closed.
 */
static bool on_event(struct lconn *c, bool *progress)
{
	uint32_t before;
	ssize_t n;

	*progress = false;
	if (c->out) {
		before = c->out_off;
		if (!flush_out(c))
			return false;
		*progress = !c->out || c->out_off != before;
		if (c->out)
			return true; /* wait for EPOLLOUT */
	}
	if (c->closing)
		return false; /* answered and written: close */
	if (c->pool == LP_SERVICE && has_input(c)) {
		before = c->in_len;
		if (!serve(c))
			return false;
		if (c->in_len != before || c->out) {
			*progress = true;
			return true;
		}
	}
	if (!c->in && !(c->in = malloc(IN_CAP)))
		return false;
	if (c->in_len == IN_CAP)
		return c->pool == LP_SERVICE; /* a metrics request too large */
	n = read(c->fd, c->in + c->in_len, IN_CAP - c->in_len);
	if (!n)
		return false;
	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	c->in_len += (uint32_t)n;
	*progress = true;
	return c->pool == LP_METRICS ? serve_metrics(c) : serve(c);
}

/* Takes a pending connection of a pool's listening socket, if one waits. */
static bool accept_one(struct listener *l, int lfd, enum lpool_id id,
		       bool is_tls)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLET };
	struct lpool *p = &l->pools[id];
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct slot_choice ch;
	struct source_key src;
	struct lconn *c;
	uint8_t family, addr[16];
	uint64_t now;
	int fd;

	fd = accept4(lfd, (struct sockaddr *)&ss, &len,
		     SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return false;
	peer_of(&ss, &family, addr);
	src = source_of(family, addr);
	ch = slot_admit(p->slots, p->n, &p->policy, &src);
	if (ch.slot < 0) {
		l->stats.refused[id][ch.reason]++;
		reset_close(fd);
		return true;
	}
	c = &p->conns[ch.slot];
	if (ch.evict)
		conn_refuse(c, ch.reason);
	now = now_ms();
	c->fd = fd;
	c->l = l;
	c->family = family;
	c->is_tls = is_tls;
	memcpy(c->addr, addr, 16);
	/* Until its first head completes, it runs on a header deadline. */
	c->head_timer = true;
	c->deadline = now + l->cfg.header_ms;
	*c->slot = (struct slot){
		.src = src, .used = true, .state = SLOT_NEW, .since = now
	};
	ev.data.u64 = TAG_CONN(id, (uint32_t)ch.slot);
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev))
		conn_free(c, true);
	return true;
}

/* Past its deadline: a head not complete in time, or idle too long. */
static void sweep(struct listener *l)
{
	uint64_t now = now_ms();
	uint32_t i;
	int id;

	for (id = 0; id < LP_COUNT; id++) {
		for (i = 0; i < l->pools[id].n; i++) {
			struct lconn *c = &l->pools[id].conns[i];

			if (c->fd < 0 || now < c->deadline)
				continue;
			if (c->head_timer)
				conn_refuse(c, SLOT_HEADER_TIMEOUT);
			else
				conn_free(c, false);
		}
	}
}

/*
 * Shutting down: no new local clients (the listening socket closes, so the
 * kernel refuses them), answered ones that are idle are closed, the rest
 * get Connection: close on their next response. Drained when no service
 * client is left.
 */
static void drain(struct listener *l)
{
	bool left = false;
	uint32_t i;

	if (!l->draining) {
		l->draining = true;
		if (l->service_fd >= 0)
			close(l->service_fd);
		if (l->tls_fd >= 0)
			close(l->tls_fd);
		l->service_fd = l->tls_fd = -1;
	}
	for (i = 0; i < l->pools[LP_SERVICE].n; i++) {
		struct lconn *c = &l->pools[LP_SERVICE].conns[i];

		if (c->fd < 0)
			continue;
		if (c->slot->state != SLOT_NEW && !has_input(c) && !c->out &&
		    !c->http.head_len && !(c->tls && tls_waiting(c->tls)))
			conn_free(c, false);
		else
			left = true;
	}
	l->drained = !left;
}

static void *listener_main(void *arg)
{
	struct epoll_event ev[32];
	struct listener *l = arg;
	time_t wall = 0;
	int n, i;

	while (!*l->cfg.stop) {
		n = epoll_wait(l->epfd, ev, 32, l->draining ? 20 : 200);
		if (l->cfg.drain && *l->cfg.drain)
			drain(l);
		if (time(NULL) != wall) {
			wall = time(NULL);
			http_format_date(l->date, wall);
			sweep(l);
		}
		target_cache_refresh(&l->targets, l->cfg.maps);
		for (i = 0; i < n; i++) {
			uint64_t tag = ev[i].data.u64;
			struct lconn *c;

			if (tag == TAG_SERVICE || tag == TAG_METRICS ||
			    tag == TAG_TLS) {
				int fd = tag == TAG_SERVICE ? l->service_fd :
					 tag == TAG_TLS	    ? l->tls_fd :
							      l->metrics_fd;
				int k;

				for (k = 0; k < ACCEPT_BATCH; k++)
					if (!accept_one(l, fd,
							tag == TAG_METRICS ?
								LP_METRICS :
								LP_SERVICE,
							tag == TAG_TLS))
						break;
				continue;
			}
			c = &l->pools[(tag >> 32) - 1].conns[(uint32_t)tag];
			/* Edge-triggered: work until it would block. */
			for (;;) {
				bool progress;

				if (c->fd < 0)
					break; /* freed earlier in this batch */
				if (!on_event(c, &progress)) {
					conn_free(c, false);
					break;
				}
				if (!progress)
					break;
			}
		}
	}
	return NULL;
}

static int listen_on(struct listener *l, const struct sockaddr *sa,
		     socklen_t len, uint64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };
	int one = 1, zero = 0, fd;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (sa->sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, sa, len) || listen(fd, 128) ||
	    epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* "ADDR:PORT" or "[V6]:PORT" into a socket address. */
static int parse_listen(const char *s, struct sockaddr_storage *ss,
			socklen_t *len)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	unsigned long port;
	char *end;

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -1;
	port = strtoul(colon + 1, &end, 10);
	if (*end || !port || port > 65535)
		return -1;
	snprintf(host, sizeof(host), "%.*s", (int)(colon - s), s);
	memset(ss, 0, sizeof(*ss));
	/* "[V6]:PORT", or bare "V6:PORT" (as $(POD_IP):PORT expands to). */
	if (strchr(host, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		char *h = host;

		if (h[0] == '[' && h[strlen(h) - 1] == ']') {
			h[strlen(h) - 1] = 0;
			h++;
		}
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a);
		return inet_pton(AF_INET6, h, &a->sin6_addr) == 1 ? 0 : -1;
	}
	{
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		*len = sizeof(*a);
		return inet_pton(AF_INET, host[0] ? host : "0.0.0.0",
				 &a->sin_addr) == 1 ?
			       0 :
			       -1;
	}
}

int listener_check_address(const char *s)
{
	struct sockaddr_storage ss;
	socklen_t len;

	return parse_listen(s, &ss, &len);
}

/* Each pool's slots, all free. */
static int pools_init(struct listener *l)
{
	static const uint32_t slots[LP_COUNT] = {
		[LP_SERVICE] = LISTENER_SERVICE_SLOTS,
		[LP_METRICS] = LISTENER_METRICS_SLOTS,
	};
	uint32_t i;
	int id;

	l->pools[LP_SERVICE].policy = (struct slot_policy){
		.per_source = l->cfg.max_flows_per_source,
	};
	l->pools[LP_METRICS].policy =
		(struct slot_policy){ .per_source = LISTENER_METRICS_PER_SOURCE,
				      .evict = true };
	for (id = 0; id < LP_COUNT; id++) {
		struct lpool *p = &l->pools[id];

		p->n = slots[id];
		p->slots = calloc(p->n, sizeof(*p->slots));
		p->conns = calloc(p->n, sizeof(*p->conns));
		if (!p->slots || !p->conns)
			return -ENOMEM;
		for (i = 0; i < p->n; i++) {
			p->conns[i].fd = -1;
			p->conns[i].pool = (enum lpool_id)id;
			p->conns[i].slot = &p->slots[i];
		}
	}
	return 0;
}

/*
 * A descriptor for every slot, and room for the rest of the daemon: a
 * soft limit below that (1024 is common) is raised within the hard one,
 * else accept would fail with the slots free.
 */
#define FD_RESERVE 256

static void fd_limit(void)
{
	rlim_t want =
		LISTENER_SERVICE_SLOTS + LISTENER_METRICS_SLOTS + FD_RESERVE;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	if (setrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur < want)
		log_warn("fd_limit_low", LOG_UINT("nofile", rl.rlim_cur),
			 LOG_UINT("want", want),
			 LOG_STR("note",
				 "the listener refuses connections beyond it"));
}

/* A dual-stack socket on port; an IPv4-only host falls back to 0.0.0.0.
 * A failure is logged: clients on this node will not be answered. */
static int listen_any(struct listener *l, uint16_t port, uint64_t tag)
{
	struct sockaddr_in6 any6 = { .sin6_family = AF_INET6,
				     .sin6_port = htons(port),
				     .sin6_addr = IN6ADDR_ANY_INIT };
	struct sockaddr_in any4 = { .sin_family = AF_INET,
				    .sin_port = htons(port) };
	int fd = listen_on(l, (struct sockaddr *)&any6, sizeof(any6), tag);

	if (fd < 0)
		fd = listen_on(l, (struct sockaddr *)&any4, sizeof(any4), tag);
	if (fd < 0)
		log_warn("local_listener_failed", LOG_UINT("port", port),
			 LOG_STR("err", strerror(-fd)),
			 LOG_STR("note", "clients on this node will not "
					 "be answered"));
	return fd;
}

int listener_start(struct listener *l, const struct listener_cfg *cfg)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int err;

	memset(l, 0, sizeof(*l));
	l->cfg = *cfg;
	l->service_fd = l->tls_fd = l->metrics_fd = -1;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0 || pools_init(l))
		return -ENOMEM;
	fd_limit();
	http_format_date(l->date, time(NULL));
	target_cache_refresh(&l->targets, cfg->maps);
	if (cfg->port)
		l->service_fd = listen_any(l, cfg->port, TAG_SERVICE);
	if (cfg->tls_port && cfg->certs)
		l->tls_fd = listen_any(l, cfg->tls_port, TAG_TLS);
	if (cfg->metrics_listen) {
		if (parse_listen(cfg->metrics_listen, &ss, &len))
			return -EINVAL;
		l->metrics_fd =
			listen_on(l, (struct sockaddr *)&ss, len, TAG_METRICS);
		if (l->metrics_fd < 0) {
			log_err("metrics_listen_failed",
				LOG_STR("addr", cfg->metrics_listen),
				LOG_STR("err", strerror(-l->metrics_fd)));
			return l->metrics_fd;
		}
	}
	log_info("listener_limits",
		 LOG_UINT("service_slots", l->pools[LP_SERVICE].n),
		 LOG_UINT("service_per_source",
			  l->pools[LP_SERVICE].policy.per_source),
		 LOG_UINT("metrics_slots", l->pools[LP_METRICS].n),
		 LOG_UINT("metrics_per_source",
			  l->pools[LP_METRICS].policy.per_source),
		 LOG_UINT("header_timeout_ms", cfg->header_ms),
		 LOG_UINT("idle_timeout_ms", cfg->idle_ms));
	err = pthread_create(&l->thread, NULL, listener_main, l);
	if (err)
		return -err;
	l->running = true;
	return 0;
}

void listener_join(struct listener *l)
{
	uint32_t i;
	int id;

	if (!l->pools[LP_SERVICE].slots)
		return; /* never started */
	if (l->running)
		pthread_join(l->thread, NULL);
	for (id = 0; id < LP_COUNT; id++) {
		struct lpool *p = &l->pools[id];

		for (i = 0; p->conns && i < p->n; i++)
			if (p->conns[i].fd >= 0)
				conn_free(&p->conns[i], false);
		free(p->conns);
		free(p->slots);
		p->conns = NULL;
		p->slots = NULL;
	}
	if (l->service_fd >= 0)
		close(l->service_fd);
	if (l->tls_fd >= 0)
		close(l->tls_fd);
	if (l->metrics_fd >= 0)
		close(l->metrics_fd);
	if (l->epfd >= 0)
		close(l->epfd);
	l->service_fd = l->tls_fd = l->metrics_fd = l->epfd = -1;
	l->running = false;
}
