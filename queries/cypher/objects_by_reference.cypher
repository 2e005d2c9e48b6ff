// Objects a user named: by id first, else by name. $env: the environment; $refs: ids or names.
UNWIND $refs AS ref
OPTIONAL MATCH (byId:Object {uid: $env + '|' + ref})
OPTIONAL MATCH (byName:Object {env: $env, name: ref})
WITH ref, byId, collect(byName) AS named
RETURN ref,
       CASE WHEN byId IS NULL THEN NULL ELSE {id: byId.id, type: byId.type, name: byId.name, host: byId.host,
                                              project_id: byId.project_id} END AS exact,
       [n IN named | {id: n.id, type: n.type, name: n.name, host: n.host, project_id: n.project_id}] AS named
