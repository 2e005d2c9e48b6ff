"""Discovery: sources -> raw documents in MongoDB (scanner, fetchers, listener, monitoring intake)."""
