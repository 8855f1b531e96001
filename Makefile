# motcua: set-up, run, test, benchmark. See README.md.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SITE   ?= controller/sites/province-centre.toml
APT_PACKAGES := redis-server mosquitto socat espeak-ng chromium sox fonts-dejavu-core systemd prometheus
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test bench check system-deps venv clean

$(BIN)/motcua: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

venv: $(BIN)/motcua

# Installs the programs the tests start for real, only when one is missing.
system-deps:
	@missing=""; \
	for prog in redis-server mosquitto socat espeak-ng chromium sox systemd-analyze promtool; do \
	  command -v $$prog >/dev/null 2>&1 || [ -x /usr/sbin/$$prog ] || missing="$$missing $$prog"; \
	done; \
	[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing="$$missing fonts"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(APT_PACKAGES); \
	fi

run: venv
	$(BIN)/motcua serve --site $(SITE) --host 127.0.0.1 --port 8000 --data-dir data --demo \
	  --mqtt embedded --devices sim --sms log

test: system-deps venv
	$(BIN)/pytest -q -p no:cacheprovider -n 2 --dist loadfile -m "not timing"
	$(BIN)/pytest -q -p no:cacheprovider -m timing

bench: system-deps venv
	$(BIN)/python -m benchmarks.run

check: venv
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) data test-output
