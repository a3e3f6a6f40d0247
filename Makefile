# Every target creates .venv and installs exactly the pinned versions on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: demo test test-real lint serve install install-dev bench clean lock plugin-zip

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) install -c constraints.txt -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) install -c constraints.txt -e '.[dev]'
	@touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

demo: $(VENV)/.installed
	$(BIN)/wcsync demo

serve: $(VENV)/.installed
	$(BIN)/wcsync serve

test: $(VENV)/.installed-dev
	$(BIN)/pytest -q -n 6 --dist worksteal -m "not real"

# The suite against real WordPress + WooCommerce stores on loopback (tests/real and the contract
# cases' real side). Needs WCSYNC_REALWC_DIST (see README, Development); one process, since the
# stores are shared. The stores are set up once, started here and stopped at the end.
# Ctrl-C (or SIGTERM) stops pytest and the stores and exits 130: pytest runs in the background so
# that `wait` returns at the signal even if pytest would hang; the stores are stopped with further
# interrupts ignored (the stopping harness inherits that), so a second Ctrl-C cannot leave them up.
REAL_STOP = $(BIN)/python -m tests.real.harness down; $(BIN)/python -m tests.real.multisite down
test-real: $(VENV)/.installed-dev
	@$(BIN)/python -m tests.real.harness check
	@pid=; \
	trap 'trap "" INT TERM; echo "make test-real: interrupted; stopping pytest and the stores" >&2; \
	  [ -n "$$pid" ] && kill -TERM $$pid 2>/dev/null; $(REAL_STOP); exit 130' INT TERM; \
	$(BIN)/python -m tests.real.harness up || { status=$$?; $(REAL_STOP); exit $$status; }; \
	$(BIN)/pytest -q -m real tests/real tests/testing/test_contract.py & pid=$$!; \
	wait $$pid; status=$$?; \
	trap "" INT TERM; $(REAL_STOP); exit $$status

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check app tests bench migrations
	$(BIN)/ruff format --check app tests bench migrations
	$(BIN)/mypy

# The wcsync-admin WordPress plugin as a zip to upload (Plugins > Add New > Upload): its folder
# at the top of the zip, named by the Version header of its main file.
PLUGIN         := deploy/wordpress/wcsync-admin
PLUGIN_DIST    ?= dist
PLUGIN_VERSION  = $(shell sed -n 's/^ \* Version: *//p' $(PLUGIN)/wcsync-admin.php)

plugin-zip:
	@mkdir -p $(PLUGIN_DIST)
	@rm -f $(PLUGIN_DIST)/wcsync-admin-$(PLUGIN_VERSION).zip
	@$(PYTHON) -m zipfile -c $(PLUGIN_DIST)/wcsync-admin-$(PLUGIN_VERSION).zip $(PLUGIN)
	@echo $(PLUGIN_DIST)/wcsync-admin-$(PLUGIN_VERSION).zip

bench: $(VENV)/.installed
	$(BIN)/python bench/replicate.py

# Re-pin after changing dependencies: resolves in a scratch venv and writes constraints.txt.
lock:
	rm -rf .lockvenv && $(PYTHON) -m venv .lockvenv
	.lockvenv/bin/python -m pip --disable-pip-version-check -q install -e '.[dev]'
	.lockvenv/bin/python -m pip --disable-pip-version-check freeze --exclude-editable | grep -v '^-e' > constraints.txt
	rm -rf .lockvenv

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
