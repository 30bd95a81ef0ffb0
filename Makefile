# op25b — the two commands of the quick start are `make demo` and `make test`.
# Each installs what it needs (Debian packages) when missing, then builds.

SHELL := /bin/bash
CARGO ?= cargo
# Debian packages the build and the tests need. Idempotent: only missing ones are installed.
BUILD_DEPS := libdpdk-dev dpdk libclang-dev clang pkg-config
TEST_DEPS  := $(BUILD_DEPS) dpdk-dev tshark iproute2 ethtool
# The control-plane tests parse /metrics with Prometheus' own (Python) text parser;
# the push lab (e2e/push) reads JSON with jq.
TEST_DEPS  += python3-prometheus-client jq
DEMO_DIR   := target/demo
# Each DPDK process gets its own runtime directory (no shared config with other runs).
EAL_VDEV   := --no-huge --no-pci -l 0-1 -m 256 --file-prefix op25b-demo --log-level=*:warning

.PHONY: all build demo test deps-build deps-test lint fixtures clean bench fuzz soak

all: build

deps-build:
	@bash .ci/install-deps $(BUILD_DEPS)

deps-test:
	@bash .ci/install-deps $(TEST_DEPS)

build: deps-build
	$(CARGO) build --release --workspace --bins

# Replays the bundled pcaps (subscriber side and core side) through op25bd on
# virtual devices, with configs/example.yaml, and prints what it did.
demo: build
	@mkdir -p $(DEMO_DIR)
	@rm -f $(DEMO_DIR)/blocked.jsonl
	@echo "== op25bd: replaying pcap-fixtures/mixed-access.pcap (subscribers) and mixed-core.pcap (core)"
	./target/release/op25bd $(EAL_VDEV) \
	  --vdev=net_pcap0,rx_pcap=pcap-fixtures/mixed-access.pcap,tx_pcap=$(DEMO_DIR)/to-access.pcap \
	  --vdev=net_pcap1,rx_pcap=pcap-fixtures/mixed-core.pcap,tx_pcap=$(DEMO_DIR)/to-core.pcap \
	  -- --config configs/example.yaml --pair 0:1 --idle-exit-ms 300 --stats-json $(DEMO_DIR)/stats.json \
	  --blocked-log $(DEMO_DIR)/blocked.jsonl --latency
	@rm -rf /var/run/dpdk/op25b-demo
	@echo "== written: $(DEMO_DIR)/to-core.pcap (forwarded toward the core), $(DEMO_DIR)/to-access.pcap (toward subscribers, with the replies)"
	@echo "== first blocked connection attempts ($(DEMO_DIR)/blocked.jsonl):"
	@head -n 3 $(DEMO_DIR)/blocked.jsonl
	@echo "== counters: $(DEMO_DIR)/stats.json"

lint: deps-build
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# All tests: format, lints, unit/property/integration tests (DPDK tests each run
# in their own process; the end-to-end lab in network namespaces among them).
test: deps-test lint
	$(CARGO) test --workspace

# Regenerates the bundled fixtures (deterministic: the committed files must not change).
fixtures:
	$(CARGO) run -q -p op25b-bench --bin op25b-gen -- --out pcap-fixtures

clean:
	$(CARGO) clean

# Benchmarks (186 s on the 2-core dev VM, plus the release build; not part
# of `make test`): op25bd against
# dpdk-testpmd on the same virtual devices, latency at paced loads and during
# table swaps, our LPM against rte_fib/rte_fib6, swap cost. Writes
# bench/results/latest.json, bench/results/*.png and bench/RESULTS.md.
bench:
	@bash .ci/install-deps $(BUILD_DEPS) dpdk-dev python3-matplotlib
	$(CARGO) build --release -p op25bd -p op25b-bench
	./target/release/op25b-bench --bin-dir target/release --out bench/results --results-md bench/RESULTS.md

# Fuzzing (not part of `make test`; needs a nightly toolchain, installs
# cargo-fuzz if missing): each target (packet, config, api) for FUZZ_SECONDS
# from the in-tree corpus. `make test` replays the corpora on stable.
FUZZ_SECONDS ?= 60
fuzz: deps-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash fuzz/run.sh $(FUZZ_TARGETS)

# Soak (minutes, not part of `make test`): full-rate replay through a release
# op25bd with a config push every 100 ms (good and bad, SIGHUP and the API),
# then checks leaks, resident memory, counters and stalls.
# Writes soak/results/latest.json.
SOAK_SECONDS ?= 180
soak: deps-build
	@bash .ci/install-deps python3
	SOAK_SECONDS=$(SOAK_SECONDS) bash soak/run.sh
