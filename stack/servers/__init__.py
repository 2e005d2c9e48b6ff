"""One module per local server, each a LocalServer subclass."""
