// SPDX-License-Identifier: MIT
/*
 * tls_bench: a TLS library's server-side cost, client and server in one
 * process over memory pipes (no sockets), pinned to one CPU. Only the
 * server's calls are timed (CLOCK_THREAD_CPUTIME_ID around each), and only
 * the server's allocations are counted: the client is the same library and
 * its cost is left out. One JSON line per scenario on stdout; see README.md.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "tls_lib.h"

#define PIPE_CAP (32 * 1024)
/* Keep-alive requests the client writes before the server reads them:
 * amortises the clock reads over several ~2 us requests. */
#define KA_BATCH 16

/* A registry client's manifest GET (119 bytes) and the 302 xredir sends (249). */
static const char request[] =
	"GET /v2/library/nginx/manifests/latest HTTP/1.1\r\n"
	"Host: registry.example.com\r\n"
	"User-Agent: docker/24.0.7\r\n"
	"Accept: */*\r\n\r\n";
static const char response[] =
	"HTTP/1.1 302 Found\r\n"
	"Location: https://mirror.registry.example.net/v2/library/nginx/manifests/"
	"1.25-alpine\r\n"
	"Content-Type: text/html\r\n"
	"Content-Length: 96\r\n\r\n"
	"<a href=\"https://mirror.registry.example.net/v2/library/nginx/manifests/"
	"1.25-alpine\">Found</a>.\n";
#define REQ_LEN ((int)sizeof(request) - 1)
#define RESP_LEN ((int)sizeof(response) - 1)
_Static_assert(REQ_LEN == 119 && RESP_LEN == 249, "sizes in README.md");

/* Allocation counting: each block carries its size and the side that
 * allocated it, so a free on either side debits the right account. */
struct hdr {
	_Alignas(16) size_t size;
	int server;
};

/* The fleet's ticket key, shared by every server context. */
static unsigned char ticket_key[TICKET_KEY_LEN];

static size_t live[2], peak_server;
static unsigned long allocs_server;
static int on_server;
static uint64_t server_ns;

void *bench_malloc(size_t size)
{
	struct hdr *h = malloc(sizeof(*h) + size);

	if (!h)
		return NULL;
	h->size = size;
	h->server = on_server;
	live[on_server] += size;
	if (on_server) {
		allocs_server++;
		if (live[1] > peak_server)
			peak_server = live[1];
	}
	return h + 1;
}

void bench_free(void *ptr)
{
	struct hdr *h;

	if (!ptr)
		return;
	h = (struct hdr *)ptr - 1;
	live[h->server] -= h->size;
	free(h);
}

void *bench_realloc(void *ptr, size_t size)
{
	struct hdr *h, *n;
	size_t old;

	if (!ptr)
		return bench_malloc(size);
	h = (struct hdr *)ptr - 1;
	old = h->size;
	n = realloc(h, sizeof(*n) + size);
	if (!n)
		return NULL;
	live[n->server] += size - old;
	n->size = size;
	if (n->server && live[1] > peak_server)
		peak_server = live[1];
	return n + 1;
}

size_t pipe_read(struct pipe *p, void *dst, size_t len)
{
	size_t n = p->tail - p->head;

	if (n > len)
		n = len;
	memcpy(dst, p->buf + p->head, n);
	p->head += n;
	if (p->head == p->tail)
		p->head = p->tail = 0;
	return n;
}

