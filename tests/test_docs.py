"""The README stays true: every CLI command is documented with an example, the generated CLI
reference is current, and the quick start is exactly two commands that exist in the Makefile."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tracegraph.cli.reference import README, SET_BEGIN, SET_END, commands, current_block, markdown, settings_markdown

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.req("REQ-SYS-002")
def test_every_command_has_help_and_an_example() -> None:
    missing = [name for name, cmd in commands() if "Example:" not in (cmd.help or "")]
    assert not missing, f"commands without an `Example:` line in their docstring: {missing}"


@pytest.mark.req("REQ-SYS-002")
def test_readme_cli_reference_is_current() -> None:
    block = current_block(README.read_text(encoding="utf-8"))
    assert block is not None, "README.md has no CLI reference block"
    assert block == markdown(), "README's CLI reference is stale: run `python -m tracegraph.cli.reference --write`"


def test_readme_settings_table_is_current() -> None:
    block = current_block(README.read_text(encoding="utf-8"), SET_BEGIN, SET_END)
    assert block == settings_markdown(), "README's settings table is stale: run `python -m tracegraph.cli.reference --write`"


def test_quick_start_is_two_make_targets_that_exist() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block, "quick start has no bash block"
    cmds = [ln.split("#")[0].strip() for ln in block.group(1).splitlines() if ln.strip() and not ln.strip().startswith("#")]
    assert cmds == ["make demo", "make test"]
    makefile = (ROOT / "Makefile").read_text()
    for target in ("demo", "test"):
        assert re.search(rf"^{target}:", makefile, re.M), target


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert "set -euo pipefail" in ci and re.search(r"^make test$", ci, re.M)


def test_docs_linked_from_readme_exist() -> None:
    text = README.read_text(encoding="utf-8")
    for link in re.findall(r"\]\((docs/[^)#]+)", text):
        assert (ROOT / link).is_file(), link
