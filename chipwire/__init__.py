"""chipwire for analysts: the run outputs as a DuckDB database, pandas tables and an HTML report.

    >>> import chipwire
    >>> tables = chipwire.load("out")          # DataFrames of out/chipwire.duckdb
    >>> tables.option_clusters[["actor", "option", "current_status", "n_independent_sources"]]

The pipeline itself lives in :mod:`pipeline` (``chipwire run``); this package only reads what it wrote.
"""

from __future__ import annotations

from chipwire.store import Tables, load, update_database

__all__ = ["Tables", "load", "update_database"]
