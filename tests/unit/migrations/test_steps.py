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
        seen -= set(step.drop_indexes)  # a step may drop an index and create it again (unique this time)
        for index in step.indexes:
            key = (index.collection, index.name)
            assert key not in seen, key
            seen.add(key)


def test_inventory_indexes_and_graph_indexes_name_fields_the_schema_declares() -> None:
    """An index on a field nothing writes is dead weight that hides a rename: the indexed fields of the
    inventory, its links and the graph's objects are the schema's (graphmodel/schema.py) or bookkeeping."""
    import re

    from graphmodel.inventory import BOOKKEEPING, LINKS, OBJECTS
    from graphmodel.schema import LINK_FIELDS, LINK_TYPES, OBJECT_FIELDS, OBJECT_TYPES

    declared = {
        OBJECTS: set(OBJECT_FIELDS) | {a for t in OBJECT_TYPES for a in t.attributes} | BOOKKEEPING,
        LINKS: set(LINK_FIELDS) | {a for t in LINK_TYPES for a in t.attributes} | BOOKKEEPING,
    }
    for step in MONGO_STEPS:
        for index in step.indexes:
            if index.collection in declared:
                fields = {name for name, _ in index.keys}
                assert fields <= declared[index.collection], (step.version, index.name)
    graph_object = set(OBJECT_FIELDS) | {"uid", "env"}  # the projector adds uid and env to every node
    for step in NEO4J_STEPS:
        for statement in step.statements:
            if "(n:Object)" in statement:
                assert set(re.findall(r"\bn\.(\w+)", statement)) <= graph_object, statement
