// A bond with at most one live member: it still forwards (or not at all), but has lost its redundancy.
// $env: the environment; $hosts: the hosts to check (index seeks per host and type).
UNWIND $hosts AS host
MATCH (b:Object {env: $env, host: host, type: 'host_pnic'})
WHERE size(coalesce(b.bond_members, [])) > 1
UNWIND b.bond_members AS member
OPTIONAL MATCH (m:Object {uid: $env + '|' + b.host + '/' + member})
WITH b, size(b.bond_members) AS members, collect(m) AS found
WITH b, members, [m IN found WHERE m.link_detected = true] AS live, [m IN found WHERE m.link_detected <> true] AS dead
WHERE size(live) <= 1
RETURN [b.id] + [m IN dead | m.id] AS objects, b.host AS host,
       // the members without link break it; a bond whose members are not known as NICs, itself
       CASE WHEN size(dead) > 0 THEN [m IN dead | m.id] ELSE [b.id] END AS blamed,
       CASE WHEN size(live) = 0 THEN 'error' ELSE 'warning' END AS severity,
       'bond ' + b.name + ' has ' + toString(size(live)) + ' live member(s) of ' + toString(members)
       + CASE WHEN size(dead) > 0 THEN ': ' + reduce(s = '', m IN dead | s + CASE WHEN s = '' THEN '' ELSE ', ' END + m.name)
              + ' without link' ELSE '' END AS evidence
ORDER BY host, objects
