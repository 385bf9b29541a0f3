"""The store's second line against control characters in query parameters.

Why: the FalkorDB client writes parameters into a `CYPHER name=value` header; a NUL byte in a
string truncates the query text it sends (the database then answers a parse error quoting the
query), and other C0 characters are never meaningful in tracegraph data. Every door refuses them
first (tracegraph.engine.inputs); this check catches any path that forgot. Tab, newline and
carriage return stay allowed (free text keeps its line breaks), and so do the separators 0x1c-0x1f
that tracegraph itself uses to pack many values into one parameter (the doors refuse them in input).
"""

from __future__ import annotations

import re
from typing import Any

from tracegraph.engine.errors import Problem, ValidationFailed

#: C0 and DEL but tab, LF, CR and the information separators FS/GS/RS/US (0x1c-0x1f), which are the
#: wire format of import staging blobs and impact's list separator (their parts were validated as keys)
REFUSED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1b\x7f]")


def control_path(value: Any, where: str = "") -> str:
    """Path of the first string (or key) holding a refused control character, or ''."""
    if isinstance(value, str):
        return (where or "value") if REFUSED.search(value) else ""
    if isinstance(value, dict):
        for k, v in value.items():
            path = f"{where}.{k}" if where else f"${k}"
            if isinstance(k, str) and REFUSED.search(k):
                return path
            found = control_path(v, path)
            if found:
                return found
    elif isinstance(value, (list, tuple)):
        try:  # fast path for the common big parameter, a list of ids: one regex over the joined text
            joined = "".join(value)
        except TypeError:
            joined = None
        if joined is not None:
            if not REFUSED.search(joined):
                return ""
        for i, v in enumerate(value):
            if isinstance(v, (str, dict, list, tuple)):
                found = control_path(v, f"{where}[{i}]")
                if found:
                    return found
    return ""


def refuse_control_chars(params: dict[str, Any] | None) -> None:
    """Raise ValidationFailed when a parameter carries a control character (never sent)."""
    if not params:
        return
    bad = control_path(params)
    if bad:
        msg = f"a value contains a control character (parameter {bad}); it was not sent to the database"
        raise ValidationFailed(msg, [Problem(record="query parameters", field=bad, message=msg)],
                               hint="send plain text: control characters other than tab and line breaks are refused")


__all__ = ["REFUSED", "control_path", "refuse_control_chars"]
