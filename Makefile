# xredir: kernel-bypass HTTP redirector.
# `make` builds the BPF object, its skeleton, then the binaries.
# `make test` installs what it needs (deps), builds, runs every test.

BUILD ?= build
CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool

ARCH_INC := -I/usr/include/$(shell $(CC) -dumpmachine)
PKGS := libxdp libbpf openssl

WARN := -Wall -Wextra -Werror
CFLAGS ?= -O2 -g
# Link-time optimisation: the engine's hot path crosses files (tcp.c,
# http_*.c, packet.c); the sanitizer and fuzz builds do without.
LTO ?= -flto=auto
# user/: the programs; core/: the engine and its protocols; control/: the
# pure control-plane logic; io/: what touches sockets, AF_XDP and maps.
USER_INC := -Iuser -Iuser/core -Iuser/control -Iuser/io -Ibpf
CFLAGS += $(WARN) -std=gnu11 -D_GNU_SOURCE $(USER_INC) -I$(BUILD) \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lelf -lz -lpthread
# OpenSSL: the core's TLS (user/core/tls.c), in every program and test.
TLS_LIBS := $(shell pkg-config --libs openssl 2>/dev/null || echo -lssl -lcrypto)
# sd_notify (user/io/notify.c): only the daemon links it.
DAEMON_LDLIBS := $(shell pkg-config --libs libsystemd 2>/dev/null)
BPF_CFLAGS := -O2 -g -target bpf $(WARN) $(ARCH_INC) -Ibpf

# Every compile lists the headers it read in a .d file beside its output
# (included below), so an edit rebuilds only what reads the header.
DEPFLAGS := -MMD -MP

SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer

