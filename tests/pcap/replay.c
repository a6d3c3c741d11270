// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Replays a capture of real client sessions through the TCP engine, with
 * no kernel and a fake clock taken from the capture's timestamps, and
 * checks that the engine answers as xredird did when it was captured.
 *
 * The engine's SYN cookies differ from the captured ones (another secret),
 * so each client segment is rebased: its ACK number is moved by the
 * difference between the engine's ISN and the captured server's, and its
 * checksum recomputed. Server segments are compared by flags, relative
 * sequence and acknowledgment numbers, and payload (the Date header is
 * compared as a well-formed date, since a second boundary may fall
 * between capture and replay).
 *
 * usage: replay [--port N] FILE.pcap...
 */
#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csum.h"
#include "packet.h"
#include "tcp.h"

#define MAX_FLOWS 64
#define MAX_OUT 64
#define FRAME_MAX 4096

struct out_frame {
	uint8_t buf[2048];
	uint32_t len;
};

struct session {
	struct flow_key key; /* the client's view: saddr is the client */
	uint32_t cap_isn; /* server ISN in the capture */
	uint32_t eng_isn; /* server ISN the engine chose */
	bool have_cap, have_eng;
	/* Engine output not yet matched against the capture. */
	struct out_frame pending[MAX_OUT];
	uint32_t npending;
};

static struct tcp_engine engine;
static struct session sessions[MAX_FLOWS];
static uint32_t nsessions;
static struct out_frame outq[MAX_OUT];
static uint32_t nout;
static uint16_t port = 10000;
static int failures, compared;

static uint8_t *tx_alloc(void *ctx)
{
	(void)ctx;
	return nout < MAX_OUT ? outq[nout].buf : NULL;
}

static void tx_send(void *ctx, uint8_t *frame, uint32_t len)
{
	(void)ctx;
	(void)frame;
	outq[nout++].len = len;
}

static const char url[] = "https://k8s.gcr.io";
static struct http_target target;

static const struct http_target *resolve(void *ctx, uint32_t t,
					 const struct flow_key *peer,
					 const struct http_request *req)
{
	(void)ctx;
	(void)t;
	(void)peer;
	(void)req;
	return &target;
}

static struct session *session_of(const struct flow_key *k, bool create)
{
	uint32_t i;

	for (i = 0; i < nsessions; i++)
		if (!memcmp(&sessions[i].key, k, sizeof(*k)))
			return &sessions[i];
	if (!create || nsessions == MAX_FLOWS)
		return NULL;
	memset(&sessions[nsessions], 0, sizeof(sessions[0]));
	sessions[nsessions].key = *k;
	return &sessions[nsessions++];
}

/* The client's key of a server frame (swap the ends). */
static void client_key(const struct pkt *p, struct flow_key *k)
{
	memset(k, 0, sizeof(*k));
	k->family = p->key.family;
	memcpy(k->saddr, p->key.daddr, 16);
	memcpy(k->daddr, p->key.saddr, 16);
	k->sport = p->key.dport;
	k->dport = p->key.sport;
}

/* Offsets of the IP and TCP headers of a frame built or captured here. */
static int locate(const uint8_t *f, uint32_t len, uint32_t *l3, uint32_t *l4)
{
	uint32_t off = 14;

	if (len < 14)
		return -1;
	if (f[12] == 0x81 && f[13] == 0x00)
		off += 4;
	*l3 = off;
	if (len < off + 20)
		return -1;
	if ((f[off] >> 4) == 4)
		*l4 = off + (f[off] & 15) * 4u;
	else
		*l4 = off + 40;
	return len < *l4 + 20 ? -1 : 0;
}

