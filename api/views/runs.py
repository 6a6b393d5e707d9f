"""Integration runs and their logs: m3ter's /integrationruns, with the hub's retry and replay."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import exceptions
from rest_framework.response import Response

from api.exceptions import Conflict
from api.serializers.runs import (
    IntegrationRunDestinationFilter,
    IntegrationRunFilter,
    IntegrationRunListFilter,
    IntegrationRunLogSerializer,
    IntegrationRunSerializer,
    LatestRunsFilter,
)
from api.views.common import ORG_ID, OrganizationView, find, validated
from m3terpaddle.text import sentences
from runs.selectors import run_get, run_latest, run_log_entries, run_records, runs_latest
from runs.services import run_replay, run_retry

# The query parameters that narrow a list of runs, and the selector's names for them.
RUN_FILTERS = {
    "status": "status",
    "startDate": "created_from",
    "endDate": "created_before",
    "entityType": "entity_type",
    "entityId": "entity_id",
    "integrationConfigId": "integration_id",
    "destinationId": "destination_id",
    "destination": "destination",
}


def _run_ordering(request):
    return "created_at" if request.query_params.get("order") == "ASC" else "-created_at"


def _run(run_id):
    return find("integration run", run_id, run_get, run_id=run_id)


class RunView(OrganizationView):
    # The model the permissions are about; reads go through the selectors.
    queryset = run_records()
    serializer_class = IntegrationRunSerializer


class RunListBase(RunView):
    paged = True
    filter_class = IntegrationRunFilter
    cursor_ordering = staticmethod(_run_ordering)

    def path_filters(self, kwargs) -> dict:
        return {}

    def get(self, request, orgId, **kwargs):
        filters = validated(self.filter_class, request.query_params)
        return self.page(
            run_records(
                **{
                    RUN_FILTERS[name]: value
                    for name, value in filters.items()
                    if name in RUN_FILTERS
                },
                **self.path_filters(kwargs),
            )
        )


@extend_schema(tags=["IntegrationRuns"])
@extend_schema_view(
    get=extend_schema(
        parameters=[ORG_ID, IntegrationRunListFilter],
        operation_id="ListAllIntegrationRuns",
        summary="List integration runs (the hub's addition: every run, filtered)",
    )
)
class IntegrationRunListView(RunListBase):
    filter_class = IntegrationRunListFilter


@extend_schema(tags=["IntegrationRuns"])
@extend_schema_view(
    get=extend_schema(
        parameters=[ORG_ID, IntegrationRunFilter],
        operation_id="ListIntegrationRuns",
        summary="List the integration runs of an entity (a bill)",
    )
)
class IntegrationRunsForEntityView(RunListBase):
    def path_filters(self, kwargs):
        return {"entity_type": kwargs["entityType"], "entity_id": kwargs["entityId"]}


@extend_schema(tags=["IntegrationRuns"])
@extend_schema_view(
    get=extend_schema(
        parameters=[ORG_ID, IntegrationRunDestinationFilter],
        operation_id="ListIntegrationRunsByDestinationId",
        summary="List the integration runs for a destination id (a credential's id)",
    )
)
class IntegrationRunsForDestinationView(RunListBase):
    filter_class = IntegrationRunDestinationFilter

    def path_filters(self, kwargs):
        return {"destination_id": kwargs["destinationId"]}


@extend_schema(tags=["IntegrationRuns"], parameters=[ORG_ID])
class IntegrationRunDetailView(RunView):
    @extend_schema(operation_id="GetIntegrationRun", summary="Get an integration run")
    def get(self, request, orgId, id):
        return Response(self.get_serializer(_run(id)).data)


@extend_schema(tags=["IntegrationRuns"], parameters=[ORG_ID])
class IntegrationRunLatestView(RunView):
    @extend_schema(
        operation_id="GetIntegrationRunLatest",
        summary="Get the latest integration run of an entity (a bill)",
    )
    def get(self, request, orgId, entityType, id):
        run = run_latest(entity_type=entityType, entity_id=id)
        if run is None:
            raise exceptions.NotFound(f"No integration run for {entityType} {id!r}.")
        return Response(self.get_serializer(run).data)


@extend_schema(tags=["IntegrationRuns"], parameters=[ORG_ID])
class IntegrationRunLatestForIdsView(RunView):
    pagination_class = None

    @extend_schema(
        operation_id="GetIntegrationRunLatestForIds",
        summary="Get the latest integration run of each of several entities",
        description='Answers {"data": [...]}: one run per id that has any.',
        parameters=[LatestRunsFilter],
        responses={
            200: inline_serializer(
                "LatestIntegrationRuns", {"data": IntegrationRunSerializer(many=True)}
            )
        },
    )
    def get(self, request, orgId, entityType):
        ids = validated(LatestRunsFilter, request.query_params)["ids"]
        runs = runs_latest(entity_type=entityType, entity_ids=ids)
        return Response({"data": self.get_serializer(runs, many=True).data})


@extend_schema(tags=["IntegrationRuns"], parameters=[ORG_ID])
class IntegrationRunLogView(RunView):
    serializer_class = IntegrationRunLogSerializer

    @extend_schema(operation_id="GetIntegrationRunLogs", summary="Get an integration run's log")
    def get(self, request, orgId, id):
        return Response(self.get_serializer(run_log_entries(run=_run(id))).data)


class RunActionView(RunView):
    def act(self, run, user):
        raise NotImplementedError

    def post(self, request, orgId, id):
        run = _run(id)
        try:
            result = self.act(run, request.user)
        except DjangoValidationError as error:
            raise Conflict(sentences(*error.messages)) from None
        return Response(self.get_serializer(result).data)


@extend_schema(tags=["IntegrationRuns"])
@extend_schema_view(
    post=extend_schema(
        parameters=[ORG_ID],
        request=None,
        operation_id="RetryIntegrationRun",
        summary="Retry a failed integration run (the hub's addition)",
    )
)
class IntegrationRunRetryView(RunActionView):
    action_permissions = ["runs.change_integrationrun"]

    def act(self, run, user):
        return run_retry(run=run, user=user)


@extend_schema(tags=["IntegrationRuns"])
@extend_schema_view(
    post=extend_schema(
        parameters=[ORG_ID],
        request=None,
        operation_id="ReplayIntegrationRun",
        summary="Replay an integration run as a new run (the hub's addition)",
    )
)
class IntegrationRunReplayView(RunActionView):
    # The same permission as Retry and as Replay on the run's page.
    action_permissions = ["runs.change_integrationrun"]

    def act(self, run, user):
        return run_replay(run=run, user=user)
