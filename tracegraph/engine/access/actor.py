"""The `Actor`: who does something (user id, printed name, roles, session).

Why a leaf module: every audited write records its actor and every permission check reads its
roles; with the Actor here, the audit chain and the permission matrix need not import each other.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """Who does something: the user's id, printed name and roles, and the session it came from."""

    id: str
    name: str
    roles: frozenset[str] = frozenset()
    session: str = ""

    @classmethod
    def system(cls, name: str = "tracegraph system") -> Actor:
        return cls(id="system", name=name, roles=frozenset({"system"}))
