"""tracegraph: a graph-database traceability and recall engine for regulated manufacturers.

The public API is the engine; the CLI, REST and GraphQL layers are thin wrappers over it.
"""

__version__ = "0.1.0"

from tracegraph.engine.errors import TracegraphError
from tracegraph.engine.stores import GraphStore, open_store
from tracegraph.settings import Settings, load_settings

__all__ = ["__version__", "Settings", "load_settings", "TracegraphError", "GraphStore", "open_store"]
