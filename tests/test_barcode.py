"""UDI / GS1 barcode reading and identifier forms (pure), and scan resolution against a real graph."""

from __future__ import annotations

import pytest

from tracegraph.engine.errors import NotFound, ValidationFailed
from tracegraph.gs1.barcode import parse_barcode
from tracegraph.gs1.identifiers import (
    gs1_check_digit,
    normalize_gtin,
    parse_identifier,
    private_urn,
    sgtin_digital_link,
)

GTIN = "09506000134352"
GS = "\x1d"


# ---------------------------------------------------------------------------------------
# barcode forms
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, form",
    [
        (f"]d201{GTIN}17271231" f"10LOT-7{GS}21SN123", "gs1_element_string"),  # DataMatrix, FNC1 as GS
        (f"]C101{GTIN}17271231" f"10LOT-7{GS}21SN123", "gs1_element_string"),  # GS1-128
        (f"01{GTIN}1727123110LOT-7<GS>21SN123", "gs1_element_string"),          # typed <GS>
        (f"(01){GTIN}(17)271231(10)LOT-7(21)SN123", "hri"),
        (f"https://id.gs1.org/01/{GTIN}/10/LOT-7/21/SN123?17=271231", "digital_link"),
    ],
)
@pytest.mark.req("REQ-IMP-005")
def test_barcode_forms_read_the_same_udi(text: str, form: str) -> None:
    p = parse_barcode(text)
    assert p.form == form
    assert (p.gtin, p.lot, p.serial, p.expiry) == (GTIN, "LOT-7", "SN123", "2027-12-31")
    assert p.udi == f"(01){GTIN}(17)271231(10)LOT-7(21)SN123"


def test_symbology_prefix_is_reported() -> None:
    assert parse_barcode(f"]d201{GTIN}21X").symbology == "]d2"


@pytest.mark.parametrize(
    "text, field",
    [
        ("(01)09506000134353(21)1", "(01) GTIN"),                    # bad check digit, HRI
        ("https://id.gs1.org/01/09506000134353/21/1", "(01) GTIN"),  # bad check digit, Digital Link
        ("09506000134353", "(01) GTIN"),                             # bad check digit, bare GTIN
        (f"01{GTIN}17991399", "barcode"),                            # impossible date (month 13)
        ("hello world", "barcode"),                                  # garbage
        ("+A123BJC5D6E71G", "barcode"),                              # HIBCC: refused clearly
        ("   ", "barcode"),
    ],
)
@pytest.mark.req("REQ-IMP-005")
def test_bad_barcodes_name_what_is_wrong(text: str, field: str) -> None:
    with pytest.raises(ValidationFailed) as ei:
        parse_barcode(text)
    err = ei.value
    assert err.problems and err.problems[0].field == field
    assert "cannot read barcode" in str(err)
    if field == "(01) GTIN":
        assert "check digit" in str(err)


# ---------------------------------------------------------------------------------------
# identifier forms
# ---------------------------------------------------------------------------------------


def test_epc_and_digital_link_normalise_to_the_same_values() -> None:
    epc = parse_identifier("urn:epc:id:sgtin:0614141.107346.2017")
    assert (epc.kind, epc.form, epc.gtin, epc.serial) == ("sgtin", "epc", "10614141073464", "2017")
    dl = parse_identifier(sgtin_digital_link("10614141073464", "2017"))
    assert (dl.kind, dl.form, dl.gtin, dl.serial) == ("sgtin", "digital_link", "10614141073464", "2017")
    lot = parse_identifier("urn:epc:class:lgtin:4012345.012345.998877")
    assert (lot.kind, lot.gtin, lot.lot) == ("lgtin", "04012345123456", "998877")
    dl_lot = parse_identifier("https://id.gs1.org/01/00614141777778/10/987")
    assert (dl_lot.kind, dl_lot.gtin, dl_lot.lot) == ("lgtin", "00614141777778", "987")
    assert parse_identifier("urn:epc:idpat:sgtin:4012345.066666.*").gtin == "04012345666663"
    assert parse_identifier("urn:epc:id:sscc:0614141.1234567890").sscc == "106141412345678908"
    assert parse_identifier("urn:epc:id:sgln:0614141.07346.1234").gln == "0614141073467"
    assert parse_identifier("urn:epc:id:pgln:4012345.00225").kind == "pgln"
    assert parse_identifier("urn:epc:id:giai:4000001.12345").kind == "giai"
    assert parse_identifier("not an identifier").kind == "other"
    priv = parse_identifier(private_urn("Batch", "B 1/2"))
    assert priv.kind == "tracegraph" and priv.extra == {"label": "Batch", "key": "B 1/2"}


@pytest.mark.req("REQ-IMP-005")
def test_gtin_check_digits() -> None:
    assert gs1_check_digit(GTIN[:-1]) == int(GTIN[-1])
    assert normalize_gtin("9506000134352") == GTIN
    with pytest.raises(ValueError, match="check digit"):
        normalize_gtin("9506000134353")


# ---------------------------------------------------------------------------------------
# resolving what was scanned to the graph (real embedded database)
# ---------------------------------------------------------------------------------------

from typing import Any  # noqa: E402

from tracegraph.engine.audit.chain import Actor  # noqa: E402
from tracegraph.engine.trace.scan import resolve_identifier, scan  # noqa: E402
from tracegraph.loaders.epcis import import_epcis  # noqa: E402

