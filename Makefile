# The two commands of the README. Everything else is Meson (meson.build); this file only wires
# bootstrap, build and the test runner together.
BUILD ?= build
KPI := $(BUILD)/src/cli/kpi
DEMO_DB ?= demo.db

.PHONY: all bootstrap build run test bench clean

all: build

bootstrap:
	@scripts/bootstrap

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=release -Db_ndebug=false

build: bootstrap $(BUILD)/build.ninja
	ninja -C $(BUILD)

# Seeds the demo organisation (once) and shows it. Until `kpi serve` exists this prints the
# scorecard of the demo KPIs (status, targets, trends) in the terminal.
run: build
	@if [ ! -f $(DEMO_DB) ]; then $(KPI) --db $(DEMO_DB) demo; fi
	$(KPI) --db $(DEMO_DB) status

test: bootstrap
	scripts/test

bench: build
	bench/import.sh

clean:
	rm -rf build build-asan build-fuzz
