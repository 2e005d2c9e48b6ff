// The DHCP and router namespaces (vservices) of the networks $networks whose monitoring status is
// failing: off the focal VMs' paths (they serve the network from another host), yet their trouble is
// the VMs' (no lease renewal, no routing). Root cause counts them as suspects of those networks.
// $env: the environment.
MATCH (s:Vservice {env: $env})
WHERE s.network_id IN $networks AND s.status IN ['critical', 'warning']
RETURN s.id AS id, s.type AS type, s.name AS name, s.host AS host, s.network_id AS network_id,
       s.status AS status, s.status_text AS status_text
