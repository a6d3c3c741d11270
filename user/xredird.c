// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xredird: attach the XDP program to an interface, open one AF_XDP socket
 * and worker per receive queue, and answer HTTP on the service port with
 * redirects. The main thread handles signals (INT/TERM: stop, HUP:
 * reload), config file changes and the status heartbeat.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "apply.h"
#include "certs.h"
#include "check.h"
#include "cookie.h"
#include "defaults.h"
#include "iface.h"
#include "listener.h"
#include "lockfile.h"
#include "notify.h"
#include "loader.h"
#include "log.h"
#include "options.h"
#include "rules.h"
#include "secret.h"
#include "watch.h"
#include "worker.h"

struct daemon {
	struct options *o;
	struct xr_bpf bpf;
	struct xr_maps maps;
	struct worker *workers;
	uint32_t nq;
	bool synack; /* SYNs answered in XDP (--xdp-synack) */
	int life_lock; /* held while we serve: one daemon per pin directory */
	int iface_lock; /* held while we serve: one daemon per interface */
	struct config_watch watch;
	uint64_t config_hash; /* of the last file content applied */
	uint64_t failed_hash; /* of the last content rejected */
	bool config_ok; /* a config file was loaded at least once */
	struct listener listener;
	struct xr_vip_set iface_vips; /* the interface's, as last seen */
	struct certs certs; /* with a TLS port */
	struct xr_vip_set config_vips; /* the file's vip lines, as applied */
	bool config_vip_any; /* the file applied had "vip any" */
	/* SIGTERM with --withdraw-wait: closing, then not ready */
	bool unready;
	uint64_t withdraw_at, withdraw_until, quiet_since, withdraw_syns;
	uint64_t withdraw_probes; /* /readyz "not ready" answers at SIGTERM */
};

static volatile bool stop; /* workers stop at once */
static volatile bool draining; /* workers finish open connections first */
/* SIGTERM: every response closes; still serving until withdrawn */
static volatile bool withdrawing;
static volatile uint64_t drain_until;

/*
 * --iface auto: the interface of the IPv4 default route (else the IPv6
 * one), what a node serves its traffic on. Fills buf or returns -1.
 */
static int default_route_iface(char *buf, size_t len)
{
	char line[256], ifname[IF_NAMESIZE + 1], dst[64];
	unsigned long d, flags;
	int plen, found = -1;
	FILE *f = fopen("/proc/net/route", "r");

	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%16s %lx %*x %lx", ifname, &d, &flags) == 3 &&
		    !d && (flags & 1) /* RTF_UP */) {
			snprintf(buf, len, "%s", ifname);
			found = 0;
			break;
		}
	}
	if (f)
		fclose(f);
	f = found ? fopen("/proc/net/ipv6_route", "r") : NULL;
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%32s %x %*s %*s %*s %*s %*s %*s %*s %16s",
			   dst, &plen, ifname) == 3 &&
		    !plen && strcmp(ifname, "lo") &&
		    !strcmp(dst, "00000000000000000000000000000000")) {
			snprintf(buf, len, "%s", ifname);
			found = 0;
			break;
		}
	}
	if (f)
		fclose(f);
	return found;
}

/* --iface auto: the interface of the default route, else an error. */
static int resolve_iface(struct options *o)
{
	static char auto_if[IF_NAMESIZE + 1];

	if (strcmp(o->ifname, "auto"))
		return 0;
	if (default_route_iface(auto_if, sizeof(auto_if))) {
		fprintf(stderr, "xredird: --iface auto: no default route to "
				"take the interface from\n");
		return -1;
	}
	o->ifname = auto_if;
	return 0;
}

/* The number of receive queues, from ethtool; 1 if it cannot tell. */
static uint32_t rx_queue_count(const char *ifname)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct ifreq ifr;
	uint32_t n = 1;

	if (fd < 0)
		return 1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ch;
	if (!ioctl(fd, SIOCETHTOOL, &ifr) && ch.combined_count + ch.rx_count)
		n = ch.combined_count + ch.rx_count;
	close(fd);
	return n;
}

static int interface_mtu(const char *ifname)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0), mtu = 1500;
	struct ifreq ifr;

	if (fd < 0)
		return mtu;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (!ioctl(fd, SIOCGIFMTU, &ifr))
		mtu = ifr.ifr_mtu;
	close(fd);
	return mtu;
}

/* Configuration */

/*
 * The flags' share of the configuration, layered over a config file. Alone
 * (no file), they also define the "rewrite" target, so that `xredirctl
 * match set` works on a daemon started without --match-ip.
 */
static int merge_flags(struct xr_config *cfg, const struct options *o,
		       bool alone)
{
	const char *rew = o->rewrite_target ? o->rewrite_target :
					      DEFAULT_REWRITE;
	uint32_t i;

	if (o->default_target &&
	    xr_config_set_target(cfg, "default", o->default_target, 302))
		return -1;
	if (!cfg->has_default &&
	    xr_config_set_target(cfg, "default", DEFAULT_TARGET, 302))
		return -1;
	/* The rewrite target is the flags' to define when they use it. */
	if ((o->rewrite_target ||
	     ((alone || o->n_match) && !xr_config_target(cfg, REWRITE_NAME))) &&
	    xr_config_set_target(cfg, REWRITE_NAME, rew, 302))
		return -1;
	for (i = 0; i < o->n_match; i++)
		if (xr_config_set_rule(cfg, &o->match[i], REWRITE_NAME))
			return -1;
	return 0;
}

