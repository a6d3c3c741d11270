// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdarg.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "closing.h"
#include "defaults.h"
#include "live.h"
#include "loader.h"
#include "lockfile.h"
#include "map_mem.h"
#include "log.h"
#include "xredir.skel.h"

#define PROG_NAME "xredir_xdp"

/* libbpf and libxdp narrate at length; keep their lines at debug level. */
static int print_lib(const char *lib, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == ' '))
		line[--n] = 0;
	log_debug(lib, LOG_STR("text", line));
	return 0;
}

static int print_libbpf(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	(void)level;
	return print_lib("libbpf", fmt, ap);
}

static int print_libxdp(enum libxdp_print_level level, const char *fmt,
			va_list ap)
{
	(void)level;
	return print_lib("libxdp", fmt, ap);
}

void xr_quiet_libs(void)
{
	libbpf_set_print(print_libbpf);
	libxdp_set_print(print_libxdp);
}

int xr_pin_dir(char *out, size_t size, const char *bpffs, const char *ifname)
{
	int n = snprintf(out, size, "%s/" XR_PIN_BASE "/%s", bpffs, ifname);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

static int mkdir_p(const char *path)
{
	char tmp[PATH_MAX];
	char *p;

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0700) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(tmp, 0700) && errno != EEXIST ? -1 : 0;
}

const char *xr_xdp_mode_name(enum xdp_attach_mode mode)
{
	switch (mode) {
	case XDP_MODE_NATIVE:
		return "native";
	case XDP_MODE_SKB:
		return "skb";
	case XDP_MODE_HW:
		return "hw";
	default:
		return "unspec";
	}
}

/*
 * A crashed xredird leaves its program attached (harmless: with no socket
 * it passes everything). Remove such leftovers before attaching anew.
 */
static void detach_stale(int ifindex)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	enum xdp_attach_mode mode;
	struct xdp_program *p;

	if (libxdp_get_error(mp) || !mp)
		return;
	mode = xdp_multiprog__attach_mode(mp);
	p = xdp_multiprog__main_prog(mp);
	if (p && !strcmp(xdp_program__name(p), PROG_NAME)) {
		/* Attached without the dispatcher. */
		if (!xdp_multiprog__detach(mp))
			log_warn("stale_program_removed",
				 LOG_STR("mode", xr_xdp_mode_name(mode)));
		xdp_multiprog__close(mp);
		return;
	}
	for (p = xdp_multiprog__next_prog(NULL, mp); p;
	     p = xdp_multiprog__next_prog(p, mp)) {
		if (strcmp(xdp_program__name(p), PROG_NAME))
			continue;
		if (!xdp_program__detach(p, ifindex, mode, 0))
			log_warn("stale_program_removed",
				 LOG_STR("mode", xr_xdp_mode_name(mode)));
		break;
	}
	xdp_multiprog__close(mp);
}

/*
 * A pinned map shaped for another build (XR_CNT_MAX entries, the size of
 * struct xr_ctl, xr_worker_stats or xr_rule_val) is replaced: libbpf would
 * refuse to reuse it, and the load would fail. Nothing in them outlives a
 * start: the counters and stats are statistics, the rules (and the control
 * block saying which set is active) are the flags' and the config file's
 * to define.
 */
static void replace_stale(const char *pin_dir, const char *map, __u32 entries,
			  __u32 value_size)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", pin_dir, map) >=
	    (int)sizeof(path))
		return;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return;
	memset(&info, 0, sizeof(info));
	if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
	    (info.max_entries != entries || info.value_size != value_size) &&
	    !unlink(path))
		log_warn("stale_map_replaced", LOG_STR("map", map),
			 LOG_UINT("entries", info.max_entries),
			 LOG_UINT("want_entries", entries),
			 LOG_UINT("value_size", info.value_size),
			 LOG_UINT("want_value_size", value_size));
	close(fd);
}

static void replace_stale_maps(const char *pin_dir)
{
	static const char *const rules[] = { XR_MAP_RULES4_A, XR_MAP_RULES4_B,
					     XR_MAP_RULES6_A, XR_MAP_RULES6_B };
	size_t i;

	replace_stale(pin_dir, XR_MAP_CTL, 1, sizeof(struct xr_ctl));
	replace_stale(pin_dir, XR_MAP_COUNTERS, XR_CNT_MAX, sizeof(__u64));
	replace_stale(pin_dir, XR_MAP_STATS, XR_MAX_QUEUES,
		      sizeof(struct xr_worker_stats));
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		replace_stale(pin_dir, rules[i], XR_MAX_RULES,
			      sizeof(struct xr_rule_val));
}

