"""Orchestration beyond one book: validation of every book of a build, catalogues, executors."""
