"""What a caller of a network door may learn of an error the database raised.

Why here: REST (`api.errors`) and GraphQL (`graphql.errors`) must answer a database error alike,
never with the query text or the database's own message (that goes to the server log with the
request id); both import this, neither imports the other.
"""

from __future__ import annotations

from tracegraph.engine.errors import ConstraintViolation, DatabaseError, DatabaseTimeout, DatabaseUnavailable


def public_database_error(exc: DatabaseError, rid: str) -> dict[str, str]:
    """What a caller may learn of a database error: its kind, never the query text or the
    database's own message (that goes to the server log with the request id)."""
    if isinstance(exc, ConstraintViolation):
        return {"code": exc.code, "message": "a record with that key already exists",
                "hint": "use another key, or update the existing record"}
    if isinstance(exc, DatabaseTimeout):
        return {"code": exc.code, "message": "the database did not answer in time",
                "hint": f"narrow the question or retry; quote request id {rid} to the administrator"}
    if isinstance(exc, DatabaseUnavailable):
        return {"code": exc.code, "message": "the database is not reachable",
                "hint": f"retry later; quote request id {rid} to the administrator"}
    return {"code": exc.code, "message": "the database refused the request; nothing is reported about its cause here",
            "hint": f"quote request id {rid} to the administrator (details are in the server log)"}
