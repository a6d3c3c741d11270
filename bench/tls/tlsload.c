// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tlsload: the HTTPS client of make bench (scripts/bench.sh) for what wrk
 * cannot do: new connections with full or resumed handshakes, and many idle
 * connections held open. Kernel sockets, OpenSSL, one thread on epoll.
 *
 *   --full       a new connection and a full handshake per request
 *                (Connection: close), --conns of them at once
 *   --resume     the same, each connection resuming from its slot's newest
 *                ticket (the same one again if the server sent no new one)
 *   --hold N     N connections, one keep-alive request each, then idle until
 *                SIGINT or SIGTERM; --ready-file is created once all are held
 *   --rate N     keep-alive requests at N per second over --conns
 *                connections, an open loop as bench/rateload.c's: request i
 *                is due at start + i / N, on the next idle connection
 *
 * Every response is checked (status 302, Content-Length, the whole body,
 * then the server's close in the first two modes); in --resume a slot's
 * every handshake after its first must be resumed, in --full none may be.
 * The client offers TLS 1.3, TLS_AES_128_GCM_SHA256 and X25519 only, SNI
 * and ALPN http/1.1; like wrk it does not check the certificate chain
 * (OpenSSL still checks the handshake's signature). One JSON object on
 * stdout.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "../openloop.h"

#define RESP_MAX 2048
#define SESS_MAX 4096
#define MAX_SRC 256
#define TIMEOUT_NS (5 * 1000000000ull)

enum mode { MODE_FULL, MODE_RESUME, MODE_HOLD, MODE_RATE };
enum state { ST_IDLE, ST_CONNECT, ST_HANDSHAKE, ST_WRITE, ST_READ, ST_HELD };

#define ERRORS(X)          \
	X(connect)         \
	X(handshake)       \
	X(bad_status)      \
	X(bad_head)        \
	X(short_read)      \
	X(extra_data)      \
	X(no_close)        \
	X(timeout)         \
	X(not_resumed)     \
	X(resumed_unasked) \
	X(dropped)

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
	SSL *ssl;
	uint32_t sess_len; /* --resume: the slot's newest session (DER) */
	unsigned char sess[SESS_MAX];
	enum state st;
	bool offered; /* a session was offered on this connection */
	bool counted; /* opened in the measured window */
	uint64_t start_ns;
	uint32_t wrote, got, want; /* want: head + body, once the head is in */
	char buf[RESP_MAX];
};

static struct {
	enum mode mode;
	struct sockaddr_in dst;
	struct in_addr src[MAX_SRC];
	unsigned n_src;
	unsigned conns, hold;
	double duration, warmup, rate;
	const char *path, *host, *sni, *ready_file;
} opt = { .mode = MODE_FULL,
	  .conns = 50,
	  .duration = 10,
	  .warmup = 0,
	  .path = "/v2/pause/manifests/3.9",
	  .host = "registry.local" };

static struct {
	uint64_t done, full, resumed, tickets, err[E_COUNT];
	uint64_t held, opened, issued;
} st;

static SSL_CTX *ctx;
static int ep;
static struct conn *conns;
static unsigned n_conns, next_src, opening, cursor;
static char request[512];
static int request_len;
static bool measuring;
static uint64_t due; /* --rate: requests due since the measured window began */
static volatile sig_atomic_t stop;
static uint32_t *lat;
static size_t n_lat, cap_lat;
static char version[32], cipher[64], group[32];

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void die(const char *what)
{
	fprintf(stderr, "tlsload: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* TLS 1.3 tickets arrive after the handshake: the slot keeps the newest, as
 * bytes, so every connection offers a fresh copy (OpenSSL's client marks a
 * session it resumed as used, and a server need not send a new ticket on
 * resumption). */
static int new_session(SSL *ssl, SSL_SESSION *sess)
{
	struct conn *c = SSL_get_app_data(ssl);
	unsigned char *p;
	int len;

	st.tickets += measuring;
	if (opt.mode != MODE_RESUME)
		return 0;
	len = i2d_SSL_SESSION(sess, NULL);
	if (len <= 0 || len > (int)sizeof(c->sess))
		return 0;
	p = c->sess;
	c->sess_len = (uint32_t)i2d_SSL_SESSION(sess, &p);
	return 0;
}

static void interest(struct conn *c, uint32_t ev)
{
	struct epoll_event e = { .events = ev, .data.ptr = c };

	if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e))
		die("epoll_ctl");
}

static void record_latency(uint64_t ns)
{
	if (n_lat == cap_lat) {
		cap_lat = cap_lat ? cap_lat * 2 : 1 << 16;
		lat = realloc(lat, cap_lat * sizeof(*lat));
		if (!lat)
			die("realloc");
	}
	lat[n_lat++] = (uint32_t)(ns / 1000);
}

static bool is_opening(const struct conn *c)
{
	return c->st != ST_IDLE && c->st != ST_HELD;
}

static void conn_close(struct conn *c)
{
	opening -= is_opening(c);
	if (c->ssl) {
		/* Quiet: the session stays resumable without a close_notify
		 * from us (the server has closed; nothing is waiting for it). */
		SSL_set_shutdown(c->ssl,
				 SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	c->st = ST_IDLE;
}

static void fail(struct conn *c, enum err e)
{
	if (c->counted || opt.mode == MODE_HOLD)
		st.err[e]++;
	ERR_clear_error();
	conn_close(c);
}

static void conn_open(struct conn *c)
{
	struct epoll_event e = { .events = EPOLLOUT, .data.ptr = c };
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (c->fd < 0)
		die("socket");
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (opt.n_src) {
		struct sockaddr_in a = { .sin_family = AF_INET,
					 .sin_addr = opt.src[next_src] };

		next_src = (next_src + 1) % opt.n_src;
		setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
			   sizeof(one));
		if (bind(c->fd, (struct sockaddr *)&a, sizeof(a)))
			die("bind");
	}
	c->start_ns = now_ns();
	c->counted = measuring;
	c->got = c->want = c->wrote = 0;
	c->offered = false;
	c->st = ST_CONNECT;
	opening++;
	if (connect(c->fd, (struct sockaddr *)&opt.dst, sizeof(opt.dst)) &&
	    errno != EINPROGRESS) {
		fail(c, E_connect);
		return;
	}
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &e))
		die("epoll_ctl");
	c->ssl = SSL_new(ctx);
	if (!c->ssl)
		die("SSL_new");
	SSL_set_app_data(c->ssl, c);
	SSL_set_fd(c->ssl, c->fd);
	if (opt.sni)
		SSL_set_tlsext_host_name(c->ssl, opt.sni);
	if (opt.mode == MODE_RESUME && c->sess_len) {
		const unsigned char *p = c->sess;
		SSL_SESSION *sess = d2i_SSL_SESSION(NULL, &p, c->sess_len);

		if (!sess || !SSL_set_session(c->ssl, sess))
			die("d2i_SSL_SESSION");
		SSL_SESSION_free(sess);
		c->offered = true;
	}
	st.opened++;
}

