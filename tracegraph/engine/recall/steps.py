"""The recall steps the network doors take by name, over the engine functions the CLI calls:
notices, milestones, the effectiveness check, quarantine. One adapter, so REST and GraphQL take
the same inputs (engine/recall/inputs.py) and answer alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tracegraph.engine.access.actor import Actor
from tracegraph.engine.clock import SystemClock
from tracegraph.engine.recall.campaign import Recall, record_milestone
from tracegraph.engine.recall.effectiveness import record_effectiveness_check
from tracegraph.engine.recall.inputs import EffectivenessInput, MilestoneInput, NotifyInput
from tracegraph.engine.recall.notify import generate_notifications
from tracegraph.engine.recall.returns import quarantine
from tracegraph.engine.stores.base import GraphStore


def notify(store: GraphStore, actor: Actor, recall_id: str, inp: NotifyInput, data_dir: Path) -> dict[str, Any]:
    """Write the notices under `data_dir/recalls/<id>/notices-<UTC time>/`; the files stay on the
    server (owner-only) and the answer names them."""
    stamp = SystemClock().now().strftime("%Y%m%dT%H%M%SZ")
    out = Path(data_dir) / "recalls" / recall_id / f"notices-{stamp}"
    res = generate_notifications(store, actor, recall_id, out, customer_ids=inp.customers, mark_sent=inp.mark_sent,
                                 company=inp.company)
    return res.model_dump(mode="json")


def milestone(store: GraphStore, actor: Actor, recall_id: str, inp: MilestoneInput) -> Recall:
    return record_milestone(store, actor, recall_id, inp.milestone, at=inp.at, reference=inp.reference)


def effectiveness_check(store: GraphStore, actor: Actor, recall_id: str, inp: EffectivenessInput) -> dict[str, Any]:
    return record_effectiveness_check(store, actor, recall_id, note=inp.note).model_dump(mode="json")


def quarantine_stock(store: GraphStore, actor: Actor, recall_id: str) -> dict[str, Any]:
    return dict(quarantine(store, actor, recall_id))


__all__ = ["notify", "milestone", "effectiveness_check", "quarantine_stock"]
