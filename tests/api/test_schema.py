"""The OpenAPI schema is valid and documents every endpoint with auth and bodies."""

from drf_spectacular.generators import SchemaGenerator
from openapi_spec_validator import validate


def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def test_schema_validates_against_openapi_3():
    validate(schema())


#: actions that take no input at all (the Idempotency-Key header names the attempt)
NO_BODY = {("post", "/api/v1/scenarios/{id}/run")}


def test_every_operation_has_auth_and_a_response_schema():
    spec = schema()
    assert {"bearerAuth", "cookieAuth"} <= set(spec["components"]["securitySchemes"])
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            assert operation.get("security"), f"{method} {path} has no security"
            ok = (
                operation["responses"].get("200")
                or operation["responses"].get("201")
                or operation["responses"].get("202")
                or {}
            )
            assert "content" in ok, f"{method} {path} has no response schema"
            if method == "post" and (method, path) not in NO_BODY:
                assert "requestBody" in operation, f"{method} {path} has no request body"


def test_bulk_endpoints_accept_json_and_csv():
    spec = schema()
    for resource in ["products", "product-families", "locations", "accounts", "sales-lines"]:
        body = spec["paths"][f"/api/v1/{resource}/bulk"]["post"]["requestBody"]["content"]
        assert {"application/json", "text/csv"} <= set(body)


def test_schema_endpoint_needs_authentication(client, db):
    assert client.get("/api/schema/").status_code == 401
