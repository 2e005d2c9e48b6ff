"""Generated requests for every operation of the live OpenAPI document, as an admin: no answer
is a 5xx, and every answer matches the document (status, content type, schema). Requests go to
the scanned environment (random names would only ever meet a 404), with generated everything else.

schemathesis' own pytest plugin (`from_fixture`) does not run under pytest 9, so the test walks
the operations itself and runs a Hypothesis test for each, collecting every failure."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

EXAMPLES_PER_OPERATION = 15
#: Operations with rules that Swagger 2.0 cannot state (between parameters, or on a value's meaning),
#: so a request valid by the document may still be refused with a 400 that names the rule.
DOMAIN_RULES = {
    "GET /environments/{env}/graph": "focal or search is required",
    "GET /environments/{env}/analysis/diff": "since/until: a time, a duration ago or a scan id",
    "GET /environments/{env}/cliques/{focal_id}": "clique_type must name a clique type for the focal type",
    "POST /environments": "each section is validated by core.environments",
    "PUT /environments/{env}": "each section is validated by core.environments",
    "POST /clique-types": "link types must chain from the focal point type",
    "POST /environments/{env}/schedules": "at: the format depends on every",
    "POST /environments/{env}/scans": "the environment must be configured",
    "POST /environments/{env}/monitoring/sensu": "the body is a Sensu Go event, in that tool's own format",
    "POST /environments/{env}/monitoring/collectd": "the body is collectd write_http JSON, in that tool's own format",
    "POST /environments/{env}/watches": "email needs the server's SMTP settings (CALIPSO_SMTP_HOST)",
}


def test_every_operation_conforms(api_schema, api_app, api_world) -> None:  # type: ignore[no-untyped-def]
    # A token of its own: a generated DELETE /auth/tokens/current must not log other tests out.
    login = api_app.test_client().post("/api/v1/auth/tokens", json={"username": "admin", "password": "admin-pw"})
    headers = {"Authorization": f"Bearer {login.get_json()['token']}"}
    failures: dict[str, str] = {}
    operations = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def conforms(case) -> None:  # type: ignore[no-untyped-def]
            if case.path_parameters and "env" in case.path_parameters:
                # Deleting the environment (with purge=true, everything of it) would take the shared
                # world from every later test: that operation gets a name no environment has.
                destroys = operation.label == "DELETE /environments/{env}"
                case.path_parameters["env"] = "no-such-environment" if destroys else api_world.environment
            excluded = [positive_data_acceptance] if operation.label in DOMAIN_RULES else []
            case.call_and_validate(headers=headers, excluded_checks=excluded)

        try:
            conforms()
        except Exception as exc:  # noqa: BLE001 - every operation's failure is reported together
            failures[operation.label] = str(exc)[:2000]
    assert operations >= 20
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())


#: Values at the edges of what parsers, MongoDB and Python's datetime take: each has made a route
#: answer 500 before (a 24-digit integer in an attribute filter, a duration past year 1).
BOUNDARY_VALUES = ("9" * 24, "-" + "9" * 24, "99999999999d", "99999999999w", "1e309", "nan", "-1", "0",
                   "vlan_tag=" + "9" * 24, "network=" + "9" * 24, "x" * 5000, "..%2F..", "$where", "\u202e\ufffd")


def test_boundary_values_in_every_parameter_are_never_a_5xx(api_app, api_world, api_tokens) -> None:  # type: ignore[no-untyped-def]
    """Each query and path parameter of every operation, one at a time, set to each boundary value;
    each body, as a JSON document nested 100,000 deep and with huge numbers in every field."""
    client = api_app.test_client()
    headers = {"Authorization": f"Bearer {api_tokens['admin']}"}
    document = client.get("/api/v1/swagger.json").get_json()
    failures = []
    calls = 0
    for path, operations in document["paths"].items():
        shared = operations.get("parameters", [])
        for method, operation in operations.items():
            if method == "parameters" or method == "delete":
                continue  # deleting with odd ids proves nothing more than reading with them, and costs fixtures
            parameters = shared + operation.get("parameters", [])
            base = path.replace("{env}", api_world.environment)
            for parameter in parameters:
                if parameter["in"] not in ("query", "path") or parameter["name"] == "env":
                    continue
                for value in BOUNDARY_VALUES:
                    url = base
                    query = {}
                    if parameter["in"] == "path":
                        url = base.replace("{" + parameter["name"] + "}", value)
                    else:
                        query[parameter["name"]] = value
                    url = url.replace("{", "").replace("}", "")
                    answer = client.open(f"/api/v1{url}", method=method.upper(), query_string=query, headers=headers)
                    calls += 1
                    if answer.status_code >= 500:
                        failures.append(f"{method.upper()} {path} {parameter['name']}={value[:30]!r}: {answer.status_code}")
            if any(p["in"] == "body" for p in parameters):
                for body in ("[" * 100_000 + "]" * 100_000, '{"a": ' + "9" * 400 + "}",
                             "{" + ", ".join(f'"k{i}": {"9" * 30}' for i in range(50)) + "}"):
                    answer = client.open(f"/api/v1{base}", method=method.upper(), data=body,
                                         content_type="application/json", headers=headers)
                    calls += 1
                    if answer.status_code >= 500:
                        failures.append(f"{method.upper()} {path} body {body[:30]!r}: {answer.status_code}")
    assert calls > 500
    assert not failures, "\n".join(failures[:40])
