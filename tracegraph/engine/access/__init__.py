"""Who may do what: the `Actor`, users, password and token authentication, the permission matrix.

Owns: `actor` (the `Actor` every write is attributed to; a leaf that the audit chain and the
permission checks both use, so neither imports the other for it), `permissions` (the role x
permission matrix as data, `require`), `auth` (Argon2id passwords, lockout, hashed tokens; writes
through the audit chain).
May import: `engine.audit.chain` (auth's writes are audited), the top-level engine modules, `stores`.
"""
