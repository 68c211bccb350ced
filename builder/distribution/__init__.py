"""Records for those who distribute, lend and catalogue the edition, one module per format.

`products` is the model they all read: the products one build writes (the text EPUB of each reading
profile, the narrated EPUB, the audiobook, the DAISY 2.02 book, the M4B), each with its file, media type,
ONIX form codes, duration and the accessibility claims `builder.book.accessibility` derives for it. The
format modules (ONIX, MARC 21, OPDS, the statements for people) turn that one model into their records,
so a change in the sources changes every record's claims together. `daisy202`, `m4b` and `podcast` write
the talking book, the M4B and the podcast feed themselves, from the narration. Nothing here imports a
record library at package import: the text build's start-up stays as it was.
"""
