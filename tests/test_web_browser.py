"""The web app in a real browser: Debian's Chromium driven by Playwright against a real uvicorn
server on the real embedded database with a generated plant. Journeys, each signed in as the
role that does it, checking what is shown against what the API answers:

(a) a complaint handler scans a GS1 element string (with the ASCII 29 group separator, typed as a
    keyboard wedge types it), sees the upstream trace graph, clicks a node, opens a complaint, and
    switches to Simplified Chinese (remembered for that user);
(b) a recall coordinator (in zh-CN) runs a supplier-window impact, sees the totals the API gives
    for the same cause, downloads the CSV and decides a recall; a QA manager approves it in the
    e-signature dialog (a wrong password is refused first);
(c) an auditor (in zh-CN) filters the audit trail by record, user and period and sees the
    approval of (b) with its old and new values, and exports it.
Accessibility basics run on every screen visited: each form control has a label, and the main
forms are completed with the keyboard alone. Screenshots of each screen go to docs/screenshots/.

Skipped only when /usr/bin/chromium is absent and CI is not set; under CI=true they run (and fail
without Chromium: .ci/run installs it)."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from web_support import (
    PASSWORD,
    WebServer,
    batch_awaiting_release,
    load_plant,
    open_quality_records,
    start_server,
)

CHROMIUM = Path("/usr/bin/chromium")
#: TRACEGRAPH_SCREENSHOTS=1 refreshes docs/screenshots/; otherwise they go to a temporary folder, so a
#: test run does not rewrite tracked files
SHOTS = (Path(__file__).resolve().parent.parent / "docs" / "screenshots" if os.environ.get("TRACEGRAPH_SCREENSHOTS")
         else Path(tempfile.gettempdir()) / "tracegraph-screenshots")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

if not os.environ.get("CI"):
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (/usr/bin/chromium): apt-get install chromium", allow_module_level=True)
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed (pip install -e '.[test]')")

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402  (after the skip check)

pytestmark = pytest.mark.timeout(240)
# CI runs the whole suite on 2 shared cores: give the page time, but fail well inside the test timeout
expect.set_options(timeout=15_000)

#: what the journeys hand on to the next one
STATE: dict[str, Any] = {}


@pytest.fixture(scope="module")
def web(store: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    load_plant(store)
    server = start_server(store, tmp_path_factory.mktemp("web"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser: Browser, tmp_path: Path) -> Iterator[Page]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id="Asia/Shanghai",
                              locale="en-US", accept_downloads=True)
    pg = ctx.new_page()
    pg.set_default_timeout(20_000)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    ctx.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(150)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def unlabelled(page: Page) -> list[str]:
    """Visible form controls without a label (a <label for>, a wrapping label or aria-label)."""
    return page.evaluate("""() => [...document.querySelectorAll('input, select, textarea')]
        .filter(el => el.type !== 'hidden' && el.offsetParent !== null)
        .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                      && !el.getAttribute('aria-labelledby'))
        .map(el => el.outerHTML.slice(0, 120))""")


def check_labels(page: Page) -> None:
    """Every visible control is labelled, and the screen shows no refusal or failure."""
    assert unlabelled(page) == [], "form controls without a label"
    errors = [t for t in page.locator("#view .error").all_inner_texts() if t.strip()]
    assert errors == [], f"the screen shows errors: {errors}"


def sign_in(page: Page, web: WebServer, user: str, password: str = PASSWORD) -> None:
    """With the keyboard only: the user field has the focus, Tab to the password, Enter."""
    page.goto(web.url + "/")
    expect(page.locator("#login")).to_be_visible()
    check_labels(page)
    expect(page.locator("input[name=username]")).to_be_focused()
    page.keyboard.type(user)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    expect(page.locator("#who-name")).not_to_be_empty()


def set_lang(page: Page, lang: str) -> None:
    page.select_option("#lang", lang)
    expect(page.locator("html")).to_have_attribute("lang", lang)


def n(v: float) -> str:
    """A number as the page shows it (en and zh-CN group thousands with a comma)."""
    return f"{int(v):,}" if float(v).is_integer() else f"{v:,}"


def tab_to(page: Page, selector: str, most: int = 6) -> None:
    """Press Tab until `selector` has the focus (a date input takes one Tab per part)."""
    el = page.locator(selector)
    for _ in range(most):
        page.keyboard.press("Tab")
        if el.evaluate("e => e === document.activeElement"):
            return
    raise AssertionError(f"{selector} cannot be reached with Tab")


def nav_texts(page: Page) -> list[str]:
    return page.locator("#nav a").all_inner_texts()


# -- (a) complaint handler -----------------------------------------------------------------------------

def click_node(page: Page, node_id: str, shows: str, tries: int = 3) -> None:
    """A real mouse click on a graph node, once the layered layout has stopped moving it (the
    dagre layout animates; a click at a position read mid-animation misses the node). Retried
    a few times, each after re-reading the position, until `shows` appears."""
    js = f"() => {{ const n = window.tracegraphCy && window.tracegraphCy.getElementById('{node_id}'); " \
         f"return n && n.length ? n.renderedPosition() : null; }}"
    for attempt in range(tries):
        page.locator("#trace-graph").scroll_into_view_if_needed()
        last = None
        for _ in range(50):  # up to 5 s for the position to hold still
            pos = page.evaluate(js)
            if pos is not None and pos == last:
                break
            last = pos
            page.wait_for_timeout(100)
        box = page.locator("#trace-graph").bounding_box()
        assert box is not None and last is not None, f"graph node {node_id} not drawn"
        page.mouse.click(box["x"] + last["x"], box["y"] + last["y"])
        try:
            page.locator(shows).first.wait_for(state="visible", timeout=5000)
            return
        except Exception:
            if attempt == tries - 1:
                raise

def test_complaint_handler_scans_a_gs1_string_sees_the_graph_and_opens_a_complaint(web: WebServer, page: Page) -> None:
    unit = web.gql('{ serials(first: 1, filter: {status: "at_end_user"}) { edges { node { id gtin serialNo batchId expiry } } } }')
    u = unit["serials"]["edges"][0]["node"]
    expiry = u["expiry"].replace("-", "")[2:]
    # (01) GTIN (17) expiry (10) lot <GS> (21) serial: the lot is variable-length, so a GS ends it
    gs1 = f"01{u['gtin']}17{expiry}10{u['batchId']}\x1d21{u['serialNo']}"

    page.goto(web.url + "/")
    shot(page, "sign-in")
    sign_in(page, web, "complaints")
    expect(page.locator("#who-name")).to_have_text("Sam Okafor")
    expect(page.locator("#who-role")).to_have_text("Complaint handler")
    # role-aware: the complaint handler lands on the trace view, sees no user administration
    expect(page.locator("#view")).to_have_attribute("data-screen", "trace")
    assert nav_texts(page)[0] == "Trace" and "Users" not in nav_texts(page)
    expect(page.locator("input[name=code]")).to_be_focused()

    page.keyboard.type(gs1)  # what a keyboard-wedge scanner does, GS included
    page.keyboard.press("Enter")
    expect(page.locator("#scan-result")).to_contain_text(u["id"])
    expect(page.locator("#scan-result")).to_contain_text("gtin+serial")
    page.wait_for_function("() => window.tracegraphCy && window.tracegraphCy.nodes().length > 0")

    tb = web.gql('query($k: String!) { traceBack(key: $k) { counts batches { id } lots { id } suppliers { supplier } } }',
                 k=u["id"])["traceBack"]
    kinds = page.evaluate("""() => { const out = {}; window.tracegraphCy.nodes().forEach(n => {
        (out[n.data('kind')] = out[n.data('kind')] || []).push(n.data('key')); }); return out; }""")
    assert sorted(kinds["MaterialLot"]) == sorted(lot["id"] for lot in tb["lots"])
    assert sorted(kinds["Batch"]) == sorted(b["id"] for b in tb["batches"])
    assert set(kinds["Supplier"]) == {s["supplier"] for s in tb["suppliers"]}
    assert kinds["Serial"] == [u["id"]]
    expect(page.locator('#trace-counts [data-key="lots"] b')).to_have_text(str(tb["counts"]["lots"]))
    # the graph is drawn (a canvas with pixels), and a real click on a node shows its details
    box = page.locator("#trace-graph").bounding_box()
    assert box and page.locator("#trace-graph canvas").count() >= 1
    click_node(page, f"Batch:{u['batchId']}", "#trace-details h3")
    expect(page.locator("#trace-details h3")).to_contain_text(u["batchId"])
    batch = next(b for b in web.gql('query($k: String!) { traceBack(key: $k) { batches { id product status } } }',
                                    k=u["id"])["traceBack"]["batches"] if b["id"] == u["batchId"])
    expect(page.locator("#node-details")).to_contain_text(batch["product"])
    # the same graph as a list, with the keyboard: open it, Tab to the unit's batch, Enter shows its details
    page.locator("#trace-as-list summary").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#trace-list button")).to_have_count(page.evaluate("() => window.tracegraphCy.nodes().length"))
    page.locator(f'#trace-list button[data-node="MaterialLot:{tb["lots"][0]["id"]}"]').focus()
    page.keyboard.press("Enter")
    expect(page.locator("#trace-details h3")).to_contain_text(tb["lots"][0]["id"])
    tab_to(page, f'#trace-list button[data-node="Batch:{u["batchId"]}"]', most=len(kinds["MaterialLot"]) + 12)
    page.keyboard.press("Enter")
    expect(page.locator("#trace-details h3")).to_contain_text(u["batchId"])
    check_labels(page)
    shot(page, "trace")

    # the complaint form, with the keyboard alone
    page.locator("#complaint-form input[name=reporter]").focus()
    page.keyboard.type("Spital Bern, ward 3")
    tab_to(page, "#complaint-form textarea[name=description]")  # past the event date (today, prefilled)
    page.keyboard.type("Display flickers after 10 minutes of use")
    tab_to(page, "#complaint-form input[name=patient_involved]")
    page.keyboard.press("Space")  # a patient was involved
    tab_to(page, "#complaint-form button[type=submit]")  # past injury: no
    page.keyboard.press("Enter")
    opened = page.locator('[data-testid="complaint-opened"]')
    expect(opened).to_contain_text("Complaint CMP")
    cmp_id = opened.inner_text().split()[1]
    rec = web.gql('query($id: String!) { qualityRecord(type: "complaint", id: $id) { status props concerns { id label } } }',
                  id=cmp_id)["qualityRecord"]
    assert rec["status"] == "open" and {"id": u["id"], "label": "Serial"} in rec["concerns"]
    assert rec["props"]["reporter"] == "Spital Bern, ward 3" and rec["props"]["patient_involved"] is True
    STATE["complaint"] = cmp_id

    # Simplified Chinese, remembered for this user; the human-readable form with parentheses works too
    set_lang(page, "zh-CN")
    assert nav_texts(page)[0] == "追溯"
    expect(page.locator("#who-role")).to_have_text("投诉处理员")
    page.reload()
    expect(page.locator("#nav a").first).to_have_text("追溯")
    code = page.locator("input[name=code]")
    code.fill(f"(01){u['gtin']}(21){u['serialNo']}")
    code.press("Enter")
    expect(page.locator("#scan-result")).to_contain_text("产品 " + u["id"])
    expect(page.locator("#trace-out h2").first).to_contain_text("的来源与去向")
    shot(page, "trace-zh-CN")

    # from the unit's batch: downstream as one node per customer, with the units it holds
    click_node(page, f"Batch:{u['batchId']}", "#trace-details a")
    page.click("#trace-details a")  # 从此处追溯
    page.wait_for_url(f"**/#/trace/{u['batchId']}")
    page.wait_for_function(f"() => window.tracegraphCy && window.tracegraphCy.getElementById('Batch:{u['batchId']}')"
                           ".data('start')")
    fw = web.gql('query($k: String!) { traceForward(key: $k) { customers { id units } } }', k=u["batchId"])
    shown = page.evaluate("""() => window.tracegraphCy.nodes('[kind = "Customer"]').map(n => [n.data('key'), n.data('units')])""")
    assert sorted(shown) == sorted([c["id"], c["units"]] for c in fw["traceForward"]["customers"])


# -- (b) coordinator decides, QA manager approves ----------------------------------------------------------
def test_coordinator_runs_a_supplier_window_impact_and_decides_a_recall_approved_by_esignature(
        web: WebServer, page: Page) -> None:
    sup = web.gql('{ suppliers(first: 50) { edges { node { id lots(first: 50) { edges { node { id receivedAt } } } } } } }')
    # the supplier with most lots; the window: its first two receipts
    best = max(sup["suppliers"]["edges"], key=lambda e: len(e["node"]["lots"]["edges"]))["node"]
    dates = sorted(e["node"]["receivedAt"][:10] for e in best["lots"]["edges"])
    cause = {"supplier": best["id"], "suppliedFrom": dates[0], "suppliedTo": dates[min(1, len(dates) - 1)]}
    api = web.gql('query($c: ImpactCauseInput!) { impact(cause: $c) { counts byStatus customers { name id units } '
                  'serials { status } } }', c=cause)["impact"]
    assert api["counts"]["units"] > 0

    sign_in(page, web, "coord")
    expect(page.locator("#view")).to_have_attribute("data-screen", "impact")
    set_lang(page, "zh-CN")
    expect(page.locator("#view h1")).to_have_text("影响分析")
    expect(page.locator("#who-role")).to_have_text("召回协调员, 只读用户")
    check_labels(page)
    # the cause form with the keyboard alone: supplier, Tab, the receipt window typed as digits
    # (the browser's date field in the en-US locale: month, day, year), Enter runs it
    def us_digits(iso: str) -> str:
        y, m, d = iso.split("-")
        return f"{m}{d}{y}"

    page.locator("#impact-form input[name=supplier]").focus()
    page.keyboard.type(best["id"])
    tab_to(page, "#impact-form input[name=suppliedFrom]")
    page.keyboard.type(us_digits(cause["suppliedFrom"]))
    tab_to(page, "#impact-form input[name=suppliedTo]")
    page.keyboard.type(us_digits(cause["suppliedTo"]))
    expect(page.locator("#impact-form input[name=suppliedFrom]")).to_have_value(cause["suppliedFrom"])
    expect(page.locator("#impact-form input[name=suppliedTo]")).to_have_value(cause["suppliedTo"])
    page.keyboard.press("Enter")
    expect(page.locator("#impact-totals")).to_be_visible()
    for key in ("units", "batches", "lots", "customers"):
        expect(page.locator(f'#impact-totals [data-key="{key}"] b')).to_have_text(n(api["counts"][key]))
    expect(page.locator('#impact-totals [data-key="units"] span')).to_have_text("件产品")
    bars = page.evaluate("""() => [...document.querySelectorAll('.chart-box')].map(f => ({
        title: f.querySelector('figcaption').textContent,
        bars: [...f.querySelectorAll('g')].map(g => [g.dataset.label, Number(g.dataset.value)]) }))""")
    by_status = next(b for b in bars if b["title"] == "按状态统计")["bars"]
    assert sum(v for _, v in by_status) == sum(api["byStatus"].values())
    if "at_end_user" in api["byStatus"]:
        assert ["在终端用户处", api["byStatus"]["at_end_user"]] in by_status
    by_customer = next(b for b in bars if b["title"] == "按客户统计")["bars"]
    top = sorted(((c["name"] or c["id"], c["units"]) for c in api["customers"]), key=lambda x: -x[1])[:12]
    assert sorted(v for _, v in by_customer) == sorted(v for _, v in top)
    # the unit table: paged and filterable
    serials = api["counts"]["serials"]
    expect(page.locator("#unit-page")).to_contain_text(f"共 {n(serials)} 件")
    per_status = Counter(s["status"] for s in api["serials"])
    status = min(per_status, key=per_status.get)
    page.select_option("#impact-answer select[name=status]", status)
    expect(page.locator("#unit-page")).to_contain_text(f"共 {n(per_status[status])} 件")
    assert len(set(page.locator("#unit-table tbody tr td:nth-child(4)").all_inner_texts())) == 1
    page.select_option("#impact-answer select[name=status]", "")
    # the CSV download has one row per affected unit or quantity row
    with page.expect_download() as dl:
        page.click("#dl-csv")
    rows = list(csv.reader(io.StringIO(Path(dl.value.path()).read_text(encoding="utf-8-sig"))))
    assert len(rows) > 1 and len(rows) - 1 >= serials
    with page.expect_download() as dl:
        page.click("#dl-xlsx")
    assert dl.value.suggested_filename == "impact.xlsx"
    wb = openpyxl.load_workbook(io.BytesIO(Path(dl.value.path()).read_bytes()), read_only=True)
    assert "units" in wb.sheetnames and sum(1 for _ in wb["units"].iter_rows()) - 1 >= serials
    shot(page, "impact-zh-CN")

    # decide the recall from this answer
    check_labels(page)
    page.select_option("#recall-form select[name=jurisdiction]", "CN-NMPA")
    page.select_option("#recall-form select[name=recallClass]", "II")
    page.fill("#recall-form textarea[name=reason]", "Supplier reports resin contamination in the receipt window")
    page.click("#recall-form button[type=submit]")
    page.wait_for_url("**/#/recalls/*")
    expect(page.locator('[data-testid="recall-id"]')).to_be_visible()
    rid = page.locator('[data-testid="recall-id"]').inner_text()
    STATE["recall"] = rid
    rec = web.gql('query($id: String!) { recall(id: $id) { status unitsCovered cause } }', id=rid)["recall"]
    assert rec["status"] == "draft" and rec["unitsCovered"] == api["counts"]["units"]
    expect(page.locator('#recall-facts [data-field="status"]')).to_have_text("草稿")
    expect(page.locator('#recall-facts [data-field="unitsCovered"]')).to_have_text(n(api["counts"]["units"]))
    # the coordinator may not approve: the button is there, disabled, saying why
    approve = page.locator('#recall-steps button[data-step="approve"]')
    expect(approve).to_be_disabled()
    assert "recall.approve" in (approve.get_attribute("title") or "")
    expect(page.locator("#recall-clocks tbody tr").first).to_be_visible()
    page.click("#logout")
    expect(page.locator("#login")).to_be_visible()

    # a second person approves it with an e-signature (English)
    sign_in(page, web, "qa.lead")
    expect(page.locator("#who-name")).to_have_text("Maria Garcia")
    expect(page.locator("#nav a").first).to_have_text("Quality")
    page.click('#nav a[data-nav="recalls"]')
    card = page.locator(f'#recall-board [data-status="draft"] [data-recall="{rid}"]')
    expect(card).to_contain_text("Class II")
    expect(card).to_contain_text("CN-NMPA")
    shot(page, "recall-board")
    card.locator("a").click()
    page.click('#recall-steps button[data-step="approve"]')
    dialog = page.locator("dialog.modal")
    expect(dialog).to_be_visible()
    expect(dialog.locator('[data-testid="esign-name"]')).to_have_text("Maria Garcia")
    expect(dialog.locator('[data-testid="esign-meaning"]')).to_have_text("Approved")
    expect(dialog.locator('[data-testid="esign-record"]')).to_contain_text(rid)
    check_labels(page)
    expect(dialog.locator("input[name=password]")).to_be_focused()
    page.keyboard.type("not-my-password")
    page.keyboard.press("Tab")
    page.keyboard.type("Reviewed the impact and the health hazard evaluation")
    shot(page, "esign")
    page.keyboard.press("Tab")  # Cancel
    page.keyboard.press("Tab")  # Sign
    page.keyboard.press("Enter")
    expect(page.locator("#recall-msg .error")).to_be_visible()  # refused: wrong password
    assert web.gql('query($id: String!) { recall(id: $id) { status } }', id=rid)["recall"]["status"] == "draft"
    page.click('#recall-steps button[data-step="approve"]')
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Tab")
    page.keyboard.type("Reviewed the impact and the health hazard evaluation")
    page.locator("dialog.modal button[type=submit]").click()
    expect(page.locator('#recall-facts [data-field="status"]')).to_have_text("approved")
    expect(page.locator('#recall-facts [data-field="approvedBy"]')).to_have_text("qa.lead")
    expect(page.locator("#recall-signatures")).to_contain_text("Maria Garcia")
    expect(page.locator("#recall-signatures")).to_contain_text("Approved")
    expect(page.locator('#recall-steps button[data-step="start"]')).to_be_visible()
    shot(page, "recall")
    assert web.gql('query($id: String!) { recall(id: $id) { status approvedBy } }', id=rid)["recall"] == {
        "status": "approved", "approvedBy": "qa.lead"}
    # the next steps GraphQL offers: start (quarantines stock), complete (with a reason), close (signed)
    page.click('#recall-steps button[data-step="start"]')
    expect(page.locator('#recall-facts [data-field="status"]')).to_have_text("in progress")
    after_start = web.gql('query($id: String!) { recall(id: $id) { status quarantinedSerials startedAt } }', id=rid)["recall"]
    assert after_start["status"] == "in_progress" and after_start["startedAt"]
    expect(page.locator('#recall-facts [data-field="quarantined"]')).to_contain_text(n(after_start["quarantinedSerials"]))
    # notices to every customer, then one customer's acknowledgement with its stock count and a
    # unit it returns, scanned; a regulatory submission; the effectiveness check
    page.click('#recall-steps button[data-step="notify"]')
    expect(page.locator("#recall-msg .ok")).to_be_visible()
    custs = web.gql('query($id: String!) { recall(id: $id) { customers { id sentAt } } }', id=rid)["recall"]["customers"]
    assert custs and all(c["sentAt"] for c in custs)
    held = web.store.run("MATCH (:Recall {id: $r})-[c:COVERS]->(s:Serial) WHERE c.customer_at_decision IS NOT NULL "
                         "RETURN s.id AS id, c.customer_at_decision AS customer LIMIT 1", {"r": rid})[0]
    form = page.locator("#customer-action")
    form.locator("select[name=customer]").select_option(held["customer"])
    form.locator("select[name=action]").select_option("acknowledged")
    form.locator("input[name=stock]").fill("3")
    form.locator("button[type=submit]").click()
    expect(page.locator("#recall-msg .ok")).to_be_visible()
    form = page.locator("#customer-action")
    form.locator("select[name=customer]").select_option(held["customer"])
    form.locator("select[name=action]").select_option("returned")
    form.locator("textarea[name=scans]").fill(held["id"])
    form.locator("button[type=submit]").click()
    expect(page.locator("#recall-msg .ok")).to_be_visible()
    row = next(c for c in web.gql('query($id: String!) { recall(id: $id) { customers { id acknowledgedAt stockCount '
                                  'returned } } }', id=rid)["recall"]["customers"] if c["id"] == held["customer"])
    assert row["acknowledgedAt"] and row["stockCount"] == 3 and row["returned"] == 1
    # effectiveness over time: the decision, the notices (one mass mailing), the acknowledgement and
    # the return, each a point of the chart, with the class II target as a line
    tl = web.gql('query($id: String!) { recall(id: $id) { effectivenessTimeline { targetPct '
                 'points { event effectivenessPct } } } }', id=rid)["recall"]
    assert [p["event"] for p in tl["effectivenessTimeline"]["points"]] == ["decision", "sent", "acknowledged", "return"]
    chart = page.locator("#recall-timeline")
    expect(chart.locator("figcaption")).to_have_text("Units accounted for, % of the units to recover")
    expect(chart.locator("circle.point")).to_have_count(4)
    assert float(chart.locator("circle.point").last.get_attribute("data-value") or -1) == \
        tl["effectivenessTimeline"]["points"][-1]["effectivenessPct"] > 0
    assert float(chart.locator("g.target").get_attribute("data-value") or 0) == tl["effectivenessTimeline"]["targetPct"] == 95
    expect(chart.locator("g.target text")).to_have_text("target 95%")
    shot(page, "recall-timeline")
    page.click('#recall-steps button[data-step="milestone"]')
    page.locator("dialog.modal select[name=milestone]").select_option("authority_report")
    page.fill("dialog.modal input[name=reference]", "NMPA-2026-0042")
    page.locator("dialog.modal button[type=submit]").click()
    expect(page.locator("#recall-msg .ok")).to_be_visible()
    assert "authority_report" in web.gql('query($id: String!) { recall(id: $id) { milestones } }', id=rid)["recall"]["milestones"]
    page.click('#recall-steps button[data-step="effectiveness"]')
    expect(page.locator("#recall-msg .ok")).to_be_visible()
    page.click('#recall-steps button[data-step="complete"]')
    page.fill("dialog.modal textarea[name=reason]", "all customers reached")
    page.locator("dialog.modal button[type=submit]").click()
    expect(page.locator('#recall-facts [data-field="status"]')).to_have_text("effectiveness check")
    eff = web.gql('query($id: String!) { recall(id: $id) { effectivenessPct } }', id=rid)["recall"]

    def close(exception: str | None) -> None:
        page.click('#recall-steps button[data-step="close"]')
        expect(page.locator('dialog.modal [data-testid="esign-meaning"]')).to_have_text("Closed")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Tab")
        page.keyboard.type("effectiveness check done")
        if exception:
            page.fill("dialog.modal textarea[name=exception]", exception)
        page.locator("dialog.modal button[type=submit]").click()

    # no unit is accounted for yet: below the class II target, closure is refused, and says why
    assert (eff["effectivenessPct"] or 0) < 100
    close(None)
    expect(page.locator("#recall-msg .error")).to_contain_text("closure refused")
    assert web.gql('query($id: String!) { recall(id: $id) { status } }', id=rid)["recall"]["status"] == "effectiveness_check"
    # with a justified exception, signed as a second signature
    close("Remaining units destroyed on site, certificates on file")
    expect(page.locator('#recall-facts [data-field="status"]')).to_have_text("closed")
    expect(page.locator('#recall-facts [data-field="exception"]')).to_have_text(
        "Remaining units destroyed on site, certificates on file")
    expect(page.locator("#recall-signatures")).to_contain_text("Exception")
    shot(page, "recall-closed")
    assert web.gql('query($id: String!) { recall(id: $id) { status closedBy } }', id=rid)["recall"] == {
        "status": "closed", "closedBy": "qa.lead"}

    # the QA board: open records by type, status and owner; the CAPA due in three days is an alert
    qa = open_quality_records(web)
    page.click('#nav a[data-nav="qa"]')
    items = web.gql("{ openItems(alertDays: 14) { items { id type owner } alerts { capa } } }")["openItems"]
    expect(page.locator('.kpi[data-key="open"] b')).to_have_text(str(len(items["items"])))
    expect(page.locator('.kpi[data-key="alerts"] b')).to_have_text(str(len(items["alerts"])))
    expect(page.locator("#qa-alerts")).to_contain_text(qa["capa"])
    check_labels(page)
    shot(page, "qa-board")
    capa_type = next(i["type"] for i in items["items"] if i["id"] == qa["capa"])
    page.select_option("#qa-filter select[name=type]", capa_type)
    expect(page.locator("#qa-items tbody tr")).to_have_count(sum(1 for i in items["items"] if i["type"] == capa_type))
    expect(page.locator("#qa-items")).to_contain_text(qa["capa"])
    expect(page.locator("#qa-items")).not_to_contain_text(qa["deviation"])
    page.select_option("#qa-filter select[name=type]", "")
    owner = Counter(i["owner"] for i in items["items"] if i["owner"]).most_common(1)[0][0]
    page.select_option("#qa-filter select[name=owner]", owner)
    expect(page.locator("#qa-items tbody tr")).to_have_count(sum(1 for i in items["items"] if i["owner"] == owner))
    page.select_option("#qa-filter select[name=owner]", "")
    if "complaint" in STATE:
        page.goto(f"{web.url}/#/qa/complaint/{STATE['complaint']}")
        expect(page.locator('[data-testid="qa-id"]')).to_have_text(STATE["complaint"])
        expect(page.locator("#qa-steps button[data-step=investigate]")).to_be_visible()
        page.click("#qa-steps button[data-step=investigate]")
        expect(page.locator("#qa-msg")).to_contain_text("Done: Investigate")
        expect(page.locator("h1 .badge")).to_have_text("investigating")
        shot(page, "qa-record")


# -- (b2) the coordinator's daily field steps ------------------------------------------------------------
CUSTOMERS_Q = ('query($id: String!) { recall(id: $id) { customers { id name units status deliveredAt bouncedAt acknowledgedAt '
               'stockCount returned destroyed corrected notFound } effectiveness { overallPct targetPct expected accounted '
               'customers { customer accounted pct } } } }')


def _row(web: WebServer, rid: str, cid: str) -> dict[str, Any]:
    return next(c for c in web.gql(CUSTOMERS_Q, id=rid)["recall"]["customers"] if c["id"] == cid)


def _shows_effectiveness(page: Page, web: WebServer, rid: str, cid: str) -> dict[str, Any]:
    """The page's effectiveness card and the customer's row show what the engine computes now."""
    eff = web.gql(CUSTOMERS_Q, id=rid)["recall"]["effectiveness"]
    card = page.locator("#recall-effectiveness")
    expect(card.locator('[data-field="overall"]')).to_have_text(f"{eff['overallPct']:.1f}%")
    expect(card.locator('[data-field="target"]')).to_have_text(f"{eff['targetPct']:.1f}%")
    expect(card.locator('[data-field="accounted"]')).to_have_text(f"{n(eff['accounted'])} / {n(eff['expected'])}")
    mine = next(c for c in eff["customers"] if c["customer"] == cid)
    expect(page.locator(f'#recall-customers tr[data-customer="{cid}"] td.c-accounted')).to_have_text(
        f"{n(mine['accounted'])} ({mine['pct']:.1f}%)")
    return eff


def test_coordinator_records_delivery_stock_count_and_outcomes_by_quantity_and_scan(web: WebServer, page: Page) -> None:
    """Every field step of `tracegraph recall ack/return` on the recall page: a notice delivered, one
    bounced, a stock count on its own, units returned by quantity (a refused count first, named by its field,
    in Chinese), a unit destroyed by scan, units corrected in the field and not found; the
    customer's row, the effectiveness card and the chart show the figures the engine computes."""
    unit = web.gql('{ serials(first: 1, filter: {status: "at_end_user"}) { edges { node { batchId } } } }')
    bid = unit["serials"]["edges"][0]["node"]["batchId"]
    rid = web.gql('mutation($i: RecallInput!) { createRecall(input: $i) { id } }', user="coord",
                  i={"jurisdiction": "CN-NMPA", "recallClass": "II", "reason": "label misprint on the batch",
                     "responsible": "coord", "cause": {"batches": [bid]}})["createRecall"]["id"]
    web.gql('mutation($id: String!) { approveRecall(id: $id, password: "' + PASSWORD + '", reason: "ok") { id } }',
            user="qa.lead", id=rid)
    web.gql('mutation($id: String!) { startRecall(id: $id) { id } }', user="coord", id=rid)
    web.gql('mutation($id: String!) { notifyRecall(id: $id, markSent: true) }', user="coord", id=rid)
    custs = web.gql(CUSTOMERS_Q, id=rid)["recall"]["customers"]
    cust = max(custs, key=lambda c: c["units"])
    cid = cust["id"]
    assert cust["units"] >= 5, custs
    held = [r["id"] for r in web.store.run(
        "MATCH (:Recall {id: $r})-[c:COVERS]->(s:Serial) WHERE c.customer_at_decision = $c AND c.disposition IS NULL "
        "RETURN s.id AS id ORDER BY s.id LIMIT 1", {"r": rid, "c": cid})]
    assert held

    sign_in(page, web, "coord")
    page.goto(f"{web.url}/#/recalls/{rid}")
    form = page.locator("#customer-action")
    expect(form).to_be_visible()
    check_labels(page)
    row = page.locator(f'#recall-customers tr[data-customer="{cid}"]')
    # the notice was delivered (English)
    form.locator("select[name=customer]").select_option(cid)
    form.locator("select[name=action]").select_option("delivered")
    expect(form.locator("input[name=qty]")).to_be_hidden()  # only the inputs of the step are shown
    form.locator("button[type=submit]").click()
    expect(page.locator("#recall-msg .ok")).to_contain_text("Recorded: Notice delivered")
    after = _row(web, rid, cid)
    assert after["deliveredAt"] and after["status"] == "delivered"
    expect(row.locator("td.c-delivered time")).to_have_attribute("datetime", after["deliveredAt"])
    # a stock count on its own: no acknowledgement
    form.locator("select[name=customer]").select_option(cid)
    form.locator("select[name=action]").select_option("stock_count")
    expect(form.locator("input[name=stock]")).to_have_attribute("required", "")
    form.locator("input[name=stock]").fill("4")
    form.locator("button[type=submit]").click()
    expect(page.locator("#recall-msg .ok")).to_contain_text("Stock count")
    after = _row(web, rid, cid)
    assert after["stockCount"] == 4 and after["acknowledgedAt"] is None
    expect(row.locator("td.c-stock")).to_have_text("4")
    # another customer's notice came back undeliverable
    other = next(c["id"] for c in custs if c["id"] != cid)
    form.locator("select[name=customer]").select_option(other)
    form.locator("select[name=action]").select_option("bounced")
    form.locator("textarea[name=note]").fill("returned by the post: address unknown")
    form.locator("button[type=submit]").click()
    expect(page.locator("#recall-msg .ok")).to_contain_text("Recorded: Notice bounced (undeliverable)")
    bounced = _row(web, rid, other)
    assert bounced["status"] == "bounced"
    expect(page.locator(f'#recall-customers tr[data-customer="{other}"] td.c-delivered .badge')).to_have_text(
        "notice bounced")
    before = _shows_effectiveness(page, web, rid, cid)
    assert before["accounted"] == 0

    # in Chinese: a quantity return, first more than the customer holds, with the keyboard alone
    set_lang(page, "zh-CN")
    expect(page.locator("#recall-effectiveness h2")).to_have_text("当前有效性")
    head = web.gql("{ auditStatus { headSeq } }")["auditStatus"]["headSeq"]
    form.locator("select[name=customer]").select_option(cid)
    form.locator("select[name=action]").select_option("returned")
    check_labels(page)
    form.locator("select[name=action]").focus()
    tab_to(page, "#customer-action input[name=qty]")  # past the scan box
    page.keyboard.type(str(int(cust["units"]) + 1))
    tab_to(page, "#customer-action button[type=submit]")  # past transfer and note
    page.keyboard.press("Enter")
    err = form.locator(".field-errors .error")
    expect(err).to_contain_text("请检查“未扫码的数量（物料批、批次级库存）”")
    expect(err).to_contain_text(f"最多只能再处置 {int(cust['units']):g} 件")
    expect(err).to_have_attribute("data-field", "qty")
    qty = form.locator("input[name=qty]")
    expect(qty).to_have_attribute("aria-invalid", "true")
    expect(qty).to_be_focused()  # the named input has the focus: type the right count
    assert web.gql("{ auditStatus { headSeq } }")["auditStatus"]["headSeq"] == head  # refused: nothing written
    shot(page, "recall-field-steps-error-zh-CN")
    page.keyboard.press("Control+A")
    page.keyboard.type("2")
    page.keyboard.press("Enter")
    expect(page.locator("#recall-msg .ok")).to_contain_text("已记录：产品已退回")
    assert _row(web, rid, cid)["returned"] == 2
    expect(row.locator("td.c-returned")).to_have_text("2")
    eff = _shows_effectiveness(page, web, rid, cid)
    assert eff["accounted"] == 2 and eff["overallPct"] > before["overallPct"]
    # a unit destroyed on site, by scan
    form.locator("select[name=customer]").select_option(cid)
    form.locator("select[name=action]").select_option("destroyed")
    form.locator("textarea[name=scans]").fill(held[0])
    form.locator("button[type=submit]").click()
    expect(page.locator("#recall-msg .ok")).to_contain_text("已记录：产品已销毁")
    assert _row(web, rid, cid)["destroyed"] == 1
    expect(row.locator("td.c-destroyed")).to_have_text("1")
    # one corrected in the field and one not found, by quantity
    for action, label, col in (("corrected", "产品已现场纠正", "corrected"), ("not_found", "产品未找到", "notFound")):
        form.locator("select[name=customer]").select_option(cid)
        form.locator("select[name=action]").select_option(action)
        form.locator("input[name=qty]").fill("1")
        form.locator("button[type=submit]").click()
        expect(page.locator("#recall-msg .ok")).to_contain_text(f"已记录：{label}")
        assert _row(web, rid, cid)[col] == 1
        expect(row.locator(f"td.c-{action}")).to_have_text("1")
    eff = _shows_effectiveness(page, web, rid, cid)
    tlq = web.gql('query($id: String!) { recall(id: $id) { effectivenessTimeline { accountedDispositions '
                  'points { event effectivenessPct } } } }', id=rid)["recall"]["effectivenessTimeline"]
    # what counts as accounted for is the jurisdiction's rule (rules/cn-nmpa.toml): not found does not by default
    counted = {"returned": 2, "destroyed": 1, "corrected": 1, "not_found": 1}
    assert eff["accounted"] == sum(v for k, v in counted.items() if k in tlq["accountedDispositions"]) >= 4
    tl = tlq["points"]
    assert [p["event"] for p in tl][-4:] == ["return"] * 4 and tl[-1]["effectivenessPct"] == eff["overallPct"]
    chart = page.locator("#recall-timeline circle.point")
    expect(chart).to_have_count(len(tl))
    assert float(chart.last.get_attribute("data-value") or -1) == eff["overallPct"]
    check_labels(page)
    shot(page, "recall-field-steps-zh-CN")


