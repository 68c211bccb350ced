# `make edition` and `make test` are the two commands of the README: each sets up what is missing first.
.PHONY: setup edition test lint bench

setup:
	@bash scripts/setup.sh

edition: setup
	.venv/bin/python -m builder build source -o output

test: setup
	.venv/bin/ruff check builder tests bench
	.venv/bin/python -m pytest -q

bench: setup
	.venv/bin/python bench/bench.py
