"""Accounts and bills of the m3ter mirror: m3ter's /accounts and /bills. A bill written here is a
bill event, as one imported or pulled."""

import uuid
from collections import defaultdict

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import StreamingHttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response

from api.exceptions import Conflict, NotOffered, record_error
from api.serializers.accounts_bills import (
    AccountFilter,
    AccountSerializer,
    BillFilter,
    BillSerializer,
    paddle_invoices_answer,
)
from api.serializers.common import ErrorSerializer
from api.views.common import ORG_ID, OrganizationView, body_object, validated
from m3terdata.export import bill_as_m3ter_json_stream
from m3terdata.models import Bill
from m3terdata.parsing import ACCOUNT_FIELDS, M3terRecordError, parse_bill, parse_record
from m3terdata.selectors import (
    account_exists,
    account_get,
    account_records,
    bill_detail,
    bill_exists,
    bill_line_items,
    bill_records,
)
from m3terdata.services import account_upsert
from m3terpaddle.text import sentences
from m3tersync.services import bill_receive
from runs.selectors import deliveries_by_invoice_status

RECORD_ID = serializers.CharField(max_length=64)

# A bill with more line items than this is written out as it is read, a chunk at a time, so its
# size does not decide the memory its answer takes.
STREAM_LINE_ITEMS_OVER = 1000
# A bill's answer carries its Paddle invoices for those who may read them at /paddleinvoices.
PADDLE_INVOICES_PERMISSION = "runs.view_delivery"


def _record_for(request, *, path_id=None) -> dict:
    """The body with the record's id: the path's, else the body's, else a new one."""
    record = dict(body_object(request))
    if path_id is not None:
        if record.get("id") not in (None, path_id):
            raise exceptions.ValidationError(
                {"id": [f"Does not match the id in the path ({path_id})."]}
            )
        record["id"] = path_id
    elif record.get("id") is None:
        record["id"] = str(uuid.uuid4())
    try:
        # Checked before the id is looked up (a NUL or a list cannot even be compared).
        RECORD_ID.run_validation(record["id"])
    except exceptions.ValidationError as error:
        raise exceptions.ValidationError({"id": error.detail}) from None
    return record


def _require_version(record: dict, exists) -> None:
    if record.get("version") is None and exists(m3ter_id=record["id"]):
        raise exceptions.ValidationError(
            {
                "version": [
                    "Required on update: send the version you last read, so that a change made "
                    "since then is not overwritten."
                ]
            }
        )


def _account_write(record, user):
    validated(AccountSerializer, record)
    try:
        values = parse_record(record, ACCOUNT_FIELDS, collection="account", index=None)
        account, _ = account_upsert(values=values, written_by=user.get_username())
    except M3terRecordError as error:
        raise record_error(error) from None
    except DjangoValidationError as error:
        raise Conflict(sentences(*error.messages)) from None  # a code another account has
    return account


def _bill_write(record, user) -> str:
    """Store the bill; returns its m3ter id."""
    validated(BillSerializer, record)
    try:
        values, line_items = parse_bill(record, collection="bill")
        bill, _ = bill_receive(values=values, line_items=line_items, written_by=user.get_username())
    except M3terRecordError as error:
        raise record_error(error) from None
    return bill.m3ter_id


class AccountView(OrganizationView):
    # The model the permissions are about; reads go through m3terdata.selectors.
    queryset = account_records()
    serializer_class = AccountSerializer


@extend_schema(tags=["Accounts"], parameters=[ORG_ID])
class AccountListView(AccountView):
    paged = True
    cursor_ordering = "-pk"

    @extend_schema(operation_id="ListAccounts", summary="List accounts", parameters=[AccountFilter])
    def get(self, request, orgId):
        filters = validated(AccountFilter, request.query_params)
        return self.page(account_records(m3ter_ids=filters.get("ids"), codes=filters.get("codes")))

    @extend_schema(
        operation_id="PostAccount",
        summary="Create an account",
        description="The hub keeps m3ter's id: give it as `id`, or one is made up.",
    )
    def post(self, request, orgId):
        record = _record_for(request)
        if account_exists(m3ter_id=record["id"]):
            raise Conflict(
                f"Account {record['id']} exists already; update it with "
                f"PUT /organizations/{orgId}/accounts/{record['id']}."
            )
        return Response(self.get_serializer(_account_write(record, request.user)).data)


@extend_schema(tags=["Accounts"], parameters=[ORG_ID])
class AccountDetailView(AccountView):
    @extend_schema(operation_id="GetAccount", summary="Get an account")
    def get(self, request, orgId, id):
        account = account_get(m3ter_id=id)
        if account is None:
            raise exceptions.NotFound(f"No account with id {id!r}.")
        return Response(self.get_serializer(account).data)

    @extend_schema(
        operation_id="PutAccount",
        summary="Update (or create) an account",
        description="Send the `version` you read: an account changed since is refused with 409; "
        "each write counts the version up by one. A code another account has is refused with "
        "409.",
    )
    def put(self, request, orgId, id):
        record = _record_for(request, path_id=id)
        _require_version(record, account_exists)
        return Response(self.get_serializer(_account_write(record, request.user)).data)


