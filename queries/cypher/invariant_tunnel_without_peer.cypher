// Tunnel endpoints without a peer: one whose tunneling IP no NIC holds (so nothing reaches it), one with
// tunnels to addresses no endpoint holds, and one that no other endpoint of its overlay tunnels to.
// $env: the environment; $hosts: the hosts to check.
// In a full mesh every endpoint lists every other one: the addresses held are looked up in a map, and
// "does anyone tunnel to it" stops at the first endpoint that does, so a check costs about one
// endpoint's list, not all of them.
MATCH (x:Object {env: $env, type: 'otep'})
WITH collect(x) AS oteps
WITH oteps, apoc.map.fromLists([x IN oteps WHERE x.ip_address IS NOT NULL | x.ip_address],
                               [x IN oteps WHERE x.ip_address IS NOT NULL | true]) AS held
UNWIND $hosts AS host
MATCH (o:Object {env: $env, host: host, type: 'otep'})
WITH oteps, held, o, [x IN oteps WHERE x <> o AND x.overlay_type = o.overlay_type] AS others
CALL {
  WITH o
  WITH o WHERE NOT EXISTS { (o)-[:OTEP_HOST_PNIC]->() }
  RETURN [o.id] AS objects, 'no NIC on ' + o.host + ' holds its tunneling IP ' + coalesce(o.ip_address, '?') AS evidence
  UNION
  WITH o, held
  WITH o, [ip IN coalesce(o.remote_ips, []) WHERE held[ip] IS NULL] AS unknown
  WHERE size(unknown) > 0
  RETURN [o.id] AS objects, 'it tunnels to ' + reduce(s = '', ip IN unknown | s + CASE WHEN s = '' THEN '' ELSE ', ' END + ip)
         + ', which no tunnel endpoint holds' AS evidence
  UNION
  WITH o, others
  WITH o, others WHERE any(x IN others WHERE x.remote_ips IS NOT NULL)
    AND none(x IN others WHERE o.ip_address IN coalesce(x.remote_ips, []))
  RETURN [o.id] AS objects, 'none of the ' + toString(size([x IN others WHERE x.remote_ips IS NOT NULL]))
         + ' other ' + o.overlay_type + ' endpoints tunnels to ' + coalesce(o.ip_address, '?') AS evidence
}
RETURN objects, evidence, o.host AS host, 'error' AS severity
ORDER BY host, objects
