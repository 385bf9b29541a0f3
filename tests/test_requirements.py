"""Requirements as data (issue 18): every requirement has a test, every tag names a requirement.

Reads the tags of the whole suite statically (tracegraph/validation/tags.py), so this check
costs milliseconds and still sees every test file; tests/conftest.py refuses unknown ids at
collection time as well, for whatever subset is being run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tracegraph.validation import catalogue, tags

TESTS = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def tagged() -> dict[str, list[str]]:
    return tags.scan(TESTS)


@pytest.mark.req("REQ-VAL-001")
def test_catalogue_is_well_formed_and_sized() -> None:
    reqs = catalogue.load()
    assert 30 <= len(reqs) <= 60
    areas = {r.area for r in reqs}
    for needed in ("audit trail", "e-signatures", "access control", "data integrity", "import",
                   "trace and impact", "recall", "quality records"):
        assert needed in areas, needed
    for r in reqs:
        assert r.clauses and all(c.strip() for c in r.clauses), r.id
    # the clause families the issue asks the catalogue to serve are all present
    text = " ".join(c for r in reqs for c in r.clauses)
    for family in ("21 CFR 11.10(a)", "21 CFR 11.50", "21 CFR 11.70", "21 CFR 11.100", "21 CFR 11.200", "21 CFR 11.300",
                   "Annex 11 §4", "Annex 11 §7", "Annex 11 §9", "Annex 11 §10", "Annex 11 §12", "Annex 11 §14",
                   "NMPA Order 29", "21 CFR 7.", "21 CFR 806", "EU MDR Art. 87", "EU MDR Art. 89", "Product brief"):
        assert family in text, family


@pytest.mark.req("REQ-VAL-001")
def test_every_requirement_has_a_test_or_says_why_not(tagged: dict[str, list[str]]) -> None:
    covered = tags.by_requirement(tagged)
    missing = [r.id for r in catalogue.load() if r.status != catalogue.NOT_YET_COVERED and r.id not in covered]
    assert not missing, f"requirements without a tagged test (tag one, or mark not-yet-covered with a reason): {missing}"
    for r in catalogue.load():
        if r.status == catalogue.NOT_YET_COVERED:
            assert r.reason.strip(), r.id


@pytest.mark.req("REQ-VAL-001")
def test_no_test_names_an_unknown_requirement(tagged: dict[str, list[str]]) -> None:
    known = catalogue.ids()
    unknown = {t: [r for r in rs if r not in known] for t, rs in tagged.items()}
    unknown = {t: rs for t, rs in unknown.items() if rs}
    assert not unknown, f"tests name requirements that are not in the catalogue: {unknown}"


@pytest.mark.req("REQ-VAL-001")
def test_the_checks_catch_what_they_should(tmp_path: Path) -> None:
    """The two checks are not vacuous: a crafted test file with an unknown id and a catalogue
    with an untested requirement are both found; a bad catalogue is refused."""
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_fake.py").write_text(
        "import pytest\n\n@pytest.mark.req('REQ-XXX-999', 'REQ-AUD-001')\ndef test_a():\n    pass\n\n"
        "class TestB:\n    @pytest.mark.req('REQ-SIG-001')\n    def test_b(self):\n        pass\n", encoding="utf-8")
    got = tags.scan(tmp_path / "tests")
    assert got == {"tests/test_fake.py::test_a": ["REQ-AUD-001", "REQ-XXX-999"],
                   "tests/test_fake.py::TestB::test_b": ["REQ-SIG-001"]}
    assert "REQ-XXX-999" not in catalogue.ids()
    reqs = catalogue.parse('[[requirement]]\nid = "REQ-NEW-001"\narea = "x"\ntext = "an untested requirement"\n'
                           'risk = "low"\nrisk_rationale = "because"\nclauses = ["21 CFR 11.10(a)"]\n')
    assert reqs[0].id not in tags.by_requirement(got)
    with pytest.raises(ValueError, match="needs a reason"):
        catalogue.parse('[[requirement]]\nid = "REQ-NEW-001"\narea = "x"\ntext = "an untested requirement"\n'
                        'risk = "low"\nrisk_rationale = "because"\nclauses = ["x"]\nstatus = "not-yet-covered"\n')
    with pytest.raises(ValueError, match="REQ-ABC-001"):
        catalogue.parse('[[requirement]]\nid = "AUD-1"\narea = "x"\ntext = "a bad id here"\n'
                        'risk = "low"\nrisk_rationale = "because"\nclauses = ["x"]\n')
    with pytest.raises(ValueError, match="twice"):
        one = 'id = "REQ-NEW-001"\narea = "x"\ntext = "a requirement"\nrisk = "low"\nrisk_rationale = "because"\nclauses = ["x"]\n'
        catalogue.parse("[[requirement]]\n" + one + "[[requirement]]\n" + one)


def test_an_unknown_requirement_fails_collection(tmp_path: Path) -> None:
    """tests/conftest.py's hook refuses a test that names an unknown requirement."""
    import subprocess
    import sys

    sub = tmp_path / "suite"
    sub.mkdir()
    (sub / "conftest.py").write_text((TESTS / "conftest.py").read_text(encoding="utf-8"), encoding="utf-8")
    (sub / "test_x.py").write_text("import pytest\n\n@pytest.mark.req('REQ-XXX-999')\ndef test_a():\n    pass\n",
                                   encoding="utf-8")
    import os

    env = {**os.environ, "PYTHONPATH": str(TESTS.parent)}  # this checkout's tracegraph, wherever pytest runs
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "markers=req: r",
                        str(sub)], capture_output=True, text=True, cwd=tmp_path, timeout=120, env=env)
    assert r.returncode != 0
    assert "REQ-XXX-999" in r.stdout + r.stderr