# -- (c) auditor -----------------------------------------------------------------------------------------
def test_auditor_filters_the_audit_trail_and_sees_the_approval(web: WebServer, page: Page) -> None:
    rid = STATE.get("recall")
    if rid is None:
        pytest.fail("journey (b) made no recall: run the module in order")
    want = web.gql('query($t: String!) { auditLog(target: $t, user: "qa.lead") { totalCount edges { node { seq action changes } } } }',
                   t=rid)["auditLog"]
    assert want["totalCount"] >= 1
    approval = next(e["node"] for e in want["edges"] if e["node"]["action"] == "recall.approve")

    sign_in(page, web, "auditor")
    set_lang(page, "zh-CN")
    page.click('#nav a[data-nav="audit"]')
    expect(page.locator("#view h1")).to_have_text("审计追踪")
    head = web.gql("{ auditStatus { headSeq } }")["auditStatus"]["headSeq"]
    expect(page.locator('#audit-status [data-field="head"]')).to_contain_text(f"#{head:,}")
    check_labels(page)
    # the period is today in the user's zone (the browser runs in Asia/Shanghai): the page turns it into UTC
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    page.fill("#audit-filter input[name=since]", today)
    page.fill("#audit-filter input[name=until]", today)
    page.fill("#audit-filter input[name=user]", "qa.lead")
    page.fill("#audit-filter input[name=target]", rid)
    page.locator("#audit-filter input[name=target]").press("Enter")
    expect(page.locator("#audit-count")).to_have_text(f"共 {want['totalCount']} 条")
    entries = page.locator("#audit-entries > li")
    expect(entries).to_have_count(want["totalCount"])
    assert entries.evaluate_all("els => els.map(e => Number(e.dataset.seq))") == [e["node"]["seq"] for e in want["edges"]]
    shown = page.locator(f'#audit-entries > li[data-seq="{approval["seq"]}"]')
    expect(shown).to_have_attribute("data-action", "recall.approve")
    status_change = next(c for c in approval["changes"] if c["field"] == "status")
    assert (status_change["old"], status_change["new"]) == ("draft", "approved")
    row = shown.locator("table.changes tr", has_text="status")
    expect(row.locator("td.old")).to_have_text("draft")
    expect(row.locator("td.new")).to_have_text("approved")
    expect(shown).to_contain_text("Maria Garcia")
    expect(shown).to_contain_text("Reviewed the impact and the health hazard evaluation")
    shot(page, "audit-zh-CN")
    with page.expect_download() as dl:
        page.click("#audit-export")
    rows = list(csv.DictReader(io.StringIO(Path(dl.value.path()).read_text(encoding="utf-8"))))
    assert {r["seq"] for r in rows} == {str(e["node"]["seq"]) for e in want["edges"]}
    assert any(r["field"] == "status" and r["old"] == "draft" and r["new"] == "approved" for r in rows)
    # a period that ends before today shows nothing of it
    page.fill("#audit-filter input[name=since]", "2020-01-01")
    page.fill("#audit-filter input[name=until]", "2020-01-02")
    page.click("#audit-filter button[type=submit]")
    expect(page.locator("#audit-count")).to_have_text("共 0 条")
    # dates in the user's time zone: the browser's (Asia/Shanghai), or the one picked in the header
    page.click("#audit-clear")
    page.fill("#audit-filter input[name=target]", rid)
    page.click("#audit-filter button[type=submit]")
    stamp = page.locator(f'#audit-entries > li[data-seq="{approval["seq"]}"] .entry-head time')
    assert stamp.get_attribute("datetime").endswith("+00:00")
    expect(stamp).to_contain_text("GMT+8")
    page.select_option("#tz", "America/New_York")
    expect(page.locator(f'#audit-entries > li[data-seq="{approval["seq"]}"] .entry-head time')).to_contain_text("GMT-5")
    page.reload()
    expect(page.locator("#tz")).to_have_value("America/New_York")  # remembered for this user
    page.select_option("#tz", "Asia/Shanghai")


