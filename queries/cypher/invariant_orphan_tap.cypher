// Orphan taps: a vNIC that belongs to no instance or service or matches no Neutron port, and a tap device
// (tap<first 11 characters of a port id>) in a bridge or on a switch that no vNIC on that host stands for.
// $env: the environment.
CALL {
  MATCH (v:Vnic {env: $env})
  WHERE v.port_id IS NULL OR NOT EXISTS { (v)<-[:INSTANCE_VNIC|VSERVICE_VNIC]-() }
  RETURN [v.id] AS objects, v.host AS host,
         'vNIC ' + coalesce(v.name, v.id) + CASE WHEN v.port_id IS NULL THEN ' matches no Neutron port'
                                                ELSE ' belongs to no instance or service' END AS evidence
  UNION
  MATCH (v:Vnic {env: $env}) WHERE v.port_id IS NOT NULL
  WITH collect(v.host + '/' + substring(v.port_id, 0, 11)) AS known
  MATCH (c:Object {env: $env}) WHERE (c:Vconnector OR c:Vedge)
  WITH known, c, CASE WHEN c:Vconnector THEN coalesce(c.interfaces, [])
                      ELSE [p IN apoc.convert.fromJsonList(coalesce(c.ports, '[]')) | p.name] END AS devices
  UNWIND devices AS device
  WITH known, c, device WHERE device =~ 'tap[0-9a-f-]{11}' AND NOT (c.host + '/' + substring(device, 3)) IN known
  RETURN [c.id] AS objects, c.host AS host,
         device + ' is in ' + coalesce(c.name, c.id) + ' but no vNIC on ' + c.host + ' has a port ' + substring(device, 3)
         + '…' AS evidence
}
RETURN objects, evidence, host, 'warning' AS severity
ORDER BY host, objects
