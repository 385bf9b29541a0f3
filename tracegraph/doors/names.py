"""Names the network doors share: the engine permissions REST routes and GraphQL fields ask for,
and the gates of the quality-record steps.

Why here: REST (`api`) and GraphQL (`graphql`) must ask for the same permission for the same
operation; both import these names, neither imports the other.
"""

from __future__ import annotations


class P:
    """Engine permission names the API uses (tracegraph.engine.access.permissions.PERMISSIONS)."""

    TRACE_READ = "trace.read"
    IMPACT_READ = "impact.read"
    RECORDS_READ = "records.read"
    AUDIT_READ = "audit.read"
    AUDIT_VERIFY = "audit.verify"
    AUDIT_CHECKPOINT = "audit.checkpoint"
    AUDIT_REVIEW = "audit.review"
    IMPORT_WRITE = "import.write"
    QMS_READ = "qms.read"
    QMS_SIGN = "qms.sign"
    RECALL_READ = "recall.read"
    RECALL_CREATE = "recall.create"
    RECALL_APPROVE = "recall.approve"
    USERS_MANAGE = "users.manage"
    EPCIS_CAPTURE = "epcis.capture"


#: pseudo-permission: any authenticated user (logout, who am I)
ANY_USER = "@authenticated"

#: opening a quality record: every role that may open one of the types holds this permission; the
#: engine then checks the type's own open permission
OPEN_GATE = "qms.complaint.create"
#: every lifecycle step's permission is held only by roles that hold qms.sign; the engine then
#: checks the step's own permission (and, for a signed step, the signing permission)
STEP_GATE = P.QMS_SIGN
