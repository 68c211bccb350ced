"""The book stage: each article rendered to XHTML (render), the navigation documents, images, math, the
profiles' stylesheets, and the fidelity check of a built book against the raw print text."""
