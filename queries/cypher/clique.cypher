// A focal point's clique. $steps are the clique type's link types in order, each as
// {relationship, source_type, target_type}. A step follows its relationship from the nodes of the end
// type found first so far (the walk goes outwards from the focal point: a VM's clique reaches its
// switch through its own bridge and never comes back from the switch to its other ports); a step
// neither of whose end types has been found yet does nothing. With $constrained, a relationship whose
// `network` is not one of the focal point's networks, or that leads into another network, is not
// followed. $focal_uid: the focal node's uid.
MATCH (focal:Object {uid: $focal_uid})
WITH focal,
     [(focal)-[:INSTANCE_VNIC|VSERVICE_VNIC]->(v:Vnic) WHERE v.network_id IS NOT NULL | v.network_id]
     + CASE WHEN focal:Network THEN [focal.id] ELSE [] END
     + CASE WHEN focal.network_id IS NOT NULL THEN [focal.network_id] ELSE [] END AS found
WITH focal, reduce(nets = [], n IN found | CASE WHEN n IN nets THEN nets ELSE nets + n END) AS nets
WITH focal, nets, $constrained AND size(nets) > 0 AS constrain
WITH focal, nets, reduce(acc = {nodes: [focal], rels: []}, step IN $steps |
  // where the first node of each end type sits in the discovery order (null: none yet)
  reduce(a0 = acc, first IN [[
      [i IN range(0, size(acc.nodes) - 1) WHERE acc.nodes[i].type = step.source_type][0],
      [i IN range(0, size(acc.nodes) - 1) WHERE acc.nodes[i].type = step.target_type][0]]] |
    reduce(a1 = a0, direction IN [CASE
        WHEN step.source_type = step.target_type THEN 'both'
        WHEN first[0] IS NULL AND first[1] IS NULL THEN 'none'
        WHEN first[1] IS NULL OR (first[0] IS NOT NULL AND first[0] <= first[1]) THEN 'out'
        ELSE 'in' END] |
      reduce(a = a1, n IN [x IN a1.nodes WHERE direction <> 'none' AND x.type =
                           CASE direction WHEN 'in' THEN step.target_type ELSE step.source_type END] |
        reduce(b = a, hop IN CASE direction
            WHEN 'out' THEN [(n)-[r]->(m:Object) WHERE type(r) = step.relationship
                             AND (NOT constrain OR ((r.network IS NULL OR r.network IN nets)
                                                    AND (NOT m:Network OR m.id IN nets))) | [r, m]]
            WHEN 'in' THEN [(n)<-[r]-(m:Object) WHERE type(r) = step.relationship
                            AND (NOT constrain OR ((r.network IS NULL OR r.network IN nets)
                                                   AND (NOT m:Network OR m.id IN nets))) | [r, m]]
            ELSE [(n)-[r]-(m:Object) WHERE type(r) = step.relationship
                  AND (NOT constrain OR r.network IS NULL OR r.network IN nets) | [r, m]]
          END |
          {nodes: CASE WHEN hop[1] IN b.nodes THEN b.nodes ELSE b.nodes + [hop[1]] END,
           rels: CASE WHEN hop[0] IN b.rels THEN b.rels ELSE b.rels + [hop[0]] END}))))) AS clique
RETURN nets AS networks,
       [n IN clique.nodes | {id: n.id, type: n.type, name: n.name, host: n.host, status: n.status,
                             network_id: n.network_id}] AS nodes,
       [r IN clique.rels | {source: startNode(r).id, target: endNode(r).id, link_type: r.link_type,
                            relationship: type(r), state: r.state, status: r.status, network: r.network,
                            host: r.host}] AS links