static uint64_t fnv64(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 14695981039346656037ull;

	while (n--)
		h = (h ^ *b++) * 1099511628211ull;
	return h;
}

/* Reads the whole file; *hash is its FNV-1a, for change detection. */
static char *read_file(const char *path, size_t *len, uint64_t *hash)
{
	char *buf = xr_read_file(path, len);

	if (buf)
		*hash = fnv64(buf, *len);
	return buf;
}

static void report_reload(struct daemon *d, const struct cfg_error *err)
{
	struct xr_status *st = d->maps.status;

	st->reload_count++;
	st->reload_failures += !!err;
	st->reload_unix = (uint64_t)time(NULL);
	st->reload_result = err ? XR_RELOAD_FAILED : XR_RELOAD_OK;
	st->reload_line = err ? err->line : 0;
	snprintf(st->reload_error, sizeof(st->reload_error), "%s",
		 err ? err->msg : "");
}

/* Under the pin directory's lock: a writer that died half-way left the
 * targets' sequence odd (readers keep their last copy meanwhile). */
static void repair_targets(struct daemon *d)
{
	int torn = xr_targets_repair(&d->maps);

	if (torn >= 0)
		log_warn("targets_repaired",
			 LOG_STR("note", "a previous writer died half-way"),
			 LOG_INT("cleared", torn));
}

static int check_config_tls(struct daemon *d, const struct xr_config *cfg,
			    struct cfg_error *err);
static void follow_config_tls(struct daemon *d, const struct xr_config *cfg);
static void log_vip(const char *event, const struct xr_vip *v);

/* The file's vip lines that no origin serves yet. */
static bool vip_new(const struct daemon *d, const struct xr_vip *v)
{
	uint32_t origin;

	return xr_vip_get(&d->maps, v, &origin) == -ENOENT;
}

/* Whether the maps have room for the file's new service addresses. */
static int check_config_vips(struct daemon *d, const struct xr_config *cfg,
			     struct cfg_error *err)
{
	struct xr_vip_set now = { 0 };
	uint32_t i, count[2] = { 0, 0 };

	if (xr_vips_dump(&d->maps, &now)) {
		snprintf(err->msg, sizeof(err->msg),
			 "cannot read the service addresses");
		return -1;
	}
	for (i = 0; i < now.n; i++)
		count[now.v[i].family == 6]++;
	xr_vip_set_free(&now);
	for (i = 0; i < cfg->vips.n; i++) {
		const struct xr_vip *v = &cfg->vips.v[i];

		if (vip_new(d, v) && ++count[v->family == 6] > XR_MAX_VIPS) {
			err->line = cfg->vip_lines[i];
			snprintf(err->msg, sizeof(err->msg),
				 "more than %d IPv%u service addresses",
				 XR_MAX_VIPS, v->family);
			return -1;
		}
	}
	return 0;
}

/*
 * The file's vip lines, origin "config": those no origin serves yet are
 * added, those of the last file that this one no longer names are removed
 * if they are still the file's (an address that --vip, the interface or
 * xredirctl also named stays). "vip any" follows the file, but never
 * undoes --vip any.
 */
static int apply_config_vips(struct daemon *d, const struct xr_config *cfg,
			     struct cfg_error *err)
{
	struct xr_vip_set applied = { 0 };
	uint32_t i, origin = 0;
	bool any = cfg->vip_any_line;

	for (i = 0; i < cfg->vips.n; i++) {
		const struct xr_vip *v = &cfg->vips.v[i];

		if (xr_vip_set_add(&applied, v) < 0) {
			snprintf(err->msg, sizeof(err->msg), "out of memory");
			goto failed;
		}
		if (!vip_new(d, v))
			continue;
		if (xr_vip_add(&d->maps, v)) {
			err->line = cfg->vip_lines[i];
			snprintf(err->msg, sizeof(err->msg),
				 "cannot add the service address: %s",
				 strerror(errno));
			goto failed;
		}
		log_vip("vip_added", v);
	}
	for (i = 0; i < d->config_vips.n; i++) {
		const struct xr_vip *v = &d->config_vips.v[i];

		if (!xr_vip_set_has(&cfg->vips, v->family, v->addr) &&
		    !xr_vip_get(&d->maps, v, &origin) &&
		    origin == XR_VIP_FROM_CONFIG && !xr_vip_del(&d->maps, v))
			log_vip("vip_removed", v);
	}
	if (any != d->config_vip_any && !d->o->vip_any) {
		d->maps.ctl->vip_any = any;
		log_info(any ? "vip_added" : "vip_removed",
			 LOG_STR("addr", "any"), LOG_STR("origin", "config"));
	}
	d->config_vip_any = any;
	xr_vip_set_free(&d->config_vips);
	d->config_vips = applied;
	return 0;
failed:
	xr_vip_set_free(&applied);
	return -1;
}

