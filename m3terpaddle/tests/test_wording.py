"""Statuses read the same on every page: words (a TextChoices label), never the constant behind
them (AUTH_FAILED, PAST_DUE, NOT_CONNECTED); and no sentence ends twice ("..").

Every page of every app (each URL pattern, with data in every status) and every admin page of
our models is rendered for a superuser; its visible text must show no status constant and no
double full stop. A status enum added later is covered once it is listed in STATUS_CHOICES (a
test below fails until every TextChoices of ours is placed in one of the two lists)."""

import datetime
import itertools
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import User
from django.db import models
from django.urls import reverse
from django.utils import timezone

from credentials.models import Destination
from credentials.tests.factories import IntegrationCredentialFactory
from integrations.models import (
    EntityType,
    IntegrationConfiguration,
    IntegrationEvent,
    IntegrationEventName,
    IntegrationEventState,
    NegativeLineItems,
    SortLineItemsBy,
    TaxCategory,
    TaxMode,
)
from integrations.rules import BillIntegrationAction, BillIntegrationState, IntegrationStateName
from integrations.tests.factories import IntegrationConfigurationFactory, IntegrationEventFactory
from m3terdata.models import Bill, BillingFrequency, BillStatus, LineItemType
from m3terdata.tests.factories import AccountFactory, BillFactory, LineItemFactory
from m3terpaddle.tests.routes import named_routes
from m3tersync.models import (
    InboundEvent,
    InboundEventStatus,
    M3terPull,
    PullStatus,
    PullTrigger,
)
from m3tersync.services import connection_create
from ops.models import Heartbeat, HeartbeatKind
from paddle_destination.errors import PaddleProblemKind
from paddle_destination.models import CircuitState, PaddleCircuit, PaddleEvent, PaddleEventStatus
from runs.models import (
    AttemptOutcome,
    IntegrationRun,
    InvoiceStatus,
    LogLevel,
    RunStatus,
    RunTrigger,
)
from runs.services import runs_create_for_bill_event
from runs.tests.factories import (
    DeliveryFactory,
    IntegrationRunFactory,
    RunAttemptFactory,
    RunLogEntryFactory,
    bill_with_lines,
    connected_integration,
)
from runs.tests.helpers import sweep_when_due

pytestmark = pytest.mark.django_db

# The enums whose values a person reads as a status, a state or a kind: shown only as labels.
STATUS_CHOICES = [
    RunStatus,
    RunTrigger,
    AttemptOutcome,
    LogLevel,
    InvoiceStatus,
    BillIntegrationState,
    BillIntegrationAction,
    IntegrationStateName,
    IntegrationEventState,
    PullStatus,
    PullTrigger,
    InboundEventStatus,
    PaddleEventStatus,
    CircuitState,
    HeartbeatKind,
    Destination,
    BillStatus,
    SortLineItemsBy,
    TaxMode,
    NegativeLineItems,
    LineItemType,
    BillingFrequency,
    # The engine's reading of Paddle's answer: in words wherever a person reads it (the JSON
    # summary of an attempt keeps the constant, see VisibleText).
    PaddleProblemKind,
]
# Values shown as they are, on purpose.
NAMED_BY_M3TER_OR_PADDLE = {
    # m3ter's console lists its integration events by these names (integration.perform.error).
    IntegrationEventName,
    # m3ter writes its entity type "Bill", as the hub does.
    EntityType,
    # Paddle's own tax category ids (saas, digital-goods), lower case: not constants.
    TaxCategory,
}

DOUBLE_FULL_STOP = re.compile(r"(?<!\.)\.\.(?!\.)")


def raw_constants() -> dict[str, str]:
    """Constant → the enum it belongs to, for every value a person should read as its label."""
    found = {}
    for choices in STATUS_CHOICES:
        for member in choices:
            if member.value and member.value != member.label:
                found[member.value] = choices.__name__
    return found


RAW = raw_constants()
# A constant as a word of its own: not part of a longer name (AUTH_FAILED_X, m.ERROR.x).
RAW_PATTERN = re.compile(
    r"(?<![\w-])(?<!\w\.)("
    + "|".join(sorted(map(re.escape, RAW), key=len, reverse=True))
    + r")(?![\w-])(?!\.\w)"
)


