from migrations.steps import MONGO_STEPS, NEO4J_STEPS


def test_versions_start_at_one_and_increase_by_one() -> None:
    for steps in (MONGO_STEPS, NEO4J_STEPS):
        assert [step.version for step in steps] == list(range(1, len(steps) + 1))


def test_every_neo4j_statement_is_idempotent() -> None:
    for step in NEO4J_STEPS:
        for statement in step.statements:
            assert "IF NOT EXISTS" in statement, statement


def test_mongo_index_names_are_unique_per_collection() -> None:
    seen: set[tuple[str, str]] = set()
    for step in MONGO_STEPS:
        for index in step.indexes:
            key = (index.collection, index.name)
            assert key not in seen, key
            seen.add(key)