# -- (d) batch release: opened and reviewed by QA, released by the QA manager --------------------------------
def test_batch_release_checklist_and_the_two_person_signed_release(web: WebServer, page: Page) -> None:
    bid = batch_awaiting_release(web)
    # the author opens the release record from the checklist, and may not review it herself
    sign_in(page, web, "qa.author")
    expect(page.locator("#view")).to_have_attribute("data-screen", "qa")
    expect(page.locator("#who-role")).to_have_text("QA")
    check_labels(page)
    page.fill("#release-form input[name=batch]", bid)
    page.locator("#release-form input[name=batch]").press("Enter")
    checklist = page.locator("#release-checklist")
    expect(checklist.locator("li.ok")).to_have_count(5)
    expect(checklist).to_contain_text("Incoming inspections")
    expect(page.locator("#release-out .badge").first).to_have_text("releasable")
    page.click("#release-out button.primary")
    page.wait_for_url("**/#/qa/release/*")
    rel = page.locator('[data-testid="qa-id"]').inner_text()
    expect(page.locator("#qa-concerns")).to_contain_text(bid)
    expect(page.locator("#qa-steps button[data-step=release]")).to_have_count(0)  # not before the review
    dialog = page.locator("dialog.modal")

    def sign(step: str, meaning: str, name: str, reason: str) -> None:
        page.click(f"#qa-steps button[data-step={step}]")
        expect(dialog.locator('[data-testid="esign-meaning"]')).to_have_text(meaning)
        expect(dialog.locator('[data-testid="esign-name"]')).to_have_text(name)
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Tab")
        page.keyboard.type(reason)
        dialog.locator("button[type=submit]").click()

    sign("review", "Reviewed", "Chen Jing", "my own record")
    expect(page.locator("#qa-msg .error")).to_contain_text("two-person rule")
    page.click("#logout")

    sign_in(page, web, "qa.rev")
    page.goto(f"{web.url}/#/qa/release/{rel}")
    sign("review", "Reviewed", "Quinn Reviewer", "Batch record reviewed against the checklist")
    expect(page.locator("h1 .badge")).to_have_text("reviewed")
    expect(page.locator("#qa-signatures")).to_contain_text("Quinn Reviewer")
    # the reviewer may not release (no qms.approve): the button is shown disabled
    expect(page.locator("#qa-steps button[data-step=release]")).to_be_disabled()
    page.click("#logout")

    sign_in(page, web, "qa.lead")
    set_lang(page, "zh-CN")
    page.goto(f"{web.url}/#/qa/release/{rel}")
    expect(page.locator("h1 .badge")).to_have_text("已审核")
    sign("release", "放行", "Maria Garcia", "批次放行")
    expect(page.locator("h1 .badge")).to_have_text("已放行")
    expect(page.locator("#qa-signatures tbody tr")).to_have_count(2)
    expect(page.locator("#qa-signatures")).to_contain_text("审核")
    shot(page, "qa-release-zh-CN")
    assert web.gql('query($b: String!) { batch(id: $b) { status } }', b=bid)["batch"]["status"] == "released"


