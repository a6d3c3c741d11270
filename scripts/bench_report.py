#!/usr/bin/env python3
"""Parses wrk, rateload and tlsload runs and writes the benchmark report (Markdown, JSON).

  bench_report.py parse SERVER SCENARIO REP MACHINE_BUSY UNITS_PER_S SERVER_CPU [CLIENT_S] < wrk-output
  bench_report.py parse-rate SERVER SCENARIO REP MACHINE_BUSY UNITS_PER_S SERVER_CPU CLIENT_S WAKES < rateload-output
  bench_report.py parse-tls SERVER SCENARIO REP MACHINE_BUSY UNITS_PER_S SERVER_CPU CLIENT_S < tlsload-output
  bench_report.py parse-hold SERVER RSS_BEFORE_KB RSS_HELD_KB < tlsload-output
  bench_report.py report RUNS.jsonl OUTDIR CONFIG [RATE.jsonl]
  bench_report.py report-tls RUNS.jsonl MEMORY.jsonl OUTDIR CONFIG NEGOTIATED
"""
import datetime
import json
import os
import platform
import re
import statistics
import sys

UNITS = {"us": 1.0, "ms": 1000.0, "s": 1e6}


def latency_us(text):
    m = re.match(r"([\d.]+)(us|ms|s)$", text)
    if not m:
        raise ValueError(f"bad latency {text!r}")
    return float(m.group(1)) * UNITS[m.group(2)]


def cpu_fields(busy, units, proc, total, client_s=None):
    """Whole-machine CPU of the run (busy, in units per second), and per
    request: the machine's and the server process's own (proc); with the
    client's CPU time, also the client's, and the server's and the
    client's together (what other work on the machine leaves out)."""
    cpu_s = int(busy) / int(units)
    server_s = int(proc) / int(units)
    out = {
        "cpu_s": cpu_s,
        "cpu_us_per_req": cpu_s * 1e6 / total if total else None,
        "server_us_per_req": server_s * 1e6 / total if total else None,
    }
    if client_s is not None:
        out["client_s"] = float(client_s)
        out["client_us_per_req"] = (float(client_s) * 1e6 / total
                                    if total else None)
        out["procs_us_per_req"] = ((server_s + float(client_s)) * 1e6 / total
                                   if total else None)
    return out


def parse(argv):
    server, scenario, rep, busy, units, proc = argv[:6]
    client_s = argv[6] if len(argv) > 6 else None
    out = sys.stdin.read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    pct = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.M))
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
        out)
    non3xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    run = {
        "server": server,
        "scenario": scenario,
        "rep": int(rep),
        "rps": rps,
        "requests": total,
        "p50_us": latency_us(pct["50"]),
        "p99_us": latency_us(pct["99"]),
        "socket_errors": sum(map(int, errors.groups())) if errors else 0,
        "non_3xx": int(non3xx.group(1)) if non3xx else 0,
        **cpu_fields(busy, units, proc, total, client_s),
    }
    print(json.dumps(run))


def parse_tls(argv):
    """A tlsload run: --full or --resume, the handshakes of the kind the
    mode asks for (a --resume slot's first, full, one is not counted);
    --rate, the keep-alive requests."""
    server, scenario, rep, busy, units, proc, client_s = argv
    t = json.loads(sys.stdin.read())
    rate = t["mode"] == "rate"
    if rate:
        total = t["requests"]
    else:
        total = t["resumed"] if scenario == "resume" else t["full"]
    run = {
        "server": server,
        "scenario": scenario,
        "rep": int(rep),
        "rps": total / t["seconds"],
        "requests": total,
        "p50_us": t["p50_us"],
        "p99_us": t["p99_us"],
        "socket_errors": t["errors"],
        "non_3xx": 0,
        "tickets_per_hs": t["tickets"] / t["requests"] if t["requests"] else 0,
        "negotiated": f"{t['version']} {t['cipher']} {t['group']}",
        "tlsload": t,
        **cpu_fields(busy, units, proc, total, client_s),
    }
    if rate:  # a request is not a handshake
        del run["tickets_per_hs"]
        run["target_rate"] = int(t["target_rate"])
    print(json.dumps(run))