/* Loads the config file and makes the maps hold it, all or nothing. */
static void reload(struct daemon *d, bool only_if_changed)
{
	struct cfg_error err = { 0, "" };
	char why[PATH_MAX + 64];
	struct xr_config cfg;
	uint64_t hash = 0;
	size_t len = 0;
	char *buf;
	int lock;

	buf = read_file(d->o->config_path, &len, &hash);
	if (!buf) {
		snprintf(err.msg, sizeof(err.msg), "cannot read %s: %s",
			 d->o->config_path, strerror(errno));
		goto failed;
	}
	/* Content already applied, or already rejected, needs nothing: a
	 * reverted file shows as a success, an unchanged bad one is not
	 * reported again on every event in its directory. */
	if (only_if_changed &&
	    ((hash == d->config_hash &&
	      d->maps.status->reload_result == XR_RELOAD_OK) ||
	     (hash == d->failed_hash &&
	      d->maps.status->reload_result == XR_RELOAD_FAILED))) {
		free(buf);
		return;
	}
	d->failed_hash = hash;
	if (xr_config_parse(buf, len, CFG_FULL, &cfg, &err)) {
		free(buf);
		goto failed;
	}
	free(buf);
	if (merge_flags(&cfg, d->o, false)) {
		snprintf(err.msg, sizeof(err.msg), "out of memory");
		xr_config_free(&cfg);
		goto failed;
	}
	if (check_config_tls(d, &cfg, &err)) {
		xr_config_free(&cfg);
		goto failed;
	}
	lock = xr_lock(d->maps.pin_dir, XREDIRD_LOCK_WAIT_MS, why, sizeof(why));
	if (lock < 0) {
		snprintf(err.msg, sizeof(err.msg), "pin directory lock: %.150s",
			 why);
		xr_config_free(&cfg);
		goto failed;
	}
	repair_targets(d);
	if (check_config_vips(d, &cfg, &err) ||
	    xr_config_apply(&d->maps, &cfg, &err) ||
	    apply_config_vips(d, &cfg, &err)) {
		xr_unlock(lock);
		xr_config_free(&cfg);
		goto failed;
	}
	xr_unlock(lock);
	d->config_hash = hash;
	d->failed_hash = 0;
	d->config_ok = true;
	report_reload(d, NULL);
	log_info("config_loaded", LOG_STR("file", d->o->config_path),
		 LOG_UINT("targets", cfg.n_targets + 1),
		 LOG_UINT("rules", cfg.n_rules), LOG_UINT("tls", cfg.n_tls),
		 LOG_UINT("vips", cfg.vips.n + !!cfg.vip_any_line));
	follow_config_tls(d, &cfg);
	xr_config_free(&cfg);
	return;
failed:
	report_reload(d, &err);
	log_err("config_rejected", LOG_STR("file", d->o->config_path),
		LOG_UINT("line", err.line), LOG_STR("reason", err.msg));
}

/*
 * The flags alone define the targets and rules (no config file, or none
 * loaded yet): whatever the pins held before, this daemon's or an earlier
 * one's or xredirctl's, is replaced, all or nothing.
 */
static int apply_flags(struct daemon *d)
{
	struct cfg_error err = { 0, "" };
	char why[PATH_MAX + 64];
	struct xr_config cfg;
	int lock, ret = -1;

	memset(&cfg, 0, sizeof(cfg));
	if (merge_flags(&cfg, d->o, true)) {
		snprintf(err.msg, sizeof(err.msg), "out of memory");
		goto out;
	}
	lock = xr_lock(d->maps.pin_dir, XREDIRD_LOCK_WAIT_MS, why, sizeof(why));
	if (lock < 0) {
		snprintf(err.msg, sizeof(err.msg), "pin directory lock: %.150s",
			 why);
		goto out;
	}
	repair_targets(d);
	ret = xr_config_apply(&d->maps, &cfg, &err);
	xr_unlock(lock);
out:
	if (ret)
		log_err("apply_flags_failed", LOG_STR("reason", err.msg));
	else
		log_info("flags_applied",
			 LOG_UINT("targets", cfg.n_targets + 1),
			 LOG_UINT("rules", cfg.n_rules));
	xr_config_free(&cfg);
	return ret;
}

static int configure(struct daemon *d)
{
	if (d->o->config_path) {
		reload(d, false);
		/* No good file yet: the pins keep the last good state (an
		 * earlier daemon's file), not ready until the file loads; a
		 * typo in a ConfigMap must not send every client to the
		 * default. */
		if (config_watch_open(&d->watch, d->o->config_path))
			log_warn("config_watch_failed",
				 LOG_STR("file", d->o->config_path),
				 LOG_STR("err", strerror(errno)),
				 LOG_STR("reload", "SIGHUP-only"));
		return 0;
	}
	return apply_flags(d);
}

/* Service addresses */

static void log_vip(const char *event, const struct xr_vip *v)
{
	char addr[64];

	xr_vip_format(v, addr, sizeof(addr));
	log_info(event, LOG_STR("addr", addr),
		 LOG_STR("origin", xr_vip_origin_name(v->origin)));
}

/*
 * At start, like the rules, the flags define the set: the interface's
 * MAC and addresses and --vip's replace whatever the pins held.
 */
static int setup_vips(struct daemon *d)
{
	struct xr_vip_set set = { 0 };
	char why[PATH_MAX + 64];
	uint32_t i;
	int lock, err;

	err = xr_iface_mac(d->o->ifname, d->maps.ctl->mac);
	if (!err)
		err = xr_iface_addrs(d->o->ifname, &d->iface_vips);
	for (i = 0; !err && i < d->iface_vips.n; i++)
		err = xr_vip_set_add(&set, &d->iface_vips.v[i]) < 0 ? -ENOMEM :
								      0;
	for (i = 0; !err && i < d->o->n_vips; i++)
		err = xr_vip_set_add(&set, &d->o->vips[i]) < 0 ? -ENOMEM : 0;
	if (err) {
		log_err("vip_setup_failed", LOG_STR("iface", d->o->ifname),
			LOG_STR("err", strerror(-err)));
		xr_vip_set_free(&set);
		return -1;
	}
	d->maps.ctl->vip_any = d->o->vip_any;
	lock = xr_lock(d->maps.pin_dir, XREDIRD_LOCK_WAIT_MS, why, sizeof(why));
	if (lock < 0) {
		log_err("vip_setup_failed", LOG_STR("reason", why));
		xr_vip_set_free(&set);
		return -1;
	}
	err = xr_vips_replace(&d->maps, &set);
	xr_unlock(lock);
	if (err)
		log_err("vip_setup_failed", LOG_STR("err", strerror(-err)));
	else
		log_info("vips_set", LOG_UINT("addresses", set.n),
			 LOG_UINT("iface", d->iface_vips.n),
			 LOG_UINT("flag", d->o->n_vips),
			 LOG_STR("any", d->o->vip_any ? "yes" : "no"));
	xr_vip_set_free(&set);
	return err ? -1 : 0;
}

