"""Throttling of POST /oauth/token: a guessed secret costs time, and a client cannot pile up
tokens faster than it could possibly use them."""

from rest_framework.throttling import SimpleRateThrottle

from m3terpaddle.client_ip import client_ip


class TokenRequestThrottle(SimpleRateThrottle):
    """Token requests per client address (API_TOKEN_REQUEST_RATE). Set for every view in the
    settings, since the token view names no throttle of its own; it counts that view only."""

    scope = "token"

    def get_cache_key(self, request, view):
        if getattr(request.resolver_match, "view_name", None) != "api:token":
            return None
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request)}
