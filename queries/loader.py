"""Named Cypher queries: one `.cypher` file per query under `queries/cypher/`, always run with parameters."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import neo4j

from core.errors import CalipsoError

CYPHER_DIR = Path(__file__).resolve().parent / "cypher"


class UnknownQuery(CalipsoError):
    """No `.cypher` file of that name."""


@cache
def cypher(name: str) -> str:
    """The text of the query `name` (the file `queries/cypher/<name>.cypher`)."""
    path = CYPHER_DIR / f"{name}.cypher"
    if not path.is_file():
        raise UnknownQuery(f"no query named {name!r} (looked for {path})")
    return path.read_text()


def run_query(driver: neo4j.Driver, name: str, **parameters: Any) -> list[dict[str, Any]]:
    """Run the named query with `parameters` in a read transaction; one dict per record."""
    text = cypher(name)

    def work(tx: neo4j.ManagedTransaction) -> list[dict[str, Any]]:
        return [record.data() for record in tx.run(text, parameters)]

    with driver.session() as session:
        return session.execute_read(work)


def run_queries(driver: neo4j.Driver, named: Sequence[tuple[str, dict[str, Any]]]) -> list[list[dict[str, Any]]]:
    """Run several named queries, each with its parameters, in one read transaction (one round of
    session and transaction set-up instead of one per query); their records, in order."""
    texts = [(cypher(name), parameters) for name, parameters in named]

    def work(tx: neo4j.ManagedTransaction) -> list[list[dict[str, Any]]]:
        return [[record.data() for record in tx.run(text, parameters)] for text, parameters in texts]

    with driver.session() as session:
        return session.execute_read(work)
