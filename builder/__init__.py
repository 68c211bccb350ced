"""Accessible-edition builder: Markdown sources to EPUB 3, narrated EPUB and audiobook."""

__version__ = "0.1.0"
