"""Bearer tokens from POST /oauth/token, checked on every API request."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from api.services import access_token_user

TOKEN_HELP = (
    "Get a token from POST /oauth/token (HTTP Basic auth with your API key id and secret, "
    "grant_type=client_credentials) and send it as 'Authorization: Bearer <token>'."
)


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                f"The Authorization header must be 'Bearer <token>' with no spaces in the token. "
                f"{TOKEN_HELP}"
            )
        try:
            token = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(
                f"The bearer token has characters a token never has. {TOKEN_HELP}"
            ) from None
        found = access_token_user(token=token)
        if found is None:
            raise exceptions.AuthenticationFailed(
                f"The bearer token is unknown, expired or revoked. {TOKEN_HELP}"
            )
        return found

    def authenticate_header(self, request):
        # Makes DRF answer 401 (not 403) to a request without credentials.
        return f'{self.keyword} realm="api"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = BearerTokenAuthentication
    name = "OAuth2"

    def get_security_definition(self, auto_schema):
        return {
            "type": "oauth2",
            "description": (
                "m3ter's client-credentials flow: a service user's API key id and secret, sent "
                "with HTTP Basic auth to POST /oauth/token, buy a bearer token."
            ),
            "flows": {"clientCredentials": {"tokenUrl": "/oauth/token", "scopes": {}}},
        }
