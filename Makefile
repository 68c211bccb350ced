# `make edition` and `make test` are the two commands of the README: each sets up what is missing first.
# `make edition` writes every reading profile, the narrated book and the audiobook.
.PHONY: setup edition test lint bench mutate

setup:
	@bash scripts/setup.sh

edition: setup
	.venv/bin/python -m builder build source -o output --profile all

test: setup
	.venv/bin/ruff check builder tests bench
	.venv/bin/python -m pytest -q

bench: setup
	.venv/bin/python bench/bench.py
	.venv/bin/python bench/scale.py

# Break each behaviour listed in docs/mutations.md in a throwaway copy and check that the suite catches it.
mutate: setup
	.venv/bin/python scripts/mutate.py
