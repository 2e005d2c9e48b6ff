// A Neutron port ACTIVE and bound to a host with no switch port there: no vNIC with its id on that host,
// or a vNIC plugged into no bridge and no switch. $env: the environment; $hosts: the hosts to check
// (a port's `host` is its binding host: index seeks per host and type, as for the vNICs).
UNWIND $hosts AS host
MATCH (v:Object {env: $env, host: host, type: 'vnic'})
WHERE v.port_id IS NOT NULL
WITH apoc.map.groupByMulti(collect(v {.id, .host, .port_id,
       plugged: EXISTS { (v)-[:VNIC_VCONNECTOR|VNIC_VEDGE]->() }}), 'port_id') AS vnics_by_port
UNWIND $hosts AS host
MATCH (p:Object {env: $env, host: host, type: 'port'})
WHERE p.binding_host = host AND p.status = 'ACTIVE' AND coalesce(p.vif_type, '') <> 'unbound'
WITH p, [v IN coalesce(vnics_by_port[p.id], []) WHERE v.host = p.binding_host] AS vnics
WHERE none(v IN vnics WHERE v.plugged)
RETURN [p.id] + [v IN vnics | v.id] AS objects, p.binding_host AS host, 'error' AS severity,
       'port ' + coalesce(p.name, p.id) + ' (' + coalesce(p.device_owner, '') + ') is ACTIVE on ' + p.binding_host
       + CASE WHEN size(vnics) = 0 THEN ' but no vNIC there has it'
              ELSE ' but its vNIC ' + vnics[0].id + ' is in no bridge or switch' END AS evidence
ORDER BY host, objects
