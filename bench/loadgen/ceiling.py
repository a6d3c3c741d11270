#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Helper of scripts/ceiling.sh.

  ceiling.py run RUNS.jsonl KEY=VALUE... -- CMD...
      Runs CMD (a loadgen invocation printing one JSON object), measures
      per-CPU time (/proc/stat), the generator's own CPU time (wait4) and
      the server's (--server-pid), and appends one JSON line: the labels,
      the generator's result and the CPU figures. Prints a summary line.
      Special keys: server_pid=PID, stats_cmd="..." (a command printing
      xredirctl's stats JSON, run before and after: the delta is stored).
  ceiling.py best RUNS.jsonl SERVER [DEPTH]
      "conns depth" of the fastest error-free ramp run ("256 1": none).
  ceiling.py nginx-lines RUNS.jsonl N
      Notes N access-log lines in the last nginx validation run.
  ceiling.py extra WORKDIR RUNS.jsonl FLOW_SIZE REPS DUR WARM
      Prints the report's extra figures (machine, settings, raw veth,
      multi-queue factors, memory, perf) as JSON.
  ceiling.py report RUNS.jsonl EXTRA.json OUTDIR
      Writes OUTDIR/ceiling.md and OUTDIR/ceiling.json.
"""
import json
import os
import shlex
import statistics
import subprocess
import sys
import time

HZ = os.sysconf("SC_CLK_TCK")


def cpu_snap():
    cpus = {}
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu") and line[3].isdigit():
                p = line.split()
                v = [int(x) for x in p[1:]]
                cpus[p[0]] = v
    return cpus


def proc_cpu(pid):
    """utime + stime (s) of a whole process, or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
        fields = s[s.rindex(")") + 2:].split()
        return (int(fields[11]) + int(fields[12])) / HZ
    except (OSError, ValueError):
        return None


def cpu_delta(a, b, seconds):
    """Per CPU: percent user (+nice), sys, softirq (+irq), idle (+iowait)."""
    out = {}
    for cpu in sorted(a):
        d = [y - x for x, y in zip(a[cpu], b[cpu])]
        tot = sum(d[:8]) or 1
        out[cpu] = {
            "user": round(100 * (d[0] + d[1]) / tot, 1),
            "sys": round(100 * d[2] / tot, 1),
            "softirq": round(100 * (d[5] + d[6]) / tot, 1),
            "idle": round(100 * (d[3] + d[4]) / tot, 1),
            "steal": round(100 * d[7] / tot, 1),
        }
    return out


def task_busy(a, b):
    """user+nice+sys seconds over all CPUs (task time, no softirq)."""
    t = 0
    for cpu in a:
        d = [y - x for x, y in zip(a[cpu], b[cpu])]
        t += d[0] + d[1] + d[2]
    return t / HZ


def background_pct(seconds):
    """Busy time of all CPUs (softirq included) while we are idle, in
    percent of one CPU: other sessions' load on a shared machine."""
    a = cpu_snap()
    time.sleep(seconds)
    b = cpu_snap()
    busy = tot = 0
    for cpu in a:
        d = [y - x for x, y in zip(a[cpu], b[cpu])]
        tot += sum(d[:8])
        busy += sum(d[:8]) - d[3] - d[4]
    return round(100 * len(a) * busy / max(1, tot), 1)


QUIET_MAX = float(os.environ.get("QUIET_MAX_PCT", "10"))
QUIET_WAIT = float(os.environ.get("QUIET_WAIT_S", "60"))
RETRY_NOISY = int(os.environ.get("RETRY_NOISY", "2"))


def noisy(rec):
    """Other load just before the run (server idle) or during it (task
    time of other processes). The load just after is not used: it
    includes our own teardown."""
    return (rec.get("background_before_pct", 0) > QUIET_MAX
            or (rec.get("foreign_cpu_pct") or 0) > QUIET_MAX)


def cmd_run(argv):
    """Runs once, and again (up to RETRY_NOISY times) while the machine
    was noisy; every attempt is recorded, the earlier ones marked."""
    for attempt in range(RETRY_NOISY + 1):
        rc, rec = run_once(argv, attempt)
        if rc or not rec.get("noisy"):
            return rc
    return rc


