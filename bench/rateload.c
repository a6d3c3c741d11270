// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * rateload: the fixed-rate HTTP/1.1 client of make bench (scripts/bench.sh).
 * An open loop: request i is due at start + i / rate whatever the server
 * does, so two servers are compared by the CPU each needs for the same
 * load. wrk2 does this but is not packaged; hey does it with goroutines
 * whose own CPU (about 100 us a request on this kind of machine) is most
 * of the machine's, and on one core it falls short of 50,000 requests/s.
 * Kernel sockets, one thread on epoll, woken when the next request is due.
 *
 *   --conns C    keep-alive: up to C connections, each with one request at
 *                most in flight, taken in turn (as tlsload --rate does);
 *                --close: a new connection per request (Connection:
 *                close), at most C at once
 *
 * A due request waits for a free connection; "behind" says how many were
 * still waiting at the end, "lost" how many were sent and neither answered
 * nor failed by then. Every response is checked: a 3xx status line,
 * Content-Length and the whole body, then with --close the server's close.
 * One JSON object on stdout.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "openloop.h"

#define NS 1000000000ull
#define RESP_MAX 2048
#define TIMEOUT_NS (5 * NS)
#define DRAIN_NS NS /* to finish what is in flight at the end */
#define MAX_CONNS 1000 /* within the default limit of 1,024 open files */

enum state { ST_FREE, ST_CONNECT, ST_READ, ST_IDLE };

#define ERRORS(X)     \
	X(connect)    \
	X(write)      \
	X(bad_status) \
	X(bad_head)   \
	X(short_read) \
	X(extra_data) \
	X(no_close)   \
	X(timeout)    \
	X(closed_idle)

enum err {
#define E(n) E_##n,
	ERRORS(E)
#undef E
		E_COUNT
};

static const char *const err_names[] = {
#define E(n) #n,
	ERRORS(E)
#undef E
};

struct conn {
	int fd;
	enum state st;
	uint64_t start_ns;
	uint32_t got, want; /* want: head + body, once the head is in */
	char buf[RESP_MAX];
};

static struct {
	struct sockaddr_in dst;
	unsigned conns;
	double rate, duration;
	bool close;
	const char *path, *host;
} opt = { .conns = 50,
	  .rate = 1000,
	  .duration = 10,
	  .path = "/v2/pause/manifests/3.9" };

static struct {
	uint64_t issued, done, err[E_COUNT];
} st;

static int ep;
static struct conn *conns;
static unsigned cursor; /* where the search for a free slot starts */
static char request[512];
static int request_len;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "rateload: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* The slot is free again, its socket closed (which leaves epoll too). */
static void release(struct conn *c)
{
	close(c->fd);
	c->fd = -1;
	c->st = ST_FREE;
}

static void fail(struct conn *c, enum err e)
{
	st.err[e]++;
	release(c);
}

/* The request is answered: the slot is idle again (keep-alive) or freed. */
static void finish(struct conn *c)
{
	st.done++;
	if (opt.close)
		release(c);
	else
		c->st = ST_IDLE;
}

static void send_request(struct conn *c)
{
	ssize_t w = send(c->fd, request, (size_t)request_len, MSG_NOSIGNAL);

	if (w != request_len) {
		fail(c, E_write);
		return;
	}
	c->st = ST_READ;
	c->got = c->want = 0;
}

/* A 3xx status line and Content-Length: sets want. Else the error. */
static enum err parse_head(struct conn *c, const char *end)
{
	unsigned code;
	const char *cl;
	long len;

	if (sscanf(c->buf, "HTTP/1.1 %3u ", &code) != 1)
		return E_bad_head;
	if (code / 100 != 3)
		return E_bad_status;
	cl = strcasestr(c->buf, "\r\nContent-Length:");
	if (!cl || cl > end)
		return E_bad_head;
	len = strtol(cl + 17, NULL, 10);
	if (len < 0 || end + 4 - c->buf + len >= RESP_MAX)
		return E_bad_head;
	c->want = (uint32_t)(end + 4 - c->buf + len);
	return E_COUNT;
}