# Pure code (core/ and control/): no sockets, no BPF; unit-tested, fuzzed,
# sanitized.
CORE_SRCS := $(sort $(wildcard user/core/*.c user/control/*.c))
# Code that talks to the kernel (io/), as both programs use it.
IO_SRCS := $(addprefix user/io/,xsk.c loader.c log.c rules.c apply.c \
	lockfile.c resolve.c)
DAEMON_SRCS := user/xredird.c user/options.c user/version.c user/doc.c \
	$(addprefix user/io/,worker.c ack_ring.c watch.c listener.c metrics.c \
	notify.c iface.c certs.c)
# The daemon's flags (options.c) check a --metrics-listen address with the
# listener's own parser: their unit test links these with the core, as do
# /metrics' and the ACK ring's.
OPTIONS_SAN_OBJS := $(patsubst %,$(BUILD)/san/%.o,options version doc \
	io/listener io/metrics io/resolve io/rules io/lockfile io/log io/certs \
	io/ack_ring)
CTL_SRCS := user/xredirctl.c user/version.c user/doc.c

# The version both programs print and /metrics shows: git describe, or
# "unknown" outside a git checkout (a tarball, the image's build context).
# Override with make XR_VERSION=... XR_COMMIT=...
XR_VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo unknown)
XR_COMMIT ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
XR_VERSION := $(XR_VERSION)
XR_COMMIT := $(XR_COMMIT)

CORE_OBJS := $(CORE_SRCS:user/%.c=$(BUILD)/%.o)
IO_OBJS := $(IO_SRCS:user/%.c=$(BUILD)/%.o)
CORE_SAN_OBJS := $(CORE_SRCS:user/%.c=$(BUILD)/san/%.o)

BPF_OBJ := $(BUILD)/xredir.bpf.o
SKEL := $(BUILD)/xredir.skel.h

FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all $(WARN) -std=gnu11 -D_GNU_SOURCE \
	$(USER_INC) -Itests/unit
comma := ,
GEN_SEEDS_CFLAGS := $(subst -fsanitize=fuzzer$(comma),-fsanitize=,$(FUZZ_CFLAGS))
FUZZERS := $(patsubst tests/fuzz/fuzz_%.c,$(BUILD)/fuzz/fuzz_%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 60

UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))

BINS := $(BUILD)/xredird $(BUILD)/xredirctl

.PHONY: FORCE all docs install uninstall deps check test unit-test pcap-test deploy-test package-test bpf-test e2e-test fuzz fuzz-test fuzz-corpus fuzz-seeds demo bench bench-engine bench-tls ceiling fmt fmt-check clean
.DEFAULT_GOAL := all
# A recipe that fails leaves no half-written target behind.
.DELETE_ON_ERROR:

all: $(BPF_OBJ) $(SKEL) $(BINS)

$(BUILD) $(BUILD)/san $(BUILD)/tests:
	mkdir -p $@

# `make -j2 deps all`: nothing is built before the prerequisites are in
# (every build rule waits for one of these directories).
ifneq ($(filter deps,$(MAKECMDGOALS)),)
$(BUILD) $(BUILD)/san $(BUILD)/tests: | deps
endif

$(BPF_OBJ): bpf/xredir.bpf.c | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -c $< -o $@

# bpftool prints a note about libxdp's .xdp_run_config section; it is expected.
$(SKEL): $(BPF_OBJ)
	$(BPFTOOL) gen skeleton $< name xredir_bpf > $@.tmp 2>/dev/null
	mv $@.tmp $@

# CPPFLAGS and LDFLAGS: a packager's (dpkg-buildflags: fortify, relro).
$(BUILD)/%.o: user/%.c | $(BUILD)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(DEPFLAGS) $(LTO) -c $< -o $@

# A generated header must exist before the first compile that reads it.
$(BUILD)/io/loader.o: $(SKEL)

# Only version.o sees the version: its stamp changes (and rebuilds it)
# when the version does.
VERSION_DEFS := -DXR_VERSION='"$(XR_VERSION)"' -DXR_COMMIT='"$(XR_COMMIT)"'
$(BUILD)/version.stamp: FORCE | $(BUILD)
	@echo '$(XR_VERSION) $(XR_COMMIT)' | cmp -s - $@ || \
		echo '$(XR_VERSION) $(XR_COMMIT)' > $@
$(BUILD)/version.o $(BUILD)/san/version.o: CFLAGS += $(VERSION_DEFS)
$(BUILD)/version.o $(BUILD)/san/version.o: $(BUILD)/version.stamp

$(BUILD)/san/%.o: user/%.c | $(BUILD)/san
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN_FLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/xredird: $(DAEMON_SRCS:user/%.c=$(BUILD)/%.o) $(CORE_OBJS) $(IO_OBJS)
	$(CC) $(CFLAGS) $(LTO) $(LDFLAGS) $^ -o $@ $(LDLIBS) $(DAEMON_LDLIBS)

$(BUILD)/xredirctl: $(CTL_SRCS:user/%.c=$(BUILD)/%.o) $(IO_OBJS) $(CORE_OBJS)
	$(CC) $(CFLAGS) $(LTO) $(LDFLAGS) $^ -o $@ $(LDLIBS)

# Man pages and bash completion: the prose and the logic are in doc/, the
# flags and commands come from the programs' own tables (--doc), so the
# reference is written once.
MANS := $(BUILD)/man/xredird.8 $(BUILD)/man/xredirctl.8
COMPLETIONS := $(BUILD)/completion/xredird $(BUILD)/completion/xredirctl
# The default config is the ConfigMap's (one file for both): its
# "xredir.conf: |" block, unindented.
CONF := $(BUILD)/xredir.conf
# The man pages' date: the package's (SOURCE_DATE_EPOCH, set by
# dpkg-buildpackage), else the commit's, else today.
XR_DATE ?= $(shell date -u -d @$${SOURCE_DATE_EPOCH:-$$(git log -1 \
	--format=%ct 2>/dev/null || date +%s)} +%Y-%m-%d)

docs: $(MANS) $(COMPLETIONS) $(CONF)

$(BUILD)/man/%.8: doc/man/%.8.in $(BUILD)/% $(BUILD)/version.stamp
	@mkdir -p $(@D)
	$(BUILD)/$* --doc man > $@.tables
	sed -e 's|@VERSION@|$(XR_VERSION)|' -e 's|@DATE@|$(XR_DATE)|' \
		-e '/^@TABLES@$$/{r $@.tables' -e 'd}' $< > $@
	rm -f $@.tables

$(BUILD)/completion/%: doc/completion/%.bash $(BUILD)/%
	@mkdir -p $(@D)
	{ $(BUILD)/$* --doc bash && cat $<; } > $@

$(CONF): deploy/kubernetes/configmap.yaml | $(BUILD)
	awk '/^  xredir\.conf: \|$$/ { on = 1; next } \
		on && /^(    |$$)/ { sub(/^    /, ""); print; next } \
		on { exit }' $< > $@
	test -s $@

# make install [PREFIX=/usr/local] [DESTDIR=]: the programs in sbin (they
# need root), man pages, completion, the systemd unit running the installed
# xredird, and the default config (kept if one is there).
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc

install: all docs
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(SYSCONFDIR)/xredir
	install -m 0755 $(BINS) $(DESTDIR)$(SBINDIR)/
	install -m 0644 $(MANS) $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 $(COMPLETIONS) $(DESTDIR)$(BASHCOMPDIR)/
	sed 's|^ExecStart=[^ ]*/xredird |ExecStart=$(SBINDIR)/xredird |' \
		deploy/systemd/xredird.service > $(DESTDIR)$(UNITDIR)/xredird.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/xredird.service
	grep -q '^ExecStart=$(SBINDIR)/xredird ' $(DESTDIR)$(UNITDIR)/xredird.service
	[ -e $(DESTDIR)$(SYSCONFDIR)/xredir/xredir.conf ] || \
		install -m 0644 $(CONF) $(DESTDIR)$(SYSCONFDIR)/xredir/xredir.conf

# Leaves the config (an operator's file) in place.
uninstall:
	rm -f $(addprefix $(DESTDIR)$(SBINDIR)/,xredird xredirctl) \
		$(addprefix $(DESTDIR)$(MANDIR)/man8/,xredird.8 xredirctl.8) \
		$(addprefix $(DESTDIR)$(BASHCOMPDIR)/,xredird xredirctl) \
		$(DESTDIR)$(UNITDIR)/xredird.service

# Unit tests run under ASan and UBSan.
$(BUILD)/tests/test_%: tests/unit/test_%.c $(CORE_SAN_OBJS) | $(BUILD)/tests
	$(CC) $(CFLAGS) $(SAN_FLAGS) $(DEPFLAGS) -Itests/unit $< $(CORE_SAN_OBJS) -o $@ $(TLS_LIBS)

# /metrics' test renders from maps in memory with the same objects; the ACK
# ring's reads a time namespace's offsets from memory.
$(BUILD)/tests/test_options $(BUILD)/tests/test_metrics \
		$(BUILD)/tests/test_ack_ring: $(BUILD)/tests/%: tests/unit/%.c tests/unit/test.h $(CORE_SAN_OBJS) $(OPTIONS_SAN_OBJS) | $(BUILD)/tests
	$(CC) $(CFLAGS) $(SAN_FLAGS) -Itests/unit $< $(OPTIONS_SAN_OBJS) $(CORE_SAN_OBJS) -o $@ $(LDLIBS)

$(BUILD)/fuzz:
	mkdir -p $@

# libFuzzer targets, built with clang over the core sources in one command:
# each reads (nearly) every header, so it depends on them all.
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(CORE_SRCS) $(wildcard user/*.h user/*/*.h tests/unit/*.h tests/fuzz/*.h) | $(BUILD)/fuzz
	$(CLANG) $(FUZZ_CFLAGS) $< $(CORE_SRCS) -o $@ $(TLS_LIBS)

# The seed corpora, written by tests/fuzz/gen_seeds.c (HTTPS seeds from a
# real OpenSSL client talking to the engine): make fuzz-seeds.
$(BUILD)/fuzz/gen_seeds: tests/fuzz/gen_seeds.c $(CORE_SRCS) $(wildcard user/*.h user/*/*.h tests/unit/*.h tests/fuzz/*.h) | $(BUILD)/fuzz
	$(CLANG) $(GEN_SEEDS_CFLAGS) $< $(CORE_SRCS) -o $@ $(TLS_LIBS)

fuzz-seeds: $(BUILD)/fuzz/gen_seeds
	$< tests/fuzz/corpus

# Test tools that link with system libraries.
$(BUILD)/tests/test_xdp: tests/bpf/test_xdp.c $(SKEL) $(CORE_OBJS) | $(BUILD)/tests
	$(CC) $(CFLAGS) $(DEPFLAGS) -Itests/unit $< $(CORE_OBJS) -o $@ $(LDLIBS) $(TLS_LIBS)

$(BUILD)/tests/pcapcheck: tests/pcap/pcapcheck.c | $(BUILD)/tests
	$(CC) $(CFLAGS) $(DEPFLAGS) $< -o $@ -lpcap

# Replays committed captures of real sessions through the engine.
$(BUILD)/tests/replay: tests/pcap/replay.c $(CORE_SAN_OBJS) | $(BUILD)/tests
	$(CC) $(CFLAGS) $(SAN_FLAGS) $(DEPFLAGS) $< $(CORE_SAN_OBJS) -o $@ -lpcap $(TLS_LIBS)

# Robustness tools: seeded impairment on a veth (tc), raw SYN flood.
$(BUILD)/robust:
	mkdir -p $@

$(BUILD)/robust/impair.bpf.o: tests/robust/impair.bpf.c | $(BUILD)/robust
	$(CLANG) -O2 -g -target bpf $(WARN) $(DEPFLAGS) $(ARCH_INC) -Itests/robust -c $< -o $@

$(BUILD)/robust/impaird: tests/robust/impaird.c | $(BUILD)/robust
	$(CC) -O2 -g $(WARN) $(DEPFLAGS) -std=gnu11 -Itests/robust $< -o $@ $(LDLIBS)

$(BUILD)/robust/rawclient: tests/robust/rawclient.c | $(BUILD)/robust
	$(CC) -O2 -g $(WARN) $(DEPFLAGS) -std=gnu11 $< -o $@ -lpthread

ROBUST_TOOLS := $(BUILD)/robust/impair.bpf.o $(BUILD)/robust/impaird \
	$(BUILD)/robust/rawclient
TEST_TOOLS := $(BUILD)/tests/test_xdp $(BUILD)/tests/pcapcheck $(ROBUST_TOOLS)

deps:
	./scripts/deps.sh

unit-test: $(UNIT_TESTS)
	./tests/run-unit.sh $(UNIT_TESTS)

# The capture checker's own tests, and committed real sessions replayed
# through the engine.
pcap-test: $(BUILD)/tests/pcapcheck $(BUILD)/tests/replay
	./tests/pcap/test_pcapcheck.sh
	$(BUILD)/tests/replay tests/pcap/*.pcap

# The deployment files: lint, schemas, security fields, flags, image build.
deploy-test: all
	./tests/deploy/run.sh

# The Debian package: built from a copy of the tree, lintian, installed,
# its files, man pages, completion and unit checked, its xredird started.
package-test: all
	./tests/package/run.sh

bpf-test: all $(BUILD)/tests/test_xdp
	./tests/bpf/run.sh $(BUILD)/tests/test_xdp

# End-to-end suites (tests/e2e/NAME.sh), each on its own namespace topology.
E2E_SUITES := basic conformance control lifecycle fabric robust attack tls

e2e-test: all $(TEST_TOOLS)
	./tests/e2e/run.sh $(E2E_SUITES)

fuzz: $(FUZZERS)
	./tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZERS)

fuzz-test: $(FUZZERS)
	./tests/fuzz/run.sh 60 $(FUZZERS)

# Every committed regression and corpus input once, no fuzzing.
fuzz-corpus: $(FUZZERS)
	./tests/fuzz/run.sh 0 $(FUZZERS)

# Everything that needs neither root nor the network (nor `deps`).
check: unit-test pcap-test fuzz-corpus

test: deps
	$(MAKE) all
	$(MAKE) unit-test
	$(MAKE) pcap-test
	$(MAKE) deploy-test
	$(MAKE) package-test
	$(MAKE) fuzz-test
	$(MAKE) bpf-test
	$(MAKE) e2e-test

demo: deps
	$(MAKE) all
	./scripts/demo.sh

# make bench BENCH=plain|rate|tls: only that part (default all).
bench: deps
	$(MAKE) all $(BUILD)/bench/tlsload $(BUILD)/bench/hsload \
		$(BUILD)/bench/rateload
	./scripts/bench.sh $(if $(BENCH),--only $(BENCH))

# The fixed-rate HTTP client behind make bench's rate runs.
$(BUILD)/bench/rateload: bench/rateload.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(DEPFLAGS) $< -o $@

# The HTTPS client behind make bench's new-connection and memory runs.
$(BUILD)/bench/tlsload: bench/tls/tlsload.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(DEPFLAGS) $< -o $@ $(TLS_LIBS_openssl)

# The handshake client behind make bench's new-connection runs: Go's
# crypto/tls costs a client core less per handshake than OpenSSL 3.0's.
$(BUILD)/bench/hsload: bench/tls/hsload.go
	@mkdir -p $(@D)
	GOCACHE=$(abspath $(BUILD))/go-cache GOPROXY=off GOFLAGS= go build -o $@ $<

# The AF_XDP load generator behind `make ceiling` (bench/loadgen/README.md).
$(BUILD)/loadgen:
	mkdir -p $@

$(BUILD)/loadgen/loadgen.bpf.o: bench/loadgen/loadgen.bpf.c | $(BUILD)/loadgen
	$(CLANG) -O2 -g -target bpf $(WARN) $(DEPFLAGS) $(ARCH_INC) -Ibench/loadgen -c $< -o $@

$(BUILD)/loadgen/loadgen: bench/loadgen/loadgen.c | $(BUILD)/loadgen
	$(CC) $(CFLAGS) $(DEPFLAGS) -march=native -Ibench/loadgen $< -o $@ $(LDLIBS)

LOADGEN := $(BUILD)/loadgen/loadgen $(BUILD)/loadgen/loadgen.bpf.o

ceiling: deps
	$(MAKE) all $(LOADGEN)
	./scripts/ceiling.sh

$(BUILD)/bench_engine: bench/bench_engine.c $(CORE_OBJS)
	$(CC) $(CFLAGS) $(DEPFLAGS) $(LTO) -Itests/unit $< $(CORE_OBJS) -o $@ $(TLS_LIBS)

bench-engine: $(BUILD)/bench_engine
	./scripts/bench_engine.sh

# OpenSSL against wolfSSL as the engine's TLS library (issue 11), over
# memory pipes: bench/tls/README.md. One binary per library (they export
# clashing symbols); not part of make test.
TLS_BENCH_DEPS := bench/tls/tls_bench.c bench/tls/tls_lib.h

$(BUILD)/bench/tls_bench_%: bench/tls/tls_%.c $(TLS_BENCH_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Ibench/tls bench/tls/tls_bench.c $< -o $@ \
		$(TLS_LIBS_$*)

TLS_LIBS_openssl = $(shell pkg-config --libs libssl libcrypto)
TLS_LIBS_wolfssl = $(shell pkg-config --libs wolfssl)
TLS_BENCH := $(BUILD)/bench/tls_bench_openssl $(BUILD)/bench/tls_bench_wolfssl

bench-tls: deps
	$(MAKE) $(TLS_BENCH)
	./scripts/bench_tls.sh

FMT_FILES = bpf/*.c bpf/*.h user/*.c user/*.h user/*/*.c user/*/*.h \
	tests/*/*.c tests/*/*.h bench/*.c bench/*.h bench/tls/*.c bench/tls/*.h

fmt:
	clang-format -i $(FMT_FILES)

fmt-check:
	clang-format --dry-run -Werror $(FMT_FILES)

clean:
	rm -rf $(BUILD)

# Keep the sanitizer objects between test builds.
.SECONDARY: $(CORE_SAN_OBJS) $(OPTIONS_SAN_OBJS)

-include $(wildcard $(BUILD)/*.d $(BUILD)/*/*.d $(BUILD)/*/*/*.d)
