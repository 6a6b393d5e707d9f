"""Accounts and bills of the m3ter mirror: m3ter's /accounts and /bills. A bill written here is a
bill event, as one imported or pulled."""

import uuid

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.response import Response

from api.exceptions import Conflict, record_error
from api.serializers.accounts_bills import (
    AccountFilter,
    AccountSerializer,
    BillFilter,
    BillSerializer,
)
from api.views.common import ORG_ID, OrganizationView, body_object, validated
from m3terdata.parsing import ACCOUNT_FIELDS, M3terRecordError, parse_bill, parse_record
from m3terdata.selectors import (
    account_exists,
    account_get,
    account_records,
    bill_exists,
    bill_get,
    bill_records,
)
from m3terdata.services import account_upsert
from m3tersync.services import bill_receive


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
    return record


def _refuse_older(label: str, stored, record: dict):
    raise Conflict(
        f"The hub holds version {stored.version} of {label} {stored.m3ter_id}; the version sent "
        f"({record.get('version')}) is older. Send the current record."
    )


def _account_write(record):
    validated(AccountSerializer, record)
    try:
        values = parse_record(record, ACCOUNT_FIELDS, collection="account", index=None)
    except M3terRecordError as error:
        raise record_error(error) from None
    account, outcome = account_upsert(values=values)
    if outcome == "ignored_older":
        _refuse_older("account", account, record)
    return account


def _bill_write(record):
    validated(BillSerializer, record)
    try:
        values, line_items = parse_bill(record, collection="bill")
        bill, outcome = bill_receive(values=values, line_items=line_items)
    except M3terRecordError as error:
        raise record_error(error) from None
    if outcome == "ignored_older":
        _refuse_older("bill", bill, record)
    return bill_get(m3ter_id=bill.m3ter_id)


class AccountView(OrganizationView):
    # The model the permissions are about; reads go through m3terdata.selectors.
    queryset = account_records()
    serializer_class = AccountSerializer


@extend_schema(tags=["Accounts"], parameters=[ORG_ID])
class AccountListView(AccountView):
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
        return Response(self.get_serializer(_account_write(record)).data)


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
        description="An older `version` than the hub holds is refused with 409.",
    )
    def put(self, request, orgId, id):
        return Response(self.get_serializer(_account_write(_record_for(request, path_id=id))).data)


class BillView(OrganizationView):
    # The model the permissions are about; reads go through m3terdata.selectors.
    queryset = bill_records()
    serializer_class = BillSerializer


@extend_schema(tags=["Bills"], parameters=[ORG_ID])
class BillListView(BillView):
    cursor_ordering = "-pk"

    @extend_schema(operation_id="ListBills", summary="List bills", parameters=[BillFilter])
    def get(self, request, orgId):
        filters = validated(BillFilter, request.query_params)
        return self.page(
            bill_records(
                account_m3ter_id=filters.get("accountId"),
                status=filters.get("status"),
                locked=filters.get("locked"),
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
        return Response(self.get_serializer(_bill_write(record)).data)


@extend_schema(tags=["Bills"], parameters=[ORG_ID])
class BillDetailView(BillView):
    @extend_schema(operation_id="GetBill", summary="Get a bill with its line items")
    def get(self, request, orgId, id):
        bill = bill_get(m3ter_id=id)
        if bill is None:
            raise exceptions.NotFound(f"No bill with id {id!r}.")
        return Response(self.get_serializer(bill).data)

    @extend_schema(
        operation_id="PutBill",
        summary="Update (or create) a bill (the hub's addition)",
        description="A new or changed bill is a bill event, as with the import. An older "
        "`version` than the hub holds is refused with 409.",
    )
    def put(self, request, orgId, id):
        return Response(self.get_serializer(_bill_write(_record_for(request, path_id=id))).data)