/* Moves a client frame's ACK number by delta, with a fresh checksum. */
static void rebase_ack(uint8_t *f, uint32_t len, uint32_t delta)
{
	uint32_t l3, l4, ack, l4len;
	uint64_t pseudo;
	uint16_t c;

	if (locate(f, len, &l3, &l4))
		return;
	memcpy(&ack, f + l4 + 8, 4);
	ack = htonl(ntohl(ack) + delta);
	memcpy(f + l4 + 8, &ack, 4);
	if ((f[l3] >> 4) == 4) {
		l4len = (uint32_t)((f[l3 + 2] << 8 | f[l3 + 3]) - (l4 - l3));
		pseudo = csum_pseudo4(f + l3 + 12, f + l3 + 16, IPPROTO_TCP,
				      (uint16_t)l4len);
	} else {
		l4len = (uint32_t)(f[l3 + 4] << 8 | f[l3 + 5]);
		pseudo = csum_pseudo6(f + l3 + 8, f + l3 + 24, IPPROTO_TCP,
				      l4len);
	}
	f[l4 + 16] = f[l4 + 17] = 0;
	c = csum_fold(csum_add(pseudo, f + l4, l4len));
	memcpy(f + l4 + 16, &c, 2);
}

static void fail(const char *file, uint64_t n, const char *fmt, uint32_t a,
		 uint32_t b)
{
	fprintf(stderr, "%s: packet %llu: ", file, (unsigned long long)n);
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	failures++;
}

/* Payloads equal except for the Date value (a valid date either way). */
static bool same_payload(const uint8_t *a, const uint8_t *b, uint32_t n)
{
	const uint8_t *da = memmem(a, n, "\r\nDate: ", 8);
	const uint8_t *db = memmem(b, n, "\r\nDate: ", 8);
	size_t at;

	if (!da || !db)
		return !memcmp(a, b, n);
	at = (size_t)(da - a);
	if (da - a != db - b || at + 8 + HTTP_DATE_LEN > n)
		return false;
	return !memcmp(a, b, at + 8) &&
	       !memcmp(a + at + 8 + HTTP_DATE_LEN, b + at + 8 + HTTP_DATE_LEN,
		       n - at - 8 - HTTP_DATE_LEN) &&
	       !memcmp(a + at + 8 + 25, " GMT", 4) &&
	       !memcmp(b + at + 8 + 25, " GMT", 4);
}

/* A captured server frame: the engine must have sent the same. */
static void expect(const char *file, uint64_t n, const struct pkt *cap)
{
	struct flow_key k;
	struct session *s;
	struct pkt eng;
	uint32_t i;

	client_key(cap, &k);
	s = session_of(&k, false);
	if (!s)
		return; /* a flow that began before the capture */
	if (cap->flags & TCP_SYN) {
		s->cap_isn = cap->seq;
		s->have_cap = true;
	}
	compared++;
	if (!s->npending) {
		fail(file, n,
		     "xredird sent a segment (flags %#x, %u bytes) "
		     "the engine did not",
		     cap->flags, cap->payload_len);
		return;
	}
	if (pkt_parse(&eng, s->pending[0].buf, s->pending[0].len,
		      ntohs(k.sport), 0)) {
		fail(file, n, "engine frame does not parse (%u/%u)", 0, 0);
		return;
	}
	if (eng.flags & TCP_SYN) {
		s->eng_isn = eng.seq;
		s->have_eng = true;
	}
	if (eng.flags != cap->flags)
		fail(file, n, "flags %#x, captured %#x", eng.flags, cap->flags);
	if (eng.seq - s->eng_isn != cap->seq - s->cap_isn)
		fail(file, n, "relative seq %u, captured %u",
		     eng.seq - s->eng_isn, cap->seq - s->cap_isn);
	if (eng.ack != cap->ack)
		fail(file, n, "ack %u, captured %u", eng.ack, cap->ack);
	if (eng.payload_len != cap->payload_len ||
	    !same_payload(eng.payload, cap->payload, cap->payload_len))
		fail(file, n, "payload differs (%u bytes, captured %u)",
		     eng.payload_len, cap->payload_len);
	for (i = 1; i < s->npending; i++)
		s->pending[i - 1] = s->pending[i];
	s->npending--;
}

/* The destination port of a frame to a client (its TCP header). */
static uint16_t dest_port(const uint8_t *f, uint32_t len)
{
	uint32_t l3, l4;

	if (locate(f, len, &l3, &l4))
		return 0;
	return (uint16_t)(f[l4 + 2] << 8 | f[l4 + 3]);
}

