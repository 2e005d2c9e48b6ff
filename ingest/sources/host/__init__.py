"""The hosts themselves, over SSH: NICs, bridges, switches, namespaces, the VMs' devices.

`fetch` runs commands and parses them into HostFacts (I/O); `transform` makes objects and links (pure).
"""
