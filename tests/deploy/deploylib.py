# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Helpers shared by the deployment tests (tests/deploy/test_*.py).

Stdlib and PyYAML only. Paths come from the repository layout; the daemon
binary is build/xredird unless XREDIRD names another one.

main() runs a module's unittest cases and prints one line per test,
"ok   NAME" or "FAIL NAME" with the reason indented below, the format
tests/deploy/run.sh counts; it exits 1 if any test failed or errored.
"""

import functools
import json
import os
import re
import shlex
import subprocess
import sys
import unittest

import yaml

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
# XREDIR_DEPLOY: another deploy/ tree (run.sh points it at broken copies
# to prove the tests catch what they are meant to).
DEPLOY = os.path.realpath(os.environ.get("XREDIR_DEPLOY", os.path.join(ROOT, "deploy")))
KUSTOMIZE_DIR = os.path.join(DEPLOY, "kubernetes")
DOCKERFILE = os.path.join(DEPLOY, "Dockerfile")
UNIT = os.path.join(DEPLOY, "systemd", "xredird.service")
# XREDIR_DEPS: another scripts/deps.sh (a broken copy, as XREDIR_DEPLOY).
DEPS_SH = os.path.realpath(os.environ.get("XREDIR_DEPS", os.path.join(ROOT, "scripts", "deps.sh")))
README = os.path.realpath(os.environ.get("XREDIR_README", os.path.join(ROOT, "README.md")))
XREDIRD = os.environ.get("XREDIRD", os.path.join(ROOT, "build", "xredird"))


def path(*parts):
    return os.path.join(ROOT, *parts)


# --------------------------------------------------------------- kubernetes


@functools.lru_cache(maxsize=None)
def rendered():
    """The objects `kubectl kustomize deploy/kubernetes` renders."""
    out = subprocess.run(
        ["kubectl", "kustomize", KUSTOMIZE_DIR],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [d for d in yaml.safe_load_all(out) if d is not None]


def find(kind, name=None):
    objs = [o for o in rendered() if o.get("kind") == kind]
    if name is not None:
        objs = [o for o in objs if o["metadata"]["name"] == name]
    return objs


def the_daemonset():
    objs = find("DaemonSet")
    if len(objs) != 1:
        raise AssertionError("expected exactly one DaemonSet, got %d" % len(objs))
    return objs[0]


K8S_VAR = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def k8s_expand(s, env):
    """Expands $(VAR) the way the kubelet does for args: a defined
    variable is replaced, an undefined one stays as written, $$ is $."""

    def sub(m):
        if m.group(0) == "$$":
            return "$"
        return env.get(m.group(1), m.group(0))

    return K8S_VAR.sub(sub, s)


# What the downward API gives, for checking the flags built from it.
FIELD_EXAMPLES = {"status.podIP": "192.0.2.10", "status.hostIP": "192.0.2.10"}


def container_env(container):
    """The container's literal env values, and an example value for a
    downward-API field (FIELD_EXAMPLES); other valueFrom ones are unknown."""
    env = {}
    for e in container.get("env", []):
        field = (e.get("valueFrom") or {}).get("fieldRef", {}).get("fieldPath")
        if "value" in e:
            env[e["name"]] = e["value"]
        elif field in FIELD_EXAMPLES:
            env[e["name"]] = FIELD_EXAMPLES[field]
    return env


# ----------------------------------------------------------------- xredird


@functools.lru_cache(maxsize=None)
def help_text():
    r = subprocess.run([XREDIRD, "--help"], capture_output=True, text=True)
    if r.returncode != 0 or not r.stdout.startswith("usage: xredird"):
        raise AssertionError(
            "%s --help failed (exit %d): %s" % (XREDIRD, r.returncode, r.stderr.strip())
        )
    return r.stdout


OPT_LINE = re.compile(
    r"^\s+(?:(-[A-Za-z0-9]),\s+)?(--[a-z0-9][a-z0-9-]*)"
    r"(?: ([A-Z][A-Z0-9_:./\[\]]*))?(?:\s+(.*))?$"
)


@functools.lru_cache(maxsize=None)
def help_options():
    """{'--name': {'short': '-x'|None, 'arg': 'META'|None, 'text': str}}
    parsed from the real binary's --help."""
    opts, last = {}, None
    for line in help_text().splitlines():
        m = OPT_LINE.match(line)
        if m:
            short, name, meta, text = m.groups()
            last = opts[name] = {"short": short, "arg": meta, "text": text or ""}
        elif last is not None and line.startswith("      ") and line.strip():
            last["text"] += " " + line.strip()
        else:
            last = None
    if not {"--iface", "--config", "--help"} <= set(opts) or len(opts) < 10:
        raise AssertionError("could not parse the options of xredird --help:\n" + help_text())
    return opts


