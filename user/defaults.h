/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Defaults and names that xredird, xredirctl and the engine share, one
 * place for each. The service port's default, XR_DEFAULT_PORT, lives in
 * bpf/xredir_shared.h: the XDP program is built with it too.
 */
#ifndef XREDIR_DEFAULTS_H
#define XREDIR_DEFAULTS_H

/* Where unmatched clients go until a config file or a flag says otherwise. */
#define DEFAULT_TARGET "https://k8s.gcr.io"

/* --match-ip's clients go to the target of this name, by default this URL. */
#define REWRITE_NAME "rewrite"
#define DEFAULT_REWRITE "https://registry-1.docker.io"

/* The pins are under <bpffs>/XR_PIN_BASE/<iface>/. */
#define XR_PIN_BASE "xredir"

/* The bpffs mount holding the pins, unless this variable or --bpffs names one. */
#define XR_DEFAULT_BPFFS "/sys/fs/bpf"
#define XR_BPFFS_ENV "XREDIR_BPFFS"

/*
 * How long a writer waits for the pin directory's lock. The daemon's
 * reload gives up sooner (its main loop, heartbeat and signals wait
 * meanwhile) and reports the failure; xredirctl waits out a reload or
 * another writer's rule load.
 */
#define XREDIRD_LOCK_WAIT_MS 5000
#define XREDIRCTL_LOCK_WAIT_MS 10000

#endif /* XREDIR_DEFAULTS_H */
