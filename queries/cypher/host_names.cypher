// The names of an environment's hosts. $env: the environment.
MATCH (h:Object {env: $env, type: 'host'})
RETURN h.name AS name
ORDER BY name
