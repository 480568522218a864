"""The OpenAPI document: public, generated from the routes, so it cannot fall behind them."""


def test_document_is_public_and_covers_every_api_route(app, client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.1")

    documented = {
        (path, method.upper())
        for path, operations in document["paths"].items()
        for method in operations
    }
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = rule.rule.replace("<int:report_id>", "{report_id}").replace("<slug>", "{slug}")
            routes |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == routes


def test_operations_name_their_bodies_roles_and_errors(client):
    document = client.get("/api/v1/openapi.json").get_json()
    new_report = document["paths"]["/api/v1/reports"]["post"]
    assert new_report["summary"].startswith("File a report.")
    assert set(new_report["responses"]) >= {"201", "400", "401", "409", "422"}
    schema_ref = new_report["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][schema_ref.rsplit("/", 1)[1]]
    assert set(schema["required"]) == {"agent", "category", "summary"}
    assert schema["additionalProperties"] is False

    route = document["paths"]["/api/v1/reports/{report_id}/route"]["post"]
    assert "Roles: triage, admin." in route["description"]
    assert "403" in route["responses"] and "404" in route["responses"]
    assert document["paths"]["/api/v1/openapi.json"]["get"]["security"] == []

    # Every $ref points at a schema that is there.
    refs = {part.split("'")[0] for part in str(document).split("#/components/schemas/")[1:]}
    assert refs and refs <= set(document["components"]["schemas"])
