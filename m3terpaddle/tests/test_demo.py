"""`bin/demo` as a newcomer runs it: Ctrl-C stops every process it started, and a restarted demo
still sends a bill again to the draft it made before.

Each test runs its own demo on free ports with its own database and data folder, so it does not
clash with a demo someone is running.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

PROJECT = Path(__file__).resolve().parents[2]
# What pytest's configuration sets for the suite; the demo runs as `make demo` would.
SUITE_VARIABLES = ("DATABASE_URL", "DEBUG", "Q_CLUSTER_SYNC", "DJANGO_ALLOW_ASYNC_UNSAFE")

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition: Callable[[], object], *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = condition()
        except requests.RequestException:
            result = None
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(f"Gave up after {timeout} s waiting for {what}.")


def process_table() -> dict[int, tuple[int, str]]:
    """pid → (parent pid, start time): the start time tells a pid from a later one reusing it."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name (in parentheses) may hold spaces; the fields after it do not.
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] != "Z":
            table[int(entry.name)] = (int(fields[1]), fields[19])
    return table


class Demo:
    def __init__(self, directory: Path):
        self.directory = directory
        self.web = f"http://127.0.0.1:{free_port()}"
        self.paddle_port = free_port()
        self.paddle = f"http://127.0.0.1:{self.paddle_port}"
        self.environment = {k: v for k, v in os.environ.items() if k not in SUITE_VARIABLES}
        self.environment.update(
            DEMO_WEB_PORT=self.web.rsplit(":", 1)[1],
            DEMO_PADDLE_PORT=str(self.paddle_port),
            DEMO_DATA_DIR=str(directory / "var"),
            DATABASE_URL=f"sqlite:///{directory / 'demo.sqlite3'}",
        )
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        self.log = self.directory / f"demo-{self.starts}.log"
        # Its own session, like a terminal's foreground job: Ctrl-C reaches the whole group.
        self.process = subprocess.Popen(
            ["bin/demo"],
            cwd=PROJECT,
            env=self.environment,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(self.serving, timeout=240, what="the demo's web server")

    def serving(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"The demo stopped by itself:\n{self.log.read_text()[-3000:]}")
        return requests.get(f"{self.web}/admin/login/", timeout=2).ok

    def started_processes(self) -> dict[int, str]:
        table = process_table()
        found, frontier = {}, [self.process.pid]
        while frontier:
            parent = frontier.pop()
            for pid, (ppid, started) in table.items():
                if ppid == parent and pid not in found:
                    found[pid] = started
                    frontier.append(pid)
        return found

    def ctrl_c(self, signum: int = signal.SIGINT, *, times: int = 1) -> list[str]:
        """Press Ctrl-C (or send `signum` to the demo's process group `times`, as a supervisor's
        stop does); the processes the demo started that are still alive 10 s later."""
        started = self.started_processes()
        assert len(started) >= 5, "the stand-in, runserver and qcluster's processes"
        for _ in range(times):
            os.killpg(self.process.pid, signum)
            time.sleep(0.3)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            table = process_table()
            alive = [pid for pid, at in started.items() if table.get(pid, (0, ""))[1] == at]
            if not alive and self.process.poll() is not None:
                return []
            time.sleep(0.2)
        return [f"{pid}: {Path(f'/proc/{pid}/cmdline').read_text()!r}" for pid in alive]

    def kill_leftovers(self) -> None:
        if self.process is None:
            return
        for pid in [*self.started_processes(), self.process.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def paddle_command(self, action: str, transaction_id: str) -> None:
        """`python -m standins.paddle issue|pay …`, as the demo tells a newcomer to run it."""
        subprocess.run(
            [".venv/bin/python", "-m", "standins.paddle", action, transaction_id,
             "--url", self.paddle],
            cwd=PROJECT, env=self.environment, check=True, capture_output=True, timeout=30,
        )  # fmt: skip

    def bill_invoice_status(self, session: requests.Session, draft: dict) -> str:
        """What the draft's bill page says of its invoice in Paddle ("" for nothing yet)."""
        bill_id = draft["custom_data"]["m3ter_bill_id"]
        page = session.get(f"{self.web}/data/bills/{bill_id}/", timeout=10).text
        found = re.search(r'data-testid="invoice-status">([^<]*)<', page)
        return found.group(1) if found else ""

    def drafts(self) -> list[dict]:
        state = requests.get(f"{self.paddle}/__standin/state", timeout=5).json()
        return [t for t in state["transactions"] if t["status"] in ("draft", "ready")]


@pytest.fixture
def demo(tmp_path):
    demo = Demo(tmp_path)
    yield demo
    demo.kill_leftovers()


def test_ctrl_c_stops_every_process_the_demo_started_within_ten_seconds(demo):
    demo.start()
    draft = wait_for(lambda: demo.drafts()[:1], timeout=120, what="the worker to make a draft")[0]
    # The newcomer's loop, as the demo prints it: the stand-in's webhooks reach this demo.
    session = log_in(demo.web)
    # The organization id the demo prints is the one the REST API answers for.
    org_id = re.search(r"^export M3TER_ORG_ID=(\S+)$", demo.log.read_text(), re.MULTILINE)[1]
    configs = session.get(f"{demo.web}/organizations/{org_id}/integrationconfigs", timeout=10)
    assert configs.status_code == 200 and configs.json()["data"], configs.text
    demo.paddle_command("issue", draft["id"])
    wait_for(
        lambda: "Issued 325-" in demo.bill_invoice_status(session, draft),
        timeout=60,
        what="the bill page to show the invoice issued",
    )

    assert demo.ctrl_c() == []


def log_in(web: str) -> requests.Session:
    session = requests.Session()
    session.get(f"{web}/admin/login/", timeout=10).raise_for_status()
    answer = session.post(
        f"{web}/admin/login/?next=/",
        data={
            "username": "admin",
            "password": "m3terpaddle-demo",
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        timeout=10,
    )
    assert answer.url.rstrip("/").endswith("/integrations"), "logged in and sent home"
    return session


def test_after_a_restart_send_again_updates_the_same_draft(demo):
    demo.start()
    draft = wait_for(lambda: demo.drafts()[:1], timeout=120, what="a draft")[0]
    # Stopped this time as a supervisor does, `kill -TERM -- -<group>`, twice (it insists; `make
    # demo` passes its own TERM on): the second comes while the demo is stopping its children,
    # which must all still stop.
    assert demo.ctrl_c(signal.SIGTERM, times=2) == []

    demo.start()
    assert "password unchanged" in demo.log.read_text()
    session = log_in(demo.web)
    bill_id = draft["custom_data"]["m3ter_bill_id"]
    answer = session.post(
        f"{demo.web}/data/bills/{bill_id}/send-again/",
        data={"csrfmiddlewaretoken": session.cookies["csrftoken"], "integration": ""},
        timeout=10,
    )
    assert answer.ok and re.search(r"/runs/[0-9a-f-]{36}/$", answer.url), answer.url

    def for_the_bill():
        return [t for t in demo.drafts() if t["custom_data"] == draft["custom_data"]]

    wait_for(
        lambda: [t for t in for_the_bill() if t["updated_at"] > draft["updated_at"]],
        timeout=60,
        what="the draft to be updated",
    )
    assert [t["id"] for t in for_the_bill()] == [draft["id"]]
    run_page = session.get(answer.url, timeout=10).text
    assert draft["id"] in run_page

    # The restarted stand-in forgot its notification setting: the demo made it again.
    demo.paddle_command("issue", draft["id"])
    demo.paddle_command("pay", draft["id"])
    shown = wait_for(
        lambda: re.fullmatch(r"Issued 325-\d+ · paid .+", demo.bill_invoice_status(session, draft)),
        timeout=60,
        what="the bill page to show the invoice paid",
    )
    assert shown
    assert demo.ctrl_c() == []
