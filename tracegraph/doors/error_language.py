"""The language of server error messages: English or Simplified Chinese, by `Accept-Language`.

Why here: REST (`api.errors`) and GraphQL (`graphql.errors`) answer refusals in the one error shape
`{code, message, hint, field}`; both choose the caller's language the same way and translate with
the same catalogue (`error_messages.json`, data only). The engine keeps raising English: `code`,
`field` and `problems[].field` never change, only `message`, `hint` and `problems[].message` are
translated, and a translated error says so with `lang`.

A permission named in a refusal (`may not create recalls (recall.create)`) is described in the
caller's language from the catalogue's `permissions` (permission -> language -> text).

How a text is translated: a whole English text the catalogue knows (a full-match pattern; named
groups such as ids and values are kept, a group called `detail` is translated in turn) becomes its
translation; any other message becomes the code's statement in that language followed by the
English detail (`未找到：no user 'x'`), so nothing the caller needs is lost; a code without an entry
for the language stays English. Never an empty text.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

CATALOGUE = Path(__file__).with_name("error_messages.json")
DEFAULT = "en"
#: what the longest sensible Accept-Language header looks like; the rest is ignored
MAX_HEADER = 512
MAX_RANGES = 20
_RANGE = re.compile(r"^\s*([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)\s*(?:;\s*q\s*=\s*([0-9](?:\.[0-9]{0,3})?))?\s*$")


@cache
def catalogue() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    return data


def languages() -> tuple[str, ...]:
    return tuple(catalogue()["languages"])


@cache
def _patterns(kind: str, lang: str) -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((re.compile(e["en"], re.DOTALL), e[lang]) for e in catalogue()[kind] if e.get(lang))


def _supported(tag: str) -> str | None:
    """A language range -> the catalogue language it asks for (zh, zh-CN, zh-Hans, zh-SG: zh-CN)."""
    t = tag.lower()
    if t == "*" or t == "en" or t.startswith("en-"):
        return DEFAULT
    if t in ("zh", "zh-cn", "zh-sg", "zh-hans") or t.startswith("zh-hans-"):
        return "zh-CN"
    for lang in languages():
        if t == lang.lower():
            return lang
    return None


def negotiate(header: str | None) -> str:
    """The language to answer in: the highest-q supported range of `Accept-Language` (RFC 9110
    12.5.4; equal q in the order given; q=0 refuses it), else English."""
    if not header or len(header) > MAX_HEADER:
        return DEFAULT
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")[:MAX_RANGES]):
        m = _RANGE.match(part)
        if not m:
            continue
        q = float(m.group(2)) if m.group(2) is not None else 1.0
        lang = _supported(m.group(1))
        if lang is not None and 0 < q <= 1:
            ranked.append((-q, i, lang))
    return min(ranked)[2] if ranked else DEFAULT


def permission_text(permission: str, lang: str) -> str | None:
    """What a permission allows, in `lang` (the catalogue's `permissions`), or None when unknown."""
    return (catalogue().get("permissions", {}).get(permission) or {}).get(lang) or None


def _text(text: str, kinds: tuple[str, ...], lang: str) -> str | None:
    """A whole English text in `lang`, or None when the catalogue does not know it."""
    for kind in kinds:
        for rx, template in _patterns(kind, lang):
            m = rx.fullmatch(text.strip())
            if m is None:
                continue
            groups = {k: (v or "") for k, v in m.groupdict().items()}
            if groups.get("detail"):  # a detail, or a list of them ("a; b"), translated in turn
                d = groups["detail"]
                groups["detail"] = _text(d, ("details",), lang) or ("；" if lang.startswith("zh") else "; ").join(
                    _text(part, ("details",), lang) or part for part in d.split("; "))
            if groups.get("perm") and "what" in groups:  # "may not create recalls (recall.create)"
                groups["what"] = permission_text(groups["perm"], lang) or groups["what"]
            out = template
            for k, v in groups.items():
                out = out.replace("{" + k + "}", v)
            return out or None
    return None


def translate(code: str, message: str, hint: str | None, lang: str) -> tuple[str, str | None, bool]:
    """(message, hint, translated) in `lang`; English, or a code without an entry, stays as it is."""
    entry = (catalogue()["codes"].get(code) or {}).get(lang) if lang != DEFAULT else None
    if not entry:
        return message, hint, False
    sep = "：" if lang.startswith("zh") else ": "
    msg = _text(message, ("messages", "details"), lang) or (
        f"{entry['message']}{sep}{message}" if message else entry["message"])
    new_hint = hint
    if hint:
        wrapped = f"{entry['hint']}（{hint}）" if lang.startswith("zh") else f"{entry['hint']} ({hint})"
        new_hint = _text(hint, ("hints",), lang) or wrapped
    return msg or message, new_hint or hint, True


def localize(error: dict[str, Any], lang: str) -> dict[str, Any]:
    """The error object of the one shape in `lang` (a copy; `code` and `field` unchanged)."""
    if lang == DEFAULT or not isinstance(error, dict):
        return error
    code = str(error.get("code") or "error")
    msg, hint, done = translate(code, str(error.get("message") or ""), error.get("hint"), lang)
    if not done:
        return error
    out = {**error, "message": msg, "lang": lang}
    if hint:
        out["hint"] = hint
    if isinstance(error.get("problems"), list):
        out["problems"] = [{**p, "message": _text(str(p.get("message") or ""), ("details", "messages"), lang)
                            or p.get("message")} if isinstance(p, dict) else p for p in error["problems"]]
    return out


__all__ = ["negotiate", "translate", "localize", "permission_text", "catalogue", "languages", "CATALOGUE"]
