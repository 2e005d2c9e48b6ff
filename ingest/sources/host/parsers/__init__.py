"""Pure parsers of the host commands the scanner runs: text in, dataclasses out, no I/O.

One module per tool family (iproute, bridge, ovs, libvirt, sysfs, vpp). Every parser raises
`ParseError` (errors.py), naming the command and quoting the start of the output, when the text
is not what its tool prints (a number beyond 64 bits included: the stores could not keep it); empty
but valid output gives empty results. tests/unit/ingest/sources/host/parsers/test_parsers_fuzz.py holds
every parser to that on mutated real output. Each module ends with
the pure joins that turn its parsed records into the scanner's facts (facts.py).
"""

from ingest.sources.host.parsers.bridge import parse_bridge_fdb_json, parse_bridge_fdb_text, vxlan_remotes
from ingest.sources.host.parsers.errors import ParseError
from ingest.sources.host.parsers.iproute import (
    global_addresses,
    interface_fact,
    parse_ip_addr_json,
    parse_ip_addr_text,
    parse_ip_link_json,
    parse_ip_link_text,
    parse_netns_list,
)
from ingest.sources.host.parsers.libvirt import domain_fact, parse_virsh_dumpxml, parse_virsh_list
from ingest.sources.host.parsers.ovs import (
    dpctl_ports,
    dpif_ports,
    ovs_ports,
    ovs_ports_from_show,
    parse_ovs_dpctl_show,
    parse_ovs_dpif_show,
    parse_ovs_vsctl_show,
    parse_ovsdb_table,
)
from ingest.sources.host.parsers.sysfs import parse_bonding, parse_ethtool_link, parse_sys_class_net
from ingest.sources.host.parsers.vpp import parse_vpp_hardware, parse_vpp_show_int, parse_vpp_show_mode, vpp_interfaces

__all__ = [
    "ParseError",
    "domain_fact", "dpctl_ports", "dpif_ports", "global_addresses", "interface_fact", "ovs_ports",
    "ovs_ports_from_show", "vpp_interfaces", "vxlan_remotes",
    "parse_bonding", "parse_bridge_fdb_json", "parse_bridge_fdb_text", "parse_ethtool_link", "parse_ip_addr_json",
    "parse_ip_addr_text", "parse_ip_link_json",
    "parse_ip_link_text", "parse_netns_list", "parse_ovs_dpctl_show", "parse_ovs_dpif_show", "parse_ovs_vsctl_show",
    "parse_ovsdb_table", "parse_sys_class_net", "parse_virsh_dumpxml", "parse_virsh_list", "parse_vpp_hardware",
    "parse_vpp_show_int", "parse_vpp_show_mode",
]
