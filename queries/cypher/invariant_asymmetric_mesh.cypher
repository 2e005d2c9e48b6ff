// An asymmetric tunnel mesh: endpoint A has a tunnel to B (B's tunneling IP is in A's remote_ips: OVS tunnel
// ports, LXB VXLAN forwarding entries) but B has none back to A, so what B sends to A's VMs goes nowhere.
// Blamed: B, the side whose tunnel is missing; the evidence names each A. Endpoints of one overlay type only.
// $env: the environment; $hosts: the hosts to check (B's host).
MATCH (x:Object {env: $env, type: 'otep'})
WHERE x.ip_address IS NOT NULL AND x.remote_ips IS NOT NULL
WITH collect(x) AS oteps
UNWIND $hosts AS host
MATCH (b:Object {env: $env, host: host, type: 'otep'})
WHERE b.ip_address IS NOT NULL AND b.remote_ips IS NOT NULL
WITH b, [a IN oteps WHERE a <> b AND a.overlay_type = b.overlay_type AND b.ip_address IN a.remote_ips
                          AND NOT a.ip_address IN b.remote_ips] AS one_way
WHERE size(one_way) > 0
RETURN [b.id] + [a IN one_way | a.id] AS objects, [b.id] AS blamed, b.host AS host, 'error' AS severity,
       reduce(s = '', a IN one_way | s + CASE WHEN s = '' THEN '' ELSE ', ' END + a.host + ' (' + a.ip_address + ')')
       + CASE size(one_way) WHEN 1 THEN ' tunnels' ELSE ' tunnel' END + ' to ' + b.host + ' (' + b.ip_address + ') but '
       + b.host + ' has no tunnel back' AS evidence
ORDER BY host, objects