def help_default(name):
    """The number in '(default N' of an option's --help text."""
    m = re.search(r"\(default (\d+)", help_options()[name]["text"])
    if not m:
        raise AssertionError("no numeric default for %s in --help" % name)
    return int(m.group(1))


def parse_argv(argv):
    """Splits an xredird argument vector into [(long_name, value)] using
    the option table of --help. Raises AssertionError on anything the
    table does not have exactly (getopt_long would also take unambiguous
    abbreviations; a deployment file must not rely on them), on a
    positional argument and on a missing or surplus value."""
    opts = help_options()
    shorts = {o["short"]: n for n, o in opts.items() if o["short"]}
    out, i = [], 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("--"):
            name, eq, val = a.partition("=")
            if name not in opts:
                raise AssertionError("xredird has no option %s (xredird --help)" % name)
            takes = opts[name]["arg"] is not None
            if eq and not takes:
                raise AssertionError("%s takes no value, got %r" % (name, a))
            if takes and not eq:
                if i + 1 >= len(argv):
                    raise AssertionError("%s needs a value" % name)
                i += 1
                val = argv[i]
            out.append((name, val if takes else None))
        elif a.startswith("-") and len(a) >= 2:
            if a[:2] not in shorts:
                raise AssertionError("xredird has no option %s (xredird --help)" % a[:2])
            name = shorts[a[:2]]
            takes = opts[name]["arg"] is not None
            if takes:
                if len(a) > 2:
                    val = a[2:]
                elif i + 1 < len(argv):
                    i += 1
                    val = argv[i]
                else:
                    raise AssertionError("%s needs a value" % a)
            elif len(a) > 2:
                raise AssertionError("bundled short options %r: spell them out" % a)
            else:
                val = None
            out.append((name, val))
        else:
            raise AssertionError("positional argument %r: xredird takes none" % a)
        i += 1
    return out


def option(parsed, name):
    """The last value given for a long option (getopt semantics), or None."""
    vals = [v for n, v in parsed if n == name]
    return vals[-1] if vals else None


def binary_accepts(argv, env=None):
    """Runs `xredird ARGV... --help`: getopt_long parses the options in
    order and parse_option() validates each value as it goes, so exit 0
    means the real binary takes every flag and value before --help."""
    e = dict(os.environ)
    e.update(env or {})
    r = subprocess.run([XREDIRD, *argv, "--help"], capture_output=True, text=True, env=e)
    if r.returncode != 0 or not r.stdout.startswith("usage: xredird"):
        raise AssertionError(
            "xredird %s --help: exit %d: %s"
            % (shlex.join(argv), r.returncode, (r.stderr or r.stdout).strip())
        )


# -------------------------------------------------------------- Dockerfile


def dockerfile_instructions(text):
    """[(INSTRUCTION, args)] with continuation lines joined and comments,
    blank lines and parser directives dropped."""
    out, cur = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not cur and (not line or line.startswith("#")):
            continue
        if cur and line.startswith("#"):
            continue  # comment inside a continued instruction
        if line.endswith("\\"):
            cur += line[:-1] + " "
            continue
        cur += line
        word, _, rest = cur.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
        cur = ""
    if cur.strip():
        word, _, rest = cur.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def _dockerfile_text(text):
    if text is None:
        with open(DOCKERFILE) as f:
            text = f.read()
    return text


