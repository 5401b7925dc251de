"""The Python API's implementation (``import selenite`` exposes it; see ``selenite/__init__.py``).

A layer below ``commands``: the commands parse options, call these functions and print what they
return, so the CLI and the API share one code path and one set of errors.
"""
