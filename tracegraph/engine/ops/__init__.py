"""Operations on the embedded database as a whole: backup (a point-in-time snapshot taken while
writers run, with keys, settings and a signed manifest, optionally encrypted), the offline check of
a backup, and restore into a fresh data folder followed by an audit verify.

Owns: `backup` (create, verify, restore), `archive` (the one-file container format and its
encryption). May import: `engine.audit`, `engine.stores`, the top-level engine modules.
"""
