"""docker-compose.yml and Dockerfile, checked structurally (no Docker needed to run these tests)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tracegraph.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
REF = re.compile(r"\$\{([A-Z0-9_]+)(:?[-?][^}]*)?\}")
SECRET_KEY = re.compile(r"PASSWORD|AUTH|SECRET|TOKEN|KEY", re.IGNORECASE)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def test_services_and_images(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) >= {"neo4j", "api"}
    assert str(services["neo4j"]["image"]).startswith("neo4j:5")


def test_neo4j_keeps_its_data_in_a_named_volume(compose: dict[str, Any]) -> None:
    mounts = compose["services"]["neo4j"]["volumes"]
    data = [m for m in mounts if str(m).endswith(":/data")]
    assert data, "Neo4j's /data must be a volume or the graph is lost with the container"
    assert str(data[0]).split(":")[0] in (compose.get("volumes") or {})


def test_healthcheck_and_startup_order(compose: dict[str, Any]) -> None:
    neo = compose["services"]["neo4j"]
    test = neo["healthcheck"]["test"]
    assert test[0] in ("CMD", "CMD-SHELL") and "RETURN 1" in " ".join(test)
    assert neo["healthcheck"]["retries"] >= 3
    api = compose["services"]["api"]
    assert api["depends_on"]["neo4j"]["condition"] == "service_healthy"
    assert "healthcheck" in api and "/health" in " ".join(api["healthcheck"]["test"])


def test_api_is_configured_for_neo4j(compose: dict[str, Any]) -> None:
    api = compose["services"]["api"]
    env = _env(api)
    assert env["TRACEGRAPH_DATABASE_URL"] == "neo4j://neo4j:7687"
    assert load_settings(database_url=env["TRACEGRAPH_DATABASE_URL"]).backend == "neo4j"
    # every TRACEGRAPH_ variable is a real setting (a typo would be silently ignored)
    fields = set(Settings.model_fields)
    unknown = [k for k in env if k.startswith("TRACEGRAPH_") and k.removeprefix("TRACEGRAPH_").lower() not in fields]
    assert unknown == []
    assert api["command"] == ["tracegraph", "serve", "--host", "0.0.0.0", "--port", "8000"]


def test_passwords_come_from_the_environment_only(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for key, value in _env(service).items():
            if not SECRET_KEY.search(key):
                continue
            literal = REF.sub("", value).removeprefix("neo4j/")
            assert literal == "", f"{name}.{key} holds a literal secret"
            refs = REF.findall(value)
            assert refs and all(mod.startswith(":?") for _var, mod in refs), (
                f"{name}.{key} must use ${{VAR:?message}} so compose refuses to start without it"
            )
    env = _env(compose["services"]["neo4j"])
    assert REF.search(env["NEO4J_AUTH"]).group(1) == "NEO4J_PASSWORD"  # type: ignore[union-attr]
    assert _env(compose["services"]["api"])["TRACEGRAPH_DATABASE_PASSWORD"].startswith("${NEO4J_PASSWORD:?")
    text = COMPOSE.read_text(encoding="utf-8")
    assert not re.search(r"(?i)password\s*[:=]\s*['\"]?[A-Za-z0-9]{4,}", text)


def test_ports_are_published_on_loopback_only(compose: dict[str, Any]) -> None:
    for service in compose["services"].values():
        for port in service.get("ports") or []:
            assert str(port).startswith("127.0.0.1:"), f"{port} would be open to the network"


def test_build_context_and_dockerfile(compose: dict[str, Any]) -> None:
    build = compose["services"]["api"]["build"]
    context = ROOT / build["context"]
    dockerfile = context / build.get("dockerfile", "Dockerfile")
    assert context.is_dir() and dockerfile.is_file()
    lines = [ln.strip() for ln in dockerfile.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    assert lines[0] == "FROM python:3.11-slim"
    users = [ln.split()[1] for ln in lines if ln.startswith("USER ")]
    assert users and users[-1] not in ("root", "0"), "the API must not run as root"
    assert any("pip install ." in ln for ln in lines)
    for src in re.findall(r"^COPY\s+(.+?)\s+\S+$", dockerfile.read_text(), re.MULTILINE):
        for part in src.split():
            assert (context / part).exists(), f"Dockerfile copies {part}, which does not exist"
    ignored = (context / ".dockerignore").read_text().split()
    assert ".git" in ignored and ".venv" in ignored


def test_compose_command_exists_in_the_cli() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tracegraph.cli", "serve", "--help"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert "--host" in proc.stdout and "--port" in proc.stdout


def test_compose_variables_are_documented(compose: dict[str, Any]) -> None:
    doc = (ROOT / "docs" / "neo4j.md").read_text(encoding="utf-8")
    for var in sorted(set(m.group(1) for m in REF.finditer(COMPOSE.read_text(encoding="utf-8")))):
        assert var in doc, f"${var} is used in docker-compose.yml but not explained in docs/neo4j.md"
