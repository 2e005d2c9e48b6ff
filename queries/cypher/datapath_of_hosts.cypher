// The datapath of some hosts: the objects on each host that a VM's traffic or its wiring involves
// (instances, network services, vNICs, bridges, switches, tunnel endpoints, NICs, agents: one index
// seek per host and type), the datapath links from those objects, and the networks their NICs carry
// (the far end of HOST_PNIC_NETWORK).
// $env: the environment; $hosts: the host names; $types: the object types to collect;
// $relationships: the link relationship types to follow.
UNWIND $hosts AS host
UNWIND $types AS object_type
MATCH (a:Object {env: $env, host: host, type: object_type})
OPTIONAL MATCH (a)-[r]->(b:Object)
WHERE type(r) IN $relationships
WITH a, collect(CASE WHEN r IS NULL THEN NULL ELSE
  {source: a.id, target: b.id, relationship: type(r), state: r.state, status: r.status,
   network: r.network, vlan_tag: r.vlan_tag, target_type: b.type, target_name: b.name,
   target_network_type: b.network_type, target_mtu: b.mtu} END) AS links
RETURN {id: a.id, type: a.type, name: a.name, host: a.host, status: a.status, status_text: a.status_text,
        link_detected: a.link_detected, master: a.master, bond_members: a.bond_members,
        network_id: a.network_id, project_id: a.project_id, alive: a.alive, mtu: a.mtu,
        vm_state: a.vm_state, parent_id: a.parent_id, service_type: a.service_type, port_type: a.port_type,
        link_state: a.link_state, admin_state: a.admin_state, error: a.error, pnic: a.pnic} AS node,
       links
