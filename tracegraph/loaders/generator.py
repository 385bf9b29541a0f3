"""A synthetic medical-device plant, from suppliers to hospitals, for demos, tests and benchmarks.

Deterministic (the same `serials` and `seed` give byte-identical files) and streaming: rows are
written as they are made, batch by batch, so ten million serials need little memory.

Shape (proportions scale with the number of serials):
- suppliers (a few hundred at 1M serials), materials with 1-3 approved suppliers each, lots
  received just in time with an incoming inspection each (some conditional / rejected);
- finished batches of 50-500 units consuming 5-15 lots of the product's bill of materials;
  assembled products first build a sub-assembly batch whose serials become components
  (COMPONENT_OF) of the finished serials, and the sub-assembly batch is consumed into it;
- some rework batches (a finished batch consumed into a rework order, sometimes back again:
  a legal cycle), lot splits and merges, equipment usage windows and calibrations (some out
  of tolerance);
- shipments to distributors and hospitals, distributor -> hospital transfers (shipments from
  a customer), some returns, and units still in stock or in transit at the end.
"""

from __future__ import annotations

import csv
import math
import random
import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from tracegraph.engine.imports.batch import ImportBatch
from tracegraph.engine.model import RECORD_TYPES

BASE = datetime(2025, 1, 1, tzinfo=UTC)
SPAN_DAYS = 600           # production runs over this many days
END_DAYS = 605            # "now" of the plant: later events have not happened yet
MIN_PER_DAY = 24 * 60

COUNTRIES = [  # (country, language, weight)
    ("DE", "de", 18), ("US", "en", 25), ("CN", "zh-CN", 18), ("FR", "fr", 8), ("JP", "ja", 7),
    ("GB", "en", 6), ("IT", "it", 5), ("ES", "es", 5), ("BR", "pt-BR", 4), ("CH", "de", 4),
]
CITY = {
    "DE": ["Berlin", "München", "Hamburg", "Köln", "Leipzig"], "US": ["Boston", "Houston", "Denver", "Seattle", "Miami"],
    "CN": ["上海", "北京", "广州", "成都", "杭州"], "FR": ["Paris", "Lyon", "Lille"], "JP": ["東京", "大阪", "名古屋"],
    "GB": ["London", "Leeds", "Bristol"], "IT": ["Milano", "Roma", "Torino"], "ES": ["Madrid", "Sevilla", "Valencia"],
    "BR": ["São Paulo", "Recife", "Curitiba"], "CH": ["Zürich", "Basel", "Bern"],
}
HOSPITAL = {"CN": "{city}第{n}人民医院", "JP": "{city}中央病院 {n}", "DE": "Klinikum {city} {n}",
            "FR": "Hôpital {city} {n}", "IT": "Ospedale {city} {n}", "ES": "Hospital {city} {n}",
            "BR": "Hospital {city} {n}", "CH": "Spital {city} {n}"}
GIVEN = {"CN": ["王", "李", "张", "刘", "陈"], "JP": ["佐藤", "鈴木", "高橋", "田中"],
         "default": ["Anna", "Ben", "Chloé", "David", "Elena", "Farid", "Greta", "Hugo", "Ines", "Jonas"]}
FAMILY = {"CN": ["芳", "伟", "娜", "敏", "静"], "JP": ["健", "美咲", "翔太", "陽子"],
          "default": ["Keller", "Martin", "Rossi", "Garcia", "Smith", "Novak", "Dubois", "Silva", "Meyer"]}
MATERIAL_KINDS = [("Polycarbonate resin", "kg"), ("Silicone tubing", "m"), ("Stainless spring", "ea"),
                  ("Luer connector", "ea"), ("PCB assembly", "ea"), ("Li-ion cell", "ea"), ("Adhesive", "L"),
                  ("Gasket", "ea"), ("Screw M2", "ea"), ("Label stock", "m"), ("Blister foil", "m"),
                  ("Pressure sensor", "ea"), ("Needle cannula", "ea"), ("ABS housing", "ea")]
