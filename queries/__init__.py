"""Analysis: one .cypher file per query and the Python functions that run them."""