static void on_readable(struct conn *c)
{
	for (;;) {
		ssize_t r = read(c->fd, c->buf + c->got, RESP_MAX - 1 - c->got);
		enum err e;

		if (r < 0) {
			if (errno != EAGAIN)
				fail(c, E_short_read);
			return;
		}
		if (r == 0) {
			if (c->st == ST_IDLE)
				fail(c, E_closed_idle);
			else if (opt.close && c->want && c->got == c->want)
				finish(c);
			else
				fail(c, E_short_read);
			return;
		}
		if (c->st != ST_READ) {
			fail(c, E_extra_data);
			return;
		}
		c->got += (uint32_t)r;
		c->buf[c->got] = '\0';
		if (!c->want) {
			char *end = strstr(c->buf, "\r\n\r\n");

			if (!end) {
				if (c->got == RESP_MAX - 1) {
					fail(c, E_bad_head);
					return;
				}
				continue;
			}
			e = parse_head(c, end);
			if (e != E_COUNT) {
				fail(c, e);
				return;
			}
		}
		if (c->got > c->want) {
			fail(c, E_extra_data);
			return;
		}
		if (c->got == c->want && !opt.close)
			finish(c);
		/* --close: the server's close comes next (read returns 0) */
	}
}

static void on_writable(struct conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (c->st != ST_CONNECT)
		return;
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) || err) {
		fail(c, E_connect);
		return;
	}
	send_request(c);
}

/* A new connection in a free slot; the request goes once it connects. */
static void open_conn(struct conn *c)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLET,
				  .data.ptr = c };
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (c->fd < 0)
		die("socket");
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->st = ST_CONNECT;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev))
		die("epoll_ctl");
	if (connect(c->fd, (struct sockaddr *)&opt.dst, sizeof(opt.dst)) &&
	    errno != EINPROGRESS)
		fail(c, E_connect);
}

/*
 * Starts one due request on the next slot in turn that can take it (an
 * idle keep-alive connection, or a free slot for a new connection); false
 * when none can.
 */
static bool issue(uint64_t now)
{
	unsigned i;

	for (i = 0; i < opt.conns; i++) {
		struct conn *c = &conns[cursor];

		cursor = (cursor + 1) % opt.conns;
		if (c->st != ST_IDLE && c->st != ST_FREE)
			continue;
		st.issued++;
		c->start_ns = now;
		if (c->st == ST_IDLE)
			send_request(c);
		else
			open_conn(c);
		return true;
	}
	return false;
}

static void expire(uint64_t now)
{
	unsigned i;

	for (i = 0; i < opt.conns; i++) {
		struct conn *c = &conns[i];

		if ((c->st == ST_CONNECT || c->st == ST_READ) &&
		    now - c->start_ns > TIMEOUT_NS)
			fail(c, opt.close && c->want && c->got == c->want ?
					E_no_close :
					E_timeout);
	}
}

static unsigned in_flight(void)
{
	unsigned i, n = 0;

	for (i = 0; i < opt.conns; i++)
		n += conns[i].st == ST_CONNECT || conns[i].st == ST_READ;
	return n;
}

static void report(double secs, uint64_t due)
{
	uint64_t errors = 0;
	unsigned i;

	for (i = 0; i < E_COUNT; i++)
		errors += st.err[i];
	printf("{\"mode\":\"%s\",\"conns\":%u,\"target_rate\":%.0f,"
	       "\"seconds\":%.3f,\"due\":%llu,\"issued\":%llu,"
	       "\"behind\":%llu,\"requests\":%llu,\"rps\":%.1f,"
	       "\"errors\":%llu,\"lost\":%u",
	       opt.close ? "close" : "keepalive", opt.conns, opt.rate, secs,
	       (unsigned long long)due, (unsigned long long)st.issued,
	       (unsigned long long)(due - st.issued),
	       (unsigned long long)st.done, (double)st.done / secs,
	       (unsigned long long)errors, in_flight());
	for (i = 0; i < E_COUNT; i++)
		if (st.err[i])
			printf(",\"%s\":%llu", err_names[i],
			       (unsigned long long)st.err[i]);
	printf("}\n");
}

static void usage(void)
{
	fprintf(stderr,
		"usage: rateload --dst IPV4 --port N [--rate N] [--duration S]\n"
		"                [--conns N] [--close] [--host H] [--path P]\n");
	exit(2);
}

