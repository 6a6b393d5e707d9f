"""Bearer tokens: m3ter's OAuth 2.0 client-credentials grant at /oauth/token."""

import base64
import binascii

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from api.serializers.auth import TokenRequestSerializer, TokenResponseSerializer
from api.services import InvalidClient, access_token_issue
from api.views.common import body_object, validated

BASIC_HELP = (
    "Send your API key id and secret with HTTP Basic auth, e.g. "
    "curl -u KEY_ID:SECRET -d grant_type=client_credentials …/oauth/token."
)


def _client_credentials(request) -> tuple[str, str]:
    """The key id and secret: HTTP Basic, as m3ter documents, or client_id and client_secret in
    the body, which OAuth 2.0 also allows (Swagger UI's "request body" option)."""
    scheme, _, encoded = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        body = request.data if isinstance(request.data, dict) else {}
        key_id, secret = body.get("client_id"), body.get("client_secret")
        if isinstance(key_id, str) and isinstance(secret, str) and key_id and secret:
            return _checked(key_id, secret)
        raise exceptions.NotAuthenticated(f"No client credentials. {BASIC_HELP}")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise exceptions.AuthenticationFailed(
            f"The Basic credentials are not valid base64 of KEY_ID:SECRET. {BASIC_HELP}"
        ) from None
    key_id, colon, secret = decoded.partition(":")
    if not colon:
        raise exceptions.AuthenticationFailed(
            f"The Basic credentials must be KEY_ID:SECRET. {BASIC_HELP}"
        )
    return _checked(key_id, secret)


def _checked(key_id: str, secret: str) -> tuple[str, str]:
    # No key id holds a NUL character, and PostgreSQL refuses to even compare one.
    if not key_id or not secret or "\x00" in key_id:
        raise exceptions.AuthenticationFailed(
            f"The key id and secret must both be given. {BASIC_HELP}"
        )
    return key_id, secret


@extend_schema(tags=["Authentication"])
@extend_schema_view(
    post=extend_schema(
        operation_id="GenerateToken",
        summary="Get a bearer token (OAuth 2.0 client credentials)",
        description=f"{BASIC_HELP} The token goes in `Authorization: Bearer <token>`.",
        request={
            "application/json": TokenRequestSerializer,
            "application/x-www-form-urlencoded": TokenRequestSerializer,
        },
        responses={200: TokenResponseSerializer},
        auth=[{"BasicAuth": []}],
    )
)
class TokenView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    parser_classes = [JSONParser, FormParser]

    def get_authenticate_header(self, request):
        return 'Basic realm="api"'

    def post(self, request):
        key_id, secret = _client_credentials(request)
        validated(TokenRequestSerializer, body_object(request))
        try:
            token, lifetime = access_token_issue(key_id=key_id, secret=secret)
        except InvalidClient:
            raise exceptions.AuthenticationFailed(
                "The API key id and secret do not match an active API key of an active service "
                "user. Check them, or make a new key in the admin (REST API › Service users)."
            ) from None
        return Response(
            {"access_token": token, "token_type": "Bearer", "expires_in": lifetime},
            headers={"Cache-Control": "no-store"},
        )
