"""The OpenStack APIs through openstacksdk: regions, projects, zones, hosts, VMs, networks, ports, agents.

`fetch.fetch_openstack(connection)` reads the APIs into plain dicts (I/O);
`transform.openstack_objects(raw)` turns them into inventory documents (pure).
"""
