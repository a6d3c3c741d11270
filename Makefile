# xredir: kernel-bypass HTTP redirector.
# `make` builds the BPF object, its skeleton, then the binaries.
# `make test` installs what it needs (deps), builds, runs every test.

BUILD ?= build
CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool

ARCH_INC := -I/usr/include/$(shell $(CC) -dumpmachine)
PKGS := libxdp libbpf

WARN := -Wall -Wextra -Werror
CFLAGS ?= -O2 -g
# Link-time optimisation: the engine's hot path crosses files (tcp.c,
# http.c, packet.c); the sanitizer and fuzz builds do without.
LTO ?= -flto=auto
CFLAGS += $(WARN) -std=gnu11 -D_GNU_SOURCE -Iuser -Ibpf -I$(BUILD) \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lelf -lz -lpthread
BPF_CFLAGS := -O2 -g -target bpf $(WARN) $(ARCH_INC) -Ibpf

SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer

# Pure protocol code: no sockets, no BPF; unit-tested, fuzzed, sanitized.
CORE_SRCS := user/siphash.c user/cookie.c user/flow.c user/timer.c \
	user/cidr.c user/config.c user/stats.c user/proxy.c \
	user/bufpool.c user/packet.c user/http.c user/tcp.c
# Code that talks to the kernel.
IO_SRCS := user/xsk.c user/loader.c user/log.c user/rules.c user/apply.c
DAEMON_SRCS := user/xredird.c user/worker.c user/targets.c user/watch.c \
	user/listener.c user/metrics.c
CTL_SRCS := user/xredirctl.c

CORE_OBJS := $(CORE_SRCS:user/%.c=$(BUILD)/%.o)
IO_OBJS := $(IO_SRCS:user/%.c=$(BUILD)/%.o)
CORE_SAN_OBJS := $(CORE_SRCS:user/%.c=$(BUILD)/san/%.o)

BPF_OBJ := $(BUILD)/xredir.bpf.o
SKEL := $(BUILD)/xredir.skel.h

FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all $(WARN) -std=gnu11 -D_GNU_SOURCE \
	-Iuser -Ibpf -Itests/unit
FUZZERS := $(patsubst tests/fuzz/fuzz_%.c,$(BUILD)/fuzz/fuzz_%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 60

UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))

BINS := $(BUILD)/xredird $(BUILD)/xredirctl

.PHONY: all deps test unit-test pcap-test deploy-test bpf-test e2e-test fuzz fuzz-test demo bench bench-engine ceiling fmt fmt-check clean
.DEFAULT_GOAL := all

all: $(BPF_OBJ) $(SKEL) $(BINS)

$(BUILD) $(BUILD)/san $(BUILD)/tests:
	mkdir -p $@

$(BPF_OBJ): bpf/xredir.bpf.c bpf/parsing.h bpf/maps.h bpf/xredir_shared.h | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# bpftool prints a note about libxdp's .xdp_run_config section; it is expected.
$(SKEL): $(BPF_OBJ)
	$(BPFTOOL) gen skeleton $< name xredir_bpf > $@.tmp 2>/dev/null
	mv $@.tmp $@

