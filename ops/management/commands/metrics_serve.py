"""Serve this host's process metrics for Prometheus on a worker host that runs no web app."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Serve the Prometheus metrics the qcluster processes of this host counted (Paddle "
        "requests, 429s, limiter wait, delivery durations); needs PROMETHEUS_MULTIPROC_DIR."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=9101)
        parser.add_argument("--address", default="0.0.0.0")

    def handle(self, *args, port, address, **options):
        if not settings.PROMETHEUS_MULTIPROC_DIR:
            raise CommandError(
                "Set PROMETHEUS_MULTIPROC_DIR (the same directory as this host's qcluster) first."
            )
        from prometheus_client import CollectorRegistry, multiprocess, start_http_server

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=settings.PROMETHEUS_MULTIPROC_DIR)
        _, thread = start_http_server(port, addr=address, registry=registry)
        self.stdout.write(f"Serving this host's worker metrics on http://{address}:{port}/")
        thread.join()
