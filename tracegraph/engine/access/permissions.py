"""Who may do what, as DATA: permissions, roles (role -> permissions), and which permission
every engine command needs. `require(actor, permission)` is the one check every command makes.

Adding a command: register it in COMMANDS (name -> permission). tests/test_permissions.py runs
every registered command as every role, so a command without a rule, or a rule without a
test case, fails the suite. docs/audit.md's matrix is generated from this module
(`matrix_markdown()`) and a test keeps it current.
"""

from __future__ import annotations

from collections.abc import Iterable

from tracegraph.engine.access.actor import Actor
from tracegraph.engine.errors import PermissionDenied

#: every permission, with what it allows
PERMISSIONS: dict[str, str] = {
    "trace.read": "run backward/forward traces",
    "impact.read": "run impact analysis (where affected units are now)",
    "records.read": "read master data and production records",
    "records.write": "create/update/link master data and production records",
    "records.retire": "retire (logically delete) records",
    "records.status": "put holds on material (quarantine / lift, reject) within engine/status_policy.py",
    "import.write": "import ERP/CSV/EPCIS data",
    "epcis.capture": "capture EPCIS events through the EPCIS 2.0 REST binding (packaging lines, scanners)",
    "qms.read": "read quality records (complaints, deviations, CAPA, ...)",
    "qms.complaint.create": "open and update complaints",
    "qms.write": "create/update deviations, CAPA, change controls, inspections, releases, training",
    "qms.sign": "sign records electronically (authored, reviewed)",
    "qms.approve": "approve/close quality records and release batches",
    "recall.read": "read recalls",
    "recall.create": "create and update recalls, run notification drafts",
    "recall.approve": "approve, release or close a recall",
    "audit.read": "read the audit trail and proofs",
    "audit.verify": "verify the audit chain",
    "audit.checkpoint": "sign audit checkpoints",
    "audit.review": "review the audit trail and store the signed review record (Annex 11 §9)",
    "validation.run": "run `tracegraph validate` and store its report as a record",
    "users.manage": "add/disable users, set roles, reset passwords",
}

_READ = ["trace.read", "impact.read", "records.read", "qms.read", "recall.read", "audit.read"]

#: role -> (description, permissions)
ROLES: dict[str, tuple[str, list[str]]] = {
    "viewer": ("read-only access to traces, records and the audit trail", _READ),
    "complaint_handler": (
        "opens and investigates complaints",
        _READ + ["qms.complaint.create", "qms.sign"],
    ),
    "recall_coordinator": (
        "prepares recalls and notifications",
        _READ + ["recall.create", "qms.sign"],
    ),
    "qa": (
        "quality assurance: records, imports, QMS records, verification",
        _READ + ["records.write", "records.status", "import.write", "epcis.capture", "qms.complaint.create",
                 "qms.write", "qms.sign", "recall.create", "audit.verify", "audit.review", "validation.run"],
    ),
    "qa_manager": (
        "QA with approval authority: approves releases and recalls, retires records",
        _READ + ["records.write", "records.status", "records.retire", "import.write", "epcis.capture",
                 "qms.complaint.create",
                 "qms.write", "qms.sign", "qms.approve", "recall.create", "recall.approve", "audit.verify",
                 "audit.checkpoint", "audit.review", "validation.run"],
    ),
    "admin": (
        "system administrator: users and the audit trail, no business approvals",
        _READ + ["users.manage", "audit.verify", "audit.checkpoint", "import.write", "epcis.capture", "validation.run"],
    ),
    "capture_device": (
        "a machine (packaging line, goods-in scanner) that captures EPCIS events and can do nothing else",
        ["epcis.capture"],
    ),
}

#: the built-in actor for internal jobs (`Actor.system()`): may do everything
SYSTEM_ROLE = "system"

#: engine command -> the permission it needs (signature meanings and record labels refine
#: this in SIGN_PERMISSIONS / LABEL_WRITE_PERMISSIONS)
COMMANDS: dict[str, str] = {
    "users.add": "users.manage",
    "users.list": "users.manage",
    "users.disable": "users.manage",
    "users.enable": "users.manage",
    "users.set_roles": "users.manage",
    "users.reset_password": "users.manage",
    "users.unlock": "users.manage",
    "audit.verify": "audit.verify",
    "audit.log": "audit.read",
    "audit.checkpoint": "audit.checkpoint",
    "audit.prove": "audit.read",
    "audit.review": "audit.review",
    "validation.report": "validation.run",
    "records.create": "records.write",
    "records.update": "records.write",
    "records.link": "records.write",
    "records.set_status": "records.status",
    "records.retire": "records.retire",
    "signatures.sign": "qms.sign",
}