EPC_GTIN = "10614141073464"
S_ = "urn:epc:id:sgtin:0614141.107346."
LOT = "urn:epc:class:lgtin:0614141.107346.LOT42"


@pytest.fixture(scope="module")
def graph(store: Any) -> Any:
    """The EPCIS scenario of test_epcis (keys are EPC URIs) plus ERP-style data (plain keys)."""
    from plantbuilder import Plant
    from test_epcis import scenario

    import_epcis(store, scenario(), Actor.system())
    p = Plant()
    p.lot("L-RESIN", supplier="SUP1", material="M-RESIN")
    p.product(GTIN)
    p.batch("B-100", product=GTIN, inputs=["L-RESIN"])
    p.serial("SN-1", "B-100")
    p.write(store)
    return store


@pytest.mark.parametrize(
    "text, label, key, how",
    [
        (S_ + "S1", "Serial", S_ + "S1", "id"),                                         # EPC URI as imported
        (f"https://id.gs1.org/01/{EPC_GTIN}/21/S1", "Serial", S_ + "S1", "gtin+serial"),  # Digital Link form
        (f"]d201{EPC_GTIN}17280131" f"10LOT42{GS}21S2", "Serial", S_ + "S2", "gtin+serial"),  # GS1 DataMatrix
        (f"(01){EPC_GTIN}(10)LOT42", "Batch", LOT, "gtin+lot"),                         # lot-level UDI
        (f"https://id.gs1.org/01/{EPC_GTIN}/10/LOT42", "Batch", LOT, "gtin+lot"),
        ("00106141412345678908", "Container", "urn:epc:id:sscc:0614141.1234567890", "sscc"),
        (f"(01){GTIN}(21)SN-1", "Serial", "SN-1", "udi"),                               # ERP unit by its UDI
        (f"01{GTIN}21SN-1", "Serial", "SN-1", "udi"),
        (f"(01){GTIN}(10)B-100", "Batch", "B-100", "gtin+lot"),                         # ERP batch by GTIN + lot
        (f"https://id.gs1.org/01/{GTIN}/21/SN-1", "Serial", "SN-1", "udi"),
        ("B-100", "Batch", "B-100", "id"),
        (EPC_GTIN, "Product", EPC_GTIN, "id"),
        (GTIN[1:], "Product", GTIN, "gtin"),  # the GTIN-13 form of a GTIN-14 key
    ],
)
@pytest.mark.req("REQ-IMP-005")
def test_resolve_identifier_in_every_form(graph: Any, text: str, label: str, key: str, how: str) -> None:
    r = resolve_identifier(graph, text)
    assert (r.label, r.id, r.matched_by) == (label, key, how)


def test_resolve_refuses_bad_barcodes_and_reports_unknown_ones(graph: Any) -> None:
    with pytest.raises(ValidationFailed, match="check digit"):
        resolve_identifier(graph, f"(01){GTIN[:-1]}3(21)SN-1")
    with pytest.raises(ValidationFailed):
        resolve_identifier(graph, "complete garbage")
    with pytest.raises(NotFound, match="serial NOPE"):
        resolve_identifier(graph, f"(01){GTIN}(21)NOPE")


def test_scan_report_says_what_where_and_from_what(graph: Any) -> None:
    rep = scan(graph, f"https://id.gs1.org/01/{EPC_GTIN}/21/S1")
    assert rep.resolved.id == S_ + "S1"
    assert rep.product and rep.product["id"] == EPC_GTIN
    assert rep.batch and rep.batch["id"] == LOT and rep.lot == "LOT42"
    assert rep.expiry == "2028-01-31"
    assert rep.status == "at_distributor" and rep.holder and rep.holder["id"] == "urn:epc:id:pgln:4012345.00000"
    assert rep.container == "urn:epc:id:sscc:0614141.1234567890"
    assert rep.last_shipment and rep.last_shipment["status"] == "delivered"
    assert rep.upstream["material_lots"] == 2 and rep.upstream["batches"] == 1
    lot = scan(graph, f"(01){EPC_GTIN}(10)LOT42")
    assert lot.resolved.label == "Batch" and lot.units_by_status == {"at_distributor": 1, "in_transit": 1, "in_stock": 1}
    assert lot.upstream["material_lots"] == 2


class _Keep:
    """The test's store for the CLI, which would otherwise close it."""

    def __init__(self, s: Any) -> None:
        self._s = s

    def __getattr__(self, name: str) -> Any:
        return getattr(self._s, name)

    def close(self) -> None:
        pass


def test_cli_scan_and_export(graph: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    import json

    from typer.testing import CliRunner

    import tracegraph.cli.scan as cli_scan
    from tracegraph.cli import app

    monkeypatch.setattr(cli_scan, "store", lambda: _Keep(graph))
    runner = CliRunner()
    res = runner.invoke(app, ["scan", f"(01){EPC_GTIN}(21)S1", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["resolved"]["id"] == S_ + "S1" and data["status"] == "at_distributor"
    res = runner.invoke(app, ["scan", f"(01){EPC_GTIN}(21)S1"])
    assert res.exit_code == 0 and "LOT42" in res.stdout
    res = runner.invoke(app, ["scan", "(01)09506000134353(21)1"])
    assert res.exit_code == 2 and "check digit" in res.output
    out = tmp_path / "b.jsonld"
    res = runner.invoke(app, ["export", "epcis", "--batch", LOT, str(out), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    assert doc["type"] == "EPCISDocument" and json.loads(res.stdout)["events"] == len(doc["epcisBody"]["eventList"])
