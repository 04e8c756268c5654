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

# Seeds the demo organisation (once), makes an API token for it (kept in demo.token, mode 600)
# and serves the REST API on http://localhost:8080 until Ctrl-C. The web dashboard is a later issue.
run: build
	@if [ ! -f $(DEMO_DB) ]; then $(KPI) --db $(DEMO_DB) demo; fi
	@if [ ! -s demo.token ]; then umask 077; $(KPI) --db $(DEMO_DB) token create demo-$$(date +%s) > demo.token; fi
	@echo "API token (also in demo.token): $$(cat demo.token)"
	@echo "try: curl -H \"Authorization: Bearer $$(cat demo.token)\" http://localhost:8080/api/v1/scorecard"
	$(KPI) --db $(DEMO_DB) serve --listen 127.0.0.1:8080

test: bootstrap
	scripts/test

bench: build
	bench/import.sh

clean:
	rm -rf build build-asan build-fuzz
