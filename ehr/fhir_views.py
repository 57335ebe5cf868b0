"""The FHIR endpoint under /fhir/: the CapabilityStatement, and RiskAssessments read,
read by version (vread) and searched by the patient's MRN or the time of the last save.

Each view reads as the API reads (a token or a session, the role's permission, the
audit events of ehr/fhir.py's resources); every error is an OperationOutcome in JSON,
`_format=xml` or an Accept of XML alone included (406)."""

import json
from datetime import datetime, time, timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.http import http_date, urlencode
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.parsers import FormParser
from rest_framework.renderers import JSONRenderer

from api.base import ApiAction, ApiView
from api.base import log as api_log
from assessments.models import Assessment

from . import fhir
from .actions import Action

FHIR_JSON = "application/fhir+json"
JSON_FORMATS = {"json", "application/json", FHIR_JSON}
VIEW = "assessments.view_assessment"
PREFIXES = ("ge", "gt", "le", "lt", "eq")
DEFAULT_COUNT, MAX_COUNT = 50, 100


class FhirRenderer(JSONRenderer):
    media_type = FHIR_JSON
    format = "fhir"


def _answer(obj, status=200, **headers) -> HttpResponse:
    # Decimals out as `manage.py recommend` writes them (5.1 stays 5.1).
    body = json.dumps(obj, default=float, ensure_ascii=False)
    response = HttpResponse(body, status=status, content_type=FHIR_JSON)
    for name, value in headers.items():
        response[name] = value
    return response


def _resource(resource: dict, assessment: Assessment) -> HttpResponse:
    return _answer(
        resource,
        ETag=fhir.etag(assessment),
        **{"Last-Modified": http_date(assessment.updated_at.timestamp())},
    )


class Invalid(exceptions.ValidationError):
    """A search the endpoint cannot run: 400, an OperationOutcome saying why."""

    def __init__(self, message: str):
        super().__init__([message])


# Not in the REST API's OpenAPI schema: FHIR has its own specification (docs/fhir.md).
@extend_schema(exclude=True)
class FhirView(ApiView):
    perms = {"GET": VIEW, "POST": VIEW}
    renderer_classes = [FhirRenderer, JSONRenderer]

    def initial(self, request, *args, **kwargs):
        given = request.query_params.get("_format")
        if given is not None and given.strip().lower() not in JSON_FORMATS:
            raise exceptions.NotAcceptable(
                "This server answers JSON only: _format=json or application/fhir+json."
            )
        super().initial(request, *args, **kwargs)

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        messages = [m for ms in response.data.get("errors", {}).values() for m in ms]
        response.data = fhir.operation_outcome(response.status_code, messages)
        response.content_type = FHIR_JSON
        return response

    def perform_content_negotiation(self, request, force=False):
        # A 406 is told in JSON as well, whatever was asked.
        try:
            return super().perform_content_negotiation(request, force)
        except exceptions.NotAcceptable:
            request.accepted_renderer, request.accepted_media_type = FhirRenderer(), FHIR_JSON
            raise exceptions.NotAcceptable(
                "This server answers JSON only: accept application/fhir+json."
            ) from None


class MetadataView(FhirView):
    def get(self, request):
        base = request.build_absolute_uri(reverse("ehr:fhir_metadata")).rsplit("/", 1)[0]
        return _answer(fhir.capability_statement(base_url=base))


class RiskAssessmentView(FhirView):
    def get(self, request, pk):
        assessment = get_object_or_404(Assessment.objects.select_related("patient"), pk=pk)
        api_log(request, Action.FHIR_READ, obj=assessment, patient=assessment.patient)
        return _resource(fhir.risk_assessment(assessment), assessment)


class RiskAssessmentVersionView(FhirView):
    def get(self, request, pk, version):
        assessment = get_object_or_404(Assessment.objects.select_related("patient"), pk=pk)
        record = assessment.history.filter(version=version).order_by("-history_id").first()
        if record is None:
            raise exceptions.NotFound("This RiskAssessment has no such version.")
        then = record.instance
        then.patient = assessment.patient
        api_log(
            request,
            Action.FHIR_READ,
            obj=assessment,
            patient=assessment.patient,
            version=version,
        )
        records = fhir.versions(assessment, upto=version)
        return _resource(fhir.risk_assessment(then, records), then)