# -- administration ----------------------------------------------------------------------------------------
def test_administrator_sees_users_and_disables_one(web: WebServer, page: Page) -> None:
    sign_in(page, web, "admin")
    expect(page.locator("#view")).to_have_attribute("data-screen", "admin")
    assert nav_texts(page) == ["Users", "Audit trail"]  # no business screens for the administrator
    row = page.locator("#users tbody tr", has_text="qa.rev")
    expect(row).to_contain_text("Quinn Reviewer")
    expect(row).to_contain_text("active")
    check_labels(page)
    shot(page, "admin")
    row.locator("button", has_text="Disable").click()
    page.fill("dialog.modal textarea[name=reason]", "left the company")
    page.locator("dialog.modal button[type=submit]").click()
    expect(page.locator("#users tbody tr", has_text="qa.rev")).to_contain_text("disabled")
    users = web.gql("{ users { id status } }", user="admin")["users"]
    assert {"id": "qa.rev", "status": "disabled"} in users
    # a new user with two roles, then one role more
    form = page.locator("#add-user")
    form.locator("input[name=username]").fill("new.handler")
    form.locator("input[name=name]").fill("Nina Neu")
    form.locator("input[name=password]").fill(PASSWORD)
    form.get_by_label("Complaint handler").check()
    form.locator("input[name=reason]").fill("joined the complaint unit")
    form.locator("button[type=submit]").click()
    row = page.locator("#users tbody tr", has_text="new.handler")
    expect(row).to_contain_text("Complaint handler")
    expect(row).to_contain_text("Viewer")
    row.locator('button[data-action="roles"]').click()
    page.locator("dialog.modal").get_by_label("Recall coordinator").check()
    page.fill("dialog.modal textarea[name=reason]", "covers recalls too")
    page.locator("dialog.modal button[type=submit]").click()
    expect(page.locator("#users tbody tr", has_text="new.handler")).to_contain_text("Recall coordinator")
    user = web.gql('{ user(id: "new.handler") { name roles status } }', user="admin")["user"]
    assert user["name"] == "Nina Neu" and user["status"] == "active"
    assert set(user["roles"]) == {"viewer", "complaint_handler", "recall_coordinator"}
    # a weak password is refused, and the refusal is shown
    form.locator("input[name=username]").fill("weak.one")
    form.locator("input[name=name]").fill("Weak One")
    form.locator("input[name=password]").fill("short")
    form.locator("input[name=reason]").fill("test")
    form.locator("button[type=submit]").click()
    expect(page.locator("#admin-msg .error")).to_contain_text("Not accepted:")
    # in Chinese, the server's own refusal is in Chinese (Accept-Language), without the English lead-in
    set_lang(page, "zh-CN")
    form.locator("input[name=username]").fill("weak.one")
    form.locator("input[name=name]").fill("Weak One")
    form.locator("input[name=password]").fill("short")
    form.locator("input[name=reason]").fill("test")
    form.locator("button[type=submit]").click()
    refusal = page.locator("#admin-msg .error")
    expect(refusal).to_contain_text("密码不符合策略：至少 12 个字符")
    expect(refusal).to_contain_text("请使用至少 12 个字符")
    assert "输入未通过校验" not in refusal.inner_text() and "does not meet" not in refusal.inner_text()
    set_lang(page, "en")


