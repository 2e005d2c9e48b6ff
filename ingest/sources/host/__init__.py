"""The hosts themselves, over SSH: NICs, bridges, switches, namespaces, the VMs' devices.

`fetch` runs commands and parses them into HostFacts (I/O) with `parsers` (pure, one module per tool
family, tested on real captures); `transform` makes objects and links (pure).
"""