def _instant_range(value: str) -> tuple[datetime, datetime]:
    """[start, end) of a date (the site's time zone) or an instant (to its precision)."""
    try:
        day, instant = parse_date(value), parse_datetime(value)
    except ValueError:  # the form of a date, but no such day
        day = instant = None
    if day:
        start = datetime.combine(day, time.min, timezone.get_current_timezone())
        return start, start + timedelta(days=1)
    if instant is None or timezone.is_naive(instant):
        raise Invalid(
            f"_lastUpdated: {value!r} is neither a date (YYYY-MM-DD) nor an instant with its "
            "time zone (such as 2026-03-02T09:00:00Z)."
        )
    precision = timedelta(microseconds=1) if "." in value else timedelta(seconds=1)
    return instant, instant + precision


def _last_updated(assessments, values: list[str]):
    for given in values:
        prefix, value = (given[:2], given[2:]) if given[:2] in PREFIXES else ("eq", given)
        start, end = _instant_range(value)
        assessments = assessments.filter(
            **{
                "ge": {"updated_at__gte": start},
                "gt": {"updated_at__gte": end},
                "le": {"updated_at__lt": end},
                "lt": {"updated_at__lt": start},
                "eq": {"updated_at__gte": start, "updated_at__lt": end},
            }[prefix]
        )
    return assessments


def _number(params, name: str, default: int, lowest: int, highest: int) -> int:
    given = params.get(name)
    if given is None:
        return default
    if not given.isdigit() or not lowest <= int(given) <= highest:
        raise Invalid(f"{name}: a whole number from {lowest} to {highest}.")
    return int(given)


class RiskAssessmentSearchView(FhirView):
    """GET /fhir/RiskAssessment?..., or POST /fhir/RiskAssessment/_search with the same
    parameters as a form, which keeps the MRN out of the URL (and so of proxies' logs)."""

    parser_classes = [FormParser]

    def get(self, request):
        return self.search(request, request.query_params)

    def post(self, request):
        return self.search(request, request.data)

    def search(self, request, params):
        names = {name for name in params if name != "_format"}
        if unknown := sorted(names - set(fhir.SEARCH_PARAMS)):
            raise Invalid(
                f"Unknown search parameter(s): {', '.join(unknown)}. This server searches by "
                f"{', '.join(n for n in fhir.SEARCH_PARAMS if n != '_format')}."
            )
        identifiers = params.getlist("subject:identifier")
        updated = params.getlist("_lastUpdated")
        if len(identifiers) > 1:
            raise Invalid("subject:identifier: give one patient identifier.")
        if not identifiers and not updated:
            raise Invalid("Search by subject:identifier (SYSTEM|MRN) or by _lastUpdated.")
        count = _number(params, "_count", DEFAULT_COUNT, 1, MAX_COUNT)
        offset = _number(params, "_offset", 0, 0, 10**9)
        assessments = Assessment.objects.select_related("patient").order_by("-id")
        if identifiers:
            system, _, mrn = identifiers[0].rpartition("|")
            if "|" in identifiers[0] and system != settings.FHIR_MRN_SYSTEM:
                assessments = assessments.none()  # another system's identifiers: no match
            assessments = assessments.filter(patient__mrn=mrn)
        assessments = _last_updated(assessments, updated)
        total = assessments.count()
        page = list(assessments[offset : offset + count])
        patients = {a.patient for a in page}
        api_log(
            request,
            ApiAction.API_LOOKUP,
            obj=next(iter(patients)) if len(patients) == 1 else None,
            patient=next(iter(patients)) if len(patients) == 1 else None,
            fhir="search",
            found=total,
        )
        entries = []
        for assessment in page:
            api_log(
                request,
                Action.FHIR_READ,
                obj=assessment,
                patient=assessment.patient,
                search=True,
            )
            url = reverse("ehr:fhir_risk_assessment", args=[assessment.pk])
            entries.append((request.build_absolute_uri(url), fhir.risk_assessment(assessment)))
        base = request.build_absolute_uri(reverse("ehr:fhir_search"))
        kept = [(k, v) for k, v in params.lists() if k not in ("_offset",) for v in v]
        links = {"self": f"{base}?{urlencode(kept + [('_offset', offset)])}"}
        if offset + count < total:
            links["next"] = f"{base}?{urlencode(kept + [('_offset', offset + count)])}"
        return _answer(fhir.searchset(entries=entries, total=total, links=links))


@csrf_exempt  # it changes nothing, and a POST must get the same 404
@login_not_required
def not_found(request):
    outcome = fhir.operation_outcome(404, ["This FHIR server has no such resource or route."])
    return _answer(outcome, status=404)