def test_routes_in_flight_at_once_show_the_page_once(web: WebServer, page: Page) -> None:
    """Three routes started before the first page has loaded (hashchanges, as a start and a
    navigation, or a language change during a load, make them): the page is shown once. Before,
    each appended its page into the one view after its await, and the page showed three times
    (seen in CI on the recall page: two `#customer-action` forms)."""
    sign_in(page, web, "admin")
    expect(page.locator("#users")).to_have_count(1)
    page.evaluate("() => { for (let i = 0; i < 3; i++) window.dispatchEvent(new HashChangeEvent('hashchange')); }")
    page.wait_for_load_state("networkidle")  # every route's requests answered and rendered
    page.wait_for_timeout(300)
    expect(page.locator("#users")).to_have_count(1)
    expect(page.locator("#view h1")).to_have_count(1)
    expect(page.locator("#view")).to_have_attribute("data-screen", "admin")


def test_every_message_has_both_languages() -> None:
    """The zh-CN table has exactly the English keys (a missing key would show English)."""
    import json
    import re
    import subprocess

    js = (Path(__file__).resolve().parent.parent / "tracegraph/api/static/js/messages.js").read_text(encoding="utf-8")
    try:
        out = subprocess.run(["node", "-e", js.replace("export const MESSAGES", "const MESSAGES")
                              + "\nconsole.log(JSON.stringify(MESSAGES))"], capture_output=True, text=True, timeout=30, check=False)
        tables = json.loads(out.stdout)
    except (FileNotFoundError, json.JSONDecodeError):
        tables = {lang: dict.fromkeys(re.findall(r'"([\w.-]+)":', block)) for lang, block in
                  zip(("en", "zh-CN"), js.split('"zh-CN": {'))}
    assert set(tables["en"]) == set(tables["zh-CN"]) and len(tables["en"]) > 250


