// What changed or went away since $since: the objects $uids (on the focal VMs' paths) that changed,
// any object of the networks $networks that was removed (a namespace no path shows any more), and the
// OVS ports and Linux-bridge members removed on the focal VMs' hosts $hosts (a patch or tunnel port).
// Kept by the projector as RecentChange nodes, each with the log of its object's and its outgoing links'
// states (graphmodel/projector.py): root cause tells from it what is not back to its earlier state.
// $env: the environment.
CALL {
  UNWIND $uids AS u
  MATCH (c:RecentChange {uid: u})
  WHERE c.at >= $since
  RETURN c
  UNION
  MATCH (c:RecentChange {env: $env})
  WHERE c.network_id IN $networks AND c.op = 'removed' AND c.at >= $since
  RETURN c
  UNION
  MATCH (c:RecentChange {env: $env})
  WHERE c.host IN $hosts AND c.type IN ['vedge_port', 'vconnector_member'] AND c.op = 'removed' AND c.at >= $since
  RETURN c
}
RETURN c.id AS id, c.op AS op, toString(c.at) AS at, c.type AS type, c.name AS name, c.host AS host,
       c.network_id AS network_id, c.id_path AS id_path, c.log AS log,
       c.at.epochMillis AS at_ms
