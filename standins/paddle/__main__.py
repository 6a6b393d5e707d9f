"""`python -m standins.paddle`: run the Paddle stand-in in the foreground until Ctrl-C.

For the demo, benchmarks and manual tests. No Django: the stand-in is a plain werkzeug server.
"""

import argparse

from standins.paddle import PaddleStandin
from standins.paddle.persistence import PersistentPaddleStandin


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m standins.paddle",
        description="Run a local stand-in for Paddle Billing's API.",
    )
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
    parser.add_argument(
        "--state-file",
        help="start from the state saved in this file and save to it after every write "
        "(default: start empty, keep nothing)",
    )
    return parser.parse_args(argv)


def main(argv=None) -> None:
    options = parse_args(argv)
    settings = {
        "mode": options.mode,
        "rate_limit_per_minute": options.rate_limit or None,
        "latency": options.latency,
        "block_seconds": options.block_seconds,
        "valid_keys": options.valid_keys,
        "refuse_billed": not options.allow_billed,
    }
    if options.state_file:
        standin = PersistentPaddleStandin(state_file=options.state_file, **settings)
    else:
        standin = PaddleStandin(**settings)
    standin.start(options.host, options.port)
    print(
        f"Paddle stand-in ({options.mode}) listening on {standin.url}\n"
        f"  state: GET {standin.url}/__standin/state\n"
        f"  reset: POST {standin.url}/__standin/reset\n"
        "Ctrl-C to stop.",
        flush=True,
    )
    try:
        standin.wait()
    except KeyboardInterrupt:
        print("stopping")
    finally:
        standin.stop()


if __name__ == "__main__":
    main()
