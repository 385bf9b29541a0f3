"""Backend adapters behind one GraphStore protocol, and `open_store(settings)` to pick one."""

from __future__ import annotations

from tracegraph.engine.stores.base import GraphStore, Row
from tracegraph.settings import Settings


def open_store(settings: Settings, *, apply_schema: bool = True) -> GraphStore:
    """Connect to the configured database (starting the embedded one if needed)."""
    store: GraphStore
    if settings.backend == "embedded":
        from tracegraph.engine.stores.falkordb import FalkorDBStore

        store = FalkorDBStore.embedded(
            str(settings.data_dir),
            graph=settings.graph,
            appendfsync=settings.appendfsync,
            bolt_port=settings.bolt_port,
            connect_timeout_s=settings.connect_timeout_s,
            query_timeout_s=settings.query_timeout_s,
        )
    elif settings.backend == "falkordb":
        from tracegraph.engine.stores.falkordb import FalkorDBStore

        store = FalkorDBStore.from_url(
            settings.database_url,
            graph=settings.graph,
            connect_timeout_s=settings.connect_timeout_s,
            query_timeout_s=settings.query_timeout_s,
        )
    else:
        from tracegraph.engine.stores.neo4j import Neo4jStore

        store = Neo4jStore.from_settings(settings)
    if apply_schema:
        store.apply_schema()
    return store


__all__ = ["GraphStore", "Row", "open_store"]