static void note_params(SSL *ssl)
{
	EVP_PKEY *k;

	if (version[0])
		return;
	snprintf(version, sizeof(version), "%s", SSL_get_version(ssl));
	snprintf(cipher, sizeof(cipher), "%s", SSL_get_cipher_name(ssl));
	if (SSL_get_peer_tmp_key(ssl, &k)) {
		snprintf(group, sizeof(group), "%s",
			 EVP_PKEY_get0_type_name(k));
		EVP_PKEY_free(k);
	}
}

/* Status 302, then want = head + Content-Length. false: a bad head. */
static bool parse_head(struct conn *c, enum err *e)
{
	char *end, *cl;
	long len;

	c->buf[c->got] = '\0';
	end = strstr(c->buf, "\r\n\r\n");
	if (!end) {
		*e = E_bad_head;
		return c->got < RESP_MAX - 1;
	}
	if (strncmp(c->buf, "HTTP/1.1 302 ", 13)) {
		*e = E_bad_status;
		return false;
	}
	*end = '\0';
	cl = strcasestr(c->buf, "\r\ncontent-length:");
	*end = '\r';
	if (!cl) {
		*e = E_bad_head;
		return false;
	}
	len = strtol(cl + 17, NULL, 10);
	if (len < 0 || end + 4 - c->buf + len >= RESP_MAX) {
		*e = E_bad_head;
		return false;
	}
	c->want = (uint32_t)(end + 4 - c->buf + len);
	return true;
}

