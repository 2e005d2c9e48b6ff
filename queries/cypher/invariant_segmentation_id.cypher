// Segmentation id mismatch: a link that carries a network's segment (the NIC carrying it, an LXB VXLAN
// device's VNI or VLAN sub-interface, an SR-IOV VF's VLAN) with another id than the network's own; and a
// network whose hosts carry it with different ids. $env: the environment.
CALL {
  MATCH (p:HostPnic {env: $env})-[r:HOST_PNIC_NETWORK]->(n:Network)
  WHERE ($hosts IS NULL OR p.host IN $hosts)
    AND r.segmentation_id IS NOT NULL AND n.segmentation_id IS NOT NULL AND r.segmentation_id <> n.segmentation_id
  RETURN [p.id, n.id] AS objects, p.host AS host,
         p.id + ' carries network ' + coalesce(n.name, n.id) + ' as segment ' + toString(r.segmentation_id)
         + ' but its segmentation id is ' + toString(n.segmentation_id) AS evidence
  UNION
  MATCH (o:Otep {env: $env})-[r:OTEP_VCONNECTOR]->(c:Vconnector)
  WHERE $hosts IS NULL OR o.host IN $hosts
  MATCH (n:Object {uid: $env + '|' + r.network}) WHERE n:Network
    AND r.segmentation_id IS NOT NULL AND n.segmentation_id IS NOT NULL AND r.segmentation_id <> n.segmentation_id
  RETURN [c.id, o.id, n.id] AS objects, c.host AS host,
         c.name + ' tunnels network ' + coalesce(n.name, n.id) + ' with VNI ' + toString(r.segmentation_id)
         + ' but its segmentation id is ' + toString(n.segmentation_id) AS evidence
  UNION
  MATCH (c:Vconnector {env: $env})-[r:VCONNECTOR_HOST_PNIC]->(p:HostPnic)
  WHERE $hosts IS NULL OR c.host IN $hosts
  MATCH (n:Object {uid: $env + '|' + r.network}) WHERE n:Network
    AND n.network_type = 'vlan' AND r.vlan_tag IS NOT NULL AND r.vlan_tag <> n.segmentation_id
  RETURN [c.id, p.id, n.id] AS objects, c.host AS host,
         c.name + ' leaves through ' + p.name + ' on VLAN ' + toString(r.vlan_tag) + ' but network '
         + coalesce(n.name, n.id) + ' is VLAN ' + toString(n.segmentation_id) AS evidence
  UNION
  MATCH (v:Vnic {env: $env})-[r:VNIC_VEDGE]->(e:Vedge {mechanism: 'sriov'})
  WHERE $hosts IS NULL OR v.host IN $hosts
  MATCH (n:Object {uid: $env + '|' + r.network}) WHERE n:Network
    AND n.network_type = 'vlan' AND r.vlan_tag IS NOT NULL AND r.vlan_tag <> n.segmentation_id
  RETURN [v.id, e.id, n.id] AS objects, v.host AS host,
         'the VF of ' + v.name + ' is on VLAN ' + toString(r.vlan_tag) + ' but network ' + coalesce(n.name, n.id)
         + ' is VLAN ' + toString(n.segmentation_id) AS evidence
  UNION
  MATCH (p:HostPnic {env: $env})-[r:HOST_PNIC_NETWORK]->(n:Network)
  WHERE r.segmentation_id IS NOT NULL
    AND ($hosts IS NULL OR EXISTS { (n)<-[:HOST_PNIC_NETWORK]-(q:HostPnic) WHERE q.host IN $hosts })
  WITH n, collect(DISTINCT r.segmentation_id) AS ids, collect(p.id) AS nics
  WHERE size(ids) > 1
  RETURN [n.id] + nics AS objects, null AS host,
         'network ' + coalesce(n.name, n.id) + ' is carried with different segmentation ids on different hosts: '
         + reduce(s = '', i IN ids | s + CASE WHEN s = '' THEN '' ELSE ', ' END + toString(i)) AS evidence
}
RETURN objects, evidence, host, 'error' AS severity
ORDER BY host, objects
