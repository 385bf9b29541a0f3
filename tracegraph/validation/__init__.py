"""Validation evidence (issue 18): the requirement catalogue, IQ/OQ/PQ checks, the report.

Owns: `requirements.toml` (requirements as data) and its loader (`catalogue`), the pytest
plugins that tag and record tests (`pytest_plugin`), the installation checks (`iq`), the OQ
test run (`oq`), the PQ scenario (`pq`), and the report (`report`: JSON, HTML, PDF, stored
and signed as a ValidationReport record). Engine-free: it calls the engine's public functions
and is called by `tracegraph validate` (cli/validate.py).
"""
