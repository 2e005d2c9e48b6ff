// A network whose broadcasts on a host reach no tunnel to a peer that hosts the same network: the host's
// br-tun floods the network (the vedge's flood_tunnels, from ovs-ofctl dump-flows table 22) to none or only
// some of the tunnel endpoints of the other hosts whose agents bind it (their vedge's local_vlans). ARP
// from that host's VMs never reaches the missing peers. Blamed: the host's tunnel endpoint (its flooding is
// wrong); the evidence names each missing peer and its tunneling IP. A vedge whose flows were not read
// (no flood_tunnels) is not judged. $env: the environment; $hosts: the hosts to check.
MATCH (p:Object {env: $env, type: 'vedge'})-[:VEDGE_OTEP]->(po:Otep)
WHERE p.local_vlans IS NOT NULL AND po.ip_address IS NOT NULL
WITH collect({host: p.host, ip: po.ip_address, networks: keys(apoc.convert.fromJsonMap(p.local_vlans))}) AS peers
UNWIND $hosts AS host
MATCH (e:Object {env: $env, host: host, type: 'vedge'})-[:VEDGE_OTEP]->(o:Otep)
WHERE e.flood_tunnels IS NOT NULL AND e.local_vlans IS NOT NULL
WITH peers, e, o, apoc.convert.fromJsonMap(e.flood_tunnels) AS floods
UNWIND keys(apoc.convert.fromJsonMap(e.local_vlans)) AS network
MATCH (n:Object {uid: $env + '|' + network}) WHERE n:Network AND n.network_type IN ['vxlan', 'gre', 'geneve']
WITH e, o, n, coalesce(floods[network], []) AS reached,
     [x IN peers WHERE x.host <> e.host AND network IN x.networks] AS hosting
WITH e, o, n, reached, [x IN hosting WHERE NOT x.ip IN reached] AS missing
WHERE size(missing) > 0
RETURN [o.id, e.id, n.id] AS objects, [o.id] AS blamed, e.host AS host, 'error' AS severity,
       'network ' + coalesce(n.name, n.id) + ' on ' + e.host + ' floods '
       + CASE size(reached) WHEN 0 THEN 'to no tunnel' ELSE 'only to ' + reduce(s = '', ip IN reached |
           s + CASE WHEN s = '' THEN '' ELSE ', ' END + ip) END
       + ' but ' + reduce(s = '', x IN missing | s + CASE WHEN s = '' THEN '' ELSE ', ' END + x.host + ' (' + x.ip + ')')
       + CASE size(missing) WHEN 1 THEN ' hosts' ELSE ' host' END + ' it too' AS evidence
ORDER BY host, objects