static void complete(struct conn *c)
{
	if (c->counted) {
		st.done++;
		record_latency(now_ns() - c->start_ns);
		if (opt.mode == MODE_RATE)
			return;
		if (c->offered)
			st.resumed++;
		else
			st.full++;
	}
}

/* A held connection stays quiet: anything but a ticket is unexpected. */
static void step_held(struct conn *c)
{
	char b[256];
	int r = SSL_read(c->ssl, b, sizeof(b));

	if (r <= 0 && SSL_get_error(c->ssl, r) == SSL_ERROR_WANT_READ)
		return;
	st.held -= opt.mode == MODE_HOLD;
	fail(c, r > 0 ? E_extra_data : E_dropped);
}

static void step_read(struct conn *c)
{
	enum err e = E_short_read;
	int r, err;

	for (;;) {
		r = SSL_read(c->ssl, c->buf + c->got, RESP_MAX - 1 - c->got);
		if (r <= 0)
			break;
		c->got += (uint32_t)r;
		if (!c->want && !parse_head(c, &e)) {
			fail(c, e);
			return;
		}
		if (c->want && c->got > c->want) {
			fail(c, E_extra_data);
			return;
		}
		if (c->want && c->got == c->want &&
		    (opt.mode == MODE_HOLD || opt.mode == MODE_RATE)) {
			complete(c);
			opening--;
			c->st = ST_HELD;
			st.held += opt.mode == MODE_HOLD;
			return;
		}
	}
	err = SSL_get_error(c->ssl, r);
	if (err == SSL_ERROR_WANT_READ)
		return;
	/* The server's close (close_notify, or a FIN: we ignore an
	 * unexpected EOF) after the whole response ends the request. */
	if (c->want && c->got == c->want &&
	    (err == SSL_ERROR_ZERO_RETURN ||
	     (err == SSL_ERROR_SYSCALL && errno == ECONNRESET))) {
		complete(c);
		conn_close(c);
		return;
	}
	fail(c, c->want && c->got == c->want ? E_no_close : E_short_read);
}

static void step(struct conn *c)
{
	int r, err;

	switch (c->st) {
	case ST_CONNECT: {
		socklen_t len = sizeof(err);

		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) ||
		    err) {
			fail(c, E_connect);
			return;
		}
		c->st = ST_HANDSHAKE;
	}
		/* fall through */
	case ST_HANDSHAKE:
		r = SSL_connect(c->ssl);
		if (r != 1) {
			err = SSL_get_error(c->ssl, r);
			if (err == SSL_ERROR_WANT_READ)
				interest(c, EPOLLIN);
			else if (err == SSL_ERROR_WANT_WRITE)
				interest(c, EPOLLOUT);
			else
				fail(c, E_handshake);
			return;
		}
		note_params(c->ssl);
		if (c->offered != !!SSL_session_reused(c->ssl)) {
			fail(c, c->offered ? E_not_resumed : E_resumed_unasked);
			return;
		}
		if (opt.mode == MODE_RATE) {
			opening--;
			c->st = ST_HELD; /* its requests come when due */
			interest(c, EPOLLIN);
			return;
		}
		c->st = ST_WRITE;
		/* fall through */
	case ST_WRITE:
		r = SSL_write(c->ssl, request + c->wrote,
			      request_len - (int)c->wrote);
		if (r <= 0) {
			err = SSL_get_error(c->ssl, r);
			if (err == SSL_ERROR_WANT_WRITE)
				interest(c, EPOLLOUT);
			else if (err == SSL_ERROR_WANT_READ)
				interest(c, EPOLLIN);
			else
				fail(c, E_short_read);
			return;
		}
		c->wrote += (uint32_t)r;
		if ((int)c->wrote < request_len)
			return;
		c->st = ST_READ;
		interest(c, EPOLLIN);
		/* fall through */
	case ST_READ:
		step_read(c);
		return;
	case ST_HELD:
		step_held(c);
		return;
	case ST_IDLE:
		return;
	}
}

