// Segmentation id mismatch: a link that carries a network's segment (the NIC carrying it, an LXB VXLAN
// device's VNI or VLAN sub-interface, an SR-IOV VF's VLAN) with another id than the network's own; and a
// network without an id of its own whose hosts carry it with different ids (networks carried on $hosts;
// a network with an id has each deviating NIC named by the first part, host by host, and reading every
// host's NIC of every network is what made this check grow with the cloud). $env: the environment;
// $hosts: the hosts to check (index seeks per host and type).
CALL {
  UNWIND $hosts AS host
  MATCH (p:Object {env: $env, host: host, type: 'host_pnic'})-[r:HOST_PNIC_NETWORK]->(n:Network)
  WHERE r.segmentation_id IS NOT NULL AND n.segmentation_id IS NOT NULL AND r.segmentation_id <> n.segmentation_id
  RETURN [p.id, n.id] AS objects, p.host AS host,
         p.id + ' carries network ' + coalesce(n.name, n.id) + ' as segment ' + toString(r.segmentation_id)
         + ' but its segmentation id is ' + toString(n.segmentation_id) AS evidence, [] AS blamed
  UNION
  UNWIND $hosts AS host
  MATCH (o:Object {env: $env, host: host, type: 'otep'})-[r:OTEP_VCONNECTOR]->(c:Vconnector)
  MATCH (n:Object {uid: $env + '|' + r.network}) WHERE n:Network
    AND r.segmentation_id IS NOT NULL AND n.segmentation_id IS NOT NULL AND r.segmentation_id <> n.segmentation_id
  RETURN [c.id, o.id, n.id] AS objects, c.host AS host,
         c.name + ' tunnels network ' + coalesce(n.name, n.id) + ' with VNI ' + toString(r.segmentation_id)
         + ' but its segmentation id is ' + toString(n.segmentation_id) AS evidence, [] AS blamed
  UNION
  UNWIND $hosts AS host
  MATCH (c:Object {env: $env, host: host, type: 'vconnector'})-[r:VCONNECTOR_HOST_PNIC]->(p:HostPnic)
  MATCH (n:Object {uid: $env + '|' + r.network}) WHERE n:Network
    AND n.network_type = 'vlan' AND r.vlan_tag IS NOT NULL AND r.vlan_tag <> n.segmentation_id
  RETURN [c.id, p.id, n.id] AS objects, c.host AS host,
         c.name + ' leaves through ' + p.name + ' on VLAN ' + toString(r.vlan_tag) + ' but network '
         + coalesce(n.name, n.id) + ' is VLAN ' + toString(n.segmentation_id) AS evidence, [] AS blamed
  UNION
  UNWIND $hosts AS host
  MATCH (v:Object {env: $env, host: host, type: 'vnic'})-[r:VNIC_VEDGE]->(e:Vedge {mechanism: 'sriov'})
  MATCH (n:Object {uid: $env + '|' + r.network}) WHERE n:Network
    AND n.network_type = 'vlan' AND r.vlan_tag IS NOT NULL AND r.vlan_tag <> n.segmentation_id
  // the VF holds the VLAN (ip link set <PF> vf <n> vlan <id>): blamed where the scan made it an object
  OPTIONAL MATCH (v)-[:VNIC_VF]->(f:Vf)
  RETURN [x IN [f.id, v.id, e.id, n.id] WHERE x IS NOT NULL] AS objects, v.host AS host,
         coalesce(f.name, 'the VF') + ' of ' + v.name + ' is on VLAN ' + toString(r.vlan_tag) + ' but network '
         + coalesce(n.name, n.id) + ' is VLAN ' + toString(n.segmentation_id) AS evidence, [x IN [f.id] WHERE x IS NOT NULL] AS blamed
  UNION
  UNWIND $hosts AS host
  MATCH (:Object {env: $env, host: host, type: 'host_pnic'})-[:HOST_PNIC_NETWORK]->(carried:Network)
  WITH DISTINCT carried AS n WHERE n.segmentation_id IS NULL
  MATCH (p:HostPnic)-[r:HOST_PNIC_NETWORK]->(n)
  WHERE r.segmentation_id IS NOT NULL
  WITH n, collect(DISTINCT r.segmentation_id) AS ids, collect(p.id) AS nics
  WHERE size(ids) > 1
  RETURN [n.id] + nics AS objects, null AS host,
         'network ' + coalesce(n.name, n.id) + ' is carried with different segmentation ids on different hosts: '
         + reduce(s = '', i IN ids | s + CASE WHEN s = '' THEN '' ELSE ', ' END + toString(i)) AS evidence, [] AS blamed
}
RETURN objects, evidence, host, 'error' AS severity, blamed
ORDER BY host, objects
