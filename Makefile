# pitchsort: `make demo` and `make test` work as the first commands on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
MODEL  := models/pitchsort.joblib
OUT    := out

.PHONY: install train model test demo bench lint corpus clean chromium dovecot

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The model is trained once when missing, and again when the corpus or the code changes.
$(MODEL): $(STAMP) data/labeled/MANIFEST.csv $(wildcard pipeline/*.py pipeline/*/*.py) $(wildcard pipeline/lang/*/*)
	$(BIN)/pitchsort train data/labeled --model models

model: $(MODEL)

train: install
	$(BIN)/pitchsort train data/labeled --model models

test: install $(MODEL) dovecot chromium
	$(BIN)/pitchsort data check data/labeled
	$(BIN)/python -m pytest -q

demo: install $(MODEL) dovecot chromium
	mkdir -p $(OUT)
	$(BIN)/pitchsort classify data/samples --csv $(OUT)/samples.csv
	$(BIN)/python tools/demo_imap.py
	$(BIN)/pitchsort audit data/sent_sample/sent --inbox data/sent_sample/inbox --csv $(OUT)/audit.csv --html $(OUT)/audit.html
	chromium --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update --disable-sync \
		--no-first-run --hide-scrollbars --user-data-dir=$$(mktemp -d) --window-size=1200,1800 \
		--screenshot=$(OUT)/audit.png file://$(CURDIR)/$(OUT)/audit.html 2>/dev/null

# The IMAP tests and demo run a private Dovecot (tools/dovecot.py), never the system service; install it when missing.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
dovecot:
	@command -v dovecot >/dev/null || ($(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends dovecot-imapd)

# Headless Chromium renders the audit report in the tests and takes the demo's screenshot; install it when missing.
chromium:
	@command -v chromium >/dev/null || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium chromium-driver)

bench: install $(MODEL)
	$(BIN)/python tools/bench.py

lint: install
	$(BIN)/ruff check pipeline tests tools

# Re-render data/labeled and data/samples from the hand-written sources.
corpus: install
	$(BIN)/python tools/corpus/render.py data/sources/* --out data/labeled
	$(BIN)/python tools/corpus/render.py data/samples_src/* --out data/samples --flat

clean:
	rm -rf $(OUT) .pytest_cache
