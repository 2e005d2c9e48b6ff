// The health evidence of objects (for colouring a picture): their own failing fields, their
// monitoring status, how many of their links (not the tree) are down, and how many links they have.
// $uids: node uids (environment|id), at most a picture's worth.
MATCH (n:Object) WHERE n.uid IN $uids
OPTIONAL MATCH (n)-[r]-() WHERE r.state = 'down' AND type(r) <> 'CONTAINS'
RETURN n.id AS id, n.type AS type, n.status AS status, n.status_text AS status_text,
       n.link_detected AS link_detected, n.alive AS alive, n.vm_state AS vm_state, count(r) AS down_links,
       COUNT { (n)-[l]-() WHERE type(l) <> 'CONTAINS' } AS degree
