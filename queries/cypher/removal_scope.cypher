// What goes away with each target: the target, everything it CONTAINS (a host's VMs and NICs, a
// project's networks, a vedge's tunnel endpoints), the host NICs wired to a switch port among them,
// and the hosts on which any of that sits or that carry a network among them.
// $uids: the targets' uids.
UNWIND $uids AS target_uid
MATCH (t:Object {uid: target_uid})
OPTIONAL MATCH (t)-[:CONTAINS*0..10]->(d:Object)
WITH t, collect(DISTINCT d) AS inside
WITH t, inside,
     [d IN inside WHERE d:SwitchPnic | [(p:HostPnic)-[:HOST_PNIC_SWITCH_PNIC]->(d) | p]] AS wired,
     [d IN inside WHERE d:Network | [(p:HostPnic)-[:HOST_PNIC_NETWORK]->(d) | p.host]] AS carrying
WITH t, inside + reduce(all = [], ps IN wired | all + ps) AS gone,
     reduce(all = [], hs IN carrying | all + hs) AS carrier_hosts
RETURN t.id AS id, t.type AS type, t.name AS name, t.host AS host,
       [g IN gone | {id: g.id, type: g.type, host: g.host}] AS gone,
       [h IN carrier_hosts WHERE h IS NOT NULL] AS carrier_hosts