/*
 * Each second: the interface's addresses that came are added, those that
 * went are removed if they are still the interface's (an address given
 * by --vip or xredirctl too stays); a MAC changed by `ip link set
 * address` is followed. A busy lock waits for the next second.
 */
static void follow_iface(struct daemon *d)
{
	struct xr_vip_set now = { 0 };
	char why[PATH_MAX + 64];
	uint8_t mac[6];
	uint32_t i, origin = 0;
	int lock;

	if (!xr_iface_mac(d->o->ifname, mac) &&
	    memcmp(mac, d->maps.ctl->mac, sizeof(mac))) {
		memcpy(d->maps.ctl->mac, mac, sizeof(mac));
		log_info("iface_mac_changed", LOG_STR("iface", d->o->ifname));
	}
	if (xr_iface_addrs(d->o->ifname, &now))
		goto out;
	lock = xr_lock(d->maps.pin_dir, 0, why, sizeof(why));
	if (lock < 0)
		goto out;
	for (i = 0; i < now.n; i++)
		if (!xr_vip_set_has(&d->iface_vips, now.v[i].family,
				    now.v[i].addr) &&
		    !xr_vip_add(&d->maps, &now.v[i]))
			log_vip("vip_added", &now.v[i]);
	for (i = 0; i < d->iface_vips.n; i++) {
		struct xr_vip *v = &d->iface_vips.v[i];

		if (!xr_vip_set_has(&now, v->family, v->addr) &&
		    !xr_vip_get(&d->maps, v, &origin) &&
		    origin == XR_VIP_FROM_IFACE && !xr_vip_del(&d->maps, v))
			log_vip("vip_removed", v);
	}
	xr_unlock(lock);
	xr_vip_set_free(&d->iface_vips);
	d->iface_vips = now;
	return;
out:
	xr_vip_set_free(&now);
}

/* Lifecycle */

/*
 * One daemon per interface, whatever bpffs it uses: a lock file under
 * /run that only root can create (xr_iface_lock). The kernel drops the
 * flock with the process, so a crashed daemon leaves no lock behind.
 */
static int take_iface_lock(const char *ifname)
{
	char path[PATH_MAX], why[PATH_MAX + 64], who[32] = "";
	pid_t holder;
	int fd = xr_iface_lock(ifname, path, sizeof(path), &holder, why,
			       sizeof(why));

	if (fd >= 0)
		return fd;
	if (fd != -EBUSY) {
		fprintf(stderr, "xredird: cannot take the interface lock: %s\n",
			why);
		return fd;
	}
	if (holder)
		snprintf(who, sizeof(who), " (pid %d)", (int)holder);
	fprintf(stderr,
		"xredird: another xredird%s is already serving %s in this "
		"network namespace (it holds the lock %s); stop it first\n",
		who, ifname, path);
	return -EBUSY;
}

/*
 * And one daemon per pin directory: an flock on the pinned status map for
 * as long as it runs. Both are checked before anything is attached, so a
 * second daemon cannot disturb the first.
 */
static int take_life_lock(struct daemon *d, const char *pin_dir, bool must)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", pin_dir, XR_MAP_STATUS);
	d->life_lock = open(path, O_RDONLY | O_CLOEXEC);
	if (d->life_lock < 0)
		return must ? -errno : 0;
	if (!flock(d->life_lock, LOCK_EX | LOCK_NB))
		return 0;
	close(d->life_lock);
	d->life_lock = -1;
	fprintf(stderr,
		"xredird: another xredird is already serving %s (it holds the "
		"lock on %s); stop it first\n",
		d->o->ifname, path);
	return -EBUSY;
}

/* The certificates in force, and the last reload's refusal. */
static void tls_status(struct daemon *d)
{
	struct xr_status *st = d->maps.status;
	struct tls_server *srv = certs_current(&d->certs);

	st->tls_reloads = d->certs.reloads;
	st->tls_failures = d->certs.failures;
	snprintf(st->tls_error, sizeof(st->tls_error), "%s", d->certs.error);
	st->tls_certs[0] = 0;
	if (srv)
		tls_server_describe(srv, st->tls_certs, sizeof(st->tls_certs));
}

/* The certificate files changed: a set that loads replaces the one in
 * force for new connections; open ones keep theirs. */
static void follow_certs(struct daemon *d)
{
	char why[512];

	if (!d->o->tcp.tls_port || !certs_changed(&d->certs))
		return;
	if (certs_reload(&d->certs, why, sizeof(why)))
		log_warn("tls_reload_refused", LOG_STR("reason", why),
			 LOG_STR("action", "kept the certificates in force"));
	else
		log_info("tls_reloaded", LOG_UINT("reloads", d->certs.reloads));
	tls_status(d);
}

/* The flags' certificate pairs, then the config file's tls lines. */
static int tls_pairs(const struct options *o, const struct xr_config *cfg,
		     struct tls_config *out)
{
	uint32_t i;