def test_every_enum_of_ours_is_either_a_status_or_named_on_purpose():
    ours = {
        cls
        for config in apps.get_app_configs()
        # The virtualenv may live inside the project (.venv): installed apps are not ours.
        if Path(config.path).is_relative_to(settings.BASE_DIR)
        and "site-packages" not in Path(config.path).parts
        for cls in _text_choices_in(config.module)
    }
    listed = set(STATUS_CHOICES) | NAMED_BY_M3TER_OR_PADDLE
    assert ours <= listed, (
        f"place these in STATUS_CHOICES or NAMED_BY_M3TER_OR_PADDLE: {ours - listed}"
    )


def _text_choices_in(module):
    import importlib
    import pkgutil

    package = module.__name__
    for info in pkgutil.walk_packages(module.__path__, prefix=f"{package}."):
        if ".tests" in info.name or ".migrations" in info.name or "management" in info.name:
            continue
        loaded = importlib.import_module(info.name)
        for value in vars(loaded).values():
            if (
                isinstance(value, type)
                and issubclass(value, models.TextChoices)
                and value.__module__ == info.name
            ):
                yield value


# --- what a page shows ----------------------------------------------------------------------------


class VisibleText(HTMLParser):
    """The text a person reads (no script, style or attribute). The integration state badges are
    read apart: they are checked to say their state's label. Text inside <pre> is the JSON of an
    attempt's request and response or of a log entry's data: structured data, like m3ter's API,
    whose values are the engine's and Paddle's own constants ("kind": "TRANSIENT", "tax_mode":
    "EXTERNAL") for whoever debugs a delivery; it is checked for double full stops only."""

    SKIPPED = {"script", "style", "template"}

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self.words: list[str] = []
        self.badges: list[tuple[str, str]] = []
        self._skipping: list[str] = []
        self._structured = 0
        self._badge: list = []  # [tag, state, depth, text parts]

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self._badge:
            self._badge[2] += tag == self._badge[0]
        elif "data-integration-state" in attrs:
            self._badge = [tag, attrs["data-integration-state"], 1, []]
        if tag in self.SKIPPED:
            self._skipping.append(tag)
        self._structured += tag == "pre"

    def handle_endtag(self, tag):
        if self._skipping and tag == self._skipping[-1]:
            self._skipping.pop()
        self._structured -= tag == "pre" and self._structured > 0
        if self._badge and tag == self._badge[0]:
            self._badge[2] -= 1
            if not self._badge[2]:
                self.badges.append((self._badge[1], "".join(self._badge[3]).strip()))
                self._badge = []

    def handle_data(self, data):
        if self._skipping:
            return
        if self._badge:
            self._badge[3].append(data)
            return
        self.parts.append(data)
        if not self._structured:
            self.words.append(data)


