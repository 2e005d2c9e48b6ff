// Names and types of some objects (to label results). $uids: the objects' uids.
UNWIND $uids AS object_uid
MATCH (n:Object {uid: object_uid})
RETURN n.id AS id, n.name AS name, n.type AS type, n.network_type AS network_type, n.mtu AS mtu,
       n.status AS status
