// MTU falling along a path, blamed on the object whose MTU breaks the rule, with the other side in the
// evidence: a vNIC whose MTU is larger than its network's (Neutron sets the network's MTU: the vNIC is
// wrong; the evidence names the network), and a NIC carrying the network on the vNIC's host that is too
// small for what the vNIC may send plus the overlay's encapsulation (the NIC is wrong; the evidence
// names the vNIC with the larger MTU). What the vNIC may send is its MTU, or its network's when the
// vNIC's own is too large already (that is the first rule's fault, not the NIC's). And a device on the
// vNIC's way into the switch whose MTU is smaller than what the vNIC may send: the Linux bridge it is
// plugged into, a member of it (a VXLAN device, a VLAN sub-interface, a qvb), the OVS port it is (a
// native tap) or that the member's veth leads to (a qvo). The device is wrong; the bridge only when no
// device around it is as small (the kernel lowers a bridge's MTU to its smallest member's: the cause).
// `blamed`: the objects that break the rule; `objects`: those and the other side.
// $env: the environment; $hosts: the hosts to check (index seeks per host and type).
UNWIND $hosts AS host
MATCH (v:Object {env: $env, host: host, type: 'vnic'})
WHERE v.mtu IS NOT NULL AND v.network_id IS NOT NULL
MATCH (n:Object {uid: $env + '|' + v.network_id}) WHERE n:Network
WITH v, n, CASE n.network_type WHEN 'vxlan' THEN 50 WHEN 'geneve' THEN 50 WHEN 'gre' THEN 42 ELSE 0 END AS overhead
CALL {
  WITH v, n
  WITH v, n WHERE n.mtu IS NOT NULL AND v.mtu > n.mtu
  RETURN [v.id, n.id] AS objects, [v.id] AS blamed,
         'vNIC ' + v.name + ' has MTU ' + toString(v.mtu) + ', larger than its network ' + coalesce(n.name, n.id)
         + '\'s MTU ' + toString(n.mtu) AS evidence
  UNION
  WITH v, n, overhead
  WITH v, n, overhead, CASE WHEN n.mtu IS NOT NULL AND n.mtu < v.mtu THEN n.mtu ELSE v.mtu END AS sent
  MATCH (p:Object {env: $env, host: v.host, type: 'host_pnic'})-[:HOST_PNIC_NETWORK]->(n)
  USING INDEX p:Object(env, host, type)  // from the host's few NICs, not from every NIC carrying n
  WHERE p.mtu IS NOT NULL AND sent + overhead > p.mtu
  RETURN [p.id, v.id] AS objects, [p.id] AS blamed,
         p.name + ' has MTU ' + toString(p.mtu) + ', too small for vNIC ' + v.name + '\'s MTU ' + toString(sent)
         + CASE WHEN overhead > 0 THEN ' + ' + toString(overhead) + ' bytes of ' + n.network_type + ' overhead'
                ELSE '' END
         + ' on network ' + coalesce(n.name, n.id) + ', which it carries' AS evidence
  UNION
  WITH v, n
  WITH v, n, CASE WHEN n.mtu IS NOT NULL AND n.mtu < v.mtu THEN n.mtu ELSE v.mtu END AS sent
  OPTIONAL MATCH (v)-[:VNIC_VCONNECTOR]->(b:Object)
  OPTIONAL MATCH (b)-[:VCONNECTOR_VCONNECTOR_MEMBER]->(m:Object)
  OPTIONAL MATCH (m)-[:VCONNECTOR_MEMBER_VEDGE_PORT]->(q:Object)
  OPTIONAL MATCH (v)-[:VNIC_VEDGE_PORT]->(t:Object)
  WITH v, n, sent, b, collect(DISTINCT m) + collect(DISTINCT q) + collect(DISTINCT t) AS devices
  UNWIND CASE WHEN b IS NULL THEN devices ELSE [b] + devices END AS x
  WITH v, n, sent, b, x WHERE x.mtu IS NOT NULL AND x.mtu < sent
  // the bridge's MTU follows its smallest device: blame the bridge only when nothing around it is as small
  AND (x <> b OR NOT EXISTS { MATCH (b)--(d:Object) WHERE d <> v AND d.mtu IS NOT NULL AND d.mtu <= b.mtu })
  RETURN [x.id, v.id] AS objects, [x.id] AS blamed,
         CASE WHEN x = b THEN 'Linux bridge ' WHEN x.type = 'vedge_port' THEN 'OVS port '
              ELSE 'bridge member ' END + x.name + ' has MTU '
         + toString(x.mtu) + ', too small for vNIC ' + v.name + '\'s MTU ' + toString(sent) + ' on network '
         + coalesce(n.name, n.id) AS evidence
}
RETURN objects, blamed, evidence, v.host AS host, 'warning' AS severity
ORDER BY host, objects
