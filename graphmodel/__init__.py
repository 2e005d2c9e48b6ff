"""The model: object, link and clique types declared as code, and the projector MongoDB -> Neo4j."""