static double positive(const char *arg)
{
	char *end;
	double v = strtod(arg, &end);

	if (*end || !(v > 0))
		usage();
	return v;
}

/* A whole number in [1, max]. */
static unsigned whole(const char *arg, unsigned long max)
{
	char *end;
	unsigned long v = strtoul(arg, &end, 10);

	if (*end || *arg < '1' || *arg > '9' || v > max)
		usage();
	return (unsigned)v;
}

static void parse_args(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "dst", 1, 0, 'd' },	{ "port", 1, 0, 'p' },
		{ "rate", 1, 0, 'r' },	{ "duration", 1, 0, 't' },
		{ "conns", 1, 0, 'c' }, { "close", 0, 0, 'C' },
		{ "host", 1, 0, 'o' },	{ "path", 1, 0, 'P' },
		{ 0, 0, 0, 0 }
	};
	int o;

	opt.dst.sin_family = AF_INET;
	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (o) {
		case 'd':
			if (!inet_pton(AF_INET, optarg, &opt.dst.sin_addr))
				usage();
			break;
		case 'p':
			opt.dst.sin_port =
				htons((uint16_t)whole(optarg, 65535));
			break;
		case 'r':
			opt.rate = positive(optarg);
			break;
		case 't':
			opt.duration = positive(optarg);
			break;
		case 'c':
			opt.conns = whole(optarg, MAX_CONNS);
			break;
		case 'C':
			opt.close = true;
			break;
		case 'o':
			opt.host = optarg;
			break;
		case 'P':
			opt.path = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || !opt.dst.sin_addr.s_addr || !opt.dst.sin_port)
		usage();
}

int main(int argc, char **argv)
{
	struct epoll_event evs[64];
	char host[64];
	uint64_t t0, stop, due = 0, now, expired;
	unsigned i;
	int n;

	parse_args(argc, argv);
	if (!opt.host) {
		inet_ntop(AF_INET, &opt.dst.sin_addr, host, sizeof(host));
		snprintf(host + strlen(host), sizeof(host) - strlen(host),
			 ":%u", ntohs(opt.dst.sin_port));
		opt.host = host;
	}
	request_len = snprintf(request, sizeof(request),
			       "GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n",
			       opt.path, opt.host,
			       opt.close ? "Connection: close\r\n" : "");
	if (request_len <= 0 || request_len >= (int)sizeof(request))
		usage();
	conns = calloc(opt.conns, sizeof(*conns));
	ep = epoll_create1(0);
	if (!conns || ep < 0)
		die("setup");
	for (i = 0; i < opt.conns; i++)
		conns[i].fd = -1;
	t0 = expired = now_ns();
	stop = t0 + (uint64_t)(opt.duration * NS);
	for (now = t0; now < stop + DRAIN_NS; now = now_ns()) {
		uint64_t next = stop + DRAIN_NS, wait_ns;
		struct timespec wait;

		if (now < stop) {
			due = openloop_due(t0, now, opt.rate);
			while (st.issued < due && issue(now))
				;
			next = openloop_at(t0, due, opt.rate);
		} else if (!in_flight()) {
			break;
		}
		/* Rounding may put next just behind now: no wait then. */
		wait_ns = next > now ? next - now : 0;
		if (wait_ns > NS / 10)
			wait_ns = NS / 10; /* timeouts are looked at */
		wait.tv_sec = 0;
		wait.tv_nsec = (long)wait_ns;
		n = epoll_pwait2(ep, evs, 64, &wait, NULL);
		if (n < 0 && errno != EINTR)
			die("epoll_pwait2");
		for (i = 0; i < (unsigned)(n > 0 ? n : 0); i++) {
			struct conn *c = evs[i].data.ptr;

			if (c->st == ST_FREE)
				continue; /* released earlier in this batch */
			if (evs[i].events & (EPOLLOUT | EPOLLERR))
				on_writable(c);
			if (c->st != ST_FREE &&
			    (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
				on_readable(c);
		}
		/* Read after this pass's requests started: none is older. */
		if (now - expired > NS / 10) {
			expired = now_ns();
			expire(expired);
		}
	}
	report(opt.duration, due);
	return 0;
}
