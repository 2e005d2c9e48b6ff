"""The OpenStack APIs: regions, projects, zones, hosts, VMs, networks, ports, agents.

`fetch.fetch_openstack(connection)` reads the APIs into plain dicts with raw, paged GETs through
openstacksdk's service adapters (I/O); `transform.openstack_objects(raw)` turns them into
inventory documents (pure).
"""