EQUIPMENT_KINDS = ["moulding", "assembly", "test", "sterilizer", "packaging", "laser marker"]


class Sink(Protocol):
    def write(self, stem: str, row: dict[str, Any]) -> None: ...


class CsvSink:
    """Streams rows into one CSV file per record type (header = the documented column order)."""

    def __init__(self, out: Path) -> None:
        from tracegraph.loaders.bundle import columns

        out.mkdir(parents=True, exist_ok=True)
        self.out = out
        self.rows: dict[str, int] = {}
        self._files: dict[str, Any] = {}
        self._writers: dict[str, Any] = {}
        self._cols: dict[str, list[str]] = {}
        for stem, cls in RECORD_TYPES.items():
            fh = open(out / f"{stem}.csv", "w", encoding="utf-8", newline="")  # noqa: SIM115 - closed in close()
            w = csv.writer(fh, lineterminator="\n")
            cols = columns(cls)
            w.writerow(cols)
            self._files[stem], self._writers[stem], self._cols[stem] = fh, w, cols
            self.rows[stem] = 0

    def write(self, stem: str, row: dict[str, Any]) -> None:
        self._writers[stem].writerow(["" if row.get(c) is None else row[c] for c in self._cols[stem]])
        self.rows[stem] += 1

    def close(self) -> None:
        for fh in self._files.values():
            fh.close()


class BatchSink:
    """Collects rows as validated records in an ImportBatch (in-process tests and benchmarks)."""

    def __init__(self) -> None:
        self.batch = ImportBatch()
        self.rows: dict[str, int] = {}

    def write(self, stem: str, row: dict[str, Any]) -> None:
        n = self.rows.get(stem, 0) + 1
        self.rows[stem] = n
        rec = RECORD_TYPES[stem].model_validate({k: v for k, v in row.items() if v is not None and v != ""})
        rec.located(f"generated {stem}", f"row {n + 1}")
        getattr(self.batch, stem).append(rec)


def _ts(minutes: float) -> str:
    return (BASE + timedelta(minutes=int(minutes))).strftime("%Y-%m-%dT%H:%M:%SZ")


def _day(minutes: float) -> str:
    return (BASE + timedelta(minutes=int(minutes))).strftime("%Y-%m-%d")


def _gtin(rng: random.Random) -> str:
    body = "04" + "".join(str(rng.randrange(10)) for _ in range(11))
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


def _num(x: float) -> str:
    return f"{round(x, 3):g}"