def run_once(argv, attempt):
    runs = argv[0]
    i = argv.index("--")
    labels = {}
    for kv in argv[1:i]:
        k, v = kv.split("=", 1)
        labels[k] = int(v) if v.lstrip("-").isdigit() else v
    cmd = argv[i + 1:]
    spid = labels.pop("server_pid", None)
    stats_cmd = labels.pop("stats_cmd", None)
    perf_out = labels.pop("perf_out", None)
    perf_delay = float(labels.pop("perf_delay", 2))

    def stats():
        if not stats_cmd:
            return None
        try:
            return json.loads(subprocess.run(shlex.split(stats_cmd),
                                             capture_output=True, text=True,
                                             timeout=10).stdout)
        except (ValueError, subprocess.SubprocessError):
            return None

    # Wait (a while) for the machine to be quiet: it is shared.
    waited = 0.0
    while True:
        bg = background_pct(0.5)
        if bg <= QUIET_MAX or waited >= QUIET_WAIT:
            break
        time.sleep(1)
        waited += 1.5
    s0 = stats()
    c0 = cpu_snap()
    sp0 = proc_cpu(spid) if spid else None
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    if perf_out:
        # A whole-system profile of 2 s once the load is on.
        time.sleep(perf_delay)
        subprocess.run(["perf", "record", "-a", "-g", "-o", perf_out, "--",
                        "sleep", "2"], capture_output=True)
    out, err = p.communicate()
    wall = time.monotonic() - t0
    c1 = cpu_snap()
    sp1 = proc_cpu(spid) if spid else None
    gen_cpu = None
    try:
        r = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        r = {"error": "no JSON from the generator", "stderr": err[-2000:],
             "stdout": out[-2000:]}
    if "cpu_s" in r:
        gen_cpu = r["cpu_s"].get("total", r["cpu_s"]["user"] + r["cpu_s"]["sys"])
    time.sleep(0.25)  # xredird exports its counters every 100 ms
    s1 = stats()
    bg_after = background_pct(0.3)
    rec = dict(labels)
    rec["attempt"] = attempt
    rec["result"] = r
    rec["wall_s"] = round(wall, 3)
    rec["cpu"] = cpu_delta(c0, c1, wall)
    busy = task_busy(c0, c1)
    srv = (sp1 - sp0) if (sp0 is not None and sp1 is not None) else None
    rec["server_cpu_s"] = srv
    rec["background_before_pct"] = bg
    rec["background_after_pct"] = bg_after
    rec["waited_for_quiet_s"] = waited
    # Task time on the CPUs not spent by the generator or the server:
    # other processes and kernel threads (a noise indicator). The
    # generator's rusage covers its measured window only, so compare
    # over the whole run with its total.
    if not spid:
        srv = 0.0
    if srv is not None and "cpu_s" in r:
        rec["foreign_cpu_pct"] = round(
            100 * max(0.0, busy - srv - (gen_cpu or 0)) / wall, 1)
    rec["noisy"] = noisy(rec)
    if s0 and s1:
        rec["server_stats"] = {k: s1[k] - s0[k] for k in s1
                               if isinstance(s1.get(k), int)
                               and isinstance(s0.get(k), int)
                               and s1[k] != s0[k]}
        rec["server_flows_open_after"] = s1.get("flows_open")
    if err.strip():
        rec["stderr"] = err.strip()[-1500:]
    with open(runs, "a") as f:
        f.write(json.dumps(rec) + "\n")
    summary(rec)
    return (0 if "error" not in r else 1), rec


def summary(rec):
    r = rec["result"]
    lab = " ".join(f"{k}={v}" for k, v in rec.items()
                   if k not in ("result", "cpu", "wall_s", "server_cpu_s",
                                "foreign_cpu_pct", "server_stats",
                                "server_flows_open_after", "stderr",
                                "background_before_pct", "background_after_pct",
                                "waited_for_quiet_s", "noisy", "attempt"))
    if "error" in r:
        print(f"  {lab}: FAILED {r['error']}", flush=True)
        return
    cpus = " ".join(f"{c}:{100 - v['idle']:.0f}%" for c, v in rec["cpu"].items())
    lat = r.get("latency_us", {})
    print(f"  {lab}: {r['rate']:,.0f}/s errors {r['errors']} "
          f"rto {r['totals'].get('rto', 0)} p50 {lat.get('p50')}us "
          f"p99 {lat.get('p99')}us busy {cpus} "
          f"gen-idle {r.get('gen_idle_pct')}% "
          f"foreign {rec.get('foreign_cpu_pct', '?')}% "
          f"background {rec.get('background_before_pct')}/"
          f"{rec.get('background_after_pct')}%"
          f"{' NOISY' if rec.get('noisy') else ''}"
          f"{' (attempt %d)' % (rec['attempt'] + 1) if rec.get('attempt') else ''}",
          flush=True)


