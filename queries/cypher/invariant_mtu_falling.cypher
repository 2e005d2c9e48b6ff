// MTU falling along a path: a vNIC whose MTU is larger than a later hop's — its network's MTU, or the MTU
// of the NIC carrying that network on the vNIC's host less the overlay's encapsulation overhead.
// $env: the environment; $hosts: the hosts to check (index seeks per host and type).
UNWIND $hosts AS host
MATCH (v:Object {env: $env, host: host, type: 'vnic'})
WHERE v.mtu IS NOT NULL AND v.network_id IS NOT NULL
MATCH (n:Object {uid: $env + '|' + v.network_id}) WHERE n:Network
WITH v, n, CASE n.network_type WHEN 'vxlan' THEN 50 WHEN 'geneve' THEN 50 WHEN 'gre' THEN 42 ELSE 0 END AS overhead
CALL {
  WITH v, n
  WITH v, n WHERE n.mtu IS NOT NULL AND v.mtu > n.mtu
  RETURN [v.id, n.id] AS objects,
         'vNIC ' + v.name + ' has MTU ' + toString(v.mtu) + ' but its network ' + coalesce(n.name, n.id)
         + ' has MTU ' + toString(n.mtu) AS evidence
  UNION
  WITH v, n, overhead
  MATCH (p:Object {env: $env, host: v.host, type: 'host_pnic'})-[:HOST_PNIC_NETWORK]->(n)
  USING INDEX p:Object(env, host, type)  // from the host's few NICs, not from every NIC carrying n
  WHERE p.mtu IS NOT NULL AND v.mtu + overhead > p.mtu
  RETURN [v.id, p.id] AS objects,
         'vNIC ' + v.name + ' has MTU ' + toString(v.mtu)
         + CASE WHEN overhead > 0 THEN ' (+' + toString(overhead) + ' ' + n.network_type + ' overhead)' ELSE '' END
         + ' but ' + p.name + ', which carries ' + coalesce(n.name, n.id) + ', has MTU ' + toString(p.mtu) AS evidence
}
RETURN objects, evidence, v.host AS host, 'warning' AS severity
ORDER BY host, objects
