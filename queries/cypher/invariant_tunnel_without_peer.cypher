// Tunnel endpoints without a peer: one whose tunneling IP no NIC holds (so nothing reaches it), one with
// tunnels to addresses no endpoint holds, and one that no other endpoint of its overlay tunnels to.
// $env: the environment; $hosts: the hosts to check (index seeks per host and type).
MATCH (o:Otep {env: $env})
WITH collect(o) AS oteps
UNWIND oteps AS o
WITH oteps, o WHERE o.host IN $hosts
WITH oteps, o, [x IN oteps WHERE x <> o AND x.overlay_type = o.overlay_type] AS others
CALL {
  WITH o
  WITH o WHERE NOT EXISTS { (o)-[:OTEP_HOST_PNIC]->() }
  RETURN [o.id] AS objects, 'no NIC on ' + o.host + ' holds its tunneling IP ' + coalesce(o.ip_address, '?') AS evidence
  UNION
  WITH o, oteps
  WITH o, [ip IN coalesce(o.remote_endpoints, []) WHERE none(x IN oteps WHERE x.ip_address = ip)] AS unknown
  WHERE size(unknown) > 0
  RETURN [o.id] AS objects, 'it tunnels to ' + reduce(s = '', ip IN unknown | s + CASE WHEN s = '' THEN '' ELSE ', ' END + ip)
         + ', which no tunnel endpoint holds' AS evidence
  UNION
  WITH o, others
  WITH o, others, [x IN others WHERE x.remote_endpoints IS NOT NULL] AS listing
  WHERE size(listing) > 0 AND none(x IN listing WHERE o.ip_address IN x.remote_endpoints)
  RETURN [o.id] AS objects, 'none of the ' + toString(size(listing)) + ' other ' + o.overlay_type
         + ' endpoints tunnels to ' + coalesce(o.ip_address, '?') AS evidence
}
RETURN objects, evidence, o.host AS host, 'error' AS severity
ORDER BY host, objects