def parse_hold(argv):
    server, rss0, rss1 = argv
    t = json.loads(sys.stdin.read())
    held = t["held"]
    print(json.dumps({
        "server": server,
        "rss_before_kb": int(rss0),
        "rss_held_kb": int(rss1),
        "held": held,
        "errors": t["errors"],
        "bytes_per_conn": ((int(rss1) - int(rss0)) * 1024 / held
                           if held else None),
        "tlsload": t,
    }))


def parse_rate(argv):
    """A bench/rateload run (one JSON object); wakes: the server's."""
    server, scenario, rep, busy, units, proc, client_s, wakes = argv
    t = json.loads(sys.stdin.read())
    total = t["requests"]
    run = {
        "server": server,
        "scenario": scenario,
        "rep": int(rep),
        "target_rate": int(t["target_rate"]),
        "rps": t["rps"],
        "requests": total,
        "behind": t["behind"],
        "non_3xx": 0,  # a non-3xx answer is one of rateload's errors
        "errors": t["errors"] + t["lost"],
        "wakes_per_req": int(wakes) / total if total else None,
        **cpu_fields(busy, units, proc, total, client_s),
    }
    print(json.dumps(run))


def machine():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "kernel": platform.release(),
        "machine": platform.machine(),
    }


SERVERS = ("xredird", "xredird-wake", "xredird-eager", "xredird-synack",
           "xredird-busy-poll", "nginx")
LABELS = {"xredird": "xredird", "xredird-wake": "xredird --coalesce-us 0",
          "xredird-eager": "xredird --lazy-acks off",
          "xredird-synack": "xredird --xdp-synack on",
          "xredird-busy-poll": "xredird --busy-poll", "nginx": "nginx"}
# Ratio rows to nginx, keyed by server; "ratio" is the default daemon's.
RATIOS = {"xredird": "ratio", "xredird-wake": "ratio_wake",
          "xredird-eager": "ratio_eager",
          "xredird-synack": "ratio_synack",
          "xredird-busy-poll": "ratio_busy_poll"}


def load_runs(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def summarize(runs, keys, extra):
    """Per scenario and server: medians of keys, extra(sel) added; then
    each xredird variant's ratios to nginx."""
    out = {}
    for scenario in ("keepalive", "close"):
        row = {}
        for server in SERVERS:
            sel = [r for r in runs
                   if r["scenario"] == scenario and r["server"] == server]
            if sel:
                row[server] = {k: (statistics.median(r[k] for r in sel)
                                   if all(r.get(k) is not None for r in sel)
                                   else None) for k in keys}
                row[server].update(runs=len(sel), **extra(sel))
        for server, ratio in RATIOS.items():
            if server in row and "nginx" in row:
                x, n = row[server], row["nginx"]
                row[ratio] = {k: x[k] / n[k]
                              if x[k] is not None and n[k] else None
                              for k in keys}
        out[scenario] = row
    return out


def rate_summary(path):
    """Per target rate (ascending), as summarize() gives it."""
    if not path or not os.path.exists(path):
        return None
    runs = load_runs(path)
    keys = ["rps", "cpu_us_per_req", "server_us_per_req", "client_us_per_req",
            "wakes_per_req"]
    by_rate = {}
    for rate in sorted({r["target_rate"] for r in runs}):
        sel = [r for r in runs if r["target_rate"] == rate]
        by_rate[rate] = summarize(sel, keys, lambda sel: {
            "target_rate": sel[0]["target_rate"],
            "errors": sum(r["errors"] + r["non_3xx"] for r in sel)})
    return {"by_rate": by_rate, "runs": runs}


def report(argv):
    runs_path, outdir, config = argv[:3]
    rate = rate_summary(argv[3] if len(argv) > 3 else None)
    runs = load_runs(runs_path) if os.path.exists(runs_path) else []
    keys = ["rps", "p50_us", "p99_us", "cpu_us_per_req", "server_us_per_req"]
    summary = summarize(runs, keys, lambda sel: {
        "socket_errors": sum(r["socket_errors"] for r in sel),
        "non_3xx": sum(r["non_3xx"] for r in sel)})
    now = datetime.datetime.now(datetime.timezone.utc)
    doc = {"date": now.strftime("%Y-%m-%d %H:%M UTC"), "config": config,
           "machine": machine(), "summary": summary, "runs": runs,
           "fixed_rate": rate}
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "bench.json"), "w") as f:
        json.dump(doc, f, indent=2)
    md = markdown(doc)
    with open(os.path.join(outdir, "bench.md"), "w") as f:
        f.write(md)
    print(md)