def test_qa_reviews_the_audit_trail_of_a_period_in_the_browser(web: WebServer, page: Page) -> None:
    """Annex 11 §9 on the audit screen: the review of the period counts the changes and lists the
    exceptions the engine's rules flag, exactly as the API answers for the same period and zone."""
    from datetime import UTC, datetime, timedelta

    sign_in(page, web, "qa.lead")
    page.goto(web.url + "/#/audit")
    page.click("#audit-review-run")
    expect(page.locator("#audit-review")).to_be_visible()
    zone = page.get_by_label("Time zone").input_value()
    end = (datetime.now(UTC) + timedelta(days=1)).date()  # the page's default period: the last 30 days
    r = web.gql('query($f: String!, $t: String!, $z: String) { auditReview(periodFrom: $f, periodTo: $t, timezone: $z, '
                'verifyChain: false) }', user="qa.lead", f=str(end - timedelta(days=30)), t=str(end), z=zone)["auditReview"]
    assert r["entries"], "the journeys before this one wrote audited changes"
    expect(page.locator('[data-field="review-counts"]')).to_have_text(
        f"{len(r['entries']):,} changes reviewed, {len(r['findings']):,} exceptions flagged")
    expect(page.locator("#review-findings tbody tr")).to_have_count(len(r["findings"]))
    assert {f["rule"] for f in r["findings"]} >= {"failed_authentication"}  # the wrong password in journey (b)
    expect(page.locator('#review-findings tr[data-rule="failed_authentication"]').first).to_contain_text(
        "Failed login or signature")
    check_labels(page)