$(BUILD)/%.o: user/%.c $(wildcard user/*.h) $(SKEL) | $(BUILD)
	$(CC) $(CFLAGS) $(LTO) -c $< -o $@

$(BUILD)/san/%.o: user/%.c $(wildcard user/*.h) | $(BUILD)/san
	$(CC) $(CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(BUILD)/xredird: $(DAEMON_SRCS:user/%.c=$(BUILD)/%.o) $(CORE_OBJS) $(IO_OBJS)
	$(CC) $(CFLAGS) $(LTO) $^ -o $@ $(LDLIBS)

$(BUILD)/xredirctl: $(CTL_SRCS:user/%.c=$(BUILD)/%.o) $(IO_OBJS) $(CORE_OBJS)
	$(CC) $(CFLAGS) $(LTO) $^ -o $@ $(LDLIBS)

# Unit tests run under ASan and UBSan.
$(BUILD)/tests/test_%: tests/unit/test_%.c tests/unit/test.h $(CORE_SAN_OBJS) | $(BUILD)/tests
	$(CC) $(CFLAGS) $(SAN_FLAGS) -Itests/unit $< $(CORE_SAN_OBJS) -o $@

$(BUILD)/fuzz:
	mkdir -p $@

# libFuzzer targets, built with clang over the core sources.
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(CORE_SRCS) $(wildcard user/*.h) | $(BUILD)/fuzz
	$(CLANG) $(FUZZ_CFLAGS) $< $(CORE_SRCS) -o $@

# Test tools that link with system libraries.
$(BUILD)/tests/test_xdp: tests/bpf/test_xdp.c tests/unit/test.h $(SKEL) | $(BUILD)/tests
	$(CC) $(CFLAGS) -Itests/unit $< -o $@ $(LDLIBS)

$(BUILD)/tests/pcapcheck: tests/pcap/pcapcheck.c | $(BUILD)/tests
	$(CC) $(CFLAGS) $< -o $@ -lpcap

# Replays committed captures of real sessions through the engine.
$(BUILD)/tests/replay: tests/pcap/replay.c $(CORE_SAN_OBJS) | $(BUILD)/tests
	$(CC) $(CFLAGS) $(SAN_FLAGS) $< $(CORE_SAN_OBJS) -o $@ -lpcap

# Robustness tools: seeded impairment on a veth (tc), raw SYN flood.
$(BUILD)/robust:
	mkdir -p $@

$(BUILD)/robust/impair.bpf.o: tests/robust/impair.bpf.c tests/robust/impair.h | $(BUILD)/robust
	$(CLANG) -O2 -g -target bpf $(WARN) $(ARCH_INC) -Itests/robust -c $< -o $@

$(BUILD)/robust/impaird: tests/robust/impaird.c tests/robust/impair.h | $(BUILD)/robust
	$(CC) -O2 -g $(WARN) -std=gnu11 -Itests/robust $< -o $@ $(LDLIBS)

$(BUILD)/robust/rawclient: tests/robust/rawclient.c | $(BUILD)/robust
	$(CC) -O2 -g $(WARN) -std=gnu11 $< -o $@ -lpthread

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

bpf-test: all $(BUILD)/tests/test_xdp
	./tests/bpf/run.sh $(BUILD)/tests/test_xdp

# End-to-end suites, each on its own namespace topology.
E2E_SUITES := tests/e2e/run.sh tests/e2e/conformance.sh tests/e2e/control.sh \
	tests/e2e/lifecycle.sh tests/e2e/fabric.sh tests/e2e/robust.sh \
	tests/e2e/attack.sh

e2e-test: all $(TEST_TOOLS)
	./tests/e2e/suites.sh $(E2E_SUITES)

fuzz: $(FUZZERS)
	./tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZERS)

fuzz-test: $(FUZZERS)
	./tests/fuzz/run.sh 60 $(FUZZERS)

test: deps
	$(MAKE) all
	$(MAKE) unit-test
	$(MAKE) pcap-test
	$(MAKE) deploy-test
	$(MAKE) fuzz-test
	$(MAKE) bpf-test
	$(MAKE) e2e-test

demo: deps
	$(MAKE) all
	./scripts/demo.sh

bench: deps
	$(MAKE) all
	./scripts/bench.sh

# The AF_XDP load generator behind `make ceiling` (bench/loadgen/README.md).
$(BUILD)/loadgen:
	mkdir -p $@

$(BUILD)/loadgen/loadgen.bpf.o: bench/loadgen/loadgen.bpf.c bench/loadgen/loadgen_shared.h | $(BUILD)/loadgen
	$(CLANG) -O2 -g -target bpf $(WARN) $(ARCH_INC) -Ibench/loadgen -c $< -o $@

$(BUILD)/loadgen/loadgen: bench/loadgen/loadgen.c bench/loadgen/loadgen_shared.h user/csum.h | $(BUILD)/loadgen
	$(CC) $(CFLAGS) -march=native -Ibench/loadgen $< -o $@ $(LDLIBS)

LOADGEN := $(BUILD)/loadgen/loadgen $(BUILD)/loadgen/loadgen.bpf.o

ceiling: deps
	$(MAKE) all $(LOADGEN)
	./scripts/ceiling.sh

$(BUILD)/bench_engine: bench/bench_engine.c tests/unit/engine_harness.h $(CORE_OBJS)
	$(CC) $(CFLAGS) $(LTO) -Itests/unit $< $(CORE_OBJS) -o $@

bench-engine: $(BUILD)/bench_engine
	./scripts/bench_engine.sh

fmt:
	clang-format -i bpf/*.c bpf/*.h user/*.c user/*.h tests/*/*.c tests/*/*.h

fmt-check:
	clang-format --dry-run -Werror bpf/*.c bpf/*.h user/*.c user/*.h tests/*/*.c tests/*/*.h

clean:
	rm -rf $(BUILD)

# Keep the sanitizer objects between test builds.
.SECONDARY: $(CORE_SAN_OBJS)
