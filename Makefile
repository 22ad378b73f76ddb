# `make demo` and `make test` set up .venv on first use (python3 -m venv + pip install -r requirements.txt).
VENV := .venv
PYTHON := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

export HF_HUB_OFFLINE := 1

.PHONY: setup demo test benchmarks clean

setup: $(INSTALLED)

$(INSTALLED): requirements.txt
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install -r requirements.txt
	touch $(INSTALLED)

demo: $(INSTALLED)
	$(PYTHON) train_and_eval.py

test: $(INSTALLED)
	WANDB_MODE=offline $(PYTHON) -m pytest

benchmarks: $(INSTALLED)
	for script in benchmarks/*.py; do $(PYTHON) $$script || exit 1; done

clean:
	rm -rf $(VENV) runs results.csv wandb .pytest_cache
