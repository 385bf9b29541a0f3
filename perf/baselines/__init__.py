"""The systems a benchmark compares, behind one small protocol.

Every system answers the same four questions over the same plant and returns plain sorted
lists of business keys, so answers can be compared exactly:

    lot_impact(lot_id)                        -> {"serials": [...], "customers": [...]}
    supplier_impact(supplier_id)              -> {"serials": [...], "customers": [...]}
    equipment_impact(equipment_id, t0, t1)    -> {"serials": [...], "customers": [...]}
    backward(serial_id)                       -> {"ancestors": [...]}

`t0`/`t1` are seconds since perf.plants.EPOCH (each system converts to its own form).
Keys are returned unsorted; the harness sorts when it verifies (sorting is not the work).
"""

from __future__ import annotations

from typing import Protocol

Answer = dict[str, list[str]]


class System(Protocol):
    name: str

    def lot_impact(self, lot_id: str) -> Answer: ...

    def supplier_impact(self, supplier_id: str) -> Answer: ...

    def equipment_impact(self, equipment_id: str, t0: int, t1: int) -> Answer: ...

    def backward(self, serial_id: str) -> Answer: ...

    def close(self) -> None: ...


def items(answer: Answer) -> int:
    """How many result items an answer carries (for items/s)."""
    return sum(len(v) for v in answer.values())


__all__ = ["Answer", "System", "items"]
