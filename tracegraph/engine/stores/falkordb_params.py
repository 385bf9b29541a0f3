"""The `CYPHER name=value ...` parameter header FalkorDB takes, written in one walk.

Why not the client's: `falkordb.Graph._build_params_header` calls `stringify_param_value` once per
value through several isinstance tests and f-strings, and the store then walked every parameter
twice more (control characters, NaN/infinity). For an import statement of a few thousand rows
that was most of the client-side time (docs/perf.md, EPCIS). `params_header` gives the same text,
character for character (tests/test_falkordb_params.py compares it with the client's for every
type), and checks in the same pass:

- NaN and infinities (the header has no literal for them: a cryptic parse error otherwise);
- control characters (param_guard): one regex over the finished header instead of a walk, since
  only strings and keys can put them there. When one is found, `param_guard.control_path` names
  the parameter in the error, exactly as before.
"""

from __future__ import annotations

from typing import Any

from falkordb.helpers import stringify_param_value

from tracegraph.engine.errors import DatabaseError
from tracegraph.engine.stores.param_guard import REFUSED, refuse_control_chars

_INF, _NINF = float("inf"), float("-inf")
#: map keys as the header writes them ("`key`:"), checked once per distinct key
_KEYS: dict[Any, str] = {}


def _name(k: Any, what: str) -> str:
    """A map key or parameter name as text, refused as the client refuses it (empty, a backtick)."""
    ks = k.decode() if isinstance(k, bytes) else str(k)
    if ks == "":
        raise ValueError(f"Cypher {what} cannot be empty")
    if "`" in ks:
        raise ValueError(f"Cypher {what} cannot contain a backtick: {ks!r} (FalkorDB does not support escaped "
                         "backticks in identifiers)")
    return ks


def _key(k: Any) -> str:
    got = _KEYS.get(k)
    if got is not None:
        return got
    out = f"`{_name(k, 'map key')}`:"
    if len(_KEYS) < 4096 and type(k) is str:
        _KEYS[k] = out
    return out


class _NonFinite(Exception):
    pass


def _str(s: str) -> str:
    if "\\" in s:
        s = s.replace("\\", "\\\\")
    if '"' in s:
        s = s.replace('"', '\\"')
    return '"' + s + '"'


class Encoded(str):
    """A parameter value already written as its header literal (`pre_encode`): put in as it is.

    Why: the literal of a few thousand import rows is the biggest piece of Python work in an
    import statement; made ahead by the thread that makes the rows (engine/imports/prefetch.py),
    it overlaps the database's work on the statement before."""

    __slots__ = ()


def pre_encode(value: Any) -> Any:
    """`value` as an Encoded literal, checked for control characters here (so `params_header`
    need not search it again), or `value` itself when it cannot be one (NaN or an infinity, a
    control character: left for `params_header` to refuse with the parameter named)."""
    try:
        text = literal(value)
    except _NonFinite:
        return value
    return value if REFUSED.search(text) else Encoded(text)


def literal(v: Any) -> str:
    """One value as the client's `stringify_param_value` writes it; raises _NonFinite for NaN/inf."""
    t = type(v)
    if t is Encoded:
        return v  # type: ignore[no-any-return]
    if t is str:
        s: str = v
        if "\\" in s or '"' in s:
            s = s.replace("\\", "\\\\").replace('"', '\\"')
        return '"' + s + '"'
    if t is dict:  # rows of an import: string values inline, keys from the cache
        parts = []
        for k, x in v.items():
            kk = _KEYS.get(k) or _key(k)
            if type(x) is str:
                if "\\" in x or '"' in x:
                    x = x.replace("\\", "\\\\").replace('"', '\\"')
                parts.append(kk + '"' + x + '"')
            elif x is None:
                parts.append(kk + "null")
            else:
                parts.append(kk + literal(x))
        return "{" + ",".join(parts) + "}"
    if t is list or t is tuple:
        if not v:
            return "[]"
        try:  # the common big value: a list of plain ids
            flat = "".join(v)
        except TypeError:
            return "[" + ",".join([literal(x) for x in v]) + "]"
        if "\\" in flat or '"' in flat:
            return "[" + ",".join([_str(x) for x in v]) + "]"
        return '["' + '","'.join(v) + '"]'
    if v is None:
        return "null"
    if t is int or t is bool:
        return str(v)
    if t is float:
        if v - v != 0.0:  # NaN or an infinity (inf - inf is NaN)
            raise _NonFinite
        return repr(v)
    # anything else (subclasses, numpy numbers, enums): the client's own rule, NaN still refused
    if isinstance(v, float) and (v != v or v in (_INF, _NINF)):
        raise _NonFinite
    if isinstance(v, str):
        return stringify_param_value(v)  # type: ignore[no-any-return]
    if isinstance(v, dict):
        return "{" + ",".join([_key(k) + literal(x) for k, x in v.items()]) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ",".join([literal(x) for x in v]) + "]"
    return stringify_param_value(v)  # type: ignore[no-any-return]


def params_header(params: dict[str, Any] | None) -> str:
    """`CYPHER `k`=v ... ` for `params` ('' for none), the same text as the client's
    `_build_params_header`. Raises ValidationFailed (control character, the parameter named) or
    DatabaseError (NaN / infinity, the parameter named); nothing is sent then."""
    if not params:
        return ""
    parts = ["CYPHER "]
    bad_number = control = False
    for key, value in params.items():
        ks = _name(key, "parameter name")
        try:
            piece = f"`{ks}`={literal(value)} "
        except _NonFinite:
            bad_number = True
            continue
        parts.append(piece)
        if type(value) is not Encoded and REFUSED.search(piece):  # an Encoded one was searched when made
            control = True
    text = "".join(parts)
    if control:
        refuse_control_chars(params)  # names the parameter (and raises)
    if bad_number:
        where = _non_finite(params)
        raise DatabaseError(f"FalkorDB cannot take NaN or infinite numbers as query parameters ({where})",
                            hint="send null (unknown) or a finite number")
    return text


def _non_finite(value: Any, where: str = "") -> str:
    """Path of the first NaN/infinite float inside a parameter structure, or ''."""
    if isinstance(value, float) and (value != value or value in (_INF, _NINF)):
        return where or "value"
    if isinstance(value, dict):
        for k, v in value.items():
            found = _non_finite(v, f"{where}.{k}" if where else f"${k}")
            if found:
                return found
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            found = _non_finite(v, f"{where}[{i}]")
            if found:
                return found
    return ""


__all__ = ["Encoded", "literal", "params_header", "pre_encode"]
