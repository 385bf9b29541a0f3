"""One error tree for the whole engine. Every message says what went wrong and what to do.

    TracegraphError
    ├── ConfigurationError        bad settings or URL
    ├── DatabaseError             the graph database failed
    │   ├── DatabaseUnavailable   could not connect / start (says what was tried)
    │   ├── DatabaseTimeout       a connect or query timeout expired
    │   └── ConstraintViolation   a unique business key already exists
    ├── QueryNotFound             a named query file is missing
    ├── ValidationFailed          input records are invalid (carries every problem)
    ├── NotFound                  a record does not exist
    ├── Conflict                  a concurrent change won, or a state transition is not allowed
    ├── AuthenticationFailed      wrong credentials, locked, expired token
    ├── PermissionDenied          the caller's role may not do this
    ├── SignatureError            an electronic signature was refused
    ├── IntegrityError            the audit chain or a signature does not verify
    ├── NotAcceptable             no answer in a media type the caller accepts (HTTP 406)
    └── PayloadTooLarge           a request beyond a published limit (HTTP 413)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class TracegraphError(Exception):
    """Base of every error tracegraph raises on purpose."""

    #: short machine code used by the API layers
    code: str = "error"
    #: HTTP status the API layers map this error to
    http_status: int = 400

    def __init__(self, message: str, *, hint: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        #: the input field the error is about (the one error shape names it when known)
        self.field = field

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.hint:
            out["hint"] = self.hint
        if self.field:
            out["field"] = self.field
        return out


class ConfigurationError(TracegraphError):
    code = "configuration"


class DatabaseError(TracegraphError):
    code = "database"
    http_status = 503


class DatabaseUnavailable(DatabaseError):
    code = "database_unavailable"


class DatabaseTimeout(DatabaseError):
    code = "database_timeout"
    http_status = 504


class ConstraintViolation(DatabaseError):
    code = "constraint_violation"
    http_status = 409


class NotAcceptable(TracegraphError):
    code = "not_acceptable"
    http_status = 406


class PayloadTooLarge(TracegraphError):
    code = "payload_too_large"
    http_status = 413


class QueryNotFound(TracegraphError):
    code = "query_not_found"
    http_status = 500


@dataclass
class Problem:
    """One problem found in input: where it is, which field, what was wrong."""

    record: str  # e.g. "material_lots.csv row 12" or "event 3"
    field: str
    message: str
    value: Any = None
    source: str = ""  # file name

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "record": self.record,
            "field": self.field,
            "value": self.value,
            "message": self.message,
        }


class ValidationFailed(TracegraphError):
    code = "validation_failed"
    http_status = 422

    def __init__(self, message: str, problems: list[Problem] | None = None, *, hint: str | None = None,
                 field: str | None = None):
        problems = list(problems or [])
        super().__init__(message, hint=hint, field=field or (problems[0].field if problems else None))
        self.problems: list[Problem] = problems

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["problems"] = [p.to_dict() for p in self.problems]
        return out


class NotFound(TracegraphError):
    code = "not_found"
    http_status = 404


class Conflict(TracegraphError):
    code = "conflict"
    http_status = 409


class ImportBusy(Conflict):
    """Another import holds the import lock (a live run): the same error to the user (a conflict),
    but one a capture may wait out and try again, unlike a rule's refusal."""


class AuthenticationFailed(TracegraphError):
    code = "authentication_failed"
    http_status = 401


class PermissionDenied(TracegraphError):
    code = "permission_denied"
    http_status = 403


class SignatureError(TracegraphError):
    code = "signature_refused"
    http_status = 403


class IntegrityError(TracegraphError):
    code = "integrity"
    http_status = 409


__all__ = [
    "TracegraphError",
    "ConfigurationError",
    "DatabaseError",
    "DatabaseUnavailable",
    "DatabaseTimeout",
    "ConstraintViolation",
    "QueryNotFound",
    "Problem",
    "ValidationFailed",
    "NotFound",
    "Conflict",
    "AuthenticationFailed",
    "PermissionDenied",
    "SignatureError",
    "IntegrityError",
]
