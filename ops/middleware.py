from ops import views

_ROUTES = {"/healthz": views.healthz, "/readyz": views.readyz, "/metrics": views.metrics}


class ProbeMiddleware:
    """Answers the probes and /metrics before host checks, sessions and CSRF: a load balancer
    or Prometheus calls by IP address and keeps no cookies."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        view = _ROUTES.get(request.path_info)
        if view is not None and request.method in ("GET", "HEAD"):
            return view(request)
        return self.get_response(request)
