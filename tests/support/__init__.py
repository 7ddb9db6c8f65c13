"""Plain helpers that test modules import: data makers, dataclasses and multi-step HTTP flows (no fixtures here)."""
