// What decides a focal point's clique type: its type, its host, the mechanism of the vedge on its host,
// and the network types of its networks (its vNICs' networks, or itself when it is a network).
// $focal_uid: the focal node's uid; $env: its environment.
MATCH (f:Object {uid: $focal_uid})
OPTIONAL MATCH (e:Vedge {env: $env, host: f.host})
WITH f, [m IN collect(e.mechanism) WHERE m IS NOT NULL] AS mechanisms,
     [(f)-[:INSTANCE_VNIC|VSERVICE_VNIC]->(v:Vnic) WHERE v.network_id IS NOT NULL | $env + '|' + v.network_id]
     + CASE WHEN f.network_id IS NOT NULL THEN [$env + '|' + f.network_id] ELSE [] END
     + CASE WHEN f:Network THEN [f.uid] ELSE [] END AS network_uids
OPTIONAL MATCH (n:Object) WHERE n.uid IN network_uids
RETURN f.id AS id, f.type AS type, f.host AS host, mechanisms[0] AS mechanism,
       [t IN collect(n.network_type) WHERE t IS NOT NULL] AS network_types
