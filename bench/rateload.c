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
 *   --conns C    keep-alive: C connections, each with one request at most
 *                in flight; --close: a new connection per request
 *                (Connection: close), at most C at once
 *
 * A due request waits for a free connection; "behind" says how many were
 * still waiting at the end. Every response is checked: the status line,
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

#define RESP_MAX 2048
#define TIMEOUT_NS (5 * 1000000000ull)
#define DRAIN_NS 1000000000ull /* to finish what is in flight at the end */
#define MAX_CONNS 10000
#define NS 1000000000ull

enum state { ST_FREE, ST_CONNECT, ST_READ, ST_IDLE };

#define ERRORS(X)     \
	X(connect)    \
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
	uint64_t issued, done, status[6], err[E_COUNT];
} st;

static int ep;
static struct conn *conns;
static unsigned *idle, n_idle, *spare, n_spare;
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

/* The connection's slot back to the spare list, its socket closed. */
static void release(struct conn *c)
{
	close(c->fd);
	c->fd = -1;
	c->st = ST_FREE;
	spare[n_spare++] = (unsigned)(c - conns);
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
	if (opt.close) {
		release(c);
		return;
	}
	c->st = ST_IDLE;
	idle[n_idle++] = (unsigned)(c - conns);
}

static bool send_request(struct conn *c)
{
	ssize_t w = write(c->fd, request, (size_t)request_len);

	if (w != request_len) {
		fail(c, E_connect);
		return false;
	}
	c->st = ST_READ;
	c->got = c->want = 0;
	return true;
}

/* Status line, Content-Length; sets want. false: a bad head. */
static bool parse_head(struct conn *c, const char *end)
{
	unsigned code;
	const char *cl;
	long len;

	if (sscanf(c->buf, "HTTP/1.1 %3u ", &code) != 1 || code < 100 ||
	    code > 599)
		return false;
	st.status[code / 100]++;
	if (code / 100 != 3)
		st.err[E_bad_status]++;
	cl = strcasestr(c->buf, "\r\nContent-Length:");
	if (!cl || cl > end)
		return false;
	len = strtol(cl + 17, NULL, 10);
	if (len < 0 || end + 4 - c->buf + len > RESP_MAX)
		return false;
	c->want = (uint32_t)(end + 4 - c->buf + len);
	return true;
}

static void on_readable(struct conn *c)
{
	for (;;) {
		ssize_t r = read(c->fd, c->buf + c->got, RESP_MAX - 1 - c->got);

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
				if (c->got == RESP_MAX - 1)
					fail(c, E_bad_head);
				continue;
			}
			if (!parse_head(c, end)) {
				fail(c, E_bad_head);
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

/* A new connection in a spare slot; the request goes once it connects. */
static void open_conn(void)
{
	struct conn *c = &conns[spare[--n_spare]];
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLET };
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (c->fd < 0)
		die("socket");
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->st = ST_CONNECT;
	c->start_ns = now_ns();
	ev.data.ptr = c;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev))
		die("epoll_ctl");
	if (connect(c->fd, (struct sockaddr *)&opt.dst, sizeof(opt.dst)) &&
	    errno != EINPROGRESS) {
		fail(c, E_connect);
		return;
	}
}

/* Starts one due request; false when every connection is busy. */
static bool issue(void)
{
	struct conn *c;

	if (!opt.close && n_idle) {
		c = &conns[idle[--n_idle]];
		c->start_ns = now_ns();
		send_request(c);
	} else if (n_spare) {
		open_conn();
	} else {
		return false;
	}
	st.issued++;
	return true;
}

static void expire(uint64_t now)
{
	unsigned i;

	for (i = 0; i < opt.conns; i++) {
		struct conn *c = &conns[i];

		if ((c->st == ST_CONNECT || c->st == ST_READ) &&
		    now - c->start_ns > TIMEOUT_NS)
			fail(c, E_timeout);
	}
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
	       "\"status_3xx\":%llu,\"errors\":%llu",
	       opt.close ? "close" : "keepalive", opt.conns, opt.rate, secs,
	       (unsigned long long)due, (unsigned long long)st.issued,
	       (unsigned long long)(due - st.issued),
	       (unsigned long long)st.done, (double)st.done / secs,
	       (unsigned long long)st.status[3], (unsigned long long)errors);
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
			opt.dst.sin_port = htons((uint16_t)positive(optarg));
			break;
		case 'r':
			opt.rate = positive(optarg);
			break;
		case 't':
			opt.duration = positive(optarg);
			break;
		case 'c':
			opt.conns = (unsigned)positive(optarg);
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
	if (optind != argc || !opt.dst.sin_addr.s_addr || !opt.dst.sin_port ||
	    opt.conns > MAX_CONNS)
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
	idle = calloc(opt.conns, sizeof(*idle));
	spare = calloc(opt.conns, sizeof(*spare));
	ep = epoll_create1(0);
	if (!conns || !idle || !spare || ep < 0)
		die("setup");
	for (i = opt.conns; i-- > 0;) {
		conns[i].fd = -1;
		spare[n_spare++] = i;
	}
	t0 = expired = now_ns();
	stop = t0 + (uint64_t)(opt.duration * NS);
	for (now = t0; now < stop + DRAIN_NS; now = now_ns()) {
		uint64_t next = stop + DRAIN_NS;
		struct timespec wait;

		if (now < stop) {
			due = (uint64_t)((double)(now - t0) * opt.rate / NS) +
			      1;
			while (st.issued < due && issue())
				;
			next = t0 + (uint64_t)((double)due * NS / opt.rate);
		} else if (n_idle + n_spare == opt.conns) {
			break; /* nothing in flight */
		}
		if (next > now + NS / 10)
			next = now + NS / 10; /* timeouts are looked at */
		wait.tv_sec = (time_t)((next - now) / NS);
		wait.tv_nsec = (long)((next - now) % NS);
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
