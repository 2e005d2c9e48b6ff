// VLAN tag mismatch on a switch: the OVS agent gives each network one local VLAN per host, so the ports of
// one network on a vedge carry one tag, and no two networks share one. What breaks it is a port whose tag
// is not its network's: the network's tag on the switch is the one most of its ports carry (fewer ports of
// other networks on it break a tie), among the tags it owns (a tag belongs to the network with the most
// ports on it). The port(s) with another tag are blamed; the evidence names the network's tag. When no
// majority tells (two ports, two tags; or two networks with one port each on the same tag), every port
// involved is blamed and the evidence says so. SR-IOV VFs carry the segment itself: see
// invariant_segmentation_id. $env: the environment; $hosts: the hosts to check (index seeks per host and type).
UNWIND $hosts AS host
MATCH (e:Object {env: $env, host: host, type: 'vedge'})<-[r:VNIC_VEDGE|VCONNECTOR_VEDGE]-(x:Object)
WHERE r.vlan_tag IS NOT NULL AND r.network IS NOT NULL
  AND coalesce(e.mechanism, '') <> 'sriov'  // a VF's VLAN is the segment itself: see invariant_segmentation_id
// the OVS port (qvo, tap, internal) carries the tag: it breaks the rule. Without a port object (a scan from
// before ports were objects), a hybrid plug's bridge stands for the vNIC behind it: name both
OPTIONAL MATCH (x)-[:VNIC_VEDGE_PORT|VCONNECTOR_VEDGE_PORT]->(port:VedgePort)-[:VEDGE_PORT_VEDGE]->(e)
WITH e, collect({ids: CASE WHEN port IS NULL THEN [x.id] + [(v:Vnic)-[:VNIC_VCONNECTOR]->(x) | v.id]
                           ELSE [port.id] END,
                 name: coalesce(port.name, x.name), tag: r.vlan_tag, network: r.network}) AS ports
WITH e, ports, reduce(ts = [], p IN ports | CASE WHEN p.tag IN ts THEN ts ELSE ts + p.tag END) AS tags,
     reduce(ns = [], p IN ports | CASE WHEN p.network IN ns THEN ns ELSE ns + p.network END) AS networks
// each tag's owners: the network(s) with the most ports on it
WITH e, ports, networks, apoc.map.fromLists([t IN tags | toString(t)], [t IN tags |
       reduce(best = {uses: 0, owners: []}, n IN networks |
         CASE WHEN size([p IN ports WHERE p.tag = t AND p.network = n]) > best.uses
                THEN {uses: size([p IN ports WHERE p.tag = t AND p.network = n]), owners: [n]}
              WHEN size([p IN ports WHERE p.tag = t AND p.network = n]) = best.uses AND best.uses > 0
                THEN {uses: best.uses, owners: best.owners + n}
              ELSE best END).owners]) AS owners
UNWIND networks AS network
WITH e, ports, owners, network, [p IN ports WHERE p.network = network] AS mine
WITH e, ports, owners, network, mine,
     [t IN reduce(ts = [], p IN mine | CASE WHEN p.tag IN ts THEN ts ELSE ts + p.tag END)
        WHERE network IN owners[toString(t)] |
        {tag: t, uses: size([p IN mine WHERE p.tag = t]),
         clashes: size([p IN ports WHERE p.tag = t AND p.network <> network])}] AS candidates
WITH e, ports, network, mine, candidates,
     reduce(b = null, c IN candidates | CASE WHEN b IS NULL OR c.uses > b.uses
                                              OR (c.uses = b.uses AND c.clashes < b.clashes) THEN c ELSE b END) AS best
WITH e, ports, collect({network: network, mine: mine,
                        expected: CASE WHEN best IS NOT NULL
                                        AND size([c IN candidates WHERE c.uses = best.uses AND c.clashes = best.clashes]) = 1
                                       THEN best.tag END,
                        uses: coalesce(best.uses, 0)}) AS decided
UNWIND decided AS d
// two networks left with the same tag: neither can be told right
WITH e, ports, d, [o IN decided WHERE o.network <> d.network AND o.expected IS NOT NULL AND o.expected = d.expected
                   | o.network] AS sharing
WITH e, ports, d, sharing, CASE WHEN size(sharing) = 0 THEN d.expected END AS expected
WITH e, ports, d, sharing, expected, [p IN d.mine WHERE expected IS NULL OR p.tag <> expected] AS wrong
WHERE size(wrong) > 0
WITH e, d, expected, wrong, reduce(ids = [], p IN wrong | ids + p.ids) AS blamed,
     reduce(s = '', p IN wrong | s + CASE WHEN s = '' THEN '' ELSE ', ' END + p.name + ' tag ' + toString(p.tag)
       + reduce(o = '', q IN [q IN ports WHERE q.tag = p.tag AND q.network <> d.network] |
                CASE WHEN o CONTAINS q.network THEN o ELSE o + ' (also network ' + q.network + '\'s)' END)) AS carried
RETURN blamed + [e.id] AS objects, blamed,
       CASE WHEN expected IS NOT NULL
         THEN 'network ' + d.network + '\'s local VLAN on ' + e.id + ' is tag ' + toString(expected) + ' ('
              + toString(d.uses) + ' of its ' + toString(size(d.mine)) + ' ports) but ' + carried
         ELSE 'network ' + d.network + ' has no local VLAN of its own on ' + e.id + ' that a majority of ports tells: '
              + carried END AS evidence,
       e.host AS host, 'error' AS severity
ORDER BY host, objects
