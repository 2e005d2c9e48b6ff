"""The OpenStack APIs: regions, projects, zones, hosts, VMs, networks, ports, agents.

`fetch.fetch_openstack(connection)` reads the APIs into plain dicts with raw, paged GETs through
openstacksdk's service adapters (I/O); the producers in `transform` turn them into inventory
documents (pure), run in the order ingest/hierarchy.py declares (`hierarchy.openstack_documents`).
"""