static void expire(uint64_t now)
{
	unsigned i;

	for (i = 0; i < n_conns; i++) {
		struct conn *c = &conns[i];

		if (c->st != ST_IDLE && c->st != ST_HELD &&
		    now - c->start_ns > TIMEOUT_NS)
			fail(c, E_timeout);
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static uint32_t pct(double p)
{
	return n_lat ? lat[(size_t)(p * (double)(n_lat - 1))] : 0;
}

static void report(double secs)
{
	static const char *const modes[] = { "full", "resume", "hold", "rate" };
	uint64_t errors = 0;
	unsigned i;

	qsort(lat, n_lat, sizeof(*lat), cmp_u32);
	for (i = 0; i < E_COUNT; i++)
		errors += st.err[i];
	printf("{\"mode\":\"%s\",\"conns\":%u,\"seconds\":%.3f,"
	       "\"requests\":%llu,\"rate\":%.1f,\"full\":%llu,"
	       "\"resumed\":%llu,\"tickets\":%llu,\"held\":%llu,"
	       "\"opened\":%llu,\"p50_us\":%u,\"p99_us\":%u,"
	       "\"version\":\"%s\",\"cipher\":\"%s\",\"group\":\"%s\","
	       "\"errors\":%llu",
	       modes[opt.mode], opt.conns, secs, (unsigned long long)st.done,
	       secs > 0 ? (double)st.done / secs : 0.0,
	       (unsigned long long)st.full, (unsigned long long)st.resumed,
	       (unsigned long long)st.tickets, (unsigned long long)st.held,
	       (unsigned long long)st.opened, pct(0.5), pct(0.99), version,
	       cipher, group, (unsigned long long)errors);
	if (opt.mode == MODE_RATE)
		printf(",\"target_rate\":%.0f,\"due\":%llu,\"issued\":%llu",
		       opt.rate, (unsigned long long)due,
		       (unsigned long long)st.issued);
	for (i = 0; i < E_COUNT; i++)
		if (st.err[i])
			printf(",\"%s\":%llu", err_names[i],
			       (unsigned long long)st.err[i]);
	printf("}\n");
}

/* a.b.c.d or a.b.c.d+N (N consecutive addresses). */
static void parse_src(const char *arg)
{
	char buf[64], *plus;
	unsigned long n = 1, i;
	struct in_addr a;

	snprintf(buf, sizeof(buf), "%s", arg);
	plus = strchr(buf, '+');
	if (plus) {
		*plus = '\0';
		n = strtoul(plus + 1, NULL, 10);
	}
	if (!inet_pton(AF_INET, buf, &a) || n < 1 || n > MAX_SRC) {
		fprintf(stderr,
			"tlsload: --src-ips %s: want A or A+N (N <= %d)\n", arg,
			MAX_SRC);
		exit(2);
	}
	for (i = 0; i < n; i++)
		opt.src[i].s_addr = htonl(ntohl(a.s_addr) + (uint32_t)i);
	opt.n_src = (unsigned)n;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: tlsload --dst IPV4 --port N\n"
		"               (--full | --resume | --hold N | --rate N)\n"
		"               [--conns N] [--duration SEC] [--warmup SEC]\n"
		"               [--src-ips A[+N]] [--sni NAME] [--host H]\n"
		"               [--path P] [--ready-file F]\n");
	exit(2);
}

static void parse_args(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "dst", 1, 0, 'd' },	 { "port", 1, 0, 'p' },
		{ "full", 0, 0, 'F' },	 { "resume", 0, 0, 'R' },
		{ "hold", 1, 0, 'H' },	 { "rate", 1, 0, 'q' },
		{ "conns", 1, 0, 'c' },	 { "duration", 1, 0, 't' },
		{ "warmup", 1, 0, 'w' }, { "src-ips", 1, 0, 's' },
		{ "sni", 1, 0, 'n' },	 { "host", 1, 0, 'o' },
		{ "path", 1, 0, 'P' },	 { "ready-file", 1, 0, 'r' },
		{ 0, 0, 0, 0 },
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
			opt.dst.sin_port = htons((uint16_t)atoi(optarg));
			break;
		case 'F':
			opt.mode = MODE_FULL;
			break;
		case 'R':
			opt.mode = MODE_RESUME;
			break;
		case 'H':
			opt.mode = MODE_HOLD;
			opt.hold = (unsigned)atoi(optarg);
			break;
		case 'c':
			opt.conns = (unsigned)atoi(optarg);
			break;
		case 't':
			opt.duration = atof(optarg);
			break;
		case 'w':
			opt.warmup = atof(optarg);
			break;
		case 's':
			parse_src(optarg);
			break;
		case 'n':
			opt.sni = optarg;
			break;
		case 'o':
			opt.host = optarg;
			break;
		case 'P':
			opt.path = optarg;
			break;
		case 'r':
			opt.ready_file = optarg;
			break;
		case 'q': {
			char *end;

			opt.mode = MODE_RATE;
			opt.rate = strtod(optarg, &end);
			if (*end)
				usage();
			break;
		}
		default:
			usage();
		}
	}
	if (optind != argc || !opt.dst.sin_addr.s_addr || !opt.dst.sin_port ||
	    !opt.conns || opt.duration <= 0 ||
	    (opt.mode == MODE_HOLD && !opt.hold) ||
	    (opt.mode == MODE_RATE && !(opt.rate > 0)))
		usage();
}