def dockerfile_global_args(text=None):
    """{name: default|None} of the ARGs before the first FROM (the only
    instruction allowed there)."""
    args = {}
    for ins, a in dockerfile_instructions(_dockerfile_text(text)):
        if ins == "FROM":
            break
        name, eq, default = a.partition("=")
        args[name.strip()] = shlex.split(default)[0] if eq and default else None
    return args


def dockerfile_stages(text=None):
    """[{'from': image, 'name': alias|None, 'ins': [(INSTR, args)]}]."""
    stages = []
    for ins, args in dockerfile_instructions(_dockerfile_text(text)):
        if ins == "ARG" and not stages:
            continue  # a global ARG (dockerfile_global_args)
        if ins == "FROM":
            words = [w for w in args.split() if not w.startswith("--platform")]
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append({"from": words[0], "name": name, "ins": []})
        elif stages:
            stages[-1]["ins"].append((ins, args))
        else:
            raise AssertionError("instruction %s before the first FROM" % ins)
    return stages


def exec_form(args):
    """The JSON array of an exec-form ENTRYPOINT/CMD."""
    v = json.loads(args)
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise AssertionError("not an exec-form JSON array of strings: %s" % args)
    return v


# ---------------------------------------------------------------- systemd


def parse_unit(text=None):
    """{section: [(key, value)]} of a systemd unit: keys may repeat (as
    Environment= does, which configparser cannot keep), lines ending in a
    backslash continue, # and ; start comments."""
    if text is None:
        with open(UNIT) as f:
            text = f.read()
    sections, cur, pending = {}, None, ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line[0] in "#;"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        if line.startswith("[") and line.endswith("]"):
            cur = line[1:-1]
            sections.setdefault(cur, [])
            continue
        if cur is None or "=" not in line:
            raise AssertionError("unit line outside a section or without '=': %r" % line)
        k, _, v = line.partition("=")
        sections[cur].append((k.strip(), v.strip()))
    return sections


def unit_values(unit, section, key):
    return [v for k, v in unit.get(section, []) if k == key]


def unit_environment(unit):
    env = {}
    for v in unit_values(unit, "Service", "Environment"):
        for assignment in shlex.split(v):
            k, _, val = assignment.partition("=")
            env[k] = val
    return env


def unit_exec_argv(cmdline, env):
    """Splits an Exec*= line like systemd: leading @-:+! prefixes dropped,
    ${VAR} replaced as one word, $VAR split at whitespace."""
    cmdline = cmdline.lstrip("@-:+!")
    argv = []
    for word in shlex.split(cmdline):
        m = re.fullmatch(r"\$([A-Za-z_][A-Za-z0-9_]*)", word)
        if m:
            argv.extend(env.get(m.group(1), "").split())
            continue
        argv.append(re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: env.get(m.group(1), ""), word))
    return argv


# -------------------------------------------------------------- the runner


class _Result(unittest.TestResult):
    def __init__(self):
        super().__init__()
        self.lines = []

    def addSuccess(self, test):
        super().addSuccess(test)
        self.lines.append(("ok", test, None))

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.lines.append(("FAIL", test, str(err[1]) or err[0].__name__))

    def addError(self, test, err):
        super().addError(test, err)
        self.lines.append(("FAIL", test, "%s: %s" % (err[0].__name__, err[1])))

    def addSkip(self, test, reason):
        # Nothing here may be skipped: a skip is a failure.
        super().addSkip(test, reason)
        self.lines.append(("FAIL", test, "skipped: %s" % reason))


def main(module_name="__main__"):
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[module_name])
    result = _Result()
    suite.run(result)
    prefix = os.path.splitext(os.path.basename(sys.modules[module_name].__file__))[0]
    failed = 0
    for status, test, why in result.lines:
        doc = getattr(test, "description", None) or test.shortDescription()
        name = "%s: %s" % (prefix, doc or test.id().split(".", 1)[-1])
        print("%-4s %s" % (status, name))
        if why:
            failed += 1
            for line in why.splitlines():
                print("       " + line)
    if not result.lines:
        print("FAIL %s: no test ran" % prefix)
        sys.exit(1)
    sys.exit(1 if failed else 0)