	*out = o->tls;
	for (i = 0; cfg && i < cfg->n_tls; i++) {
		if (out->n_pairs == TLS_MAX_PAIRS)
			return -1;
		out->pairs[out->n_pairs++] =
			(struct tls_pair){ cfg->tls[i].cert, cfg->tls[i].key };
	}
	return 0;
}

/*
 * A reload is all or nothing: changed tls lines must load before anything
 * is applied, or the file is rejected naming the first line that does not
 * (the set is built once more when follow_config_tls() swaps it in).
 */
static int check_config_tls(struct daemon *d, const struct xr_config *cfg,
			    struct cfg_error *err)
{
	struct tls_config pairs;

	if (!d->o->tcp.tls_port)
		return 0;
	if (tls_pairs(d->o, cfg, &pairs)) {
		err->line = cfg->tls[TLS_MAX_PAIRS - d->o->tls.n_pairs].line;
		snprintf(err->msg, sizeof(err->msg),
			 "more than %d certificate pairs with the flags'",
			 TLS_MAX_PAIRS);
		return -1;
	}
	if (certs_same_pairs(&d->certs, &pairs))
		return 0;
	return xr_config_check_tls(cfg, err);
}

/* A reloaded config file's tls lines: a changed list is loaded. */
static void follow_config_tls(struct daemon *d, const struct xr_config *cfg)
{
	struct tls_config pairs;
	char why[512];

	if (tls_pairs(d->o, cfg, &pairs)) {
		log_warn("tls_reload_refused",
			 LOG_STR("reason", "too many certificate pairs"));
		return;
	}
	if (!d->o->tcp.tls_port) {
		if (pairs.n_pairs)
			log_warn("tls_needs_restart",
				 LOG_STR("note",
					 "the TLS port is set at start"));
		return;
	}
	if (certs_same_pairs(&d->certs, &pairs))
		return;
	if (!pairs.n_pairs)
		log_warn("tls_reload_refused",
			 LOG_STR("reason", "no certificate pair left"),
			 LOG_STR("action", "kept the certificates in force"));
	else if (certs_replace(&d->certs, &pairs, why, sizeof(why)))
		log_warn("tls_reload_refused", LOG_STR("reason", why),
			 LOG_STR("action", "kept the certificates in force"));
	else
		log_info("tls_reloaded", LOG_UINT("pairs", pairs.n_pairs),
			 LOG_UINT("reloads", d->certs.reloads));
	tls_status(d);
}

static void fill_status(struct daemon *d)
{
	struct xr_status *st = d->maps.status;

	st->pid = (uint32_t)getpid();
	st->queues = d->nq;
	st->ring_size = d->o->ring_size;
	st->started_unix = (uint64_t)time(NULL);
	st->heartbeat_unix = st->started_unix;
	st->port = d->o->tcp.port;
	st->xdp_mode = (uint8_t)d->bpf.attached_mode;
	st->dispatcher = d->bpf.dispatcher;
	st->reload_result = XR_RELOAD_NONE;
	st->reload_count = st->reload_failures = st->reload_line = 0;
	st->reload_unix = 0;
	st->reload_error[0] = 0;
	snprintf(st->iface, sizeof(st->iface), "%s", d->o->ifname);
	snprintf(st->config_path, sizeof(st->config_path), "%s",
		 d->o->config_path ? d->o->config_path : "");
	st->tls_port = d->o->tcp.tls_port;
	tls_status(d);
}

static int start_workers(struct daemon *d, const struct siphash_key *secret)
{
	const struct options *o = d->o;
	uint32_t q;

	d->workers = calloc(d->nq, sizeof(*d->workers));
	if (!d->workers)
		return -ENOMEM;
	for (q = 0; q < d->nq; q++) {
		struct worker_cfg cfg = {
			.queue = q,
			.xsk = { .ifname = o->ifname,
				 .queue = q,
				 .frames = 2 * o->ring_size,
				 .frame_size = o->tcp.frame_size,
				 .ring_size = o->ring_size,
				 .bind = o->bind_mode,
				 .xsks_map_fd = d->bpf.xsks_fd,
				 .busy_poll_us = o->busy_poll_us },
			.tcp = &o->tcp,
			.lim = &o->lim,
			.secret = secret,
			.maps = &d->maps,
			.proxy = &o->proxy,
			.certs = o->tcp.tls_port ? &d->certs : NULL,
			.log_clients = o->log_clients,
			.coalesce_us = o->coalesce_us,
			.acks_fd = o->lazy_acks ? d->bpf.acks_fd : -1,
			.closing = o->lazy_acks ? d->bpf.closing : NULL,
			.live = d->synack ? d->bpf.live : NULL,
			.live_mask = d->bpf.live_slots - 1,
			.stop = &stop,
			.drain = &draining,
			.close_all = &withdrawing,
		};

		if (worker_start(&d->workers[q], &cfg))
			return -1;
	}
	return 0;
}

/*
 * Whether SYNs are answered in XDP (bpf/synack.h). auto leaves them to the
 * workers on a veth in native mode: its XDP_TX frames reach the peer only
 * if the peer runs an XDP program too (without one the kernel drops them;
 * turning GRO on there was not enough on kernel 6.18), which nothing here
 * can see. Decided before the workers start: they keep the live table
 * only when it is read.
 */
