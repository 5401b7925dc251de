"""The pre-commit check: every link of a working tree against the cache it points into.

It exists because an edit made *through* a link changes the shared cache object and Git sees
nothing (``git status`` stays clean); so it looks at every link of the tree, not at staged files.
``tree`` walks the tree in a fast and a slow pass, ``stamp`` remembers what the last clean check
found intact, ``classify`` and ``objects`` judge links and the objects behind them, ``largefiles``
is the optional guard against big regular files, ``report`` tells the user and fixes moved links.

The hook runs on every commit: nothing on the path of a clean check imports rich or sqlite
(``tests/test_check_imports.py`` holds that).
"""
