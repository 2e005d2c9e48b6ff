// How many links each object has in the graph (so a UI can show what expanding a node would add).
UNWIND $uids AS u
MATCH (n:Object {uid: u})
RETURN n.id AS id, COUNT { (n)-[r]-() WHERE type(r) IN $types } AS degree
