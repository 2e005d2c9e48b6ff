// The links among a set of objects ($uids), of the given relationship types ($types).
MATCH (a:Object)-[r]->(b:Object)
WHERE a.uid IN $uids AND b.uid IN $uids AND type(r) IN $types
RETURN a.id AS source, b.id AS target, type(r) AS relationship, r.link_type AS link_type,
       r.link_name AS link_name, r.state AS state, r.status AS status, r.host AS host
