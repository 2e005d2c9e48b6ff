// The devices of DHCP and router namespaces (vservices) without carrier (their vservice-vnic link is
// down: `ip -n NS link set DEV down`, or the device under it is gone) that serve the networks $networks:
// a device on one of them, or a device of a router that has an interface on one of them (its gateway
// port on the external network is the VMs' way out too). They serve the network from another host, so
// no VM's path holds them; root cause counts them as suspects of the VMs on the network they serve
// (`network_id`; `via_router`: the device is on another network of the router). $env: the environment.
MATCH (s:Vservice {env: $env})-[l:VSERVICE_VNIC]->(v:Vnic {env: $env})
WHERE l.state = 'down'
OPTIONAL MATCH (s)-[:VSERVICE_VNIC]->(w:Vnic {env: $env})
WHERE w.network_id IN $networks
WITH s, v, collect(DISTINCT w.network_id) AS served
WHERE v.network_id IN $networks OR size(served) > 0
RETURN v.id AS id, v.type AS type, v.name AS name, v.host AS host,
       CASE WHEN v.network_id IN $networks THEN v.network_id ELSE served[0] END AS network_id,
       NOT v.network_id IN $networks AS via_router, s.name AS namespace
