"""Readers turn files written outside ridgeline into calls on the ledger.

`results` reads autoresearch-style results files (`results.tsv`).
"""
