# Entry points for people and CI. Every target sets up what it needs first.
VENV ?= .venv
BIN := $(VENV)/bin
OUT ?= out

.PHONY: setup run gui test bench installer clean

setup:
	scripts/setup.sh

# The main job on the embedded sample: train a LeNet, then evaluate it.
run: setup
	mkdir -p $(OUT)
	$(BIN)/digitlab train --out $(OUT)/lenet-sample.safetensors
	$(BIN)/digitlab evaluate --weights $(OUT)/lenet-sample.safetensors

gui: setup
	$(BIN)/digitlab gui

test:
	scripts/setup.sh test
	$(BIN)/python -m pytest -q

bench:
	scripts/setup.sh test
	$(BIN)/python bench/bench_training.py

installer:
	scripts/setup.sh installer
	$(BIN)/python installer/build.py

clean:
	rm -rf build dist $(OUT) .pytest_cache
