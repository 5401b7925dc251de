"""A small checker for the ``--json`` schemas of docs/user/json.md, written as Python values:

- a type (``str``, ``int``, ``bool``, ``float``): an instance of it (``int`` excludes ``bool``);
- ``None``: null;
- a tuple: any one of its alternatives (``(str, None)``: a string or null);
- a list ``[s]``: a JSON array whose every element matches ``s``;
- a dict: a JSON object with exactly these keys (a key ending in ``?`` may be absent; the key
  ``"..."`` allows other keys too), each value matching its schema.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _scalar(value: Any, schema: Any, where: str) -> str | None:
    if schema is None:
        return None if value is None else f"{where}: expected null, got {value!r}"
    ok = isinstance(value, schema) and not (schema in (int, float) and isinstance(value, bool))
    return None if ok else f"{where}: expected {schema.__name__}, got {value!r}"


def _any_of(value: Any, schema: tuple[Any, ...], where: str) -> str | None:
    ok = any(_problem(value, s, where) is None for s in schema)
    return None if ok else f"{where}: {value!r} matches none of {schema}"


def _array(value: Any, schema: list[Any], where: str) -> str | None:
    if not isinstance(value, list):
        return f"{where}: expected an array, got {value!r}"
    return next((p for i, v in enumerate(value) if (p := _problem(v, schema[0], f"{where}[{i}]"))), None)


def _object(value: Any, schema: dict[str, Any], where: str) -> str | None:
    if not isinstance(value, dict):
        return f"{where}: expected an object, got {value!r}"
    fields = {k.rstrip("?"): (s, k.endswith("?")) for k, s in schema.items() if k != "..."}
    extra = set(value) - set(fields)
    if extra and "..." not in schema:
        return f"{where}: keys not in the schema: {sorted(extra)}"
    for name, (s, optional) in fields.items():
        if name not in value:
            problem = None if optional else f"{where}: missing key {name!r}"
        else:
            problem = _problem(value[name], s, f"{where}.{name}")
        if problem is not None:
            return problem
    return None


def _problem(value: Any, schema: Any, where: str) -> str | None:
    if schema is None or isinstance(schema, type):
        return _scalar(value, schema, where)
    kinds: dict[type, Callable[[Any, Any, str], str | None]] = {tuple: _any_of, list: _array, dict: _object}
    check = kinds.get(type(schema))
    if check is None:
        raise TypeError(f"not a schema: {schema!r}")
    return check(value, schema, where)


def check_schema(value: Any, schema: Any) -> None:
    """Fail the test (AssertionError naming the first mismatch) unless ``value`` matches ``schema``."""
    problem = _problem(value, schema, "$")
    assert problem is None, problem
