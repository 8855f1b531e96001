"""motcua package."""