#: labels whose generic create/update need a more specific permission than records.write
LABEL_WRITE_PERMISSIONS: dict[str, str] = {
    "Complaint": "qms.complaint.create",
    "Deviation": "qms.write",
    "CAPA": "qms.write",
    "ChangeControl": "qms.write",
    "Inspection": "qms.write",
    "Calibration": "qms.write",
    "Release": "qms.write",
    "TrainingRecord": "qms.write",
    "Recall": "recall.create",
    "AuditReview": "audit.review",
    "ValidationReport": "validation.run",
    "RegulatoryDocument": "recall.create",
}

#: (label, meaning) -> permission needed to sign; ("*", meaning) applies to every label
SIGN_PERMISSIONS: dict[tuple[str, str], str] = {
    ("*", "authored"): "qms.sign",
    ("*", "reviewed"): "qms.sign",
    ("*", "exception"): "qms.sign",
    ("*", "approved"): "qms.approve",
    ("*", "released"): "qms.approve",
    ("*", "closed"): "qms.approve",
    ("Recall", "approved"): "recall.approve",
    ("Recall", "released"): "recall.approve",
    ("Recall", "closed"): "recall.approve",
}


def role_permissions(role: str) -> frozenset[str]:
    if role == SYSTEM_ROLE:
        return frozenset(PERMISSIONS)
    return frozenset(ROLES[role][1]) if role in ROLES else frozenset()


def permissions_of(roles: Iterable[str]) -> frozenset[str]:
    out: set[str] = set()
    for r in roles:
        out |= role_permissions(r)
    return frozenset(out)


def allowed(actor: Actor, permission: str) -> bool:
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}: add it to tracegraph/engine/access/permissions.py")
    return permission in permissions_of(actor.roles)


def require(actor: Actor, permission: str) -> None:
    """Raise PermissionDenied unless one of the actor's roles grants `permission`."""
    if not allowed(actor, permission):
        holders = sorted(r for r, (_, perms) in ROLES.items() if permission in perms)
        raise PermissionDenied(
            f"user {actor.id!r} (roles: {', '.join(sorted(actor.roles)) or 'none'}) may not {PERMISSIONS[permission]}"
            f" ({permission})",
            hint=f"ask an administrator for one of the roles: {', '.join(holders)}",
        )


def require_command(actor: Actor, command: str) -> None:
    require(actor, COMMANDS[command])


def label_write_permission(label: str) -> str:
    return LABEL_WRITE_PERMISSIONS.get(label, "records.write")


def sign_permission(label: str, meaning: str) -> str:
    return SIGN_PERMISSIONS.get((label, meaning)) or SIGN_PERMISSIONS.get(("*", meaning)) or "qms.sign"


def check_roles(roles: Iterable[str]) -> list[str]:
    """Validate role names (user management); returns them sorted and de-duplicated."""
    from tracegraph.engine.errors import Problem, ValidationFailed

    roles = sorted(set(roles))
    bad = [r for r in roles if r not in ROLES]
    if bad:
        raise ValidationFailed(
            f"unknown role(s): {', '.join(bad)}",
            [Problem(record="roles", field="roles", value=r, message="unknown role") for r in bad],
            hint=f"roles are: {', '.join(ROLES)}",
        )
    return roles


def matrix_markdown() -> str:
    """The role x permission matrix as a Markdown table (docs/audit.md embeds it)."""
    roles = list(ROLES)
    lines = ["| permission | what it allows | " + " | ".join(roles) + " |",
             "|---|---|" + "---|" * len(roles)]
    for perm, desc in PERMISSIONS.items():
        cells = ["x" if perm in ROLES[r][1] else "" for r in roles]
        lines.append(f"| `{perm}` | {desc} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


__all__ = [
    "PERMISSIONS", "ROLES", "COMMANDS", "LABEL_WRITE_PERMISSIONS", "SIGN_PERMISSIONS", "SYSTEM_ROLE",
    "role_permissions", "permissions_of", "allowed", "require", "require_command",
    "label_write_permission", "sign_permission", "check_roles", "matrix_markdown",
]