static void synack_decide(struct daemon *d)
{
	char driver[32] = "";
	const char *why = "flag";

	xr_iface_driver(d->o->ifname, driver, sizeof(driver));
	d->synack = d->o->xdp_synack == XDP_SYNACK_ON;
	if (!d->bpf.synack || !d->bpf.live) {
		d->synack = false;
		why = "no_map";
	} else if (d->o->xdp_synack == XDP_SYNACK_AUTO) {
		d->synack = strcmp(driver, "veth") ||
			    d->bpf.attached_mode != XDP_MODE_NATIVE;
		why = d->synack ? "auto" : "veth_native";
	}
	log_info("xdp_synack", LOG_STR("state", d->synack ? "on" : "off"),
		 LOG_STR("why", why), LOG_STR("driver", driver));
}

/* The cookie's time counter, with the wall clock (every second). */
static void synack_tick(struct daemon *d, uint64_t now_s)
{
	if (d->synack)
		__atomic_store_n(&d->bpf.synack->counter, cookie_counter(now_s),
				 __ATOMIC_RELAXED);
}

/* Once the workers keep the live table. */
static void synack_start(struct daemon *d, const struct siphash_key *secret)
{
	struct xr_synack_conf *c = d->bpf.synack;
	const struct tcp_engine *e = &d->workers[0].engine;

	d->maps.status->xdp_synack = d->synack;
	if (!d->synack)
		return;
	c->secret[0] = secret->k0;
	c->secret[1] = secret->k1;
	synack_tick(d, (uint64_t)time(NULL));
	c->live_mask = d->bpf.live_slots - 1;
	c->mss4 = e->mss4;
	c->mss6 = e->mss6;
	c->window = d->o->tcp.window;
	__atomic_store_n(&c->on, 1, __ATOMIC_RELEASE);
}

/* Drained or stopped: SYNs go to the workers, which refuse them. */
static void synack_stop(struct daemon *d)
{
	if (d->bpf.synack)
		__atomic_store_n(&d->bpf.synack->on, 0, __ATOMIC_RELEASE);
	d->maps.status->xdp_synack = 0;
}

/* Kernel sockets: local clients on the service port, and the metrics. */
static int start_listener(struct daemon *d)
{
	struct listener_cfg cfg = {
		.port = d->o->tcp.port,
		.tls_port = d->o->tcp.tls_port,
		.certs = d->o->tcp.tls_port ? &d->certs : NULL,
		.metrics_listen = d->o->metrics_listen,
		.lim = &d->o->lim,
		.proxy = &d->o->proxy,
		.maps = &d->maps,
		.idle_ms = d->o->tcp.idle_timeout_ms,
		.header_ms = d->o->tcp.header_timeout_ms,
		.max_flows_per_source = d->o->tcp.max_flows_per_source,
		.log_clients = d->o->log_clients,
		.stop = &stop,
		.drain = &draining,
	};

	return listener_start(&d->listener, &cfg);
}

static int open_fd(int fd, const char *what)
{
	if (fd < 0)
		log_err("setup_failed", LOG_STR("what", what),
			LOG_STR("err", strerror(errno)));
	return fd;
}

/* /readyz: attached, sockets bound, config loaded, not shutting down. */
static void update_ready(struct daemon *d)
{
	d->maps.status->ready = !draining && !d->unready && d->workers &&
				(!d->o->config_path || d->config_ok);
}

/* Draining and nothing left to finish, or the grace time is up. */
static bool drain_done(const struct daemon *d)
{
	uint32_t q;

	if (!draining)
		return false;
	if (worker_now_ms() >= drain_until)
		return true;
	for (q = 0; q < d->nq; q++)
		if (!d->workers[q].drained)
			return false;
	return d->listener.drained;
}

/*
 * The last step of a drain: take the sockets out of the XSKMAP first, so
 * the program passes the port to the kernel (which refuses at once) rather
 * than to sockets nobody reads any more; the workers still answer what was
 * already queued for them, then the threads stop.
 */
#define UNPLUG_SETTLE_US 20000

static void unplug_sockets(struct daemon *d)
{
	uint32_t q;

	for (q = 0; q < d->nq; q++)
		bpf_map_delete_elem(d->bpf.xsks_fd, &q);
	usleep(UNPLUG_SETTLE_US);
}

/* The drain: refuse new connections, finish open ones within --grace. */
static void start_drain(struct daemon *d)
{
	if (!d->o->grace_ms) {
		stop = true;
		return;
	}
	drain_until = worker_now_ms() + d->o->grace_ms;
	synack_stop(d);
	draining = true;
	update_ready(d);
}

/* SYNs that reached the workers so far (published every 100 ms), and
 * those the XDP program answered (bpf/synack.h). */
static uint64_t syns_seen(const struct daemon *d)
{
	uint64_t n = 0, xdp[XR_CNT_MAX];
	uint32_t q;

	if (!xr_counters_read(&d->maps, xdp))
		n = xr_xdp_share(xdp, TCP_STAT_syn_rcvd);
	for (q = 0; q < d->nq; q++)
		n += __atomic_load_n(&d->maps.stats[q].v[TCP_STAT_syn_rcvd],
				     __ATOMIC_RELAXED);
	return n;
}

/*
 * Withdrawing, in two steps, new connections served throughout. First,
 * for WITHDRAW_CLOSE_MS, still ready (announced) but every response
 * closes its connection: keep-alive clients active meanwhile reconnect
 * while the route is unchanged (a connection still open when the route
 * moves lands on another node, which resets it). Then not ready: /readyz
 * answers 503 and the announcer withdraws the route. Converged, as
 * measured here: /readyz has answered "not ready" (the announcer saw it)
 * and then no SYN has arrived for WITHDRAW_QUIET_MS (three stats periods:
 * the router sends new clients elsewhere). --withdraw-wait bounds both.
 */