def markdown(doc):
    m = doc["machine"]
    lines = [
        f"Benchmark of {doc['date']} on {m['cpus']} CPUs ({m['cpu_model']}), "
        f"kernel {m['kernel']}; {doc['config']}; medians.",
        "",
    ]
    if doc["runs"]:
        lines += [
            "| scenario | server | requests/s | p50 latency | p99 latency "
            "| CPU per request (machine) | server process CPU per request "
            "| errors |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
        ]
    for scenario, row in doc["summary"].items():
        for server in SERVERS:
            if server not in row:
                continue
            s = row[server]
            lines.append(
                f"| {scenario} | {LABELS[server]} | {s['rps']:,.0f} "
                f"| {s['p50_us']:.0f} us | {s['p99_us']:.0f} us "
                f"| {s['cpu_us_per_req']:.1f} us "
                f"| {s['server_us_per_req']:.2f} us "
                f"| {s['socket_errors'] + s['non_3xx']} |")
        for server, ratio in RATIOS.items():
            if ratio not in row:
                continue
            r = row[ratio]
            lines.append(
                f"| {scenario} | **{LABELS[server]} / nginx** "
                f"| **{r['rps']:.2f}x** "
                f"| {r['p50_us']:.2f}x | {r['p99_us']:.2f}x "
                f"| {r['cpu_us_per_req']:.2f}x "
                f"| {r['server_us_per_req']:.2f}x | |")
    if doc["runs"]:
        lines.append("")
    rate = doc.get("fixed_rate")
    if rate:
        lines += [
            "At a fixed rate (bench/rateload, an open loop), CPU per "
            "request: the whole machine's (busy time over both CPUs: "
            "uptime less idle), the server process's and the client "
            "process's (their runtime); and the server's wake-ups per "
            "request (voluntary context switches):",
            "",
            "| scenario | server | target rate | achieved "
            "| CPU per request (machine) | server process CPU per request "
            "| client process CPU per request | server wake-ups per request "
            "| errors |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for rate_rows in rate["by_rate"].values():
            for scenario, row in rate_rows.items():
                for server in SERVERS:
                    if server in row:
                        s = row[server]
                        lines.append(
                            f"| {scenario} | {LABELS[server]} "
                            f"| {s['target_rate']:,} "
                            f"| {s['rps']:,.0f} "
                            f"| {fmt(s['cpu_us_per_req'], '.1f', ' us')} "
                            f"| {fmt(s['server_us_per_req'], '.2f', ' us')} "
                            f"| {fmt(s.get('client_us_per_req'), '.2f', ' us')} "
                            f"| {fmt(s.get('wakes_per_req'), '.2f')} "
                            f"| {s['errors']} |")
                for server, ratio in RATIOS.items():
                    if ratio in row:
                        r = row[ratio]
                        lines.append(
                            f"| {scenario} | **{LABELS[server]} / nginx** "
                            f"| | | **{fmt(r['cpu_us_per_req'], '.2f', 'x')}** "
                            f"| **{fmt(r['server_us_per_req'], '.2f', 'x')}** "
                            f"| | {fmt(r.get('wakes_per_req'), '.2f', 'x')} | |")
        lines.append("")
    return "\n".join(lines)


TLS_SERVERS = ("xredird", "nginx", "haproxy")
TLS_SCENARIOS = {
    "keepalive": "keep-alive requests (wrk)",
    "keepalive-rate": "keep-alive at a fixed rate (tlsload --rate)",
    "full": "new connection per request, full handshake",
    "resume": "new connection per request, resumed handshake",
}
# Issue 11's targets: (scenario, key, bound, label); a ratio to nginx.
TLS_TARGETS = (
    ("keepalive", "rps", 1.3, "keep-alive requests/s >= 1.3x nginx"),
    ("keepalive", "cpu_us_per_req", 0.75,
     "keep-alive whole-machine CPU per request <= 0.75x nginx (wrk)"),
    ("keepalive-rate", "cpu_us_per_req", 0.75,
     "the same at a fixed rate (tlsload --rate)"),
    ("full", "rps", 1.1, "full handshakes/s >= 1.1x nginx"),
    ("resume", "rps", 1.3, "resumed handshakes/s >= 1.3x nginx"),
)


def tls_summary(runs):
    keys = ["rps", "p50_us", "p99_us", "cpu_us_per_req",
            "server_us_per_req", "procs_us_per_req"]
    out = {}
    for scenario in TLS_SCENARIOS:
        row = {}
        for server in TLS_SERVERS:
            sel = [r for r in runs
                   if r["scenario"] == scenario and r["server"] == server]
            if not sel:
                continue
            row[server] = {k: (statistics.median(r[k] for r in sel)
                               if k in sel[0] else None) for k in keys}
            row[server].update(
                runs=len(sel),
                all_rps=[round(r["rps"]) for r in sel],
                target_rate=sel[0].get("target_rate"),
                errors=sum(r.get("socket_errors", r.get("errors", 0)) +
                           r["non_3xx"] for r in sel),
                tickets_per_hs=(statistics.median(r["tickets_per_hs"]
                                                  for r in sel)
                                if "tickets_per_hs" in sel[0] else None))
        for other in ("nginx", "haproxy"):
            if "xredird" in row and other in row:
                x, n = row["xredird"], row[other]
                row["xredird/" + other] = {
                    k: x[k] / n[k] if x[k] is not None and n[k] else None
                    for k in keys}
                row["xredird/" + other]["paired"] = paired(
                    runs, scenario, other)
        out[scenario] = row
    return out


def paired(runs, scenario, other):
    """Median over the repetitions of xredird's figure over other's in the
    same repetition (run within a minute of each other, so less affected
    by the load of a shared machine drifting than a ratio of medians)."""
    by = {(r["server"], r["rep"]): r for r in runs
          if r["scenario"] == scenario}
    out = {}
    for k in ("rps", "cpu_us_per_req", "server_us_per_req"):
        ratios = [by["xredird", rep][k] / by[other, rep][k]
                  for (server, rep) in by
                  if server == "xredird" and (other, rep) in by
                  and by[other, rep][k]]
        out[k] = statistics.median(ratios) if ratios else None
        out[k + "_all"] = [round(v, 2) for v in ratios]
    return out


def report_tls(argv):
    runs_path, mem_path, outdir, config, negotiated = argv
    runs = load_runs(runs_path)
    memory = load_runs(mem_path) if os.path.exists(mem_path) else []
    neg = {}
    if os.path.exists(negotiated):
        with open(negotiated) as f:
            for line in f:
                server, _, rest = line.strip().partition(" ")
                neg[server] = rest
    now = datetime.datetime.now(datetime.timezone.utc)
    summary = tls_summary(runs)
    targets = []
    for scenario, key, bound, label in TLS_TARGETS:
        r = summary.get(scenario, {}).get("xredird/nginx")
        v = r[key] if r else None
        p = r["paired"][key] if r else None
        ok = [x is not None and (x >= bound if key == "rps" else x <= bound)
              for x in (v, p)]
        targets.append({"target": label, "ratio": v, "paired": p,
                        "paired_all": r["paired"][key + "_all"] if r else [],
                        "met": all(ok), "met_one": any(ok)})
    doc = {"date": now.strftime("%Y-%m-%d %H:%M UTC"), "config": config,
           "machine": machine(), "negotiated": neg, "summary": summary,
           "targets": targets, "memory": memory, "runs": runs}
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "bench-https.json"), "w") as f:
        json.dump(doc, f, indent=2)
    md = markdown_tls(doc)
    with open(os.path.join(outdir, "bench-https.md"), "w") as f:
        f.write(md)
    print(md)


