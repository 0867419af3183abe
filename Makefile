# Hull: the two set-up commands are `make run` and `make test`.
# Each installs whatever is missing (Debian packages when root, else prints the
# apt-get line), builds .venv from Debian's /usr/bin/python3 (readable by every
# user, unlike a python under /root), and is safe to run again.

PYTHON_SYSTEM ?= /usr/bin/python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP_SYSTEM := $(VENV)/.system-deps
STAMP_PY := $(VENV)/.python-deps
HOST ?= 127.0.0.1
PORT ?= 8470
PYTEST_WORKERS ?= 2

.PHONY: run test bench bytecode system-deps venv vendor clean

run: venv vendor
	$(PY) manage.py runconsole --host $(HOST) --port $(PORT)

test: venv vendor bytecode
	.ci/prepare-host
	.ci/setup-test-user
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup tests

bench: venv bytecode
	.ci/prepare-host
	.ci/setup-system-deps --bench
	$(PY) -m bench

system-deps: $(STAMP_SYSTEM)

$(STAMP_SYSTEM): .ci/setup-system-deps
	.ci/setup-system-deps
	@mkdir -p $(VENV) && touch $@

venv: $(STAMP_SYSTEM) $(STAMP_PY)

$(STAMP_PY): pyproject.toml
	test -x $(PY) || $(PYTHON_SYSTEM) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --config-settings editable_mode=compat -e '.[test]'
	$(PY) -m engine.cli.launcher $(VENV)/bin/hull
	chmod -R a+rX $(VENV)
	touch $@

# Browser libraries (xterm.js) from the npm registry, pinned by package-lock.json,
# copied into static/console/vendor/ (served by the console; no CDN).
VENDOR := static/console/vendor
vendor: $(VENDOR)/.stamp

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

$(VENDOR)/.stamp: node_modules/.package-lock.json
	mkdir -p $(VENDOR)
	cp node_modules/@xterm/xterm/lib/xterm.js node_modules/@xterm/xterm/css/xterm.css \
	   node_modules/@xterm/addon-fit/lib/addon-fit.js $(VENDOR)/
	chmod -R a+rX $(VENDOR)
	touch $@

# Compiled once as the owner of the checkout: the rootless test user cannot write
# __pycache__ here, and without .pyc files it would recompile on every command.
bytecode:
	$(PY) -m compileall -q engine console bench tests
	chmod -R a+rX engine console bench tests

clean:
	rm -rf $(VENV) .pytest_cache node_modules $(VENDOR)