def wording_problems(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    problems = [
        f"the {state} badge says {text!r}, not {IntegrationStateName(state).label!r}"
        for state, text in parser.badges
        if text != IntegrationStateName(state).label
    ]
    words = " ".join(parser.words)
    for match in RAW_PATTERN.finditer(words):
        around = " ".join(words[max(0, match.start() - 60) : match.end() + 60].split())
        problems.append(f"{RAW[match.group(1)]}.{match.group(1)} shown raw: …{around}…")
    # Adjacent elements count too: "<code>txn_1.</code>." reads as a double full stop.
    joined = "".join(parser.parts)
    for match in DOUBLE_FULL_STOP.finditer(joined):
        around = " ".join(joined[max(0, match.start() - 80) : match.end() + 20].split())
        problems.append(f"a double full stop: …{around}…")
    return problems


def assert_reads_well(response, where: str) -> None:
    assert response.status_code == 200, (where, response.status_code)
    problems = wording_problems(response.content.decode())
    assert not problems, f"{where}:\n" + "\n".join(problems)


def test_the_check_sees_a_raw_status_a_double_full_stop_and_a_wrong_badge():
    html = (
        "<p>Run ended AUTH_FAILED.</p><p>Invoice PAST_DUE</p><script>var s = 'ERROR';</script>"
        '<span data-integration-state="DISABLED">CONNECTED</span>'
        "<p>Disabled by admin.. Enable it.</p><p>Loading…</p><p>Wait...</p>"
        "<code>integration.perform.error</code><p>Authentication failed</p>"
        '<pre>{"kind": "TRANSIENT", "message": "Paddle answered 500.."}</pre>'
    )

    problems = wording_problems(html)

    assert len(problems) == 5, problems
    assert "AUTH_FAILED" in problems[1] and "PAST_DUE" in problems[2]
    assert "'CONNECTED', not 'DISABLED'" in problems[0]
    assert "admin.. Enable" in problems[3] and "answered 500.." in problems[4]


# --- data in every status -------------------------------------------------------------------------


@pytest.fixture
def world(settings):
    """One of everything, in every status a person can meet it in."""
    settings.PADDLE_API_URL = settings.PADDLE_SANDBOX_API_URL = "http://127.0.0.1:9"
    now = timezone.now()
    accepted = IntegrationCredentialFactory(
        name="Accepted key",
        last_tested_at=now,
        last_test_ok=True,
        last_test_message="Paddle accepted the key: it delivered bill b-1.",
    )
    refused = IntegrationCredentialFactory(
        name="Refused key",
        last_tested_at=now,
        last_test_ok=False,
        last_test_message="While creating the transaction, Paddle answered 403 invalid_token: "
        "Invalid or revoked API key. The API key is invalid, revoked or expired.",
    )
    untested = IntegrationCredentialFactory(name="Untested key")
    live = IntegrationCredentialFactory(name="Live key", destination=Destination.PADDLE)
    account, elsewhere = AccountFactory(name="Acme Analytics"), AccountFactory()
    integrations = {
        IntegrationStateName.CONNECTED: IntegrationConfigurationFactory(
            name="Connected",
            credential=accepted,
            excluded_line_item_types=[LineItemType.MINIMUM_SPEND, LineItemType.CREDIT_DEDUCTION],
            sort_line_items_by=SortLineItemsBy.AGGREGATION_ID,
            tax_mode=TaxMode.ACCOUNT_SETTING,
            negative_line_items=NegativeLineItems.CREDIT,
        ),
        IntegrationStateName.NOT_CONNECTED: IntegrationConfigurationFactory(name="Unconnected"),
        IntegrationStateName.WRONG_CREDENTIAL: IntegrationConfigurationFactory(
            name="Wrong key", credential=live
        ),
        IntegrationStateName.DISABLED: IntegrationConfigurationFactory(
            name="Disabled",
            credential=refused,
            enabled=False,
            # Stored before reasons were stored as sentences: no full stop of its own.
            disabled_reason="Paddle refused its credential 3 times in a row",
            consecutive_auth_failures=3,
        ),
    }
    connected = integrations[IntegrationStateName.CONNECTED]
    # Selects another account's bills only: NOT_SELECTED for ours.
    IntegrationConfigurationFactory(
        name="Elsewhere", credential=untested, account_ids=[elsewhere.m3ter_id]
    )

    bills = []
    for status, invoice_status in zip(
        itertools.cycle(BillStatus), ["", *InvoiceStatus], strict=False
    ):
        bill = BillFactory(account=account, status=status, content_hash=f"h{len(bills)}")
        LineItemFactory(bill=bill, line_item_type=LineItemType.USAGE)
        bills.append(bill)
        DeliveryFactory(
            integration=connected,
            bill_m3ter_id=bill.m3ter_id,
            invoice_status=invoice_status,
            invoice_number="325-10042" if invoice_status else "",
            # The first bill changed since delivery, the others are delivered as they are.
            delivered_hash="old" if not bills[1:] else bill.content_hash,
            issued_at=now,
            paid_at=now
            if invoice_status in (InvoiceStatus.PAID, InvoiceStatus.COMPLETED)
            else None,
            canceled_at=now if invoice_status == InvoiceStatus.CANCELED else None,
        )
    bills.append(BillFactory(account=account))  # never delivered

    parent = IntegrationRunFactory(
        integration=connected, bill=None, trigger=RunTrigger.BACKFILL, status=RunStatus.STARTED
    )
    runs = []
    for status, trigger, bill in zip(
        RunStatus, itertools.cycle(RunTrigger), itertools.cycle(bills), strict=False
    ):
        failed = status not in (RunStatus.COMPLETE, RunStatus.WAITING, RunStatus.STARTED)
        run = IntegrationRunFactory(
            integration=connected,
            bill=bill,
            status=status,
            trigger=trigger,
            parent=parent if trigger == RunTrigger.BACKFILL else None,
            error="Paddle refused the transaction." if failed else "",
            error_hint="Correct the bill in m3ter, then Retry." if failed else "",
            external_id="txn_01" if status == RunStatus.COMPLETE else "",
            dt_started=now,
            dt_completed=now if failed or status == RunStatus.COMPLETE else None,
        )
        runs.append(run)
    for number, outcome in enumerate(AttemptOutcome, start=1):
        RunAttemptFactory(run=runs[0], number=number, outcome=outcome)
    for level in LogLevel:
        RunLogEntryFactory(run=runs[0], level=level, message=f"A {level.label.lower()} entry.")

    for name, state in itertools.product(IntegrationEventName, IntegrationEventState):
        actioned = state == IntegrationEventState.ACTIONED
        IntegrationEventFactory(
            name=name,
            state=state,
            integration=connected,
            run=runs[3],
            account_m3ter_id=account.m3ter_id,
            dt_actioned=now if actioned else None,
        )

    connections = []
    for n, status in enumerate(PullStatus):
        connection = connection_create(
            name=f"m3ter {n}",
            org_id=f"org-{n}",
            api_key_id="key",
            api_secret="secret",
            base_url="http://127.0.0.1:9",
            webhook_api_key="hook",
            webhook_secret="hook-secret",
        )
        connection.last_pull_status = status
        connection.last_pull_at = now
        connection.save()
        connections.append(connection)
        for trigger in PullTrigger:
            M3terPull.objects.create(
                connection=connection,
                trigger=trigger,
                status=status,
                finished_at=None if status == PullStatus.RUNNING else now,
                error="m3ter answered 500. The next pull resumes after the last page this one "
                "stored."
                if status == PullStatus.FAILED
                else "",
            )
    for status in InboundEventStatus:
        InboundEvent.objects.create(
            connection=connections[0],
            event_name="billing.bill.updated",
            entity_id=bills[0].m3ter_id,
            payload={},
            status=status,
            outcome="Bill b-1 version 2 stored (changed). A bill event was raised.",
        )
    for status in PaddleEventStatus:
        PaddleEvent.objects.create(
            event_id=f"evt_{status}",
            credential=accepted,
            event_type="transaction.paid",
            occurred_at=now,
            transaction_id="txn_01",
            status=status,
        )
    for state in CircuitState:
        PaddleCircuit.objects.create(
            host=f"https://{state.lower()}.paddle.example",
            state=state,
            consecutive_failures=10 if state == CircuitState.OPEN else 0,
            opened_at=now if state == CircuitState.OPEN else None,
            next_probe_at=now + datetime.timedelta(seconds=10)
            if state == CircuitState.OPEN
            else None,
            last_failure="no answer: ConnectTimeout" if state == CircuitState.OPEN else "",
        )
    for kind in HeartbeatKind:
        Heartbeat.objects.create(name=f"host-1 {kind}", kind=kind, seen_at=now)
    return {
        "integration": list(integrations.values()),
        "run": [parent, *runs],
        "bill": bills,
        "connection": connections,
        "credential": [accepted, refused, untested, live],
    }


@pytest.fixture
def superuser(client):
    client.force_login(User.objects.create_superuser("root", password=None))
    return client


# --- every page -----------------------------------------------------------------------------------


def page_routes():
    """(URL name, its arguments) of every route of ours: not the admin's (checked below), not
    the REST API's (m3ter's JSON, whose values are m3ter's constants on purpose)."""
    for name, kwargs in named_routes():
        if not name.startswith(("admin:", "api:")):
            yield name, kwargs


def path_values(name: str, kwarg: str, world) -> list:
    """The values a route's argument takes: every object of the kind, in every status."""
    objects = {
        "pk": world["integration"],
        "run_id": world["run"],
        "m3ter_id": world["bill"],
        "connection_id": world["connection"],
        "credential_id": world["credential"],
        "integration_id": world["integration"],
    }[kwarg]
    return [obj.m3ter_id if kwarg == "m3ter_id" else obj.pk for obj in objects]


def page_urls(world):
    for name, kwargs in sorted(page_routes()):
        if not kwargs:
            yield name, reverse(name)
            continue
        values = [path_values(name, kwarg, world) for kwarg in kwargs]
        for combination in itertools.product(*values):
            yield name, reverse(name, kwargs=dict(zip(kwargs, combination, strict=True)))


# Lists that leave some rows out unless asked.
EXTRA_QUERIES = {"integrations:events": ["?show=all"]}


def test_every_page_shows_statuses_in_words_and_ends_sentences_once(superuser, world):
    checked = set()
    for name, url in page_urls(world):
        for query in ["", *EXTRA_QUERIES.get(name, [])]:
            response = superuser.get(url + query)
            if response.status_code == 405:  # an action (POST), not a page
                break
            assert response.status_code == 200, (url, response.status_code)
            if not response["Content-Type"].startswith("text/html"):
                break  # JSON for the pages' scripts
            assert_reads_well(response, url + query)
            checked.add(name)
    # The pages a person reads are all among those checked (a route missing here was skipped).
    assert {
        "integrations:list",
        "integrations:events",
        "integrations:detail",
        "integrations:edit",
        "integrations:delete",
        "integrations:create",
        "integrations:add_credential",
        "runs:list",
        "runs:detail",
        "runs:progress",
        "m3terdata:bill_list",
        "m3terdata:bill_detail",
        "m3terdata:backfill",
        "m3tersync:pulls",
        "ops:status",
    } <= checked


def admin_urls():
    for model in admin.site._registry:
        opts = model._meta
        if opts.app_label in ("auth",):
            continue
        yield reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        for pk in model.objects.values_list("pk", flat=True)[:25]:
            for page in ("change", "history"):
                yield reverse(f"admin:{opts.app_label}_{opts.model_name}_{page}", args=[pk])


@pytest.mark.slow
def test_every_admin_page_of_our_models_shows_statuses_in_words(superuser, world):
    for url in admin_urls():
        assert_reads_well(superuser.get(url), url)


# --- what the engine and the buttons say -----------------------------------------------------------


@pytest.mark.slow
def test_what_real_runs_and_buttons_say_reads_well(
    superuser, paddle, api_key, settings, django_capture_on_commit_callbacks
):
    """Runs that end every way the engine ends them, against the Paddle stand-in, and the buttons a
    person presses about them: their logs, errors, fixes, events and flash messages show no
    status constant and no double full stop."""
    settings.RUN_MAX_ATTEMPTS = 2
    settings.RUN_MAX_RATE_LIMIT_RETRIES = 1
    settings.RUN_AUTH_FAILURES_BEFORE_DISABLE = 2
    mapped_account = AccountFactory(name="Needs a mapping")
    integration = connected_integration(
        api_key=api_key,
        name="Paddle Sandbox",
        restricted_account_ids=[mapped_account.m3ter_id],
        excluded_line_item_types=[LineItemType.MINIMUM_SPEND],
    )
    connected_integration(
        api_key=api_key,
        name="Mapped customers",
        account_ids=[mapped_account.m3ter_id],
        use_external_mapping_account_code=True,
    )

    def send(bill):
        with django_capture_on_commit_callbacks(execute=True):
            runs_create_for_bill_event(bill=bill)

    def act(url, data=None):
        with django_capture_on_commit_callbacks(execute=True):
            response = superuser.post(url, data or {}, follow=True)
        assert_reads_well(response, f"after POST {url}")
        return response

    delivered = bill_with_lines("12.50", bill_job_id="job-1")
    # Left out by Excluded Line Item Types: the run notes the different total.
    LineItemFactory(bill=delivered, line_item_type=LineItemType.MINIMUM_SPEND, sequence=9)
    send(delivered)
    send(bill_with_lines("12.50", currency="JPY", bill_job_id="job-1"))
    send(bill_with_lines("12.50", "-5.00", bill_job_id="job-1"))
    send(bill_with_lines("12.50", account=AccountFactory(email="not an e-mail")))
    send(bill_with_lines("12.50", account=mapped_account))
    paddle.push_fault("http_500", method="POST", path="/transactions", times=4)
    send(gave_up := bill_with_lines("12.50"))
    sweep_when_due()
    paddle.push_fault("rate_limit", method="POST", path="/transactions", retry_after=1, times=4)
    send(bill_with_lines("12.50"))
    sweep_when_due()

    send_again = reverse("m3terdata:bill_send_again", args=[delivered.m3ter_id])
    act(send_again, {"integration": integration.pk})
    act(reverse("m3terdata:backfill"), {"integration": integration.pk, "bill_job_id": "job-1"})
    act(reverse("m3terdata:backfill"), {"integration": integration.pk, "bill_job_id": "no-such"})
    act(
        reverse("paddle_destination:bill_preview", args=[delivered.m3ter_id, integration.pk]),
    )
    failed = IntegrationRun.objects.filter(entity_id=gave_up.m3ter_id).first()
    act(reverse("runs:retry", args=[failed.pk]))
    act(reverse("runs:retry", args=[failed.pk]))  # not failed any more: refused
    act(reverse("runs:replay", args=[failed.pk]))
    event = IntegrationEvent.objects.first()
    act(reverse("integrations:event_action", args=[event.pk]))
    act(reverse("integrations:event_action", args=[event.pk]))  # actioned already: refused

    # Paddle refuses the key: twice, and the integration disables itself.
    paddle.configure(revoked_keys=[api_key])
    send(bill_with_lines("12.50"))
    send(bill_with_lines("12.50"))
    admin_test = reverse(
        "admin:credentials_integrationcredential_test_connection",
        args=[integration.credential_id],
    )
    act(admin_test)
    act(reverse("runs:retry", args=[IntegrationRun.objects.filter(status="AUTH_FAILED")[0].pk]))
    act(send_again, {"integration": integration.pk})
    act(reverse("m3terdata:backfill"), {"integration": integration.pk, "bill_job_id": "job-1"})
    act(reverse("integrations:enable", args=[integration.pk]))
    act(reverse("integrations:disable", args=[integration.pk]))
    act(reverse("integrations:detach_credential", args=[integration.pk]))

    statuses = set(IntegrationRun.objects.values_list("status", flat=True))
    assert statuses >= {
        RunStatus.COMPLETE,
        RunStatus.ERROR,
        RunStatus.AUTH_FAILED,
        RunStatus.DISABLED,
        RunStatus.TIMEOUT_LIMIT_EXCEEDED,
    }, statuses
    assert IntegrationEvent.objects.values("name").distinct().count() >= 4
    pages = [
        reverse("runs:list"),
        reverse("m3terdata:bill_list"),
        reverse("integrations:list"),
        reverse("integrations:events") + "?show=all",
        reverse("ops:status"),
        reverse("admin:credentials_integrationcredential_change", args=[integration.credential_id]),
        *(
            reverse("runs:detail", args=[pk])
            for pk in IntegrationRun.objects.values_list("pk", flat=True)
        ),
        *(
            reverse("m3terdata:bill_detail", args=[m])
            for m in Bill.objects.values_list("m3ter_id", flat=True)
        ),
        *(
            reverse("integrations:detail", args=[pk])
            for pk in IntegrationConfiguration.objects.values_list("pk", flat=True)
        ),
    ]
    for url in pages:
        assert_reads_well(superuser.get(url), url)
