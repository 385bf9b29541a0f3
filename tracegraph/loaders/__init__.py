"""What comes in and goes out in other systems' formats: the ERP bundle (CSV/JSONL folder or zip),
GS1 EPCIS 2.0 documents (read, mapped to records, written back), and the synthetic plant generator.

Loaders turn their input into the engine's records (`engine.model`) and hand them to the import
runner (`engine.imports`); they never write Cypher. May import: `engine`, `gs1`, `queries`.
"""
