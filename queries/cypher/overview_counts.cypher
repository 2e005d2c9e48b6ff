// An environment at a glance, from the graph (MongoDB on FerretDB scans whole collections to count):
// its objects, its links (the tree left out), the links that are down, and the failing objects.
// $env: environment name; $failing: monitoring statuses that count as failing (lower case).
MATCH (n:Object) WHERE n.env = $env
WITH n, (n.type = 'host_pnic' AND n.link_detected = false) OR (n.type = 'network_agent' AND n.alive = false)
        OR (n.type = 'instance' AND n.vm_state = 'error') OR toLower(coalesce(n.status, '')) IN $failing AS failing
OPTIONAL MATCH (n)-[r]->() WHERE type(r) <> 'CONTAINS'
WITH n, failing, count(r) AS links, count(CASE WHEN r.state = 'down' THEN 1 END) AS down
RETURN count(n) AS objects, sum(links) AS links, sum(down) AS links_down,
       count(CASE WHEN failing THEN 1 END) AS failing_total
