// The devices of DHCP and router namespaces (vservices) on the networks $networks that have no carrier
// (their vservice-vnic link is down: `ip -n NS link set DEV down`, or the device under it is gone).
// They serve the network from another host, so no VM's path holds them; root cause counts them as
// suspects of the VMs on their network. $env: the environment.
MATCH (s:Vservice {env: $env})-[l:VSERVICE_VNIC]->(v:Vnic {env: $env})
WHERE v.network_id IN $networks AND l.state = 'down'
RETURN v.id AS id, v.type AS type, v.name AS name, v.host AS host, v.network_id AS network_id,
       s.name AS namespace
