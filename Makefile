# sossut: `make demo` renders the bundled sample; `make test` runs every test; `make bench` measures.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check

.PHONY: demo test test-fast lint bench install install-test fixtures clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# The app alone (what `make demo` needs).
$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) install -q -e .
	touch $@

# Everything the tests need. torch 2.13.0 (CPU build) first, so openai-whisper does not pull a CUDA torch.
# The studio's browser tests drive Debian's Chromium (`playwright install` cannot download here):
# installed with apt when missing and we are root; otherwise those tests skip (fail under CI=true).
# Voikko (Finnish morphology for names in comments) likewise: libvoikko1 + voikko-fi from apt.
$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e '.[test,openai-whisper,dask]'
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		{ apt-get install -y -q chromium || { apt-get update -q && apt-get install -y -q chromium; }; } || echo "chromium not installed: browser tests will skip"; \
	elif [ ! -x /usr/bin/chromium ]; then \
		echo "no /usr/bin/chromium (apt-get install chromium as root): browser tests will skip"; \
	fi
	@if ! $(PY) -c "import libvoikko; libvoikko.Voikko('fi')" 2>/dev/null; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get install -y -q voikko-fi libvoikko1 || { apt-get update -q && apt-get install -y -q voikko-fi libvoikko1; }; \
		else \
			echo "Voikko missing (apt-get install voikko-fi libvoikko1 as root): names will not be masked, name tests skip"; \
		fi; \
	fi
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

demo: install
	$(VENV)/bin/sossut demo -o out/demo.mp4

test: install-test lint
	$(VENV)/bin/pytest -q

# Static checks (also part of `make test`).
lint: install-test
	$(VENV)/bin/ruff check
	$(VENV)/bin/mypy --strict pipeline

# Unit tests only (no ffmpeg, no model): quick while working.
test-fast: install-test
	$(VENV)/bin/pytest -q tests/unit

bench: install-test
	$(PY) bench/bench.py

# Regenerate committed fixtures (needs Debian's festival + Finnish voices:
# apt-get install festival festvox-suopuhe-mv festvox-suopuhe-lj).
fixtures: install
	$(PY) scripts/make_demo.py
	$(PY) scripts/make_speech_fixtures.py

clean:
	rm -rf out .pytest_cache