size_t pipe_write(struct pipe *p, const void *src, size_t len)
{
	size_t n;

	if (p->cap - p->tail < len && p->head) {
		memmove(p->buf, p->buf + p->head, p->tail - p->head);
		p->tail -= p->head;
		p->head = 0;
	}
	n = p->cap - p->tail;
	if (n > len)
		n = len;
	memcpy(p->buf + p->tail, src, n);
	p->tail += n;
	return n;
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Runs stmt as the server: timed, and its allocations on its account. */
#define ON_SERVER(stmt)                      \
	do {                                 \
		uint64_t t0_ = cpu_ns();     \
		on_server = 1;               \
		stmt;                        \
		on_server = 0;               \
		server_ns += cpu_ns() - t0_; \
	} while (0)

static void die(const char *what)
{
	fprintf(stderr, "tls_bench (%s): %s%s%s\n", tls_name(), what,
		*tls_error() ? ": " : "", tls_error());
	exit(1);
}

/* One connection: the client's and the server's ends of two pipes. */
struct link {
	struct pipe c2s, s2c;
	struct tls_conn *c, *s;
};

static void link_init(struct link *l)
{
	l->c2s.buf = malloc(PIPE_CAP);
	l->s2c.buf = malloc(PIPE_CAP);
	if (!l->c2s.buf || !l->s2c.buf)
		die("out of memory");
	l->c2s.cap = l->s2c.cap = PIPE_CAP;
}

static void link_close(struct link *l)
{
	tls_conn_free(l->c);
	ON_SERVER(tls_conn_free(l->s));
	l->c = l->s = NULL;
	l->c2s.head = l->c2s.tail = l->s2c.head = l->s2c.tail = 0;
}

/* A handshake to the end, then the client reads the ticket the server sent
 * after it, so both pipes are empty. */
static void handshake(struct link *l, struct tls_ep *cli, struct tls_ep *srv,
		      struct tls_sess *sess)
{
	int cd = 0, sd = 0, round;
	char buf[64];

	l->c = tls_conn_new(cli, &l->s2c, &l->c2s);
	if (!l->c || (sess && tls_set_session(l->c, sess)))
		die("client connection");
	ON_SERVER(l->s = tls_conn_new(srv, &l->c2s, &l->s2c));
	if (!l->s)
		die("server connection");
	for (round = 0; round < 8 && (cd != 1 || sd != 1); round++) {
		if (cd != 1)
			cd = tls_handshake(l->c);
		if (sd != 1)
			ON_SERVER(sd = tls_handshake(l->s));
		if (cd < 0 || sd < 0)
			die("handshake failed");
	}
	if (cd != 1 || sd != 1)
		die("handshake did not finish");
	if (tls_read(l->c, buf, sizeof(buf)) != 0)
		die("unexpected data after the handshake");
	if (l->c2s.tail || l->s2c.tail)
		die("bytes left in a pipe after the handshake");
}

/* Upper case with '-' and '_' dropped: both libraries' suite names match. */
static int has(const char *desc, const char *want)
{
	char a[256], *o = a;

	for (; *desc && o < a + sizeof(a) - 1; desc++)
		if (*desc != '-' && *desc != '_')
			*o++ = (char)(*desc >= 'a' && *desc <= 'z' ?
					      *desc - 32 :
					      *desc);
	*o = 0;
	return strstr(a, want) != NULL;
}

/* The negotiated parameters are what the scenario claims to measure. */
static void check(struct link *l, const char *version, const char *suite,
		  int resumed, char *desc, size_t len)
{
	tls_describe(l->s, desc, len);
	if (!has(desc, version) || !has(desc, suite) || !has(desc, "X25519"))
		die(desc);
	if (tls_resumed(l->s) != resumed)
		die(resumed ? "not resumed" : "resumed unexpectedly");
}

/* One keep-alive exchange per request: the server decrypts a GET and
 * encrypts the 302, the client checks both ends saw the same bytes. */
static void requests(struct link *l, int n)
{
	char buf[1024];
	int i, r;

	for (i = 0; i < n; i++)
		if (tls_write(l->c, request, REQ_LEN) != REQ_LEN)
			die("client write");
	ON_SERVER({
		for (i = 0; i < n; i++) {
			r = tls_read(l->s, buf, sizeof(buf));
			if (r != REQ_LEN || memcmp(buf, request, REQ_LEN))
				break;
			if (tls_write(l->s, response, RESP_LEN) != RESP_LEN)
				break;
		}
	});
	if (i != n)
		die("server did not get the request");
	for (i = 0; i < n; i++) {
		r = tls_read(l->c, buf, sizeof(buf));
		if (r != RESP_LEN || memcmp(buf, response, RESP_LEN))
			die("client got a different response");
	}
	if (tls_read(l->c, buf, sizeof(buf)) != 0)
		die("client got more than the responses");
}

struct conf {
	const char *ec_cert, *ec_key, *rsa_cert, *rsa_key;
	double seconds; /* server CPU per timed scenario */
	int conns; /* connections held open for the memory figures */
};

static struct tls_ep *server(const struct conf *cf, int rsa)
{
	struct tls_opts o = {
		.cert = rsa ? cf->rsa_cert : cf->ec_cert,
		.key = rsa ? cf->rsa_key : cf->ec_key,
		.release_buffers = 1,
		.ticket_key = ticket_key,
	};
	struct tls_ep *ep = tls_server(&o);

	if (!ep)
		die("server context");
	return ep;
}

static struct tls_ep *client(const struct conf *cf, int rsa, int tls12,
			     const char *suite, int h2_only)
{
	struct tls_opts o = {
		.ca = rsa ? cf->rsa_cert : cf->ec_cert,
		.tls12_only = tls12,
		.suite = suite,
		.h2_only = h2_only,
	};
	struct tls_ep *ep = tls_client(&o);

	if (!ep)
		die("client context");
	return ep;
}

static void report(const char *scenario, unsigned long ops, uint64_t total,
		   const char *desc)
{
	double s = server_ns / 1e9;

	printf("{\"lib\":\"%s\",\"scenario\":\"%s\",\"ops\":%lu,"
	       "\"server_s\":%.4f,\"per_s\":%.1f,\"server_us\":%.3f,"
	       "\"client_us\":%.3f,\"negotiated\":\"%s\"}\n",
	       tls_name(), scenario, ops, s, ops / s, s * 1e6 / ops,
	       (total - server_ns) / 1e3 / ops, desc);
	fflush(stdout);
}

/* Full (or, with resume, ticket-resumed) handshakes until the server has
 * spent cf->seconds of CPU on them; each includes the server's connection
 * setup, its ticket and its teardown. Resumptions are taken by a second
 * server context that shares only the ticket key with the one that issued
 * the ticket, as another node of the fleet would. */
static void bench_handshakes(const struct conf *cf, const char *scenario,
			     int rsa, int tls12, int resume)
{
	struct tls_ep *first = server(cf, rsa);
	struct tls_ep *srv = resume ? server(cf, rsa) : first;
	struct tls_ep *cli = client(cf, rsa, tls12, "aes128gcm", 0);
	const char *version = tls12 ? "TLSV1.2" : "TLSV1.3";
	struct tls_sess *sess = NULL;
	struct link l = { 0 };
	unsigned long n = 0;
	uint64_t t0;
	char desc[200];

	link_init(&l);
	/* Warm-up, and the session a resumption uses. */
	handshake(&l, cli, first, NULL);
	check(&l, version, "AES128GCM", 0, desc, sizeof(desc));
	if (resume && !(sess = tls_session(l.c)))
		die("no session after the ticket");
	link_close(&l);
	server_ns = 0;
	t0 = cpu_ns();
	while (server_ns < cf->seconds * 1e9) {
		handshake(&l, cli, srv, sess);
		if (!n)
			check(&l, version, "AES128GCM", resume, desc,
			      sizeof(desc));
		else if (tls_resumed(l.s) != resume)
			die("resumption taken only sometimes");
		link_close(&l);
		n++;
	}
	report(scenario, n, cpu_ns() - t0, desc);
	if (sess)
		tls_session_free(sess);
	tls_ep_free(cli);
	if (srv != first)
		tls_ep_free(srv);
	tls_ep_free(first);
	free(l.c2s.buf);
	free(l.s2c.buf);
}

/* Keep-alive requests on one established TLS 1.3 connection. */
static void bench_keepalive(const struct conf *cf, const char *scenario,
			    const char *suite, const char *want)
{
	struct tls_ep *srv = server(cf, 0);
	struct tls_ep *cli = client(cf, 0, 0, suite, 0);
	struct link l = { 0 };
	unsigned long n = 0;
	uint64_t t0;
	char desc[200];

	link_init(&l);
	handshake(&l, cli, srv, NULL);
	check(&l, "TLSV1.3", want, 0, desc, sizeof(desc));
	requests(&l, KA_BATCH);
	server_ns = 0;
	t0 = cpu_ns();
	while (server_ns < cf->seconds * 1e9) {
		requests(&l, KA_BATCH);
		n += KA_BATCH;
	}
	report(scenario, n, cpu_ns() - t0, desc);
	link_close(&l);
	tls_ep_free(cli);
	tls_ep_free(srv);
	free(l.c2s.buf);
	free(l.s2c.buf);
}

/* Server bytes per connection: after the handshake, then idle after one
 * keep-alive request; and the most one handshake held at once. */
static void bench_memory(const struct conf *cf)
{
	struct tls_ep *srv = server(cf, 0);
	struct tls_ep *cli = client(cf, 0, 0, "aes128gcm", 0);
	struct link *l = calloc(cf->conns, sizeof(*l));
	size_t base, hs, idle, peak = 0, before;
	unsigned long allocs;
	int i;

	if (!l)
		die("out of memory");
	for (i = 0; i < cf->conns; i++)
		link_init(&l[i]);
	/* Warm-up: lazily built tables are not per-connection state. */
	handshake(&l[0], cli, srv, NULL);
	requests(&l[0], 1);
	link_close(&l[0]);
	base = live[1];
	allocs = allocs_server;
	for (i = 0; i < cf->conns; i++) {
		before = live[1];
		peak_server = before;
		handshake(&l[i], cli, srv, NULL);
		if (peak_server - before > peak)
			peak = peak_server - before;
	}
	hs = live[1] - base;
	allocs = allocs_server - allocs;
	for (i = 0; i < cf->conns; i++)
		requests(&l[i], 1);
	idle = live[1] - base;
	for (i = 0; i < cf->conns; i++) {
		link_close(&l[i]);
		free(l[i].c2s.buf);
		free(l[i].s2c.buf);
	}
	if (live[1] != base)
		die("server memory not returned after the connections closed");
	printf("{\"lib\":\"%s\",\"scenario\":\"memory\",\"conns\":%d,"
	       "\"handshake_bytes\":%zu,\"idle_bytes\":%zu,"
	       "\"peak_bytes\":%zu,\"allocs_per_handshake\":%.1f}\n",
	       tls_name(), cf->conns, hs / cf->conns, idle / cf->conns, peak,
	       (double)allocs / cf->conns);
	fflush(stdout);
	free(l);
	tls_ep_free(cli);
	tls_ep_free(srv);
}

/* A client offering only h2 must get the fatal no_application_protocol
 * alert (issue 11), in the clear since no ServerHello went out. */
static void check_alpn(const struct conf *cf)
{
	static const unsigned char alert[] = { 0x15, 0x03, 0x03, 0x00,
					       0x02, 0x02, 0x78 };
	struct tls_ep *srv = server(cf, 0);
	struct tls_ep *cli = client(cf, 0, 0, "aes128gcm", 1);
	struct link l = { 0 };
	int cd, sd;

	link_init(&l);
	l.c = tls_conn_new(cli, &l.s2c, &l.c2s);
	l.s = tls_conn_new(srv, &l.c2s, &l.s2c);
	if (!l.c || !l.s)
		die("connection");
	cd = tls_handshake(l.c);
	sd = tls_handshake(l.s);
	if (cd != 0 || sd != -1 || l.s2c.tail != sizeof(alert) ||
	    memcmp(l.s2c.buf, alert, sizeof(alert)))
		die("no no_application_protocol alert for an h2-only client");
	printf("{\"lib\":\"%s\",\"scenario\":\"alpn-h2\","
	       "\"alert\":\"no_application_protocol\"}\n",
	       tls_name());
	link_close(&l);
	tls_ep_free(cli);
	tls_ep_free(srv);
	free(l.c2s.buf);
	free(l.s2c.buf);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: tls_bench --ec-cert F --ec-key F --rsa-cert F "
		"--rsa-key F\n"
		"         [--seconds S] [--conns N] [--cpu N] [--only NAME]\n"
		"NAME: hs13-ecdsa hs13-rsa hs12-ecdsa resume13 ka-aes128gcm "
		"ka-chacha20 memory alpn-h2\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ec-cert", required_argument, NULL, 'e' },
		{ "ec-key", required_argument, NULL, 'k' },
		{ "rsa-cert", required_argument, NULL, 'r' },
		{ "rsa-key", required_argument, NULL, 'K' },
		{ "seconds", required_argument, NULL, 's' },
		{ "conns", required_argument, NULL, 'n' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "only", required_argument, NULL, 'o' },
		{ 0 },
	};
	struct conf cf = { .seconds = 0.5, .conns = 200 };
	const char *only = NULL;
	int cpu = -1, opt;
	cpu_set_t set;

	/* Before anything allocates: the hooks only take before that. */
	if (tls_init())
		die("cannot install the allocator hooks");
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'e':
			cf.ec_cert = optarg;
			break;
		case 'k':
			cf.ec_key = optarg;
			break;
		case 'r':
			cf.rsa_cert = optarg;
			break;
		case 'K':
			cf.rsa_key = optarg;
			break;
		case 's':
			cf.seconds = atof(optarg);
			break;
		case 'n':
			cf.conns = atoi(optarg);
			break;
		case 'c':
			cpu = atoi(optarg);
			break;
		case 'o':
			only = optarg;
			break;
		default:
			usage();
		}
	}
	if (!cf.ec_cert || !cf.ec_key || !cf.rsa_cert || !cf.rsa_key ||
	    cf.seconds <= 0 || cf.conns < 1)
		usage();
	if (getrandom(ticket_key, sizeof(ticket_key), 0) != sizeof(ticket_key))
		die("no random ticket key");
	if (cpu >= 0) {
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			die(strerror(errno));
	}
#define RUN(name, call)                           \
	do {                                      \
		if (!only || !strcmp(only, name)) \
			call;                     \
	} while (0)
	RUN("hs13-ecdsa", bench_handshakes(&cf, "hs13-ecdsa", 0, 0, 0));
	RUN("hs13-rsa", bench_handshakes(&cf, "hs13-rsa", 1, 0, 0));
	RUN("hs12-ecdsa", bench_handshakes(&cf, "hs12-ecdsa", 0, 1, 0));
	RUN("resume13", bench_handshakes(&cf, "resume13", 0, 0, 1));
	RUN("ka-aes128gcm",
	    bench_keepalive(&cf, "ka-aes128gcm", "aes128gcm", "AES128GCM"));
	RUN("ka-chacha20", bench_keepalive(&cf, "ka-chacha20", "chacha20",
					   "CHACHA20POLY1305"));
	RUN("memory", bench_memory(&cf));
	RUN("alpn-h2", check_alpn(&cf));
	return 0;
}
