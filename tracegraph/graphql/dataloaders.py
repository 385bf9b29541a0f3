"""DataLoaders: every `Batch.product`, `Serial.batch`, `Batch.materialLots`... of one request
is collected and answered with ONE query per kind of lookup, so a page of N records costs a
bounded number of database round trips (not N). Built per request by the context getter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from strawberry.dataloader import DataLoader

from tracegraph.engine import browse
from tracegraph.engine.stores.base import GraphStore

Props = dict[str, Any]
ChildKey = tuple[str, str | None, int, int]


class Loaders:
    def __init__(self, store: GraphStore) -> None:
        self.store = store
        self._nodes: dict[str, DataLoader[str, Props | None]] = {}
        self._rels: dict[str, DataLoader[str, list[Props]]] = {}
        self._pages: dict[str, DataLoader[ChildKey, tuple[int, list[Props]]]] = {}

    async def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await run_in_threadpool(fn, self.store, *args)

    def node(self, label: str) -> DataLoader[str, Props | None]:
        """Nodes of one label by id (None for an id that does not exist)."""
        if label not in self._nodes:

            async def load(ids: list[str]) -> list[Props | None]:
                found = await self._call(browse.nodes_by_ids, label, ids)
                return [found.get(i) for i in ids]

            self._nodes[label] = DataLoader(load_fn=load)
        return self._nodes[label]

    def related(self, relation: str) -> DataLoader[str, list[Props]]:
        """Neighbours along one relation (see engine.browse.RELATIONS) for many keys."""
        if relation not in self._rels:

            async def load(ids: list[str]) -> list[list[Props]]:
                found = await self._call(browse.related, relation, ids)
                return [found.get(i, []) for i in ids]

            self._rels[relation] = DataLoader(load_fn=load)
        return self._rels[relation]

    def child_page(self, relation: str) -> DataLoader[ChildKey, tuple[int, list[Props]]]:
        """Pages of children (a batch's serials, a supplier's lots) for many parents."""
        if relation not in self._pages:

            async def load(keys: list[ChildKey]) -> list[tuple[int, list[Props]]]:
                found = await self._call(browse.child_pages, relation, list(keys))
                return [found.get(k, (0, [])) for k in keys]

            self._pages[relation] = DataLoader(load_fn=load)
        return self._pages[relation]
