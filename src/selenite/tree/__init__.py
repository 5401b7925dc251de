"""Working trees: a version's files on disk, as symlinks into the cache or as real files.

``links`` (link text), ``entry`` (the vocabulary of a scan), ``anchor`` (which cache a tree uses)
and ``origin`` (which version a tree holds) are shared; ``symlinks`` and ``records`` are the two
layouts, siblings that never import each other; ``layout`` picks one for a tree.

This package's ``__init__`` imports nothing: the pre-commit hook imports ``tree.links`` and must
start fast (no GitPython, rich or sqlite on that path).
"""
