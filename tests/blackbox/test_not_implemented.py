"""Operations not built yet must fail clearly, naming the operation, never pretend to succeed."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError

from portico_helpers import CliError

OUT_OF_SCOPE = [
    ("get_domain_names", {}, "GetDomainNames"),
    ("get_vpc_links", {}, "GetVpcLinks"),
    ("get_client_certificates", {}, "GetClientCertificates"),
    ("generate_client_certificate", {"description": "c"}, "GenerateClientCertificate"),
    ("get_sdk_types", {}, "GetSdkTypes"),
]


def squash(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower())


@pytest.mark.parametrize("operation,kwargs,aws_name", OUT_OF_SCOPE, ids=[o[2] for o in OUT_OF_SCOPE])
def test_unimplemented_operation_raises_an_error_naming_it(apigw, operation, kwargs, aws_name):
    with pytest.raises(ClientError) as exc:
        getattr(apigw, operation)(**kwargs)
    response = exc.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] >= 400
    assert squash(aws_name) in squash(response["Error"]["Message"]), response["Error"]


def test_unimplemented_operation_fails_in_the_cli(cli):
    with pytest.raises(CliError) as exc:
        cli("apigateway", "get-domain-names")
    assert exc.value.returncode != 0
    assert "getdomainnames" in squash(exc.value.stderr)
