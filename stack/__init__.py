"""The local servers (Neo4j, FerretDB, RabbitMQ, slapd) behind `calipso stack`."""