#define WITHDRAW_CLOSE_MS 500
#define WITHDRAW_QUIET_MS 300

static void withdraw_step(struct daemon *d)
{
	uint64_t now = worker_now_ms(), syns = syns_seen(d);
	uint64_t probes = __atomic_load_n(&d->listener.not_ready_answers,
					  __ATOMIC_RELAXED);
	bool seen = probes != d->withdraw_probes;
	const char *why;

	if (!d->unready) {
		if (now - d->withdraw_at < WITHDRAW_CLOSE_MS &&
		    now < d->withdraw_until)
			return;
		d->unready = true;
		update_ready(d);
		d->withdraw_probes = probes;
		d->withdraw_syns = syns;
		d->quiet_since = now;
		log_info("not_ready", LOG_STR("why", "withdraw"),
			 LOG_UINT("after_ms", now - d->withdraw_at));
		return;
	}

	if (!seen || syns != d->withdraw_syns) {
		d->withdraw_syns = syns;
		d->quiet_since = now;
	}
	if (seen && now - d->quiet_since >= WITHDRAW_QUIET_MS)
		why = "quiet";
	else if (now >= d->withdraw_until)
		why = "timeout";
	else
		return;
	withdrawing = false;
	log_info("withdrawn", LOG_STR("by", why),
		 LOG_UINT("after_ms", now - d->withdraw_at));
	start_drain(d);
}

/*
 * SIGTERM/SIGINT: with --withdraw-wait, be withdrawn first; then drain
 * within the grace time. A second signal: stop now.
 */
static void on_stop_signal(struct daemon *d, uint32_t signo)
{
	const char *name = signo == SIGINT ? "INT" : "TERM";

	if (draining || withdrawing ||
	    (!d->o->grace_ms && !d->o->withdraw_ms)) {
		log_info("signal", LOG_STR("sig", name),
			 LOG_STR("action", "stop"));
		xr_notify_stopping();
		stop = true;
		return;
	}
	xr_notify_stopping();
	if (d->o->withdraw_ms) {
		withdrawing = true;
		d->withdraw_at = worker_now_ms();
		d->withdraw_until = d->withdraw_at + d->o->withdraw_ms;
		log_info("signal", LOG_STR("sig", name),
			 LOG_STR("action", "withdraw"),
			 LOG_UINT("withdraw_wait_ms", d->o->withdraw_ms),
			 LOG_UINT("grace_ms", d->o->grace_ms));
		return;
	}
	log_info("signal", LOG_STR("sig", name), LOG_STR("action", "drain"),
		 LOG_UINT("grace_ms", d->o->grace_ms));
	start_drain(d);
}

/* Signals, config changes and a 1 s heartbeat until told to stop. */
static void main_loop(struct daemon *d, int sigfd)
{
	struct itimerspec second = { { 1, 0 }, { 1, 0 } };
	int tfd =
		open_fd(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC), "timer");
	struct pollfd pfd[3] = { { sigfd, POLLIN, 0 },
				 { tfd, POLLIN, 0 },
				 { d->watch.fd, POLLIN, 0 } };
	struct signalfd_siginfo si;
	uint64_t ticks;

	timerfd_settime(tfd, 0, &second, NULL);
	while (!stop && !drain_done(d)) {
		if (poll(pfd, d->watch.fd >= 0 ? 3 : 2,
			 draining || withdrawing ? 50 : -1) < 0 &&
		    errno != EINTR)
			break;
		if ((pfd[0].revents & POLLIN) &&
		    read(sigfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGHUP && d->o->config_path) {
				log_info("signal", LOG_STR("sig", "HUP"),
					 LOG_STR("action", "reload"));
				xr_notify_reloading();
				reload(d, false);
				xr_notify_ready(d->o->ifname);
			} else if (si.ssi_signo != SIGHUP) {
				on_stop_signal(d, si.ssi_signo);
			}
		}
		if ((pfd[1].revents & POLLIN) &&
		    read(tfd, &ticks, sizeof(ticks)) == sizeof(ticks)) {
			d->maps.status->heartbeat_unix = (uint64_t)time(NULL);
			synack_tick(d, d->maps.status->heartbeat_unix);
			follow_iface(d);
			follow_certs(d);
			update_ready(d);
		}
		if ((pfd[2].revents & POLLIN) &&
		    config_watch_changed(&d->watch))
			reload(d, true);
		if (withdrawing)
			withdraw_step(d);
	}
	close(tfd);
	if (draining)
		unplug_sockets(d);
}

/* The SYN-cookie secret: the fleet's file, else random for this start. */
static int load_secret(const struct options *o, struct siphash_key *secret)
{
	char why[PATH_MAX + 128];

	if (!o->cookie_secret_file) {
		if (getrandom(secret, sizeof(*secret), 0) == sizeof(*secret))
			return 0;
		log_err("getrandom_failed", LOG_STR("err", strerror(errno)));
		return -1;
	}
	if (!xr_secret_load(o->cookie_secret_file, secret, why, sizeof(why)))
		return 0;
	log_err("cookie_secret_rejected",
		LOG_STR("file", o->cookie_secret_file), LOG_STR("reason", why));
	return -1;
}

/*
 * The TLS port is set before the program loads, so the config file's tls
 * lines are read now (the file is loaded whole, and reported, later).
 */
