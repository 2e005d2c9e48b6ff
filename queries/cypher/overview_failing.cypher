// The failing objects of an environment with the fields that say why, at most $limit, by type and name.
// $env: environment name; $failing: monitoring statuses that count as failing (lower case).
MATCH (n:Object) WHERE n.env = $env
  AND ((n.type = 'host_pnic' AND n.link_detected = false) OR (n.type = 'network_agent' AND n.alive = false)
       OR (n.type = 'instance' AND n.vm_state = 'error') OR toLower(coalesce(n.status, '')) IN $failing)
RETURN n.id AS id, n.type AS type, n.name AS name, n.host AS host, n.status AS status, n.status_text AS status_text,
       n.link_detected AS link_detected, n.alive AS alive, n.vm_state AS vm_state
ORDER BY type, name, id
LIMIT $limit
