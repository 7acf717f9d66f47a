"""Computations over ledger data: pure functions, testable without a database."""