static void setup(void)
{
	static const unsigned char alpn[] = "\x08http/1.1";
	bool keep_alive = opt.mode == MODE_HOLD || opt.mode == MODE_RATE;
	struct rlimit rl;

	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256") ||
	    !SSL_CTX_set1_groups_list(ctx, "X25519") ||
	    SSL_CTX_set_alpn_protos(ctx, alpn, sizeof(alpn) - 1)) {
		ERR_print_errors_fp(stderr);
		exit(1);
	}
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
						    SSL_SESS_CACHE_NO_INTERNAL);
	SSL_CTX_sess_set_new_cb(ctx, new_session);
	request_len = snprintf(request, sizeof(request),
			       "GET %s HTTP/1.1\r\nHost: %s\r\n"
			       "User-Agent: tlsload\r\nAccept: */*\r\n%s\r\n",
			       opt.path, opt.host,
			       keep_alive ? "" : "Connection: close\r\n");
	if (request_len <= 0 || request_len >= (int)sizeof(request)) {
		fprintf(stderr, "tlsload: --path or --host too long\n");
		exit(2);
	}
	n_conns = opt.mode == MODE_HOLD ? opt.hold : opt.conns;
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < n_conns + 64u) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) ||
		    rl.rlim_cur < n_conns + 64u) {
			fprintf(stderr,
				"tlsload: need %u open files (ulimit -n)\n",
				n_conns + 64);
			exit(1);
		}
	}
	conns = calloc(n_conns, sizeof(*conns));
	ep = epoll_create1(0);
	if (!conns || ep < 0)
		die("setup");
	for (unsigned i = 0; i < n_conns; i++)
		conns[i].fd = -1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
}

