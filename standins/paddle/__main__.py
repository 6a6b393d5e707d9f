"""`python -m standins.paddle`: run the Paddle stand-in in the foreground until Ctrl-C.

For the demo, benchmarks and manual tests. No Django: the stand-in is a plain werkzeug server.

`python -m standins.paddle issue|pay|cancel|past-due TXN_ID [--url URL]` does to a running
stand-in what a finance person does in Paddle's dashboard (issue the draft, record its payment...),
and the stand-in sends its signed webhooks, so the hub's pages show the invoice's new status.
"""

import argparse
import json
import sys
import urllib.error
import urllib.request

from standins.paddle import PaddleStandin
from standins.paddle.persistence import PersistentPaddleStandin

# What a person does in Paddle, and the transaction status it leads to.
ACTIONS = {"issue": "billed", "pay": "paid", "cancel": "canceled", "past-due": "past_due"}


def mark(argv) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m standins.paddle",
        description="Move a transaction on in a running stand-in, as Paddle would.",
    )
    parser.add_argument("action", choices=sorted(ACTIONS))
    parser.add_argument("transaction_id", help="txn_… (the run's Paddle transaction)")
    parser.add_argument("--url", default="http://127.0.0.1:8081", help="the stand-in's URL")
    options = parser.parse_args(argv)
    request = urllib.request.Request(
        f"{options.url.rstrip('/')}/__standin/transactions/{options.transaction_id}/mark",
        data=json.dumps({"status": ACTIONS[options.action]}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            txn = json.load(answer)["data"]
    except urllib.error.HTTPError as exc:
        print(f"The stand-in refused: {exc.read().decode()}", file=sys.stderr)
        return 1
    number = f", invoice {txn['invoice_number']}" if txn.get("invoice_number") else ""
    print(f"{txn['id']} is now {txn['status']}{number}; webhooks sent to the hub.")
    return 0


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
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ACTIONS:
        raise SystemExit(mark(argv))
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
        "  issue or pay a draft: python -m standins.paddle issue|pay TXN_ID\n"
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
