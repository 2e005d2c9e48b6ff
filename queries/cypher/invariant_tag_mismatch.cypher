// A port whose local VLAN tag is not its network's local VLAN on that host as the OVS agent's flows map it
// (the vedge's local_vlans, read from ovs-ofctl dump-flows: br-tun's tunnel -> local VLAN tables, br-int's
// provider VLAN translation). Traffic the port sends is tagged into another network's VLAN or into none.
// Unlike invariant_vlan_tag (a majority of the network's ports), the flows tell the right tag even when
// the network has one port on the host. Blamed: the side that carries the wrong tag: the OVS port where the
// scan makes ports objects (vedge_port), else the vNIC (or the hybrid plug's bridge and the vNIC behind it);
// the evidence names the tag the flows expect.
// $env: the environment; $hosts: the hosts to check (index seeks per host and type).
UNWIND $hosts AS host
MATCH (e:Object {env: $env, host: host, type: 'vedge'})<-[r:VNIC_VEDGE|VCONNECTOR_VEDGE]-(x:Object)
WHERE e.local_vlans IS NOT NULL AND r.vlan_tag IS NOT NULL AND r.network IS NOT NULL
WITH e, r, x, apoc.convert.fromJsonMap(e.local_vlans)[r.network] AS expected
WHERE expected IS NOT NULL AND expected <> r.vlan_tag
WITH e, r, x, expected, [(x)-[:VNIC_VEDGE_PORT|VCONNECTOR_VEDGE_PORT]->(p) | p.id] AS switch_ports
WITH e, r, x, expected, CASE WHEN size(switch_ports) > 0 THEN switch_ports
                             ELSE [x.id] + [(v:Vnic)-[:VNIC_VCONNECTOR]->(x) | v.id] END AS blamed
RETURN blamed + [e.id] AS objects, blamed, e.host AS host, 'error' AS severity,
       coalesce(x.name, x.id) + ' carries local VLAN tag ' + toString(r.vlan_tag) + ' but the flows of ' + e.id
       + ' map network ' + r.network + ' to tag ' + toString(expected) AS evidence
ORDER BY host, objects