/* Whether libxdp's dispatcher runs us (others can share the interface). */
static bool behind_dispatcher(int ifindex)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	bool shared;

	if (libxdp_get_error(mp) || !mp)
		return false;
	shared = !xdp_multiprog__is_legacy(mp);
	xdp_multiprog__close(mp);
	return shared;
}

/*
 * Another program holds the interface and, without libxdp's dispatcher,
 * cannot share it: name it, rather than blame the driver.
 */
static void report_busy(int ifindex, const char *ifname)
{
	struct bpf_prog_info info = { 0 };
	__u32 id = 0, len = sizeof(info);
	char hint[256];
	int fd;

	if (bpf_xdp_query_id(ifindex, 0, &id) || !id)
		return;
	fd = bpf_prog_get_fd_by_id(id);
	snprintf(hint, sizeof(hint),
		 "another XDP program is attached and this kernel cannot share "
		 "the interface (no libxdp dispatcher): detach it first, e.g. "
		 "xdp-loader unload %s --all",
		 ifname);
	if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len))
		log_err("xdp_interface_busy", LOG_STR("iface", ifname),
			LOG_UINT("prog_id", id), LOG_STR("prog", info.name),
			LOG_STR("hint", hint));
	else
		log_err("xdp_interface_busy", LOG_STR("iface", ifname),
			LOG_UINT("prog_id", id),
			LOG_STR("hint", "another XDP program is attached: "
					"detach it first"));
	if (fd >= 0)
		close(fd);
}

static int attach(struct xr_bpf *b, enum xr_xdp_mode mode, const char *ifname)
{
	int err;

	if (mode != XR_XDP_SKB) {
		err = xdp_program__attach(b->prog, b->ifindex, XDP_MODE_NATIVE,
					  0);
		if (!err) {
			b->attached_mode = XDP_MODE_NATIVE;
			return 0;
		}
		/* Busy is not "no native XDP": falling back cannot help. */
		if (err == -EBUSY || err == -EEXIST) {
			report_busy(b->ifindex, ifname);
			return err;
		}
		if (mode == XR_XDP_NATIVE)
			return err;
		log_warn("xdp_native_unavailable",
			 LOG_STR("err", strerror(-err)),
			 LOG_STR("fallback", "skb"));
	}
	err = xdp_program__attach(b->prog, b->ifindex, XDP_MODE_SKB, 0);
	if (!err)
		b->attached_mode = XDP_MODE_SKB;
	return err;
}

#define BPF_FS_MAGIC 0xcafe4a11

/* Pins only work on a bpffs; say so plainly rather than fail later. */
static int check_bpffs(const char *dir)
{
	struct statfs st;
	char hint[PATH_MAX + 64];

	snprintf(hint, sizeof(hint),
		 "mount -t bpf bpf %s, or point --bpffs at a bpffs", dir);
	if (statfs(dir, &st)) {
		log_err("bpffs_missing", LOG_STR("dir", dir),
			LOG_STR("err", strerror(errno)), LOG_STR("hint", hint));
		return -ENOENT;
	}
	if ((unsigned long)st.f_type != BPF_FS_MAGIC) {
		log_err("not_bpffs", LOG_STR("dir", dir),
			LOG_STR("hint", hint));
		return -EINVAL;
	}
	return 0;
}

/* The live table's slots for flows: a power of two (bpf/live.h). */
static __u32 live_slots(uint64_t flows)
{
	__u32 n = XR_LIVE_SLOTS_MIN;

	while (n < XR_LIVE_SLOTS_MAX && n < flows * XR_LIVE_SLOTS_PER_FLOW)
		n <<= 1;
	return n;
}