static int load_certs(struct daemon *d)
{
	struct options *o = d->o;
	struct cfg_error err = { 0, "" };
	struct tls_config pairs;
	struct xr_config cfg;
	bool have_cfg = false;
	char why[512];
	int ret = -1;

	if (o->config_path &&
	    !xr_config_load(o->config_path, CFG_FULL, &cfg, &err))
		have_cfg = true;
	if (tls_pairs(o, have_cfg ? &cfg : NULL, &pairs)) {
		snprintf(why, sizeof(why), "more than %d certificate pairs",
			 TLS_MAX_PAIRS);
		goto refused;
	}
	if (!pairs.n_pairs && !o->tcp.tls_port) {
		ret = 0;
		goto out;
	}
	if (!pairs.n_pairs) {
		snprintf(why, sizeof(why),
			 "--tls-port %u without a certificate (--tls-cert, or "
			 "tls lines in --config)",
			 o->tcp.tls_port);
		goto refused;
	}
	if (!o->tcp.tls_port)
		o->tcp.tls_port = XR_DEFAULT_TLS_PORT;
	if (o->tcp.tls_port == o->tcp.port) {
		snprintf(why, sizeof(why), "--tls-port %u is the plain --port",
			 o->tcp.tls_port);
		goto refused;
	}
	if (!certs_load(&d->certs, &pairs, o->tls_ticket_key_file, why,
			sizeof(why))) {
		ret = 0;
		goto out;
	}
refused:
	log_err("tls_refused", LOG_STR("reason", why));
out:
	if (have_cfg)
		xr_config_free(&cfg);
	return ret;
}

static int run(struct daemon *d, int sigfd)
{
	struct options *o = d->o;
	struct xr_loader_cfg lc = { o->ifname,	 o->bpffs,	  o->xdp_mode,
				    o->tcp.port, o->tcp.tls_port, 0 };
	struct siphash_key secret;
	char pin_dir[PATH_MAX];
	int ret = 1;
	uint32_t q;

	d->nq = rx_queue_count(o->ifname);
	if (o->queues && o->queues < d->nq)
		d->nq = o->queues;
	o->tcp.mtu = (uint16_t)interface_mtu(o->ifname);
	lc.flows = (uint64_t)o->tcp.max_flows * d->nq;
	if (load_secret(o, &secret) || load_certs(d))
		return 1;
	d->iface_lock = take_iface_lock(o->ifname);
	if (d->iface_lock < 0 ||
	    xr_pin_dir(pin_dir, sizeof(pin_dir), o->bpffs, o->ifname) ||
	    take_life_lock(d, pin_dir, false))
		return 1;
	/* libxdp keeps its dispatcher state in the same bpffs as our pins. */
	setenv("LIBXDP_BPFFS", o->bpffs, 0);
	xr_quiet_libs();
	if (xr_bpf_load(&d->bpf, &lc))
		return 1;
	if ((d->life_lock < 0 && take_life_lock(d, pin_dir, true)) ||
	    xr_maps_open(&d->maps, d->bpf.pin_dir)) {
		log_err("pins_open_failed", LOG_STR("dir", d->bpf.pin_dir));
		goto out_unload;
	}
	d->maps.ctl->abi_version = XR_ABI_VERSION;
	fill_status(d);
	if (setup_vips(d) || configure(d))
		goto out;
	synack_decide(d);
	if (!start_workers(d, &secret) && !start_listener(d)) {
		synack_start(d, &secret);
		d->maps.status->zerocopy = d->workers[0].port.zerocopy;
		update_ready(d);
		log_info("serving", LOG_STR("iface", o->ifname),
			 LOG_UINT("port", o->tcp.port),
			 LOG_UINT("tls_port", o->tcp.tls_port),
			 LOG_UINT("queues", d->nq),
			 LOG_UINT("ring_size", o->ring_size),
			 LOG_STR("xdp_mode",
				 xr_xdp_mode_name(d->bpf.attached_mode)),
			 LOG_STR("pins", d->bpf.pin_dir),
			 LOG_UINT("busy_poll_us", o->busy_poll_us),
			 LOG_UINT("coalesce_us", o->coalesce_us));
		xr_notify_ready(o->ifname);
		main_loop(d, sigfd);
		ret = 0;
	}
	stop = true;
	synack_stop(d);
	for (q = 0; q < d->nq && d->workers; q++)
		worker_join(&d->workers[q]);
	listener_join(&d->listener);
	d->maps.status->pid = 0;
	d->maps.status->ready = 0;
out:
	free(d->workers);
	xr_vip_set_free(&d->iface_vips);
	xr_vip_set_free(&d->config_vips);
	config_watch_close(&d->watch);
	xr_maps_close(&d->maps);
out_unload:
	xr_bpf_unload(&d->bpf);
	if (d->life_lock >= 0)
		close(d->life_lock);
	if (d->iface_lock >= 0)
		close(d->iface_lock);
	certs_free(&d->certs);
	log_info("stopped", LOG_STR("iface", o->ifname));
	return ret;
}

int main(int argc, char **argv)
{
	struct daemon d = { .life_lock = -1,
			    .iface_lock = -1,
			    .watch = { -1, NULL } };
	struct options o;
	sigset_t set;
	int sigfd, rc;

	rc = options_parse(&o, argc, argv, stdout, stderr);
	if (rc != OPTS_RUN)
		return rc;
	/* Before any set-up: no interface, lock, bpffs or root needed. */
	if (o.check_config)
		return xr_config_check_file(o.config_path, stderr);
	if (resolve_iface(&o))
		return OPTS_EXIT_USAGE;
	log_setup(o.log_level, o.log_json);
	d.o = &o;
	/* Blocked in every thread (workers inherit it); read via signalfd. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sigfd < 0) {
		perror("xredird: signalfd");
		return 1;
	}
	return run(&d, sigfd);
}
