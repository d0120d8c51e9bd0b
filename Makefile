# The one place that knows how to set up, test, lint, run the demo and run the bot.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   := demo

.PHONY: setup weights catalogues i18n test lint format demo bot sync train-real catalog refresh bench clean

setup: $(STAMP) weights catalogues

## catalogues: compile the translations (core/locales/*/LC_MESSAGES/messages.po → .mo) that are missing or stale.
catalogues: $(STAMP)
	@$(BIN)/python -m core.i18n >/dev/null

## i18n: after changing user-visible text: extract every message of the code into core/locales/messages.pot, merge
## it into each language's messages.po (new messages come untranslated), compile. docs/i18n.md: adding a language.
LOCALES := core/locales
i18n: $(STAMP)
	$(BIN)/pybabel extract --no-location --sort-output --omit-header -k Msg -o $(LOCALES)/messages.pot bot core ml catalog
	$(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete -i $(LOCALES)/messages.pot -d $(LOCALES) -D messages
	$(BIN)/pybabel compile --statistics -d $(LOCALES) -D messages

## weights: the pretrained backbone (npm package nsfwjs, pinned + sha256-checked), converted once into
## $$TOONMATCH_CACHE or ~/.cache/toonmatch. Without npm or the registry, training falls back to the from-scratch
## backbone with a warning.
weights: $(STAMP)
	@$(BIN)/python -m scripts.fetch_weights >/dev/null || \
		echo "warning: no pretrained backbone (see the error above); training will use the from-scratch backbone" >&2

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,postgres]'
	@touch $(STAMP)

test: setup
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check .

format: setup
	$(BIN)/ruff format .

## demo: offline demo (synthetic catalogue → quick model → index → sample query + contact sheet);
## starts the bot instead when DISCORD_TOKEN is configured.
demo: setup
	$(BIN)/python -m scripts.demo --dir $(DEMO)

bot: setup
	$(BIN)/python -m bot

sync: setup
	$(BIN)/python -m bot sync

## train-real: the full pipeline on the shared development data (../shared/data/webtoons)
train-real: setup
	$(BIN)/python -m scripts.train --catalog ../shared/data/webtoons --out runs/webtoons

## catalog: the first real catalogue in one step (needs internet): scrape Naver Webtoon into $(CATALOG) (every
## listed title, ~2,000; about half an hour at the polite default rate), then train a run on it into $(RUN).
## CATALOG_LIMIT=N keeps the N most popular titles only (refresh it with REFRESH_FLAGS="--max-new 0").
CATALOG ?= data/naver
RUN     ?= runs/naver
CATALOG_LIMIT ?=
catalog: setup
	$(BIN)/python -m scripts.scrape --out $(CATALOG) $(if $(CATALOG_LIMIT),--limit $(CATALOG_LIMIT))
	$(BIN)/python -m scripts.train --catalog $(CATALOG) --out $(RUN)

## refresh: re-read the source of $(RUN)'s catalogue, index what is new or changed with the run's own models and swap
## in a new index generation (running bots reload it by themselves). Needs internet for a scraped catalogue.
refresh: setup
	$(BIN)/python -m scripts.refresh --run $(RUN) $(REFRESH_FLAGS)

bench: setup
	$(BIN)/python bench/embed.py
	$(BIN)/python bench/serve.py
	$(BIN)/python bench/memory.py

clean:
	rm -rf $(DEMO) .pytest_cache .ruff_cache
