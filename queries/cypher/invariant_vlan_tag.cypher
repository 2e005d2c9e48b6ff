// VLAN tag mismatch on a switch: the ports of one network on one vedge carry different local VLAN tags,
// or one tag is shared by ports of different networks (the OVS agent gives each network one local VLAN
// per host). SR-IOV VFs carry the segment itself and are checked by invariant_segmentation_id.
// $env: the environment; $hosts: the hosts to check (index seeks per host and type).
UNWIND $hosts AS host
MATCH (e:Object {env: $env, host: host, type: 'vedge'})<-[r:VNIC_VEDGE|VCONNECTOR_VEDGE]-(x:Object)
WHERE r.vlan_tag IS NOT NULL AND r.network IS NOT NULL
  AND coalesce(e.mechanism, '') <> 'sriov'  // a VF's VLAN is the segment itself: see invariant_segmentation_id
// a hybrid plug's bridge stands for the vNIC behind it: name both
WITH e, collect({ids: [x.id] + [(v:Vnic)-[:VNIC_VCONNECTOR]->(x) | v.id], name: x.name, tag: r.vlan_tag,
                 network: r.network}) AS ports
CALL {
  WITH e, ports
  UNWIND ports AS port
  WITH e, port.network AS network, collect(port) AS same
  WITH e, network, same, reduce(tags = [], p IN same | CASE WHEN p.tag IN tags THEN tags ELSE tags + p.tag END) AS tags
  WHERE size(tags) > 1
  RETURN [e.id] + reduce(ids = [], p IN same | ids + p.ids) AS objects,
         'network ' + network + ' has ' + toString(size(tags)) + ' local VLAN tags on ' + e.id + ': '
         + reduce(s = '', p IN same | s + CASE WHEN s = '' THEN '' ELSE ', ' END + p.name + ' tag ' + toString(p.tag)) AS evidence
  UNION
  WITH e, ports
  UNWIND ports AS port
  WITH e, port.tag AS tag, collect(port) AS same
  WITH e, tag, same, reduce(nets = [], p IN same | CASE WHEN p.network IN nets THEN nets ELSE nets + p.network END) AS nets
  WHERE size(nets) > 1
  RETURN [e.id] + reduce(ids = [], p IN same | ids + p.ids) AS objects,
         'local VLAN tag ' + toString(tag) + ' on ' + e.id + ' is shared by ' + toString(size(nets)) + ' networks: '
         + reduce(s = '', p IN same | s + CASE WHEN s = '' THEN '' ELSE ', ' END + p.name + ' (network ' + p.network + ')') AS evidence
}
RETURN objects, evidence, e.host AS host, 'error' AS severity
ORDER BY host, objects
