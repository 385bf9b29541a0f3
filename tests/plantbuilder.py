"""A small, explicit test-plant builder: records in memory, written to the graph with Cypher that
follows docs/model.md (labels, properties, edges cause -> effect).

Why not the loaders: they are built concurrently and are tested on their own; trace tests need
exact control over odd shapes (rework cycles, split/merge, components, transfers). The same
in-memory records feed the independent networkx oracle in tests/test_trace_oracle.py.

Writes here are test fixtures, not business writes, so they bypass the audit trail on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

TS = "2026-01-01T00:00:00.000000+00:00"


def _node(id: str, **props: Any) -> dict[str, Any]:
    out = {"id": id, "created_at": TS, "updated_at": TS, "source": "plantbuilder"}
    out.update({k: v for k, v in props.items() if v is not None})
    return out


@dataclass
class Plant:
    """Records of one plant; helper methods add nodes and edges with sane defaults."""

    nodes: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # label -> id -> props
    edges: list[tuple[str, str, str, str, str, dict[str, Any]]] = field(default_factory=list)
    # (type, from_label, from_id, to_label, to_id, props)

    # -- generic ----------------------------------------------------------------------
    def add(self, label: str, id: str, **props: Any) -> str:
        self.nodes.setdefault(label, {})[id] = _node(id, **props)
        return id

    def link(self, type_: str, fl: str, fid: str, tl: str, tid: str, **props: Any) -> None:
        self.edges.append((type_, fl, fid, tl, tid, {k: v for k, v in props.items() if v is not None}))

    def get(self, label: str, id: str) -> dict[str, Any]:
        return self.nodes[label][id]

    # -- domain helpers -----------------------------------------------------------------
    def supplier(self, id: str, name: str | None = None, **p: Any) -> str:
        return self.add("Supplier", id, name=name or f"Supplier {id}", status=p.pop("status", "approved"),
                        contact_email=p.pop("contact_email", f"qa@{id.lower()}.example"), **p)

    def lot(self, id: str, supplier: str | None = None, date: str = "2026-01-05", qty: float = 100.0,
            material: str = "M1", **p: Any) -> str:
        if "Material" not in self.nodes or material not in self.nodes["Material"]:
            self.add("Material", material, name=f"material {material}", uom="kg")
        self.add("MaterialLot", id, material_id=material, supplier_id=supplier, qty_received=qty, uom="kg",
                 received_at=date, status=p.pop("status", "available"), warehouse=p.pop("warehouse", "WH1"), **p)
        self.link("OF", "MaterialLot", id, "Material", material)
        if supplier:
            if "Supplier" not in self.nodes or supplier not in self.nodes["Supplier"]:
                self.supplier(supplier)
            self.link("SUPPLIED", "Supplier", supplier, "MaterialLot", id, date=date, qty=qty, po=f"PO-{id}")
        return id

    def split(self, src: str, dst: str, qty: float = 10.0, date: str = "2026-01-06") -> None:
        self.link("SPLIT_INTO", "MaterialLot", src, "MaterialLot", dst, qty=qty, date=date)

    def merge(self, src: str, dst: str, qty: float = 10.0, date: str = "2026-01-06") -> None:
        self.link("MERGED_INTO", "MaterialLot", src, "MaterialLot", dst, qty=qty, date=date)

    def product(self, id: str, name: str | None = None) -> str:
        return self.add("Product", id, name=name or f"Product {id}", gtin=id, part_no=f"PN-{id}", device_class="II")

    def batch(self, id: str, product: str = "P1", inputs: list[str] | None = None, batch_inputs: list[str] | None = None,
              qty: float = 10.0, started_at: str = "2026-02-01T08:00:00.000000+00:00", kind: str = "finished",
              **p: Any) -> str:
        if "Product" not in self.nodes or product not in self.nodes["Product"]:
            self.product(product)
        self.add("Batch", id, product_id=product, qty=qty, uom="ea", started_at=started_at,
                 finished_at=p.pop("finished_at", None), line="L1", site="SITE1", kind=kind,
                 status=p.pop("status", "released"), **p)
        self.link("OF", "Batch", id, "Product", product)
        for lid in inputs or []:
            self.link("CONSUMED_IN", "MaterialLot", lid, "Batch", id, qty=1.0, uom="kg")
        for bid in batch_inputs or []:
            self.link("CONSUMED_IN", "Batch", bid, "Batch", id, qty=1.0, uom="ea")
        return id

    def consume_batch(self, src: str, dst: str, qty: float = 1.0) -> None:
        self.link("CONSUMED_IN", "Batch", src, "Batch", dst, qty=qty, uom="ea")

    def serial(self, id: str, batch: str, status: str = "in_stock", customer: str | None = None,
               warehouse: str | None = "WH1", serial_no: str | None = None) -> str:
        b = self.get("Batch", batch)
        self.add("Serial", id, udi=f"(01){b['product_id']}(21){id}", gtin=b["product_id"],
                 serial_no=serial_no or id, batch_id=batch, product_id=b["product_id"], status=status,
                 warehouse=warehouse if status in ("in_stock", "quarantined") else None, customer_id=customer)
        self.link("PRODUCED", "Batch", batch, "Serial", id)
        self.link("OF", "Serial", id, "Product", b["product_id"])
        return id

    def serials(self, batch: str, n: int, prefix: str | None = None, **kw: Any) -> list[str]:
        prefix = prefix or f"{batch}-S"
        return [self.serial(f"{prefix}{i:04d}", batch, serial_no=f"{i:04d}", **kw) for i in range(1, n + 1)]

    def component(self, comp: str, assembly: str, at: str = "2026-02-10") -> None:
        self.link("COMPONENT_OF", "Serial", comp, "Serial", assembly, at=at)

    def equipment(self, id: str, **p: Any) -> str:
        return self.add("Equipment", id, name=f"equipment {id}", kind=p.pop("kind", "press"), site="SITE1",
                        status="active", **p)

    def processed(self, batch: str, eq: str, frm: str, to: str | None, params: str = "{}") -> None:
        if "Equipment" not in self.nodes or eq not in self.nodes["Equipment"]:
            self.equipment(eq)
        self.link("PROCESSED_ON", "Batch", batch, "Equipment", eq, **{"from": frm, "to": to, "params": params,
                                                                       "operator": "op1"})

    def calibration(self, id: str, eq: str, date: str, due_at: str, result: str = "pass") -> None:
        self.add("Calibration", id, equipment_id=eq, date=date, result=result, due_at=due_at)
        self.link("CALIBRATES", "Calibration", id, "Equipment", eq)

    def document(self, doc_id: str, version: str, effective_from: str, effective_to: str | None = None) -> str:
        key = f"{doc_id}@{version}"
        self.add("Document", key, doc_id=doc_id, version=version, title=f"{doc_id} v{version}", kind="DMR",
                 status="effective", effective_from=effective_from, effective_to=effective_to)
        return key

    def documented(self, label: str, id: str, doc_key: str) -> None:
        self.link("DOCUMENTED_BY", label, id, "Document", doc_key)

    def customer(self, id: str, kind: str = "hospital", name: str | None = None) -> str:
        return self.add("Customer", id, name=name or f"Customer {id}", kind=kind, country="US", language="en",
                        contact_name=f"Contact {id}", contact_email=f"recall@{id.lower()}.example",
                        contact_phone="+1 555 0100", address=f"1 {id} Street")

    def shipment(self, id: str, to: str, date: str, delivered_at: str | None = None,
                 serials: list[str] | None = None, batches: dict[str, float] | None = None,
                 from_id: str = "SITE1") -> str:
        self.add("Shipment", id, date=date, delivered_at=delivered_at, from_id=from_id, customer_id=to,
                 status="delivered" if delivered_at else "in_transit")
        self.link("DELIVERED_TO", "Shipment", id, "Customer", to, date=delivered_at)
        for s in serials or []:
            self.link("SHIPPED_IN", "Serial", s, "Shipment", id, qty=1.0)
        for b, q in (batches or {}).items():
            self.link("SHIPPED_IN", "Batch", b, "Shipment", id, qty=float(q))
        return id

    def return_(self, id: str, customer: str, date: str, serials: list[str] | None = None,
                batches: dict[str, float] | None = None, disposition: str = "returned") -> str:
        self.add("Return", id, date=date, customer_id=customer, reason="complaint", disposition=disposition)
        for s in serials or []:
            self.link("RETURNED_IN", "Serial", s, "Return", id, qty=1.0)
        for b, q in (batches or {}).items():
            self.link("RETURNED_IN", "Batch", b, "Return", id, qty=float(q))
        return id

    def inspection(self, id: str, lot: str, date: str = "2026-01-06", result: str = "accept") -> str:
        self.add("Inspection", id, lot_id=lot, date=date, result=result, sample_size=5, defects=0, inspector="qc1")
        self.link("INSPECTED", "Inspection", id, "MaterialLot", lot)
        return id

    def quality(self, label: str, id: str, about_label: str, about_id: str, **p: Any) -> str:
        self.add(label, id, title=p.pop("title", f"{label} {id}"), status=p.pop("status", "open"), **p)
        self.link("ABOUT", label, id, about_label, about_id)
        return id

    # -- writing ---------------------------------------------------------------------------
    def write(self, store: Any, chunk: int = 20000, *, sealed: bool = True) -> None:
        """Create every node (one UNWIND per label) then every edge (one UNWIND per type/labels);
        with `sealed` (default) then seal them in one audit entry (`seal_fixture`)."""
        for label, recs in self.nodes.items():
            rows = list(recs.values())
            for i in range(0, len(rows), chunk):
                store.run(f"UNWIND $rows AS r CREATE (n:{label}) SET n = r", {"rows": rows[i:i + chunk]})
        groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        for t, fl, fid, tl, tid, props in self.edges:
            groups.setdefault((t, fl, tl), []).append({"a": fid, "b": tid, "p": props})
        for (t, fl, tl), rows in groups.items():
            for i in range(0, len(rows), chunk):
                store.run(
                    f"UNWIND $rows AS r MATCH (a:{fl} {{id: r.a}}) MATCH (b:{tl} {{id: r.b}}) "
                    f"CREATE (a)-[e:{t}]->(b) SET e = r.p",
                    {"rows": rows[i:i + chunk]},
                )
        if sealed:
            seal_fixture(store)


def demo_plant() -> Plant:
    """A hand-made plant covering every shape the engine must handle (used by several tests).

    S1 supplies L1 (resin) and L2; L1 is split into L1a and L1b; L2 and L1b merge into L3.
    SUB1 (subassembly) consumes L1a and is consumed by FIN1; FIN1 also consumes L3.
    FIN2 consumes L2 only. RW1 is a rework batch in a loop with FIN1 (FIN1 -> RW1 -> FIN1).
    NS1 is a non-serialised batch from L1 shipped by quantity.
    """
    p = Plant()
    p.supplier("S1", "Acme Resins")
    p.supplier("S2", "Other Metals")
    p.lot("L1", "S1", date="2026-01-05")
    p.lot("L2", "S1", date="2026-03-05")
    p.lot("L9", "S2", date="2026-01-05")
    p.lot("L1a")
    p.lot("L1b")
    p.lot("L3")
    p.split("L1", "L1a")
    p.split("L1", "L1b")
    p.merge("L1b", "L3")
    p.merge("L2", "L3")
    p.inspection("INS1", "L1")
    p.batch("SUB1", product="P-SUB", inputs=["L1a"], kind="subassembly", qty=4,
            started_at="2026-01-20T08:00:00.000000+00:00")
    p.batch("FIN1", product="P1", inputs=["L3", "L9"], batch_inputs=["SUB1"],
            started_at="2026-02-01T08:00:00.000000+00:00")
    p.batch("RW1", product="P1", batch_inputs=["FIN1"], kind="rework", started_at="2026-02-05T08:00:00.000000+00:00")
    p.consume_batch("RW1", "FIN1")  # rework loop
    p.batch("FIN2", product="P2", inputs=["L2"], started_at="2026-03-10T08:00:00.000000+00:00")
    p.batch("OTHER", product="P2", inputs=["L9"], started_at="2026-03-10T08:00:00.000000+00:00")
    p.batch("NS1", product="P3", inputs=["L1"], qty=100, started_at="2026-02-01T08:00:00.000000+00:00")
    p.customer("D1", kind="distributor", name="Dist One")
    p.customer("H1", kind="hospital", name="General Hospital")
    p.customer("H2", kind="hospital", name="City Clinic")
    # SUB1 serials: two are components of FIN1 assemblies
    p.serials("SUB1", 2, prefix="SUB1-S")
    p.serials("FIN1", 8, prefix="FIN1-S")
    p.component("SUB1-S0001", "FIN1-S0001")
    p.component("SUB1-S0002", "FIN1-S0002")
    p.get("Serial", "SUB1-S0001")["status"] = "consumed"
    p.get("Serial", "SUB1-S0002")["status"] = "consumed"
    p.serials("FIN2", 3, prefix="FIN2-S")
    p.serials("OTHER", 2, prefix="OTHER-S")
    # shipments: FIN1-S0001..3 to D1 (delivered), then S0003 transferred D1 -> H1
    p.shipment("SH1", "D1", "2026-02-10", "2026-02-12", serials=["FIN1-S0001", "FIN1-S0002", "FIN1-S0003"])
    p.shipment("SH2", "H1", "2026-02-20", "2026-02-21", serials=["FIN1-S0003"], from_id="D1")
    p.shipment("SH3", "H2", "2026-02-25", None, serials=["FIN1-S0004"])  # in transit
    p.shipment("SH4", "H2", "2026-02-11", "2026-02-13", serials=["FIN1-S0005"])
    p.return_("RT1", "H2", "2026-02-28", serials=["FIN1-S0005"])
    p.shipment("SH5", "H1", "2026-02-11", "2026-02-13", serials=["FIN1-S0006"])
    p.return_("RT2", "H1", "2026-02-27", serials=["FIN1-S0006"], disposition="destroyed")
    p.shipment("SH6", "H1", "2026-03-15", "2026-03-16", serials=["FIN2-S0001"])
    p.shipment("SH7", "D1", "2026-02-15", "2026-02-16", batches={"NS1": 60})
    p.shipment("SH8", "H2", "2026-02-20", "2026-02-22", batches={"NS1": 20}, from_id="D1")
    # current statuses as the loaders would keep them
    for sid, st, cu in [("FIN1-S0001", "at_distributor", "D1"), ("FIN1-S0002", "at_distributor", "D1"),
                        ("FIN1-S0003", "at_end_user", "H1"), ("FIN1-S0004", "in_transit", "H2"),
                        ("FIN1-S0005", "returned", None), ("FIN1-S0006", "destroyed", None),
                        ("FIN1-S0007", "quarantined", None), ("FIN2-S0001", "at_end_user", "H1")]:
        s = p.get("Serial", sid)
        s["status"] = st
        if cu:
            s["customer_id"] = cu
        if st not in ("in_stock", "quarantined"):
            s.pop("warehouse", None)
    # equipment and calibration
    p.equipment("EQ1")
    p.processed("FIN1", "EQ1", "2026-02-01T08:00:00.000000+00:00", "2026-02-01T16:00:00.000000+00:00",
                params='{"temp": 210}')
    p.processed("FIN2", "EQ1", "2026-03-10T08:00:00.000000+00:00", "2026-03-10T16:00:00.000000+00:00")
    p.calibration("CAL1", "EQ1", "2026-01-01T00:00:00.000000+00:00", "2026-03-01T00:00:00.000000+00:00")
    # documents: DMR-1 v1 effective Jan..Feb 15, v2 from Feb 15
    p.document("DMR-1", "1", "2026-01-01T00:00:00.000000+00:00", "2026-02-15T00:00:00.000000+00:00")
    p.document("DMR-1", "2", "2026-02-15T00:00:00.000000+00:00")
    p.documented("Batch", "FIN1", "DMR-1@1")
    p.documented("Batch", "FIN2", "DMR-1@2")
    p.quality("Complaint", "CMP1", "Serial", "FIN1-S0003")
    p.quality("Deviation", "DEV1", "Batch", "FIN1")
    return p


__all__ = ["Plant", "demo_plant", "TS"]


def seal_fixture(store: Any) -> int:
    """Put records a test wrote with plain Cypher under the audit proof, as an import would have:
    seal every unsealed node of a sealed label and edge of a sealed type, in ONE audit entry whose
    ledger commits them (engine/audit/seals.py). Returns the entry's seq.

    Test fixtures only: the product has no such statement on purpose (it would launder any
    change made behind the engine's back); tests that build odd shapes by hand call this before
    they assert that `audit verify` passes."""
    from tracegraph.engine.access.actor import Actor
    from tracegraph.engine.audit import chain, seals
    from tracegraph.engine.audit.chain import AuditSpec
    from tracegraph.engine.clock import SystemClock, iso

    led = seals.Ledger()
    nodes: dict[str, list[dict[str, Any]]] = {}
    for label in seals.NODE_FIELDS:
        rows = store.run(f"MATCH (n:{label}) WHERE n.seal IS NULL RETURN n.id AS id, properties(n) AS p", write=False)
        nodes[label] = [{"id": r["id"], "seal": seals.node_seal(label, r["p"])} for r in rows]
        led.add_all(x["seal"] for x in nodes[label])
    edges: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for t in seals.EDGE_FIELDS:
        rows = store.run(f"MATCH (a:{t[0]})-[e:{t[1]}]->(b:{t[2]}) WHERE e.seal IS NULL "
                         "RETURN id(e) AS e, a.id AS a, b.id AS b, properties(e) AS p", write=False)
        edges[t] = [{"e": r["e"], "seal": seals.edge_seal(t, r["a"], r["b"], r["p"])} for r in rows]
        led.add_all(x["seal"] for x in edges[t])
    h = chain.head(store)
    entry = chain.build_entry(int(h["seq"]) + 1, str(h["hash"]), Actor.system("test fixture"),
                              AuditSpec("fixture.seal", "Fixture", "plantbuilder", [led.change()]),
                              iso(SystemClock().now()))
    for label, rows in nodes.items():
        store.run(f"UNWIND $rows AS r MATCH (n:{label} {{id: r.id}}) SET n.seal = r.seal, n.sealed_seq = $q",
                  {"rows": rows, "q": entry["seq"]})
    for t, rows in edges.items():
        store.run(f"UNWIND $rows AS r MATCH ()-[e:{t[1]}]->() WHERE id(e) = r.e SET e.seal = r.seal, e.sealed_seq = $q",
                  {"rows": rows, "q": entry["seq"]})
    store.run("MATCH (h:AuditHead) CREATE (e:AuditEntry) SET e = $entry SET h.seq = $entry.seq, h.hash = $entry.hash "
              "WITH e OPTIONAL MATCH (p:AuditEntry {seq: $prev}) "
              "FOREACH (x IN CASE WHEN p IS NULL THEN [] ELSE [p] END | CREATE (e)-[:PREV]->(x))",
              {"entry": entry, "prev": int(h["seq"])})
    chain._remember_head(store, entry["seq"], entry["hash"])
    return int(entry["seq"])