class _Plant:
    def __init__(self, serials: int, seed: int, sink: Sink, progress: Callable[[int], None] | None) -> None:
        self.n_serials = serials
        self.rng = random.Random(seed)
        self.sink = sink
        self.progress = progress
        self.serial_seq = 0
        self.lot_seq = 0
        self.batch_seq = 0
        self.ship_seq = 0
        self.ret_seq = 0
        self.cal_seq = 0
        self.insp_seq = 0

    # -- master data ---------------------------------------------------------------------
    def _person(self, country: str) -> str:
        key = country if country in GIVEN else "default"
        g, f = self.rng.choice(GIVEN[key]), self.rng.choice(FAMILY[key])
        return f"{g}{f}" if country in ("CN", "JP") else f"{g} {f}"

    def _country(self) -> tuple[str, str]:
        c, lang, _ = self.rng.choices(COUNTRIES, weights=[w for *_, w in COUNTRIES])[0]
        return c, lang

    def master_data(self) -> None:
        rng, n = self.rng, self.n_serials
        w = self.sink.write
        n_sup = min(300, 15 + n // 2000)
        n_mat = min(1200, 25 + n // 500)
        n_prod = min(120, 3 + n // 5000)
        n_eq = min(400, 8 + n // 2000)
        n_cust = min(30_000, 12 + n // 60)
        self.suppliers = []
        for i in range(1, n_sup + 1):
            c, _ = self._country()
            sid = f"SUP-{i:04d}"
            status = rng.choices(["approved", "conditional", "disqualified"], [87, 10, 3])[0]
            w("suppliers", {"id": sid, "name": f"{rng.choice(['Acme', 'Nordic', 'Pacific', 'Alpine', 'Delta', 'Orion'])} "
                                              f"{rng.choice(['Polymers', 'Precision', 'Medical', 'Components', 'Tubing'])} {i}",
                            "country": c, "status": status,
                            "qualified_until": _day(rng.randrange(300, 900) * MIN_PER_DAY),
                            "contact_name": self._person(c), "contact_email": f"quality@sup{i:04d}.example"})
            if status != "disqualified":
                self.suppliers.append(sid)
        self.materials: list[tuple[str, str, list[str]]] = []
        for i in range(1, n_mat + 1):
            name, uom = rng.choice(MATERIAL_KINDS)
            mid = f"RM-{i:05d}"
            w("materials", {"id": mid, "name": f"{name} type {i}", "uom": uom, "spec": f"SPEC-{mid} rev {rng.choice('ABCD')}"})
            self.materials.append((mid, uom, rng.sample(self.suppliers, k=min(len(self.suppliers), rng.randint(1, 3)))))
        self.lot_state: dict[str, list[Any]] = {}  # material -> [lot id, remaining, uom, received minute]
        self.products = []
        for i in range(1, n_prod + 1):
            gtin = _gtin(rng)
            assembled = rng.random() < 0.3 or i == 1
            bom = [m[0] for m in rng.sample(self.materials, k=min(len(self.materials), rng.randint(6, 15)))]
            sa: tuple[str, list[str]] | None = None
            if assembled:
                sa_id = f"SA-{i:03d}"
                w("products", {"id": sa_id, "name": f"Sub-assembly {i}", "part_no": sa_id, "device_class": None})
                sa = (sa_id, [m[0] for m in rng.sample(self.materials, k=min(len(self.materials), rng.randint(3, 8)))])
            w("products", {"id": gtin, "name": f"{rng.choice(['InfuPro', 'CardioSense', 'OrthoFix', 'NeoVent'])} "
                                              f"model {i}", "gtin": gtin, "part_no": f"FG-{i:03d}",
                           "device_class": rng.choice(["I", "IIa", "IIb", "III"])})
            self.products.append((gtin, bom, sa))
            w("documents", {"id": f"DMR-{i:03d}@A", "doc_id": f"DMR-{i:03d}", "version": "A",
                            "title": f"Device master record {i}", "kind": "dmr", "status": "superseded",
                            "effective_from": "2024-06-01", "effective_to": "2025-05-31"})
            w("documents", {"id": f"DMR-{i:03d}@B", "doc_id": f"DMR-{i:03d}", "version": "B",
                            "title": f"Device master record {i}", "kind": "dmr", "status": "effective",
                            "effective_from": "2025-06-01"})
            w("document_links", {"target_kind": "product", "target_id": gtin, "document_id": f"DMR-{i:03d}@B"})
        self.equipment = []
        sop_done: set[str] = set()
        for i in range(1, n_eq + 1):
            kind = rng.choice(EQUIPMENT_KINDS)
            eid = f"EQ-{i:04d}"
            self.equipment.append(eid)
            t = -rng.randrange(1, 150) * MIN_PER_DAY
            last = t
            while t < END_DAYS * MIN_PER_DAY:
                self.cal_seq += 1
                result = rng.choices(["pass", "out_of_tolerance", "fail"], [95, 4, 1])[0]
                w("calibrations", {"id": f"CAL-{self.cal_seq:06d}", "equipment_id": eid, "date": _ts(t),
                                   "result": result, "due_at": _day(t + 180 * MIN_PER_DAY)})
                last = t
                t += rng.randrange(150, 190) * MIN_PER_DAY
            w("equipment", {"id": eid, "name": f"{kind.title()} station {i}", "kind": kind, "site": "Berlin",
                            "last_calibrated_at": _day(last), "calibration_due_at": _day(last + 180 * MIN_PER_DAY),
                            "status": "active"})
            if kind not in sop_done:
                sop_done.add(kind)
                w("documents", {"id": f"SOP-{kind.upper().replace(' ', '-')}@A",
                                "doc_id": f"SOP-{kind.upper().replace(' ', '-')}", "version": "A",
                                "title": f"Operating procedure: {kind}", "kind": "sop", "status": "effective",
                                "effective_from": "2024-01-01"})
                w("document_links", {"target_kind": "equipment", "target_id": eid,
                                     "document_id": f"SOP-{kind.upper().replace(' ', '-')}@A"})
        self.distributors, self.hospitals = [], []
        for i in range(1, n_cust + 1):
            c, lang = self._country()
            city = rng.choice(CITY[c])
            kind = rng.choices(["distributor", "hospital", "end_user", "pharmacy"], [8, 80, 7, 5])[0]
            if i <= 2:
                kind = "distributor" if i == 1 else "hospital"
            cid = f"CUS-{i:05d}"
            if kind == "distributor":
                name = f"MedDist {city} {i}"
                self.distributors.append(cid)
            elif kind in ("hospital", "pharmacy"):
                name = HOSPITAL.get(c, "{city} General Hospital {n}").format(city=city, n=i)
                if kind == "pharmacy":
                    name = f"Pharmacy {city} {i}"
                self.hospitals.append(cid)
            else:
                name = f"Home care patient {i}"
                self.hospitals.append(cid)
            w("customers", {"id": cid, "name": name, "kind": kind, "country": c, "language": lang,
                            "contact_name": self._person(c), "contact_email": f"biomed@cus{i:05d}.example",
                            "contact_phone": f"+{rng.randrange(1, 90)} {rng.randrange(100, 999)} {rng.randrange(1000, 9999)}",
                            "address": f"{rng.randrange(1, 200)} Main Street, {city}"})

    # -- lots ---------------------------------------------------------------------------
    def _new_lot(self, material: str, uom: str, suppliers: list[str], when: float, need: float) -> list[Any]:
        rng, w = self.rng, self.sink.write
        self.lot_seq += 1
        lid = f"LOT-{self.lot_seq:07d}"
        received = when - rng.randrange(1, 20) * MIN_PER_DAY
        qty = float(max(10, round(need * rng.randint(2, 8), -1)))
        prev = self.lot_state.get(material)
        link = None
        if prev is not None and prev[1] > 1 and rng.random() < 0.06:
            link = ("split", [prev])  # relabel/repack: part of the previous lot becomes this lot
        elif prev is not None and prev[1] > 1 and rng.random() < 0.05 and len(prev) > 4 and prev[4] is not None \
                and prev[4][1] > 1:
            link = ("merge", [prev, prev[4]])
        if link:
            # round down: a lot never gives away more than it still holds
            parts = [(src, math.floor((src[1] if link[0] == "merge" else src[1] / 2) * 1000) / 1000)
                     for src in link[1]]
            parts = [(src, part) for src, part in parts if part > 0]
            if not parts or sum(p for _, p in parts) < need:
                link = None
        supplier = None if link else rng.choice(suppliers)
        if link:
            qty = 0.0
            received = min(max(received, max(src[3] for src, _ in parts) + 60), when - 60)
            for src, part in parts:
                src[1] -= part
                qty += part
                w("lot_links", {"kind": link[0], "from_lot_id": src[0], "to_lot_id": lid, "qty": _num(part),
                                "date": _ts(received)})
            qty = math.floor(qty * 1000) / 1000
        status = "available"
        self.insp_seq += 1
        result = rng.choices(["accept", "conditional", "reject"], [94, 4, 2])[0]
        if link:
            result = "accept"
        if result == "reject":
            status = "rejected"
        w("material_lots", {"id": lid, "material_id": material, "supplier_id": supplier, "qty_received": _num(qty),
                            "uom": uom, "received_at": _ts(received), "po": None if link else f"PO-{4500000 + self.lot_seq}",
                            "adjusted": "false", "status": status, "warehouse": f"WH-RAW-{rng.randrange(1, 4)}"})
        w("inspections", {"id": f"INSP-{self.insp_seq:07d}", "lot_id": lid, "date": _ts(received + 240),
                          "result": result, "sample_size": rng.choice([13, 32, 50, 80, 125]),
                          "defects": 0 if result == "accept" else rng.randrange(1, 5), "inspector": self._person("DE")})
        state = [lid, qty, uom, received + 300, prev]
        if prev is not None:
            prev[4] = None  # keep only one generation of history
        if status == "rejected":
            return self._new_lot(material, uom, suppliers, when, need)
        self.lot_state[material] = state
        return state

    def _consume(self, material: str, batch_id: str, when: float, need: float) -> None:
        _, uom, suppliers = self.mats[material]
        state = self.lot_state.get(material)
        if state is None or state[1] < need or state[3] > when or when - state[3] > 45 * MIN_PER_DAY:
            state = self._new_lot(material, uom, suppliers, when, need)
            if state[1] < need:
                state = self._new_lot(material, uom, suppliers, when, need)
        state[1] -= need
        self.sink.write("consumptions", {"input_kind": "lot", "input_id": state[0], "batch_id": batch_id,
                                         "qty": _num(need), "uom": uom, "at": _ts(when + 30)})

    # -- batches and serials ---------------------------------------------------------------
    def _batch(self, product: str, kind: str, n: int, start: float, prefix: str) -> tuple[str, float]:
        rng = self.rng
        self.batch_seq += 1
        bid = f"{prefix}-{self.batch_seq:07d}"
        dur = rng.randrange(6, 40) * 60
        status = "quarantined" if kind == "rework" else rng.choices(["released", "quarantined", "rejected"], [96, 3, 1])[0]
        self.sink.write("batches", {"id": bid, "product_id": product, "qty": n, "uom": "ea", "started_at": _ts(start),
                                    "finished_at": _ts(start + dur), "line": f"L{rng.randrange(1, 6)}", "site": "Berlin",
                                    "kind": kind, "status": status})
        t = start
        for eq in rng.sample(self.equipment, k=min(len(self.equipment), rng.randint(1, 3))):
            length = rng.randrange(30, max(31, dur // 2))
            end = min(t + length, start + dur)
            self.sink.write("equipment_usage", {"batch_id": bid, "equipment_id": eq, "from": _ts(t), "to": _ts(end),
                                                "params": f'{{"setpoint": {rng.randrange(20, 300)}}}',
                                                "operator": self._person("DE")})
            t = end
        return bid, start + dur

    def _serial_rows(self, bid: str, product: str, n: int, finished: float, status: str) -> list[dict[str, Any]]:
        rows = []
        expiry = _day(finished + self.rng.randrange(3, 6) * 365 * MIN_PER_DAY)
        for _ in range(n):
            self.serial_seq += 1
            sn = f"{self.serial_seq:09d}"
            rows.append({"id": f"U{sn}", "udi": f"(01){product}(10){bid}(21){sn}" if product[0].isdigit() else None,
                         "gtin": product if product[0].isdigit() else None, "serial_no": sn, "batch_id": bid,
                         "product_id": product, "status": status, "warehouse": "WH-FG-1" if status == "in_stock" else None,
                         "customer_id": None, "expiry": expiry if product[0].isdigit() else None})
        return rows

    def _ship(self, rows: list[dict[str, Any]], finished: float) -> None:
        rng, w = self.rng, self.sink.write
        end = END_DAYS * MIN_PER_DAY
        i = 0
        shippable = [r for r in rows if rng.random() < 0.85]
        while i < len(shippable):
            group = shippable[i:i + rng.randint(10, 100)]
            i += len(group)
            self.ship_seq += 1
            sid = f"SHP-{self.ship_seq:08d}"
            to_dist = rng.random() < 0.55 and self.distributors
            cust = rng.choice(self.distributors if to_dist else self.hospitals)
            date = finished + rng.randrange(1, 30) * MIN_PER_DAY
            if date > end:
                continue
            delivered = date + rng.randrange(1, 6) * MIN_PER_DAY
            in_transit = delivered > end
            w("shipments", {"id": sid, "date": _ts(date), "delivered_at": None if in_transit else _ts(delivered),
                            "from_id": "SITE-BERLIN", "customer_id": cust,
                            "status": "in_transit" if in_transit else "delivered"})
            for r in group:
                w("shipment_lines", {"shipment_id": sid, "item_kind": "serial", "item_id": r["id"], "qty": 1})
                r["warehouse"] = None
                r["customer_id"] = cust
                r["status"] = "in_transit" if in_transit else ("at_distributor" if to_dist else "at_end_user")
            if in_transit:
                continue
            if to_dist:
                moving = [r for r in group if rng.random() < 0.6]
                if moving:
                    tdate = delivered + rng.randrange(5, 60) * MIN_PER_DAY
                    if tdate < end:
                        self.ship_seq += 1
                        tid = f"SHP-{self.ship_seq:08d}"
                        hosp = rng.choice(self.hospitals)
                        tdel = tdate + rng.randrange(1, 3) * MIN_PER_DAY
                        t_transit = tdel > end
                        w("shipments", {"id": tid, "date": _ts(tdate), "delivered_at": None if t_transit else _ts(tdel),
                                        "from_id": cust, "customer_id": hosp,
                                        "status": "in_transit" if t_transit else "delivered"})
                        w("transfers", {"from_customer_id": cust, "to_customer_id": hosp, "date": _ts(tdate),
                                        "shipment_id": tid})
                        for r in moving:
                            w("shipment_lines", {"shipment_id": tid, "item_kind": "serial", "item_id": r["id"], "qty": 1})
                            r["customer_id"] = hosp
                            r["status"] = "in_transit" if t_transit else "at_end_user"
            for r in group:
                if r["status"] in ("at_end_user", "at_distributor") and rng.random() < 0.005:
                    rdate = delivered + rng.randrange(20, 90) * MIN_PER_DAY
                    if rdate < end:
                        self.ret_seq += 1
                        w("returns", {"id": f"RET-{self.ret_seq:06d}", "date": _ts(rdate + 20 * MIN_PER_DAY),
                                      "customer_id": r["customer_id"],
                                      "reason": rng.choice(["occlusion alarm", "cracked housing", "wrong item ordered",
                                                            "display failure"]),
                                      "disposition": rng.choice(["returned", "destroyed", "corrected"]),
                                      "item_kind": "serial", "item_id": r["id"], "qty": 1})
                        r["status"], r["customer_id"], r["warehouse"] = "returned", None, "WH-RET"

    def run(self) -> None:
        rng, w = self.rng, self.sink.write
        self.master_data()
        self.mats = {m[0]: m for m in self.materials}
        made = 0
        i = 0
        recent: list[str] = []
        while made < self.n_serials:
            # time advances with the share of units made, so production fills the span exactly
            start = made / self.n_serials * SPAN_DAYS * MIN_PER_DAY + rng.randrange(0, 120)
            i += 1
            gtin, bom, sa = rng.choice(self.products)
            n = min(rng.randint(50, 500), self.n_serials - made)
            components: list[dict[str, Any]] = []
            sa_batch = None
            if sa is not None and n >= 2 and self.n_serials - made >= 2 * n:
                sa_batch, sa_end = self._batch(sa[0], "subassembly", n, start, "SA")
                for m in sa[1][: rng.randint(3, len(sa[1]))]:
                    self._consume(m, sa_batch, start, float(rng.randint(1, 20)))
                components = self._serial_rows(sa_batch, sa[0], n, sa_end, "consumed")
                made += n
                start = sa_end + 60
            bid, finished = self._batch(gtin, "finished", n, start, "B")
            k = rng.randint(5, min(15, len(bom)))
            for m in bom[:k]:
                self._consume(m, bid, start, float(rng.randint(1, 50)))
            if sa_batch:
                w("consumptions", {"input_kind": "batch", "input_id": sa_batch, "batch_id": bid, "qty": n,
                                   "uom": "ea", "at": _ts(start + 45)})
            rows = self._serial_rows(bid, gtin, n, finished, "in_stock")
            if rng.random() < 0.05:
                w("document_links", {"target_kind": "batch", "target_id": bid, "document_id": "DMR-001@B"})
            self._ship(rows, finished)
            for r in components:
                w("serials", r)
            for r in rows:
                w("serials", r)
            for c, a in zip(components, rows):
                w("components", {"component_id": c["id"], "assembly_id": a["id"], "at": _ts(start + 90)})
            made += n
            if recent and rng.random() < 0.03:
                # rework: a finished batch consumed into a rework order; sometimes back again (a cycle)
                src = rng.choice(recent)
                rw, rw_end = self._batch(gtin, "rework", rng.randint(1, 5), finished + 60, "RW")
                w("consumptions", {"input_kind": "batch", "input_id": src, "batch_id": rw, "qty": rng.randint(1, 5),
                                   "uom": "ea", "at": _ts(finished + 90)})
                self._consume(bom[0], rw, finished + 60, 1.0)
                if rng.random() < 0.3:
                    w("consumptions", {"input_kind": "batch", "input_id": rw, "batch_id": src, "qty": 1, "uom": "ea",
                                       "at": _ts(rw_end + 30)})
            recent = (recent + [bid])[-20:]
            if self.progress:
                self.progress(made)


def generate_rows(serials: int, seed: int, sink: Sink, progress: Callable[[int], None] | None = None) -> None:
    """Write a plant of `serials` units into `sink` (one call per row, streaming)."""
    if serials < 1:
        raise ValueError("serials must be at least 1")
    _Plant(serials, seed, sink, progress).run()


def generate_plant(serials: int, seed: int = 1) -> ImportBatch:
    """A plant as an in-memory ImportBatch (tests, benchmarks). Same rows as the CSV bundle."""
    sink = BatchSink()
    generate_rows(serials, seed, sink)
    sink.batch.meta = {"generator": "tracegraph", "serials": serials, "seed": seed}
    return sink.batch


#: the EPCIS writer the EPCIS module provides: bundle_to_epcis(bundle_dir, out_dir) -> dict
EPCIS_HOOK = ("tracegraph.loaders.epcis", "bundle_to_epcis")


def generate_bundle(out: str | Path, *, serials: int, seed: int = 1, fmt: str = "csv",
                    progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Write a plant as a CSV bundle in `out` (fmt csv), as EPCIS 2.0 (fmt epcis, in `out`), or
    both (CSV in `out`, EPCIS in `out/epcis`). Returns row counts per file."""
    out = Path(out)
    csv_dir = out if fmt in ("csv", "both") else Path(tempfile.mkdtemp(prefix="tg-plant-"))
    sink = CsvSink(csv_dir)
    try:
        generate_rows(serials, seed, sink, progress)
    finally:
        sink.close()
    stats: dict[str, Any] = {"serials": serials, "seed": seed, "format": fmt, "out": str(out), "rows": dict(sink.rows)}
    if fmt in ("epcis", "both"):
        import importlib

        from tracegraph.engine.errors import ConfigurationError

        try:
            mod = importlib.import_module(EPCIS_HOOK[0])
            fn = getattr(mod, EPCIS_HOOK[1])
        except (ImportError, AttributeError):
            raise ConfigurationError(
                "EPCIS output is not available in this build (tracegraph.loaders.epcis.bundle_to_epcis)",
                hint="use --format csv",
            ) from None
        stats["epcis"] = fn(csv_dir, out / "epcis" if fmt == "both" else out)
        if fmt == "epcis":
            shutil.rmtree(csv_dir, ignore_errors=True)
    return stats


__all__ = ["generate_plant", "generate_bundle", "generate_rows", "CsvSink", "BatchSink", "EPCIS_HOOK"]
