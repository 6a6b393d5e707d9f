"""Every named route of the site, for the tests that go through all of them (security, wording):
a page or endpoint added later is covered the day it is added."""

from django.urls import URLPattern, URLResolver, get_resolver


def named_routes(patterns=None, prefix=""):
    """(URL name with its namespaces, the sorted names of its path arguments) of every route."""
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            yield from named_routes(entry.url_patterns, namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            arguments = getattr(entry.pattern, "converters", {}) or entry.pattern.regex.groupindex
            yield f"{prefix}{entry.name}", sorted(arguments)