class BillView(OrganizationView):
    # The model the permissions are about; reads go through m3terdata.selectors.
    queryset = bill_records()
    serializer_class = BillSerializer

    def serialized(self, instance, *, many: bool = False):
        bills = instance if many else [instance]
        context = {**self.get_serializer_context(), **self.invoices_context(bills)}
        return self.get_serializer(instance, many=many, context=context).data

    def invoices_context(self, bills) -> dict:
        """The bills' Paddle invoices (one query for all of them), for a caller who may view
        deliveries; nothing for others."""
        if not self.request.user.has_perm(PADDLE_INVOICES_PERMISSION):
            return {}
        by_bill = defaultdict(list)
        deliveries = deliveries_by_invoice_status(bill_ids=[bill.m3ter_id for bill in bills])
        for delivery in deliveries.order_by("created_at", "pk"):
            by_bill[delivery.bill_m3ter_id].append(delivery)
        return {"paddle_invoices": by_bill}

    def bill_answer(self, m3ter_id: str):
        """The bill with its line items (and its Paddle invoices, for a caller who may see
        them); one of more than STREAM_LINE_ITEMS_OVER lines (read, or just written) is written
        out as it is read. Raises Bill.DoesNotExist."""
        bill = bill_detail(m3ter_id=m3ter_id)
        if bill_line_items(bill=bill).count() > STREAM_LINE_ITEMS_OVER:
            modified = self.get_serializer().fields["dtLastModified"]
            extra = {
                "dtLastModified": modified.to_representation(bill.updated_at),
                **paddle_invoices_answer(self.invoices_context([bill]), bill),
            }
            return StreamingHttpResponse(
                bill_as_m3ter_json_stream(bill, extra=extra), content_type="application/json"
            )
        return Response(self.serialized(bill))


@extend_schema(tags=["Bills"], parameters=[ORG_ID])
class BillListView(BillView):
    paged = True
    cursor_ordering = "-pk"
    exclude_line_items = False

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "exclude_line_items": self.exclude_line_items}

    @extend_schema(operation_id="ListBills", summary="List bills", parameters=[BillFilter])
    def get(self, request, orgId):
        filters = validated(BillFilter, request.query_params)
        self.exclude_line_items = filters.get("excludeLineItems", False)
        return self.page(
            bill_records(
                account_m3ter_id=filters.get("accountId"),
                status=filters.get("status"),
                # m3ter's locked=false leaves locked bills out; locked=true keeps them in.
                locked=False if filters.get("locked") is False else None,
                billing_frequency=filters.get("billingFrequency"),
                m3ter_ids=filters.get("ids"),
                bill_job_id=filters.get("billJobId"),
                bill_date=filters.get("billDate"),
                bill_date_from=filters.get("billDateStart"),
                bill_date_before=filters.get("billDateEnd"),
            )
        )

    @extend_schema(
        operation_id="PostBill",
        summary="Create a bill (the hub's addition: m3ter makes bills itself)",
        description="A bill event: every integration that selects the bill gets a run. The hub "
        "keeps m3ter's id: give it as `id`, or one is made up.",
    )
    def post(self, request, orgId):
        record = _record_for(request)
        if bill_exists(m3ter_id=record["id"]):
            raise Conflict(
                f"Bill {record['id']} exists already; update it with "
                f"PUT /organizations/{orgId}/bills/{record['id']}."
            )
        return self.bill_answer(_bill_write(record, request.user))


@extend_schema(tags=["Bills"], parameters=[ORG_ID])
class BillDetailView(BillView):
    @extend_schema(operation_id="GetBill", summary="Get a bill with its line items")
    def get(self, request, orgId, id):
        try:
            return self.bill_answer(id)
        except Bill.DoesNotExist:
            raise exceptions.NotFound(f"No bill with id {id!r}.") from None

    @extend_schema(
        operation_id="PutBill",
        summary="Update (or create) a bill (the hub's addition)",
        description="A bill event, as with the import. Send the `version` you read: a bill "
        "changed since is refused with 409; each write counts the version up by one.",
    )
    def put(self, request, orgId, id):
        record = _record_for(request, path_id=id)
        _require_version(record, bill_exists)
        return self.bill_answer(_bill_write(record, request.user))


class SearchNotOffered:
    """m3ter's /accounts/search and /bills/search, which the hub does not offer; without these
    paths the search would be taken for an id."""

    collection = ""

    @extend_schema(
        summary="Not offered by the hub: m3ter's search (answers 404)",
        responses={404: ErrorSerializer},
    )
    def get(self, request, orgId):
        raise NotOffered(
            f"The hub does not offer m3ter's {self.collection} search. List {self.collection} "
            f"with GET /organizations/{orgId}/{self.collection} and its filters (ids, …)."
        )


@extend_schema(tags=["Accounts"], parameters=[ORG_ID])
class AccountSearchView(SearchNotOffered, AccountView):
    collection = "accounts"


@extend_schema(tags=["Bills"], parameters=[ORG_ID])
class BillSearchView(SearchNotOffered, BillView):
    collection = "bills"