int xr_bpf_load(struct xr_bpf *b, const struct xr_loader_cfg *cfg)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	char why[PATH_MAX + 64];
	int err;

	memset(b, 0, sizeof(*b));
	err = check_bpffs(cfg->bpffs);
	if (err)
		return err;
	b->ifindex = (int)if_nametoindex(cfg->ifname);
	if (!b->ifindex) {
		log_err("no_such_interface", LOG_STR("iface", cfg->ifname));
		return -ENODEV;
	}
	if (xr_pin_dir(b->pin_dir, sizeof(b->pin_dir), cfg->bpffs,
		       cfg->ifname) ||
	    mkdir_p(b->pin_dir)) {
		log_err("pin_dir_failed", LOG_STR("dir", b->pin_dir),
			LOG_STR("err", strerror(errno)));
		return -errno;
	}
	err = xr_pin_dir_trusted(b->pin_dir, why, sizeof(why));
	if (err) {
		log_err("pin_dir_untrusted", LOG_STR("dir", b->pin_dir),
			LOG_STR("err", why),
			LOG_STR("hint", "remove it: only root may create "
					"the pin directories"));
		return err;
	}
	opts.pin_root_path = b->pin_dir;
	b->skel = xredir_bpf__open_opts(&opts);
	if (!b->skel) {
		log_err("bpf_open_failed", LOG_STR("err", strerror(errno)));
		return -errno;
	}
	b->skel->rodata->xr_port = cfg->port;
	b->skel->rodata->xr_tls_port = cfg->tls_port;
	b->live_slots = live_slots(cfg->flows);
	bpf_map__set_max_entries(b->skel->maps.xr_live, b->live_slots);
	b->prog = xdp_program__from_bpf_obj(b->skel->obj, "xdp");
	err = (int)libxdp_get_error(b->prog);
	if (err) {
		b->prog = NULL;
		log_err("xdp_program_failed", LOG_INT("err", err));
		goto fail;
	}
	replace_stale_maps(b->pin_dir);
	detach_stale(b->ifindex);
	err = attach(b, cfg->mode, cfg->ifname);
	if (err) {
		log_err("xdp_attach_failed", LOG_STR("iface", cfg->ifname),
			LOG_STR("err", strerror(-err)));
		goto fail;
	}
	b->xsks_fd = bpf_map__fd(b->skel->maps.xr_xsks);
	b->acks_fd = bpf_map__fd(b->skel->maps.xr_acks);
	b->closing = xr_map_mmap(bpf_map__fd(b->skel->maps.xr_closing),
				 XR_CLOSING_SLOTS * sizeof(*b->closing));
	if (!b->closing) {
		log_warn("bpf_map_mmap_failed", LOG_STR("map", "xr_closing"),
			 LOG_STR("err", strerror(errno)),
			 LOG_STR("fallback", "fins_wake"));
	}
	b->live = xr_map_mmap(bpf_map__fd(b->skel->maps.xr_live),
			      b->live_slots * sizeof(*b->live));
	b->synack = xr_map_mmap(bpf_map__fd(b->skel->maps.xr_synack),
				sizeof(*b->synack));
	if (!b->live || !b->synack)
		log_warn("bpf_map_mmap_failed", LOG_STR("map", "xr_synack"),
			 LOG_STR("err", strerror(errno)),
			 LOG_STR("fallback", "syns_wake"));
	b->dispatcher = behind_dispatcher(b->ifindex);
	if (!b->dispatcher)
		log_info("xdp_dispatcher_unavailable",
			 LOG_STR("iface", cfg->ifname),
			 LOG_STR("note",
				 "attached alone: the kernel refused "
				 "libxdp's dispatcher (freplace programs)"));
	return 0;
fail:
	xdp_program__close(b->prog);
	b->prog = NULL;
	xredir_bpf__destroy(b->skel);
	b->skel = NULL;
	return err;
}

void xr_bpf_unload(struct xr_bpf *b)
{
	if (b->closing)
		munmap(b->closing, XR_CLOSING_SLOTS * sizeof(*b->closing));
	if (b->live)
		munmap(b->live, b->live_slots * sizeof(*b->live));
	if (b->synack)
		munmap(b->synack, sizeof(*b->synack));
	if (b->prog) {
		xdp_program__detach(b->prog, b->ifindex, b->attached_mode, 0);
		xdp_program__close(b->prog);
	}
	if (b->skel)
		xredir_bpf__destroy(b->skel);
	memset(b, 0, sizeof(*b));
}
