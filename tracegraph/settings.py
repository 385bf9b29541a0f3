"""Runtime configuration, read from the environment, a `.env` file or `tracegraph.toml`.

Settings are an object passed down explicitly (never a module global) so tests and
several stores can live in one process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from tracegraph.engine.errors import ConfigurationError

BackendKind = Literal["embedded", "falkordb", "neo4j"]


class Settings(BaseSettings):
    """Everything a deployment can change. Environment variables are `TRACEGRAPH_<NAME>`."""

    model_config = SettingsConfigDict(
        env_prefix="TRACEGRAPH_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        toml_file="tracegraph.toml",
    )

    database_url: str = Field(
        default="",
        description="Empty: the embedded FalkorDB in data_dir. Else falkordb://host:port, "
        "neo4j://host:port, neo4j+s://, bolt://host:port.",
    )
    data_dir: Path = Field(default=Path(".tracegraph"), description="Embedded database, keys, tokens.")
    graph: str = Field(default="tracegraph", description="FalkorDB graph name / Neo4j database name.")
    database_user: str = Field(default="neo4j", description="User for Neo4j / remote FalkorDB.")
    database_password: SecretStr = Field(default=SecretStr(""), description="Password for Neo4j / remote FalkorDB.")
    appendfsync: Literal["always", "everysec", "no"] = Field(
        default="always",
        description="Embedded durability: fsync every write (regulated default) or once a second.",
    )
    connect_timeout_s: float = Field(default=5.0, gt=0, description="Give up connecting to the database after this long (a clear error, never a hang).")
    query_timeout_s: float = Field(default=60.0, gt=0, description="Server-side timeout of one query; reads that run longer are stopped.")
    bolt_port: int | None = Field(default=None, description="Also open FalkorDB's Bolt endpoint on this port.")
    token_ttl_minutes: int = Field(default=480, gt=0, description="Lifetime of a login token (API and `tracegraph login`).")
    timezone: str = Field(default="UTC", description="Display timezone; storage is always UTC.")
    rules_dir: Path | None = Field(
        default=None,
        description="Folder of recall rule files (TOML) overriding the packaged ones of the same jurisdiction/name.",
    )
    recall_webhook_url: str = Field(default="", description="If set, new recall alerts are POSTed here as JSON.")
    # -- API server (tracegraph serve) ---------------------------------------------------
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Origins allowed by CORS (empty: CORS off, same-origin only). JSON list in the env var.",
    )
    max_upload_mb: float = Field(default=200.0, gt=0, description="Largest request body accepted (imports).")
    webhook_allowed_hosts: list[str] = Field(
        default_factory=list,
        description="EPCIS subscriptions: hosts (host or host:port) the server may POST reports to; empty: "
        "subscriptions are refused (the server would otherwise send data to any address it can reach).",
    )
    epcis_deliverer_s: float = Field(
        default=1.0, ge=0,
        description="API: how often the EPCIS subscription deliverer runs schedules and sends due reports "
        "(0: off; then nothing is sent by this process).",
    )
    graphiql: bool = Field(default=False, description="Serve the GraphiQL IDE at /graphql (dev only).")
    metrics_token: SecretStr = Field(
        default=SecretStr(""),
        description="Bearer token for GET /metrics; empty: /metrics answers loopback clients only.",
    )
    token_cache_s: float = Field(
        default=5.0, ge=0,
        description="API: remember a verified token this long per process (0: check the database on every "
        "request). Logout in the same process takes effect at once; in other workers within this time.",
    )
    read_cache_entries: int = Field(
        default=4096, ge=0,
        description="API: answers of repeated reads kept per process, keyed by the audit head (a write makes "
        "them unreachable) and the caller's roles (docs/api.md 'Read cache'); 0: off.",
    )
    api_max_query_depth: int = Field(default=12, gt=0, description="GraphQL query depth limit.")
    api_max_aliases: int = Field(default=30, gt=0, description="GraphQL aliases per query limit.")
    api_max_tokens: int = Field(default=2000, gt=0, description="GraphQL tokens per query limit.")
    trace_index: Literal["auto", "on", "off"] = Field(
        default="auto",
        description="In-memory trace index for impact answers (docs/trace.md): auto = kept by the API server and "
        "the demo (built in the background, never used stale), on = also built by one-shot CLI commands, "
        "off = always ask the graph.",
    )

    @field_validator("database_url")
    @classmethod
    def _check_url(cls, v: str) -> str:
        v = v.strip()
        if not v:
            return v
        scheme = urlparse(v).scheme
        if scheme not in {"falkordb", "redis", "neo4j", "neo4j+s", "neo4j+ssc", "bolt", "bolt+s", "bolt+ssc"}:
            raise ValueError(
                f"unsupported database URL scheme {scheme!r} in {v!r}; use falkordb://host:port, "
                "neo4j://host:port or bolt://host:port, or leave it empty for the embedded database"
            )
        return v

    @property
    def backend(self) -> BackendKind:
        if not self.database_url:
            return "embedded"
        scheme = urlparse(self.database_url).scheme
        return "falkordb" if scheme in {"falkordb", "redis"} else "neo4j"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            TomlConfigSettingsSource(settings_cls),
            file_secret_settings,
        )


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning validation errors into one readable ConfigurationError."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigurationError(f"invalid configuration: {problems}") from None
