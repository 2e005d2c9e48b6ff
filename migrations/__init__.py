"""Versioned, idempotent schema steps for Neo4j and MongoDB, applied by `calipso migrate`.

Each step is data: Cypher statements that all say IF NOT EXISTS, or MongoDB index specs
(creating an existing index is a no-op). Applied steps are recorded in the store they change,
so `calipso migrate --status` reads the truth from the databases themselves. To change the
schema, append a step with the next version; never edit an applied one.
"""