/* --hold: at most --conns opening at once; the ready file once all are in.
 * A slot whose connection failed is tried again, up to N retries in all. */
static void hold_refill(bool *ready)
{
	unsigned scanned = 0;

	while (opening < opt.conns && st.held + opening < n_conns &&
	       st.opened < 2ull * n_conns && scanned++ < n_conns) {
		if (conns[cursor].st == ST_IDLE)
			conn_open(&conns[cursor]);
		cursor = (cursor + 1) % n_conns;
	}
	if (!*ready && st.held == n_conns && opt.ready_file) {
		FILE *f = fopen(opt.ready_file, "w");

		if (!f)
			die(opt.ready_file);
		fclose(f);
		*ready = true;
	}
}

/* --rate: the requests due by now, each on the next idle connection; the
 * next due time, or t_end when they wait for a connection. */
static uint64_t rate_issue(uint64_t now, uint64_t t_meas, uint64_t t_end)
{
	unsigned scanned = 0;

	if (now < t_meas || !measuring) /* st is zeroed as measuring begins */
		return t_meas;
	due = openloop_due(t_meas, now, opt.rate);
	while (st.issued < due && scanned < n_conns) {
		struct conn *c = &conns[cursor];

		cursor = (cursor + 1) % n_conns;
		scanned++;
		if (c->st != ST_HELD)
			continue;
		scanned = 0;
		st.issued++;
		opening++;
		c->st = ST_WRITE;
		c->got = c->want = c->wrote = 0;
		c->start_ns = now;
		c->counted = true;
		step(c);
	}
	if (st.issued < due)
		return t_end;
	return openloop_at(t_meas, due, opt.rate);
}

int main(int argc, char **argv)
{
	struct epoll_event ev[512];
	uint64_t t0, t_meas, t_end, next_scan, now;
	bool ready = false;
	unsigned i;
	int n;

	parse_args(argc, argv);
	setup();
	t0 = now_ns();
	t_meas = t0 + (uint64_t)(opt.warmup * 1e9);
	t_end = t_meas + (uint64_t)(opt.duration * 1e9);
	measuring = opt.warmup <= 0;
	next_scan = t0 + 100000000ull;
	if (opt.mode != MODE_HOLD)
		for (i = 0; i < n_conns; i++)
			conn_open(&conns[i]);
	while (!stop) {
		struct timespec wait = { 0, 20000000 };

		if (opt.mode == MODE_HOLD)
			hold_refill(&ready);
		now = now_ns();
		if (opt.mode == MODE_RATE && now < t_end) {
			uint64_t next = rate_issue(now, t_meas, t_end);

			now = now_ns();
			if (next < now + (uint64_t)wait.tv_nsec)
				wait.tv_nsec = next > now ? (long)(next - now) :
							    0;
		}
		n = epoll_pwait2(ep, ev, 512, &wait, NULL);
		if (n < 0 && errno != EINTR)
			die("epoll_pwait2");
		for (i = 0; i < (unsigned)(n > 0 ? n : 0); i++)
			step(ev[i].data.ptr);
		now = now_ns();
		if (now >= next_scan) {
			expire(now);
			next_scan = now + 100000000ull;
		}
		if (!measuring && now >= t_meas) {
			memset(&st, 0, sizeof(st));
			n_lat = 0;
			measuring = true;
		}
		if (opt.mode == MODE_HOLD)
			continue;
		if (now >= t_end)
			break;
		for (i = 0; i < n_conns; i++)
			if (conns[i].st == ST_IDLE)
				conn_open(&conns[i]);
	}
	now = now_ns();
	report((double)((opt.mode == MODE_HOLD ? now : t_end) -
			(opt.warmup > 0 ? t_meas : t0)) /
	       1e9);
	for (i = 0; i < n_conns; i++) {
		conn_close(&conns[i]);
	}
	SSL_CTX_free(ctx);
	free(conns);
	free(lat);
	return 0;
}