/* Files each frame the engine sent under its session. */
static void collect(void)
{
	struct flow_key k;
	struct session *s;
	struct pkt p;
	uint32_t i;

	for (i = 0; i < nout; i++) {
		if (pkt_parse(&p, outq[i].buf, outq[i].len,
			      dest_port(outq[i].buf, outq[i].len), 0))
			continue;
		client_key(&p, &k);
		s = session_of(&k, false);
		if (!s || s->npending == MAX_OUT)
			continue;
		if ((p.flags & TCP_SYN) && !s->have_eng) {
			s->eng_isn = p.seq;
			s->have_eng = true;
		}
		s->pending[s->npending++] = outq[i];
	}
	nout = 0;
}

/* A captured client frame: rebased and fed to the engine. */
static void feed(const uint8_t *frame, uint32_t len, const struct pkt *p,
		 uint64_t now_ms)
{
	struct session *s = session_of(&p->key, p->flags & TCP_SYN);
	uint8_t buf[FRAME_MAX];

	if (!s || len > sizeof(buf))
		return;
	memcpy(buf, frame, len);
	if ((p->flags & TCP_ACK) && s->have_cap && s->have_eng)
		rebase_ack(buf, len, s->eng_isn - s->cap_isn);
	tcp_input(&engine, buf, len, TCP_TARGET_NONE, now_ms);
	collect();
}

static int replay(const char *file)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const uint8_t *data;
	uint64_t n = 0, t0 = 0;
	struct siphash_key key = { 1, 2 };
	struct tcp_tx tx = { tx_alloc, tx_send, NULL, NULL, NULL };
	struct tcp_config cfg;
	struct http_limits lim;
	pcap_t *pc = pcap_open_offline(file, err);
	int ret;

	if (!pc) {
		fprintf(stderr, "%s: %s\n", file, err);
		return -1;
	}
	tcp_config_default(&cfg);
	cfg.max_flows = 1024;
	cfg.send_buffers = 64;
	cfg.head_buffers = 16;
	http_limits_default(&lim);
	nsessions = 0;
	while ((ret = pcap_next_ex(pc, &h, &data)) == 1) {
		uint64_t now =
			(uint64_t)h->ts.tv_sec * 1000 + h->ts.tv_usec / 1000;
		struct pkt p;

		n++;
		if (!t0) {
			t0 = now;
			if (tcp_engine_init(&engine, &cfg, &lim, &key, &tx,
					    resolve, NULL, now))
				return -1;
		}
		tcp_set_wallclock(&engine, h->ts.tv_sec);
		tcp_timers(&engine, now);
		collect();
		if (h->caplen != h->len)
			continue;
		if (!pkt_parse(&p, data, h->caplen, port, 0))
			feed(data, h->caplen, &p, now);
		else if (!pkt_parse(&p, data, h->caplen,
				    dest_port(data, h->caplen), 0) &&
			 ntohs(p.key.sport) == port)
			expect(file, n, &p); /* from the server */
	}
	pcap_close(pc);
	for (uint32_t i = 0; i < nsessions; i++)
		if (sessions[i].npending)
			fail(file, n,
			     "the engine sent %u segment(s) at the end "
			     "that xredird did not (session %u)",
			     sessions[i].npending, i);
	if (t0)
		tcp_engine_free(&engine);
	printf("%s: %llu packets, %u sessions, %d server segments compared\n",
	       file, (unsigned long long)n, nsessions, compared);
	return 0;
}

int main(int argc, char **argv)
{
	int i, files = 0;

	http_target_init(&target, url, sizeof(url) - 1, 302);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--port") && i + 1 < argc) {
			port = (uint16_t)atoi(argv[++i]);
			continue;
		}
		compared = 0;
		if (replay(argv[i]))
			return 2;
		if (!compared) {
			fprintf(stderr, "%s: nothing to compare\n", argv[i]);
			failures++;
		}
		files++;
	}
	if (!files) {
		fprintf(stderr, "usage: replay [--port N] FILE.pcap...\n");
		return 2;
	}
	printf("replay: %d files, %d mismatches\n", files, failures);
	return failures ? 1 : 0;
}
