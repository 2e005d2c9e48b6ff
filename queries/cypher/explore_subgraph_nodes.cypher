// The objects within $hops links of the focal objects, nearest first, at most $limit of them.
// $focal: uids; $relationships: "TYPE_A|TYPE_B|..." (from the schema, never from input); $limit: a cap.
MATCH (focal:Object) WHERE focal.uid IN $focal
WITH collect(focal) AS starts
CALL apoc.path.subgraphNodes(starts, {maxLevel: $hops, relationshipFilter: $relationships, limit: $limit, bfs: true})
YIELD node
RETURN node.uid AS uid, node.id AS id, node.type AS type, node.name AS name, node.host AS host,
       node.status AS status
