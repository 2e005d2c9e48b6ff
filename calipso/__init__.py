"""The faces a user touches: the `calipso` command line and (later) the Python client."""
