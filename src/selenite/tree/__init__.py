"""Working trees: a version's files on disk, as symlinks into the cache or as real files.

Shared by both layouts: ``entry`` (what a scan says about a path), ``links`` (link text),
``pointers`` (the pointer format), ``anchor`` (which cache a tree uses), ``origin`` (which version
a tree holds) and ``modes`` (choosing a link mode). The layouts are siblings that never import
each other: ``symlinks``, and ``records`` / ``records_scan`` / ``place`` for hardlink and copy
trees. ``layout`` sits above both: ``layout_of(root)`` is what the commands call.

This ``__init__`` imports nothing: the pre-commit check imports ``tree.links`` and
``tree.pointers`` and must start fast (no GitPython, rich or sqlite on that path).
"""
