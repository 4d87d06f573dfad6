# The one entry point for development, pre-commit and CI. `make help` lists the targets.
.DEFAULT_GOAL := help
PYTHON ?= python

.PHONY: help
help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

.PHONY: install
install:  ## install fastprep with its test, bench and lint tools, editable (release build)
	$(PYTHON) -m pip install -e ".[dev]"

.PHONY: test
test:  ## the test suite, under both backends (the README's test command)
	$(PYTHON) -m pytest

.PHONY: test-rust
test-rust:  ## the core crate's tests, without Python
	cargo test -p fastprep-core

.PHONY: fuzz
fuzz:  ## fuzz the artifact reader, 60 s per target (nightly toolchain + `cargo install cargo-fuzz`)
	cd fuzz && mkdir -p corpus/artifact corpus/artifact_sealed && \
		cargo +nightly fuzz run artifact corpus/artifact seeds -- -max_total_time=60 && \
		cargo +nightly fuzz run artifact_sealed corpus/artifact_sealed seeds -- -max_total_time=60

.PHONY: lint
lint:  ## rustfmt, clippy and ruff, as CI runs them
	cargo fmt --all --check
	cargo clippy --all-targets -- -D warnings
	$(PYTHON) -m ruff check python tests benches examples
	$(PYTHON) -m ruff format --check python tests benches examples

.PHONY: format
format:  ## format Rust and Python in place
	cargo fmt --all
	$(PYTHON) -m ruff check --fix python tests benches examples
	$(PYTHON) -m ruff format python tests benches examples

.PHONY: bench
bench:  ## full benchmarks (1M x 16), JSON in .benchmarks/latest.json, ratios printed
	$(PYTHON) -m pytest benches --benchmark-enable --benchmark-json=.benchmarks/latest.json \
		--benchmark-columns=median,iqr,rounds --benchmark-sort=name
	$(PYTHON) benches/report.py .benchmarks/latest.json

.PHONY: bench-quick
bench-quick:  ## every benchmark once on tiny data, so they cannot rot
	FASTPREP_BENCH_ROWS=2000 $(PYTHON) -m pytest benches -q
