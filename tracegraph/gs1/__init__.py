"""GS1 identifiers and barcodes: GTIN, SSCC, SGTIN/SSCC EPC URIs, Digital Link, UDI element strings.

Owns: parsing and formatting of GS1 keys and application identifiers (`identifiers`), and barcode
reading through biip (`barcode`). It sits below both `engine/` (scan resolution) and `loaders/`
(EPCIS mapping, exports), so it imports nothing from tracegraph but `engine.errors`, the one error
tree every layer raises.
"""
