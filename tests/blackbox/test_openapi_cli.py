"""OpenAPI from the command line and at startup: `portico serve --import FILE --stage NAME`,
`portico import`, `portico export`, and the malformed documents an import must refuse cleanly.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from botocore.exceptions import ClientError

from portico_helpers import PORTICO_BIN, DataPlane, make_apigw_client, unique_name, wait_for_stage

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
EXAMPLE = os.path.join(REPO, "examples", "petstore.yaml")


def portico_cli(*args, timeout=60):
    return subprocess.run([PORTICO_BIN, *args], capture_output=True, text=True, timeout=timeout)


def apis_named(apigw, name):
    return [a for a in apigw.get_rest_apis(limit=500)["items"] if a["name"] == name]


def test_serve_import_gives_a_working_api_and_restarts_without_copies(portico_factory, tmp_path):
    data_dir = tmp_path / "petstore"
    data_dir.mkdir()
    server = portico_factory(data_dir=data_dir, extra_args=["--import", EXAMPLE, "--stage", "dev"])
    apigw = make_apigw_client(server.admin_url)
    (api,) = apis_named(apigw, "PetStore")
    dp = DataPlane(server.data_port)

    # Served from the first request: the import is deployed before the listeners open.
    r = dp.invoke(api["id"], "dev", "/pets")
    assert r.status == 200, r.body
    assert [p["type"] for p in json.loads(r.body)] == ["dog", "cat", "fish"]
    r = dp.invoke(api["id"], "dev", "/pets", query={"type": "cat"})
    assert json.loads(r.body) == [{"id": 2, "type": "cat", "price": 124.99}]
    r = dp.invoke(api["id"], "dev", "/pets/2")
    assert r.status == 200 and json.loads(r.body)["id"] == 2
    r = dp.invoke(api["id"], "dev", "/pets/9")
    assert r.status == 404 and json.loads(r.body) == {"message": "no pet 9"}
    headers = {"Content-Type": "application/json"}
    r = dp.invoke(api["id"], "dev", "/pets", method="POST", headers=headers, body='{"type": "cat", "price": 3}')
    assert r.status == 201, r.body
    r = dp.invoke(api["id"], "dev", "/pets", method="POST", headers=headers, body='{"type": "cow"}')
    assert r.status == 400 and json.loads(r.body) == {"message": "Invalid request body"}

    server.stop()
    again = portico_factory(data_dir=data_dir, extra_args=["--import", EXAMPLE, "--stage", "dev"])
    apigw = make_apigw_client(again.admin_url)
    (same,) = apis_named(apigw, "PetStore")
    assert same["id"] == api["id"]
    assert DataPlane(again.data_port).invoke(api["id"], "dev", "/pets").status == 200


def test_serve_import_of_a_bad_document_fails_with_a_clear_error(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"openapi": "3.0.1", "info": {"title": "x"}, "paths": {"/a": {"get": {"x-amazon-apigateway-integration": {"type": "teleport"}}}}}')
    proc = subprocess.run(
        [PORTICO_BIN, "serve", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0",
         "--data-dir", str(tmp_path / "d"), "--import", str(bad)],
        capture_output=True, text=True, timeout=30,
    )
    assert proc.returncode != 0
    assert "Invalid integration type: TELEPORT" in proc.stderr, proc.stderr


def test_cli_import_deploy_export_and_reimport(portico, apigw, dataplane, tmp_path):
    endpoint = ["--endpoint-url", portico.admin_url]
    done = portico_cli("import", EXAMPLE, "--stage", "cli", *endpoint)
    assert done.returncode == 0, done.stderr
    api_id = done.stdout.strip()
    try:
        assert apigw.get_rest_api(restApiId=api_id)["name"] == "PetStore"
        wait_for_stage(dataplane, api_id, "cli")
        assert dataplane.invoke(api_id, "cli", "/pets/1").status == 200

        yaml_out = portico_cli("export", api_id, "cli", "--yaml", *endpoint)
        assert yaml_out.returncode == 0, yaml_out.stderr
        assert yaml_out.stdout.startswith("openapi:"), yaml_out.stdout[:200]
        assert "x-amazon-apigateway-integration" in yaml_out.stdout

        swagger = portico_cli("export", api_id, "cli", "--format", "swagger", *endpoint)
        assert swagger.returncode == 0, swagger.stderr
        doc = json.loads(swagger.stdout)
        assert doc["swagger"] == "2.0" and doc["basePath"] == "/cli"
        assert set(doc["paths"]) == {"/pets", "/pets/{petId}", "/httpbin/{proxy+}"}

        # The export, imported over the API, leaves it working the same.
        exported = tmp_path / "export.yaml"
        out = portico_cli("export", api_id, "cli", "--yaml", "--output", str(exported), *endpoint)
        assert out.returncode == 0, out.stderr
        again = portico_cli("import", str(exported), "--api-id", api_id, "--stage", "cli", *endpoint)
        assert again.returncode == 0, again.stderr
        assert again.stdout.strip() == api_id
        r = dataplane.invoke(api_id, "cli", "/pets", query={"type": "fish"})
        assert json.loads(r.body) == [{"id": 3, "type": "fish", "price": 0.99}]
    finally:
        apigw.delete_rest_api(restApiId=api_id)


def test_cli_errors_are_clear():
    missing = portico_cli("import", "/nonexistent/spec.yaml")
    assert missing.returncode != 0 and "/nonexistent/spec.yaml" in missing.stderr
    refused = portico_cli("import", EXAMPLE, "--endpoint-url", "http://127.0.0.1:9")
    assert refused.returncode != 0 and "127.0.0.1:9" in refused.stderr
    bad_format = portico_cli("export", "abc", "dev", "--format", "raml")
    assert bad_format.returncode != 0 and "oas30 or swagger" in bad_format.stderr


def _deep_json(depth):
    return '{"openapi": "3.0.1", "info": {"title": "deep"}, "x": ' + "[" * depth + "]" * depth + "}"


MALFORMED = {
    "empty": (b"", "Invalid OpenAPI input."),
    "truncated json": (b'{"openapi": "3.0.1", "info": {"title": "t"}, "paths": {"/a": {', "Invalid OpenAPI input."),
    "truncated yaml": (b"openapi: 3.0.1\ninfo:\n  title: t\npaths:\n  /a:\n    get: [\n", "Invalid OpenAPI input."),
    "not openapi": (b'{"hello": "world"}', "Invalid OpenAPI input."),
    "list at top": (b"[1, 2, 3]", "Invalid OpenAPI input."),
    "binary": (bytes(range(256)), "Invalid OpenAPI input."),
    "paths is a list": (b'{"openapi": "3.0.1", "info": {"title": "t"}, "paths": []}', "Invalid OpenAPI input."),
    "no title": (b'{"openapi": "3.0.1", "info": {}, "paths": {}}', "Errors found during import"),
    "path without slash": (b'{"swagger": "2.0", "info": {"title": "t"}, "paths": {"pets": {}}}', "Errors found during import"),
    "operation is a string": (
        b'{"swagger": "2.0", "info": {"title": "t"}, "paths": {"/a": {"get": "nope"}}}',
        "Errors found during import",
    ),
    "integration is a list": (
        b'{"swagger": "2.0", "info": {"title": "t"}, "paths": {"/a": {"get": {"x-amazon-apigateway-integration": []}}}}',
        "Errors found during import",
    ),
    "unknown model": (
        b'{"swagger": "2.0", "info": {"title": "t"}, "paths": {"/a": {"get": {"responses": {"200": {"description": "d", "schema": {"$ref": "#/definitions/Nope"}}}}}}}',
        "Invalid model identifier specified: Nope",
    ),
    "unresolvable parameter": (
        b'{"swagger": "2.0", "info": {"title": "t"}, "paths": {"/a": {"get": {"parameters": [{"$ref": "#/parameters/missing"}]}}}}',
        "Unresolvable reference",
    ),
    "greedy in the middle": (
        b'{"swagger": "2.0", "info": {"title": "t"}, "paths": {"/{proxy+}/a": {}}}',
        "greedy path variable",
    ),
    "deep json": (_deep_json(20000).encode(), "Invalid OpenAPI input."),
    "deep yaml": (b"openapi: 3.0.1\ninfo: {title: t}\nx: " + b"[" * 20000 + b"]" * 20000 + b"\n", "Invalid OpenAPI input."),
    "alias bomb": (
        b"openapi: 3.0.1\ninfo: {title: t}\na: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        b"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
        b"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
        b"g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n",
        "Invalid OpenAPI input.",
    ),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_documents_are_refused_clearly(apigw_unvalidated, case):
    body, message = MALFORMED[case]
    with pytest.raises(ClientError) as err:
        created = apigw_unvalidated.import_rest_api(body=body)
        apigw_unvalidated.delete_rest_api(restApiId=created["id"])
    response = err.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400, response
    assert response["Error"]["Code"] == "BadRequestException"
    assert message in response["Error"]["Message"], response["Error"]["Message"]


def test_a_large_document_imports(apigw):
    paths = {
        f"/r{i}/{{id}}": {
            "get": {
                "responses": {"200": {"description": "ok"}},
                "x-amazon-apigateway-integration": {"type": "mock", "requestTemplates": {"application/json": '{"statusCode": 200}'}},
            }
        }
        for i in range(1500)
    }
    spec = {"openapi": "3.0.1", "info": {"title": unique_name("big"), "version": "1"}, "paths": paths}
    api = apigw.import_rest_api(body=json.dumps(spec).encode())
    try:
        assert len(apigw.get_resources(restApiId=api["id"], limit=500)["items"]) == 500
    finally:
        apigw.delete_rest_api(restApiId=api["id"])


def test_too_many_resources_are_refused(apigw_unvalidated):
    paths = {f"/r{i}": {} for i in range(10001)}
    body = json.dumps({"swagger": "2.0", "info": {"title": "many"}, "paths": paths}).encode()
    with pytest.raises(ClientError) as err:
        apigw_unvalidated.import_rest_api(body=body)
    assert "more than 10000 resources" in err.value.response["Error"]["Message"]


def test_a_document_over_the_size_limit_is_refused(apigw_unvalidated):
    body = b'{"openapi": "3.0.1", "info": {"title": "t"}, "x": "' + b"a" * (17 * 1024 * 1024) + b'"}'
    with pytest.raises(ClientError) as err:
        apigw_unvalidated.import_rest_api(body=body)
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "too large" in err.value.response["Error"]["Message"]