# Report

def load(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def ok(rec):
    r = rec["result"]
    return "error" not in r and r["errors"] == 0


def med(xs):
    return statistics.median(xs) if xs else None


def fmt(x, d=0):
    if x is None:
        return "n/a"
    if isinstance(x, float) and d:
        return f"{x:,.{d}f}"
    return f"{x:,.0f}"


def pick(runs, **kw):
    return [r for r in runs if all(r.get(k) == v for k, v in kw.items())]


def rates(rs):
    return [r["result"]["rate"] for r in rs if ok(r)]


def busy(rec, cpu):
    c = rec["cpu"].get(cpu)
    return None if c is None else round(100 - c["idle"], 0)


def srvstat(r):
    st = r.get("server_stats", {})
    return (f"{st.get('retransmits', 0)} / {st.get('xsk_tx_ring_full', 0)}"
            f" / {st.get('xsk_fill_short', 0)}")


def cmd_report(argv):
    runs = load(argv[0])
    with open(argv[1]) as f:
        extra = json.load(f)
    out = argv[2]
    os.makedirs(out, exist_ok=True)
    md = []
    res = {"machine": extra.get("machine"), "settings": extra.get("settings")}

    def table(head, rows):
        md.append("| " + " | ".join(head) + " |")
        md.append("|" + "---|" * len(head))
        for row in rows:
            md.append("| " + " | ".join(str(x) for x in row) + " |")
        md.append("")

    m = extra.get("machine", {})
    md.append("# xredird ceiling (AF_XDP load generator)")
    md.append("")
    md.append(f"Machine: {m.get('cpu')}, {m.get('ncpu')} CPUs, kernel "
              f"{m.get('kernel')}, {m.get('mem')}; load average at start "
              f"{m.get('loadavg_start')}, at end {m.get('loadavg_end')}. "
              f"Generated {m.get('date')}.")
    md.append("")
    s = extra.get("settings", {})
    md.append(f"Settings: {s.get('reps')} repetitions, {s.get('duration_s')} s "
              f"measured after {s.get('warmup_s')} s of warm-up. Generator "
              "pinned to CPU 0, server to CPU 1 unless a row says otherwise. "
              "Rates are responses checked valid (302, Location, the whole "
              "Content-Length body) per second of the measured window. "
              "`generator idle %`: time the generator found nothing to do "
              "(its headroom). `foreign %`: task CPU time of other processes "
              "during the run, `background %`: CPU busy just before (server "
              "idle) and after the run, both in percent of one CPU: the "
              "machine is shared, and runs with other load are repeated.")
    md.append("")
    md.append("On a veth, a frame's receive processing runs on the sending "
              "CPU: CPU 0's time includes the server's receive path (its XDP "
              "program and the copy into xredird's ring, or nginx's TCP "
              "receive), CPU 1's the generator's (loadgen_xdp and the copy "
              "into its ring). AF_XDP is in copy mode both ways.")
    md.append("")

    # Validation
    val = [r for r in runs if r.get("phase") == "validate"]
    if val:
        md.append("## Validation: counted on both sides")
        md.append("")
        rows = []
        vres = []
        for r in val:
            g = r["result"].get("totals", {})
            srv = r.get("server_stats", {})
            server_count = srv.get("requests")
            if r.get("server") == "nginx":
                server_count = r.get("nginx_log_lines")
            match = (server_count == g.get("responses"))
            vres.append({"server": r["server"], "mode": r["mode"],
                         "generator_responses": g.get("responses"),
                         "generator_requests_sent": g.get("requests_sent"),
                         "server_count": server_count,
                         "errors": r["result"].get("errors"),
                         "match": match,
                         "flows_open_after": r.get("server_flows_open_after")})
            rows.append([r["server"], r["mode"], fmt(g.get("requests_sent")),
                         fmt(g.get("responses")), fmt(server_count),
                         "yes" if match else "**NO**",
                         r["result"].get("errors"),
                         r.get("server_flows_open_after", "")])
        table(["server", "mode", "requests sent", "responses checked",
               "server's count", "equal", "errors", "flows open after"], rows)
        md.append("The server's count: xredirctl's `requests` counter delta "
                  "(xredird); access-log lines of a copy of the nginx "
                  "configuration with logging on (nginx).")
        md.append("")
        res["validation"] = vres

    # Ramp
    for server in ("xredird", "nginx"):
        rr_all = [r for r in runs if r.get("phase") == "ramp"
                  and r.get("server") == server]
        if not rr_all:
            continue
        groups = {}
        for r in rr_all:
            groups.setdefault((r["conns"], r["depth"]), []).append(r)
        # Per configuration: the last quiet attempt, else the last one.
        rr = [([x for x in g if not x.get("noisy")] or g)[-1]
              for g in groups.values()]
        md.append(f"## Keep-alive ramp: {server}")
        md.append("")
        rows = []
        for r in rr:
            x = r["result"]
            t = x.get("totals", {})
            rows.append([r["conns"], r["depth"], fmt(x.get("rate")),
                         x.get("errors"), t.get("rto", 0),
                         x.get("latency_us", {}).get("p50"),
                         x.get("latency_us", {}).get("p99"),
                         x.get("latency_us", {}).get("max"),
                         f"{t.get('tx_frames', 0) / max(1, t.get('responses', 1)):.2f}",
                         busy(r, "cpu0"), busy(r, "cpu1"),
                         x.get("gen_idle_pct"),
                         r.get("foreign_cpu_pct"),
                         f"{r.get('background_before_pct')}/{r.get('background_after_pct')}"
                         + (" noisy" if r.get("noisy") else "")]
                        + ([srvstat(r)] if server == "xredird" else []))
        table(["conns", "depth", "req/s", "errors", "rto", "p50 us", "p99 us",
               "max us", "segments/req", "CPU0 %", "CPU1 %",
               "generator idle %", "foreign %",
               "background % before/after"]
              + (["xredird rtx / tx ring full / fill short"]
                 if server == "xredird" else []), rows)
        res.setdefault("ramp", {})[server] = [
            {"conns": r["conns"], "depth": r["depth"],
             "rate": r["result"].get("rate"), "errors": r["result"].get("errors"),
             "rto": r["result"].get("totals", {}).get("rto"),
             "latency_us": r["result"].get("latency_us"),
             "cpu": r["cpu"], "foreign_cpu_pct": r.get("foreign_cpu_pct")}
            for r in rr]

    # Repeated ceilings
    rep = [r for r in runs if r.get("phase") == "repeat"]
    ceil = {}
    if rep:
        md.append("## Ceilings (repeated, interleaved)")
        md.append("")
        md.append("Medians over the quiet runs (no other load above "
                  f"{QUIET_MAX:.0f}% of a CPU just before or after the run, "
                  "nor during it by task time); over all runs if none was "
                  "quiet.")
        md.append("")
        rows = []
        for key in sorted({(r["server"], r["mode"], r["config"]) for r in rep}):
            allrs = pick(rep, server=key[0], mode=key[1], config=key[2])
            quiet = [r for r in allrs if not r.get("noisy")]
            rs = quiet or allrs
            v = rates(rs)
            errs = sum(r["result"].get("errors", 0) for r in rs
                       if "error" not in r["result"])
            c = rs[0]
            d = {"server": key[0], "mode": key[1], "config": key[2],
                 "conns": c["conns"], "depth": c["depth"], "runs": len(allrs),
                 "quiet_runs": len(quiet), "all_rates": rates(allrs),
                 "rates": v, "median": med(v),
                 "min": min(v) if v else None, "max": max(v) if v else None,
                 "errors": errs,
                 "rto": sum(r["result"].get("totals", {}).get("rto", 0)
                            for r in rs if "error" not in r["result"]),
                 "p99_us_median": med([r["result"]["latency_us"]["p99"]
                                       for r in rs if ok(r)]),
                 "cpu0_busy_median": med([busy(r, "cpu0") for r in rs]),
                 "cpu1_busy_median": med([busy(r, "cpu1") for r in rs]),
                 "gen_idle_median": med([r["result"].get("gen_idle_pct", 0)
                                         for r in rs if ok(r)]),
                 "foreign_median": med([r.get("foreign_cpu_pct") or 0
                                        for r in rs])}
            ceil[f"{key[0]}/{key[1]}/{key[2]}"] = d
            spread = ("" if not v or not d["median"] else
                      f"{100 * (d['max'] - d['min']) / d['median']:.0f}%")
            rows.append([key[0], key[1], key[2], c["conns"], c["depth"],
                         f"{len(quiet)}/{len(allrs)}",
                         fmt(d["median"]), f"{fmt(d['min'])} - {fmt(d['max'])}",
                         spread, errs, d["rto"], d["p99_us_median"],
                         d["cpu0_busy_median"], d["cpu1_busy_median"],
                         d["gen_idle_median"], d["foreign_median"]])
        table(["server", "mode", "config", "conns", "depth", "quiet runs",
               "median req/s",
               "min - max", "spread", "errors", "rto", "p99 us", "CPU0 %",
               "CPU1 %", "generator idle %", "foreign %"], rows)
        res["ceilings"] = ceil

    def cm(k):
        return (ceil.get(k) or {}).get("median")

    ratios = {}
    xb, nb = cm("xredird/keepalive/best"), cm("nginx/keepalive/best")
    x1, n1 = cm("xredird/keepalive/depth1"), cm("nginx/keepalive/depth1")
    xc, nc = cm("xredird/close/best"), cm("nginx/close/best")
    if xb and nb:
        ratios["keepalive_best"] = xb / nb
    if x1 and n1:
        ratios["keepalive_depth1"] = x1 / n1
    if xc and nc:
        ratios["close"] = xc / nc
    raw = extra.get("raw", {})
    rawm = med(raw.get("rates", []))
    if rawm:
        if xb:
            ratios["xredird_best_to_raw"] = xb / rawm
        if x1:
            ratios["xredird_depth1_to_raw"] = x1 / rawm
        if x1:
            # depth 1: one request segment and one response segment each.
            ratios["xredird_depth1_packets_to_raw"] = 2 * x1 / rawm
    res["ratios"] = ratios
    res["raw"] = dict(raw, median=rawm)
    md.append("## Headline")
    md.append("")
    rows = [
        ["xredird keep-alive ceiling, one server core (best conns/depth)",
         fmt(xb), "req/s"],
        ["xredird keep-alive, depth 1 (one request per segment)", fmt(x1),
         "req/s"],
        ["nginx (1 worker) keep-alive ceiling under the same generator",
         fmt(nb), "req/s"],
        ["nginx keep-alive, depth 1", fmt(n1), "req/s"],
        ["ratio xredird / nginx (best vs best)",
         fmt(ratios.get("keepalive_best"), 2), "x"],
        ["ratio xredird / nginx (depth 1)",
         fmt(ratios.get("keepalive_depth1"), 2), "x"],
        ["xredird Connection: close", fmt(xc), "conn/s"],
        ["nginx Connection: close", fmt(nc), "conn/s"],
        ["ratio (close)", fmt(ratios.get("close"), 2), "x"],
        ["raw veth ceiling (64-byte frames, AF_XDP TX -> XDP_DROP)",
         fmt(rawm), "frames/s"],
        ["xredird best / raw", fmt(ratios.get("xredird_best_to_raw"), 2),
         "req per raw frame"],
        ["xredird depth 1 / raw", fmt(ratios.get("xredird_depth1_to_raw"), 2),
         "req per raw frame"],
        ["xredird depth 1 packets (2 per request) / raw",
         fmt(ratios.get("xredird_depth1_packets_to_raw"), 2), ""],
    ]
    mq = extra.get("multiqueue", {})
    for k, v in mq.get("factors", {}).items():
        rows.append([f"multi-queue factor {k}", fmt(v, 2), "x"])
    mem = extra.get("memory", {})
    if mem:
        rows += [
            ["xredird VmRSS idle", fmt(mem.get("rss_idle_kb")), "KiB"],
            ["xredird VmRSS, 10,000 open connections (handshake only)",
             fmt(mem.get("rss_10k_handshake_kb")), "KiB"],
            ["xredird VmRSS, 10,000 open keep-alive connections after one request each",
             fmt(mem.get("rss_10k_request_kb")), "KiB"],
            ["bytes per flow entry (sizeof struct flow, + timer + bucket)",
             f"{mem.get('sizeof_flow')} (+16 +4 = {mem.get('sizeof_flow', 0) + 20})",
             "B"],
            ["RSS delta / 10,000 (handshake only)",
             fmt(mem.get("per_conn_handshake_b")), "B"],
            ["RSS delta / 10,000 (after one request each)",
             fmt(mem.get("per_conn_request_b")), "B"],
            ["SYN flood: rate, RSS before -> after, flows open",
             f"{fmt(mem.get('synflood_rate'))} SYN/s, "
             f"{fmt(mem.get('synflood_rss_before_kb'))} -> "
             f"{fmt(mem.get('synflood_rss_after_kb'))} KiB, "
             f"{mem.get('synflood_flows_open')}", ""],
        ]
    table(["figure", "value", "unit"], rows)

    if raw:
        md.append("## Raw veth ceiling")
        md.append("")
        md.append("The generator in `--raw` mode: prebuilt 64-byte UDP frames, "
                  "as many as the TX ring takes, one kick per batch, into the "
                  "server veth where `loadgen_drop` (XDP_DROP) counts them. "
                  "Generator on CPU 0 (which also runs the veth receive and "
                  "the XDP program: the sender pays).")
        md.append("")
        table(["run", "frames/s (generator)", "dropped by XDP / sent",
               "CPU0 %", "CPU1 %"],
              [[i + 1, fmt(x), raw.get("drop_ratio", [None] * 9)[i]
                if i < len(raw.get("drop_ratio", [])) else "",
                raw.get("cpu0", [None] * 9)[i] if i < len(raw.get("cpu0", [])) else "",
                raw.get("cpu1", [None] * 9)[i] if i < len(raw.get("cpu1", [])) else ""]
               for i, x in enumerate(raw.get("rates", []))])

    mqr = [r for r in runs if r.get("phase") == "multiqueue"]
    if mqr:
        md.append("## Multi-queue (2-queue veth)")
        md.append("")
        rows = []
        for key in sorted({(r["layout"], r["depth"]) for r in mqr}):
            rs = pick(mqr, layout=key[0], depth=key[1])
            rs = [r for r in rs if not r.get("noisy")] or rs
            v = rates(rs)
            rows.append([key[0], key[1], rs[0]["conns"], fmt(med(v)),
                         f"{fmt(min(v) if v else None)} - {fmt(max(v) if v else None)}",
                         sum(r["result"].get("errors", 0) for r in rs
                             if "error" not in r["result"]),
                         med([busy(r, "cpu0") for r in rs]),
                         med([busy(r, "cpu1") for r in rs])])
        table(["layout", "depth", "conns", "median req/s", "min - max",
               "errors", "CPU0 %", "CPU1 %"], rows)
        for k, v in mq.get("layouts", {}).items():
            md.append(f"- `{k}`: {v}")
        md.append("")
        res["multiqueue"] = mq

    if mem:
        md.append("## Memory")
        md.append("")
        table(["figure", "value"], [[k, v] for k, v in mem.items()])
        res["memory"] = mem

    if extra.get("perf"):
        md.append("## Where the time goes (perf, whole system)")
        md.append("")
        for name, txt in extra["perf"].items():
            md.append(f"### {name}")
            md.append("")
            md.append("```")
            md.append(txt.rstrip())
            md.append("```")
            md.append("")
        res["perf"] = extra["perf"]

    res["runs"] = runs
    with open(os.path.join(out, "ceiling.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    with open(os.path.join(out, "ceiling.json"), "w") as f:
        json.dump(res, f, indent=1)
    print("\n".join(md))
    return 0


# Steps of the run

def cmd_best(argv):
    runs, server = argv[0], argv[1]
    depth = argv[2] if len(argv) > 2 else ""
    best = None
    for r in load(runs):
        if r.get("phase") != "ramp" or r.get("server") != server:
            continue
        if depth and r["depth"] != int(depth):
            continue
        if not ok(r):
            continue
        x = r["result"]
        if best is None or x["rate"] > best[0]:
            best = (x["rate"], r["conns"], r["depth"])
    print(f"{best[1]} {best[2]}" if best else "256 1")
    return 0


def cmd_nginx_lines(argv):
    rs = load(argv[0])
    for r in reversed(rs):
        if r.get("phase") == "validate" and r.get("server") == "nginx":
            r["nginx_log_lines"] = int(argv[1])
            break
    with open(argv[0], "w") as f:
        f.write("".join(json.dumps(r) + "\n" for r in rs))
    return 0


def read_env(path):
    d = {}
    if os.path.exists(path):
        for line in open(path):
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                d[k] = int(v) if v.isdigit() else v
    return d


def multiqueue_factors(mq):
    def m(layout, depth):
        rs = [r for r in mq if r["layout"] == layout and r["depth"] == depth
              and ok(r)]
        rs = [r for r in rs if not r.get("noisy")] or rs
        return med([r["result"]["rate"] for r in rs])
    f = {}
    for depth in (1, 4):
        for name, a, b in (("cores", "2q-cores", "1q-core"),
                           ("split", "2q-split", "1q-split"),
                           ("2q-cores vs 1q-split", "2q-cores", "1q-split")):
            x, y = m(a, depth), m(b, depth)
            if x and y:
                f[f"{name}, depth {depth}"] = round(x / y, 3)
    return f


def memory_figures(mem, flow_size):
    out = {k: v for k, v in mem.items() if not k.endswith("_result")}
    out["sizeof_flow"] = int(flow_size)
    idle = mem.get("rss_idle_kb")
    if idle and mem.get("rss_10k_handshake_kb"):
        out["per_conn_handshake_b"] = round(
            (mem["rss_10k_handshake_kb"] - idle) * 1024 / 10000)
    if idle and mem.get("rss_10k_request_kb"):
        out["per_conn_request_b"] = round(
            (mem["rss_10k_request_kb"] - idle) * 1024 / 10000)
    try:
        sf = json.loads(mem.get("synflood_result", "{}"))
        out["synflood_rate"] = sf.get("rate")
        out["synflood_synacks_received"] = sf.get("totals", {}).get(
            "rx_frames")
    except ValueError:
        pass
    try:
        h = json.loads(mem.get("hold_result", "{}"))
        out["hold_errors"] = h.get("errors")
        out["hold_responses_ok"] = h.get("totals", {}).get("responses_ok")
    except ValueError:
        pass
    return out


def cmd_extra(argv):
    work, runs_path, flow_size, reps, dur, warm = argv[:6]
    runs = load(runs_path) if os.path.exists(runs_path) else []
    extra = {"machine": read_env(f"{work}/machine.env"),
             "settings": {"reps": int(reps), "duration_s": float(dur),
                          "warmup_s": float(warm), "generator_cpu": 0,
                          "server_cpu": 1}}
    raw = [r for r in runs if r.get("phase") == "raw"]
    if raw:
        drops = [line.split() for line in open(f"{work}/raw_drops.txt")] \
            if os.path.exists(f"{work}/raw_drops.txt") else []
        extra["raw"] = {
            "rates": [r["result"].get("rate") for r in raw],
            "cpu0": [round(100 - r["cpu"]["cpu0"]["idle"]) for r in raw],
            "cpu1": [round(100 - r["cpu"]["cpu1"]["idle"]) for r in raw],
            "drop_ratio": [round((int(b) - int(a)) /
                                 max(1, r["result"]["totals"]["raw_tx"]), 4)
                           for (a, b), r in zip(drops, raw)],
        }
    mq = [r for r in runs if r.get("phase") == "multiqueue"]
    if mq:
        extra["multiqueue"] = {"factors": multiqueue_factors(mq), "layouts": {
            "1q-split": "xredird --queues 1 on CPU 1; generator 1 thread on "
                        "CPU 0 (busy-poll)",
            "2q-split": "xredird --queues 2, both workers on CPU 1; "
                        "generator 2 threads on CPU 0",
            "1q-core": "xredird --queues 1 and the generator (1 thread, "
                       "yields when idle) both on CPU 0; CPU 1 idle",
            "2q-cores": "queue i on CPU i: generator thread i (yields when "
                        "idle) and xredird worker i pinned there",
        }}
    mem = read_env(f"{work}/memory.env")
    if mem:
        extra["memory"] = memory_figures(mem, flow_size)
    perf = {}
    for s in ("xredird", "xredird-depth1", "nginx"):
        p = f"{work}/perf-{s}.txt"
        if os.path.exists(p):
            perf[s] = open(p).read()
    if perf:
        extra["perf"] = perf
    print(json.dumps(extra))
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    cmds = {"run": cmd_run, "report": cmd_report, "best": cmd_best,
            "nginx-lines": cmd_nginx_lines, "extra": cmd_extra}
    if sys.argv[1] in cmds:
        sys.exit(cmds[sys.argv[1]](sys.argv[2:]))
    print(__doc__, file=sys.stderr)
    sys.exit(2)
