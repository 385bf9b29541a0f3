"""The requirement catalogue (`requirements.toml`, package data), loaded and checked.

Why a module of its own: the pytest hook (tests/conftest.py), the coverage test and the
validation report all read the same catalogue and must agree on what a valid id is.
"""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ID_PATTERN = re.compile(r"^REQ-[A-Z]{3}-\d{3}$")
NOT_YET_COVERED = "not-yet-covered"


class Requirement(BaseModel):
    """One requirement: what tracegraph does, how risky a failure is, which clauses it serves."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    area: str
    text: str = Field(min_length=10)
    risk: Literal["high", "medium", "low"]
    risk_rationale: str = Field(min_length=5)
    clauses: list[str] = Field(min_length=1)
    status: Literal["covered", "not-yet-covered"] = "covered"
    reason: str = ""

    @field_validator("id")
    @classmethod
    def _id_form(cls, v: str) -> str:
        if not ID_PATTERN.match(v):
            raise ValueError(f"requirement id {v!r} must look like REQ-ABC-001")
        return v

    @model_validator(mode="after")
    def _reason_when_uncovered(self) -> Requirement:
        if self.status == NOT_YET_COVERED and not self.reason.strip():
            raise ValueError(f"{self.id}: status not-yet-covered needs a reason")
        return self


def parse(text: str) -> list[Requirement]:
    """Requirements from TOML text; ids must be unique."""
    data = tomllib.loads(text)
    reqs = [Requirement(**r) for r in data.get("requirement", [])]
    seen: set[str] = set()
    for r in reqs:
        if r.id in seen:
            raise ValueError(f"requirement id {r.id} is used twice")
        seen.add(r.id)
    return reqs


@lru_cache(maxsize=1)
def load() -> tuple[Requirement, ...]:
    """The packaged catalogue (cached: the pytest hook calls this once per session)."""
    text = resources.files("tracegraph.validation").joinpath("requirements.toml").read_text(encoding="utf-8")
    return tuple(parse(text))


def ids() -> frozenset[str]:
    return frozenset(r.id for r in load())


def by_id() -> dict[str, Requirement]:
    return {r.id: r for r in load()}


__all__ = ["Requirement", "NOT_YET_COVERED", "ID_PATTERN", "parse", "load", "ids", "by_id"]
