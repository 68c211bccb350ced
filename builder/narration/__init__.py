"""The narration stage, a branch off the enriched documents: the speech script (speech), what a listener
hears (normalise, lexicon), which voice speaks what (voices, engines), synthesis with its clip cache and MP3
encoding (synthesis), the overlays, the audiobook (audio), the credits, and the narrated book's assembly
(read_aloud)."""
