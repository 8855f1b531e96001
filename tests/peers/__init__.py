"""Clean-room peers of motcua's published contracts (docs/CONTRACT.md, docs/SERIAL.md).

Written from the documents alone, as a third-party vendor or client would: nothing here
imports motcua's devices/, counter_display/, firmware_bridge/ or controller/ code, so a
test that pairs them with motcua checks the promise, not our reading of it twice.
"""
