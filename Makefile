# pitchsort: `make demo` and `make test` work as the first commands on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
MODEL  := models/pitchsort.joblib
OUT    := out

.PHONY: install train model test demo bench lint corpus clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The model is trained once when missing, and again when the corpus or the code changes.
$(MODEL): $(STAMP) data/labeled/MANIFEST.csv $(wildcard pipeline/*.py) $(wildcard pipeline/lang/*/*)
	$(BIN)/pitchsort train data/labeled --model models

model: $(MODEL)

train: install
	$(BIN)/pitchsort train data/labeled --model models

test: install $(MODEL)
	$(BIN)/pitchsort data check data/labeled
	$(BIN)/python -m pytest -q

demo: install $(MODEL)
	mkdir -p $(OUT)
	$(BIN)/pitchsort classify data/samples --csv $(OUT)/samples.csv

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