def fmt(v, spec, unit=""):
    return "-" if v is None else f"{v:{spec}}{unit}"


def markdown_tls(doc):
    m = doc["machine"]
    neg = "; ".join(f"{s}: {n}" for s, n in doc["negotiated"].items())
    lines = [
        f"HTTPS benchmark of {doc['date']} on {m['cpus']} CPUs "
        f"({m['cpu_model']}), kernel {m['kernel']}; {doc['config']}; "
        f"medians. Negotiated with OpenSSL's default offer: {neg}.",
        "",
        "| scenario | server | per second | p50 | p99 "
        "| CPU per request (machine) | server CPU per request "
        "| server + client CPU per request | tickets per handshake "
        "| errors | each run |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for scenario, row in doc["summary"].items():
        name = TLS_SCENARIOS[scenario]
        if scenario == "keepalive-rate" and row:
            name += f", {next(iter(row.values()))['target_rate']:,}/s"
        for server in TLS_SERVERS:
            if server not in row:
                continue
            s = row[server]
            lines.append(
                f"| {name} | {server} | {s['rps']:,.0f} "
                f"| {fmt(s['p50_us'] and s['p50_us'] / 1000, '.1f', ' ms')} "
                f"| {fmt(s['p99_us'] and s['p99_us'] / 1000, '.1f', ' ms')} "
                f"| {fmt(s['cpu_us_per_req'], '.1f', ' us')} "
                f"| {fmt(s['server_us_per_req'], '.1f', ' us')} "
                f"| {fmt(s['procs_us_per_req'], '.1f', ' us')} "
                f"| {fmt(s['tickets_per_hs'], '.2f')} | {s['errors']} "
                f"| {', '.join(f'{v:,}' for v in s['all_rps'])} |")
        for other in ("nginx", "haproxy"):
            r = row.get("xredird/" + other)
            if not r:
                continue
            lines.append(
                f"| {name} | **xredird / {other}** "
                f"| **{fmt(r['rps'], '.2f', 'x')}** "
                f"| {fmt(r['p50_us'], '.2f', 'x')} "
                f"| {fmt(r['p99_us'], '.2f', 'x')} "
                f"| **{fmt(r['cpu_us_per_req'], '.2f', 'x')}** "
                f"| {fmt(r['server_us_per_req'], '.2f', 'x')} "
                f"| {fmt(r['procs_us_per_req'], '.2f', 'x')} | | | |")
    lines += ["", "| issue 11 target | xredird / nginx (medians) "
              "| paired, per repetition | met |", "|---|---:|---|---|"]
    for t in doc["targets"]:
        met = ("not run" if t["ratio"] is None else "yes" if t["met"] else
               "by one reading" if t["met_one"] else "**no**")
        each = ", ".join(f"{v:.2f}" for v in t["paired_all"])
        lines.append(f"| {t['target']} | {fmt(t['ratio'], '.2f', 'x')} "
                     f"| {fmt(t['paired'], '.2f', 'x')} ({each}) | {met} |")
    if doc["memory"]:
        lines += [
            "",
            "Memory: RSS of the server started afresh, then with the idle "
            "TLS connections held (handshake done, one request answered):",
            "",
            "| server | RSS before | RSS with the connections held "
            "| connections held | per connection | errors |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for r in doc["memory"]:
            lines.append(
                f"| {r['server']} | {r['rss_before_kb']:,} KiB "
                f"| {r['rss_held_kb']:,} KiB | {r['held']:,} "
                f"| {fmt(r['bytes_per_conn'], ',.0f', ' B')} "
                f"| {r['errors']} |")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    verbs = {"parse": parse, "parse-rate": parse_rate, "parse-tls": parse_tls,
             "parse-hold": parse_hold, "report": report,
             "report-tls": report_tls}
    if len(sys.argv) < 2 or sys.argv[1] not in verbs:
        sys.exit(__doc__)
    verbs[sys.argv[1]](sys.argv[2:])
