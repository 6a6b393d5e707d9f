"""`manage.py paddle_standin`: run the Paddle stand-in in the foreground until Ctrl-C."""

from django.core.management.base import BaseCommand

from paddle_destination.standin import PaddleStandin


class Command(BaseCommand):
    help = (
        "Run a local stand-in for Paddle Billing's API (for the demo, benchmarks and manual tests)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8081)
        parser.add_argument("--mode", choices=("sandbox", "production"), default="sandbox")
        parser.add_argument(
            "--rate-limit",
            type=int,
            default=240,
            help="requests per client per minute before 429s; 0 disables (default 240, Paddle's)",
        )
        parser.add_argument(
            "--block-seconds", type=float, default=60.0, help="block after the limit (default 60)"
        )
        parser.add_argument(
            "--latency", type=float, default=0.0, help="seconds added to every API request"
        )
        parser.add_argument(
            "--valid-key",
            action="append",
            dest="valid_keys",
            help="accept only these API keys (repeatable); default: any well-formed key",
        )
        parser.add_argument(
            "--allow-billed",
            action="store_true",
            help="accept status=billed like Paddle does (refused by default: it issues invoices)",
        )

    def handle(self, *args, **options):
        standin = PaddleStandin(
            mode=options["mode"],
            rate_limit_per_minute=options["rate_limit"] or None,
            latency=options["latency"],
            block_seconds=options["block_seconds"],
            valid_keys=options["valid_keys"],
            refuse_billed=not options["allow_billed"],
        )
        standin.start(options["host"], options["port"])
        self.stdout.write(
            f"Paddle stand-in ({options['mode']}) listening on {standin.url}\n"
            f"  state: GET {standin.url}/__standin/state\n"
            f"  reset: POST {standin.url}/__standin/reset\n"
            "Ctrl-C to stop."
        )
        self.stdout.flush()
        try:
            standin.wait()
        except KeyboardInterrupt:
            self.stdout.write("stopping")
        finally:
            standin.stop()
