"""The API reference page: drawn from the OpenAPI document on the server, public, no CDN."""

import re


def test_reference_page_lists_every_operation_with_its_fields_and_errors(client):
    document = client.get("/api/v1/openapi.json").get_json()
    response = client.get("/api/docs")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<h1>API reference</h1>" in page
    for path, operations in document["paths"].items():
        for method, entry in operations.items():
            assert f'id="op-{entry["operationId"]}-{method.upper()}"' in page, (method, path)
            assert f"<code>{path}</code>" in page
    # A body's fields, with their types and which are required.
    new_report = page.split('id="op-file_report-POST"')[1].split("</section>")[0]
    assert "<code>category</code>" in new_report and "wrong_output" in new_report
    assert "<code>summary</code>" in new_report and "Yes" in new_report
    assert "429" in new_report and "422" in new_report
    # Query parameters name the enums they accept (the document carries their schemas).
    list_reports = page.split('id="op-list_reports-GET"')[1].split("</section>")[0]
    assert "<code>status</code>" in list_reports and "acted_on" in list_reports


def test_reference_page_loads_nothing_from_elsewhere(client):
    page = client.get("/api/docs").get_data(as_text=True)
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and all(s.startswith(("/", "#")) for s in sources), sources


def test_document_has_no_dangling_references(client):
    document = client.get("/api/v1/openapi.json").get_json()
    refs = set(re.findall(r"'\$ref': '([^']+)'", str(document)))
    assert refs
    for ref in refs:
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.rsplit("/", 1)[1] in document["components"]["schemas"], ref


def test_every_operation_documents_the_rate_limit(client):
    document = client.get("/api/v1/openapi.json").get_json()
    for path, operations in document["paths"].items():
        for method, entry in operations.items():
            assert "429" in entry["responses"], (method, path)
            assert "Retry-After" in entry["responses"]["429"]["headers"]
