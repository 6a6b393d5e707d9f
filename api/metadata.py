"""What OPTIONS answers on every API path."""

from rest_framework.metadata import SimpleMetadata


class DescriptionMetadata(SimpleMetadata):
    """Name, description, renderers and parsers; no per-method request forms. DRF builds those
    by loading the object the path names through the generic lookup, which these views replace
    with their own id handling, and the schema at /api/schema/ describes every body anyway."""

    def determine_actions(self, request, view):
        return {}
