"""Bills in from m3ter: connections, the pull, webhooks, and what a bill arriving sets off
(inbound: the one place the import command, the REST API, the pull and the webhooks store a
bill and raise its bill event).

Every record that arrives goes through m3terdata.services (account_upsert, external_mapping_upsert)
and inbound.bill_receive, so a bill pulled or pushed here is the same bill event as an
imported one. HTTP calls to m3ter happen outside database transactions; each page of records is
written in one transaction together with the cursor that says it is done, so a pull that fails
resumes exactly after the last page it stored.

Cursor strategy (see docs/m3ter-inbound.md): m3ter's list endpoints cannot filter by modification
time, but its search endpoints sort by any field. Accounts and bills are read newest first
(`sortBy=dtLastModified&sortOrder=DESC`, paged with `fromDocument`) until a record older than the
cursor less an overlap; the cursor then becomes the newest `dtLastModified` of the sweep. External
mappings have no search: their list (`externalSystemId=Paddle`, `nextToken` paging) is scanned
and only mappings modified since the cursor are written.
"""

from m3tersync.services.connections import (
    ConnectionTest,
    base_url_check,
    connection_create,
    connection_target_check,
    connection_test,
    connection_update,
    m3ter_client,
    m3ter_error_message,
    webhook_credentials_check,
)
from m3tersync.services.inbound import (
    ImportResult,
    ImportStopped,
    UpsertOutcome,
    bill_event,
    bill_receive,
    m3ter_import,
    m3ter_import_file,
)
from m3tersync.services.pull import (
    CURSOR_OVERLAP,
    accounts_ensure,
    bills_complete,
    is_uuid,
    pull_request,
    pull_run,
    pulls_enqueue_due,
)
from m3tersync.services.webhooks import (
    WebhookRefused,
    inbound_event_process,
    inbound_event_receive,
    inbound_events_prune,
    webhook_parse,
)

__all__ = [
    "CURSOR_OVERLAP",
    "ConnectionTest",
    "ImportResult",
    "ImportStopped",
    "UpsertOutcome",
    "WebhookRefused",
    "accounts_ensure",
    "base_url_check",
    "connection_target_check",
    "bill_event",
    "bill_receive",
    "bills_complete",
    "connection_create",
    "connection_test",
    "connection_update",
    "inbound_event_process",
    "inbound_event_receive",
    "inbound_events_prune",
    "is_uuid",
    "m3ter_client",
    "m3ter_error_message",
    "m3ter_import",
    "m3ter_import_file",
    "pull_request",
    "pull_run",
    "pulls_enqueue_due",
    "webhook_credentials_check",
    "webhook_parse",
]
