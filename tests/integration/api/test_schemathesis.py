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
                case.path_parameters["env"] = api_world.environment
            excluded = [positive_data_acceptance] if operation.label in DOMAIN_RULES else []
            case.call_and_validate(headers=headers, excluded_checks=excluded)

        try:
            conforms()
        except Exception as exc:  # noqa: BLE001 - every operation's failure is reported together
            failures[operation.label] = str(exc)[:2000]
    assert operations >= 20
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
