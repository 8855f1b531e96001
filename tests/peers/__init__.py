"""Clean-room peers: clients written from ../shared/CONTRACT.md only, never from controller/ code."""
