"""The REST API: thin views that validate with the assessments forms (through the
serializers) and write through assessments.services, as the web pages do."""

import re

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import resolve, reverse
from django.utils import timezone, translation
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import exceptions, serializers, status
from rest_framework.mixins import ListModelMixin
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from assessments import queries, rules, services, wording
from assessments.forms import AMEND_FORMS
from assessments.forms.filters import ApiAssessmentFilterForm
from assessments.forms.json import error_lists
from assessments.models import Assessment, AuditEvent, Patient
from common.jsonio import encode

from . import idempotency
from . import serializers as s
from .actions import ApiAction
from .base import ApiView, log

Action = AuditEvent.Action

ERROR = OpenApiResponse(s.Errors, description='{"errors": {"<field>": ["<message>", ...]}}')
COMMON = {
    401: OpenApiResponse(s.Errors, description="No token, or a wrong, expired or revoked one."),
    403: OpenApiResponse(s.Errors, description="The user's roles do not allow this."),
    413: OpenApiResponse(s.Errors, description="The body is larger than 1 MB."),
    415: OpenApiResponse(s.Errors, description="The body is not application/json."),
    429: OpenApiResponse(s.Errors, description="Too many requests: see Retry-After."),
}
NOT_FOUND = {404: OpenApiResponse(s.Errors, description="No such assessment or patient.")}
IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=True,
    description='The assessment\'s ETag, such as "3": a stale one answers 412.',
)
IDEMPOTENCY_KEY = OpenApiParameter(
    idempotency.HEADER,
    str,
    OpenApiParameter.HEADER,
    required=False,
    pattern=idempotency.KEY.pattern,
    description="Any unique string, such as a UUID: a retry with the same key and body "
    "answers the first result again.",
)
PRECONDITIONS = {
    409: OpenApiResponse(s.Errors, description="The assessment is voided: it cannot change."),
    412: OpenApiResponse(s.Errors, description="Stale If-Match: someone changed it since."),
    428: OpenApiResponse(s.Errors, description="If-Match is missing."),
}


def etag(assessment: Assessment) -> str:
    return f'"{assessment.version}"'


ETAG = re.compile(r'^\s*"([0-9]{1,9})"\s*$')


def if_match_version(request, assessment: Assessment) -> int:
    header = request.headers.get("If-Match")
    if header is None:
        raise PreconditionRequired
    match = ETAG.fullmatch(header)
    if not match or int(match[1]) != assessment.version:
        raise PreconditionFailed(assessment)
    return int(match[1])


class PreconditionRequired(exceptions.APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = (
        "Send If-Match with the assessment's ETag (from GET assessments/{id}), such as "
        'If-Match: "3".'
    )


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED

    def __init__(self, current: Assessment, message: str | None = None):
        self.current_etag = etag(current)
        super().__init__(
            message
            or f"If-Match does not match the assessment's version, now {self.current_etag}. "
            "Nothing was changed: fetch it again, compare, then send again."
        )


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT


def _assessment(pk) -> Assessment:
    return get_object_or_404(
        Assessment.objects.select_related("patient", "created_by", "signed_by", "voided_by"),
        pk=pk,
    )


def _answer(assessment: Assessment, code=status.HTTP_200_OK) -> Response:
    response = Response(s.AssessmentOut(assessment).data, status=code)
    response["ETag"] = etag(assessment)
    return response


class EvaluateView(ApiView):
    perms = {"POST": "assessments.add_assessment"}
    serializer_class = s.EvaluateInput

    @extend_schema(
        summary="Score rule inputs; store nothing",
        request=s.EvaluateInput,
        responses={200: s.Result, 400: ERROR, **COMMON},
    )
    def post(self, request):
        serializer = s.EvaluateInput(data=request.data)
        valid = serializer.is_valid()
        ruleset = serializer.validated_data["ruleset"] if valid else None
        log(request, ApiAction.API_EVALUATE, valid=valid, ruleset=ruleset)
        if not valid:
            raise serializers.ValidationError(serializer.errors)
        result = rules.evaluate(
            rules.Inputs.from_data(serializer.validated_data["data"]), ruleset=ruleset
        )
        output = result.as_dict()
        if (language := serializer.validated_data["language"]) != "en":
            with translation.override(language):
                output["rationale"] = wording.rationale(result)
        # Byte for byte what `manage.py recommend --language` prints.
        return HttpResponse(encode(output), content_type="application/json")


class AssessmentPagination(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = queries.PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = 100
    invalid_cursor_message = "This cursor is not one the API gave: follow `next` as answered."

    def decode_cursor(self, request):
        cursor = super().decode_cursor(request)
        # The position is a client's text until checked: a forged one, not a time, made
        # the database raise (500) with Django's message.
        if cursor is not None and cursor.position is not None:
            try:
                Assessment._meta.get_field("created_at").to_python(cursor.position)
            except DjangoValidationError:
                raise exceptions.NotFound(self.invalid_cursor_message) from None
        return cursor


# For the schema: the form validates them.
ListFilters = type("ListFilters", (serializers.Serializer,), s.form_fields(ApiAssessmentFilterForm))


class AssessmentsView(ListModelMixin, ApiView):
    perms = {"GET": "assessments.view_assessment", "POST": "assessments.add_assessment"}
    serializer_class = s.AssessmentSummary
    pagination_class = AssessmentPagination

    def get_queryset(self):
        filters = ApiAssessmentFilterForm(self.request.query_params)
        if not filters.is_valid():
            raise serializers.ValidationError(error_lists(filters))
        given = filters.cleaned_data
        assessments = queries.assessments_matching(
            today=timezone.localdate(),
            status=given["status"],
            recommendation=given["recommendation"],
            assessed_from=given["created_from"],
            assessed_to=given["created_to"],
        )
        assessments = assessments.only(*queries.LIST_COLUMNS, "ruleset", "risk_level", "patient_id")
        return assessments

    @extend_schema(
        summary="List assessments, newest first",
        parameters=[ListFilters],
        responses={200: s.AssessmentSummary(many=True), 400: ERROR, **COMMON, **NOT_FOUND},
    )
    def get(self, request):
        response = self.list(request)
        log(
            request,
            ApiAction.API_LIST,
            # The known filters only: whatever else a client puts in the URL stays out.
            filters={
                name: request.query_params[name]
                for name in ApiAssessmentFilterForm.base_fields
                if name in request.query_params
            },
        )
        return response

    @extend_schema(
        summary="Record an assessment under the newest ruleset",
        description="With an `Idempotency-Key`, a retry with the same key and body within "
        "24 hours answers the first result again (`Idempotent-Replayed: true`) and records "
        "nothing; the same key with another body is refused with 422.",
        parameters=[IDEMPOTENCY_KEY],
        request=s.AssessmentInput,
        responses={
            201: s.AssessmentOut,
            400: ERROR,
            422: OpenApiResponse(s.Errors, description="The key was used with another body."),
            **COMMON,
        },
    )
    def post(self, request):
        key = idempotency.key_of(request)
        if key is None:
            return self._record(request)
        body_digest = idempotency.digest(request.data)
        replay = idempotency.earlier(user=request.user, key=key, body_digest=body_digest)
        if replay is None:
            replay = idempotency.create_once(
                user=request.user,
                key=key,
                body_digest=body_digest,
                create=lambda: self._record(request),
            )
            if not replay.has_header("Idempotent-Replayed"):
                return replay
        # The first answer again: the client sees the assessment, as a read.
        assessment = _assessment(resolve(replay["Location"]).kwargs["pk"])
        log(
            request,
            Action.VIEW_ASSESSMENT,
            obj=assessment,
            patient=assessment.patient,
            idempotent_replay=True,
        )
        return replay

    def _record(self, request):
        serializer = s.AssessmentInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        assessment = services.record_assessment(data=serializer.validated_data, user=request.user)
        log(request, ApiAction.API_CREATE, obj=assessment, patient=assessment.patient)
        response = _answer(_assessment(assessment.pk), status.HTTP_201_CREATED)
        response["Location"] = reverse("api:assessment", args=[assessment.pk])
        return response


class AssessmentView(ApiView):
    perms = {"GET": "assessments.view_assessment"}
    serializer_class = s.AssessmentOut

    @extend_schema(
        summary="One assessment, with its ETag",
        responses={200: s.AssessmentOut, **COMMON, **NOT_FOUND},
    )
    def get(self, request, pk):
        assessment = _assessment(pk)
        log(request, Action.VIEW_ASSESSMENT, obj=assessment, patient=assessment.patient)
        return _answer(assessment)


class _Change(ApiView):
    """Amend or void: If-Match must carry the current version."""

    def change(self, request, pk, *, serializer_class, form_class, write):
        assessment = _assessment(pk)
        version = if_match_version(request, assessment)
        if assessment.is_voided:
            raise Conflict(services.VOIDED)
        serializer = serializer_class(
            data=request.data,
            context={"form_class": form_class, "form_data": {"version": version}},
        )
        serializer.is_valid(raise_exception=True)
        try:
            changed = write(assessment, serializer.validated_data)
        except services.StaleVersion as stale:
            raise PreconditionFailed(stale.current) from None
        except services.Refused as refusal:
            raise Conflict(str(refusal)) from None
        return _answer(_assessment(changed.pk))

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        if isinstance(exc, PreconditionFailed):
            response["ETag"] = exc.current_etag
        return response


class AmendView(_Change):
    perms = {"POST": "assessments.change_assessment"}
    serializer_class = s.AmendInput

    @extend_schema(
        summary="Amend: new inputs, recomputed under the assessment's own ruleset",
        description="Every input again, as on the form, and a `reason`. An assessment of "
        "ruleset 1 takes no liver panel. A signed assessment goes back to draft.",
        parameters=[IF_MATCH],
        request=s.AmendInput,
        responses={200: s.AssessmentOut, 400: ERROR, **COMMON, **NOT_FOUND, **PRECONDITIONS},
    )
    def post(self, request, pk):
        def write(assessment, data):
            changed = services.amend_assessment(
                assessment=assessment,
                data=data,
                user=request.user,
                reason=data["change_reason"],
                version=data["version"],
            )
            log(request, ApiAction.API_AMEND, obj=changed, patient=changed.patient)
            return changed

        assessment = _assessment(pk)
        return self.change(
            request,
            pk,
            serializer_class=s.AmendInput,
            form_class=AMEND_FORMS.get(assessment.ruleset, AMEND_FORMS[rules.LATEST_RULESET]),
            write=write,
        )


class VoidView(_Change):
    perms = {"POST": "assessments.void_assessment"}
    serializer_class = s.VoidInput

    @extend_schema(
        summary="Void, with a reason: the record stays",
        parameters=[IF_MATCH],
        request=s.VoidInput,
        responses={200: s.AssessmentOut, 400: ERROR, **COMMON, **NOT_FOUND, **PRECONDITIONS},
    )
    def post(self, request, pk):
        def write(assessment, data):
            changed = services.void_assessment(
                assessment=assessment,
                user=request.user,
                reason=data["reason"],
                version=data["version"],
            )
            log(request, ApiAction.API_VOID, obj=changed, patient=changed.patient)
            return changed

        return self.change(
            request,
            pk,
            serializer_class=s.VoidInput,
            form_class=s.VoidInput.form_class,
            write=write,
        )


class HistoryView(ApiView):
    perms = {"GET": "assessments.view_assessment"}
    serializer_class = s.HistoryVersion

    @extend_schema(
        summary="Every version, newest first, each with its changes",
        responses={200: s.HistoryVersion(many=True), **COMMON, **NOT_FOUND},
    )
    def get(self, request, pk):
        assessment = _assessment(pk)
        log(request, Action.VIEW_HISTORY, obj=assessment, patient=assessment.patient)
        versions = [
            {
                "history_id": v["record"].history_id,
                "history_date": v["record"].history_date,
                "user": v["record"].history_user.username if v["record"].history_user else None,
                "action": v["record"].action,
                "reason": v["record"].history_change_reason,
                "version": v["record"].version,
                "status": v["record"].status,
                "changes": v["changes"],
            }
            for v in queries.history_versions(assessment)
        ]
        return Response(s.HistoryVersion(versions, many=True).data)


PATIENTS = Patient.objects.prefetch_related(
    Prefetch("assessments", queryset=Assessment.objects.select_related("patient", "created_by"))
)


def _patient_answer(patient: Patient) -> Response:
    data = s.PatientOut(PATIENTS.get(pk=patient.pk)).data
    # The patient's follow-up events join the answer here once they are recorded.
    return Response(data)


class PatientLookupView(ApiView):
    perms = {"POST": "assessments.view_assessment"}
    serializer_class = s.LookupInput

    @extend_schema(
        summary="Find a patient by MRN (the MRN travels in the body, never in a URL)",
        request=s.LookupInput,
        responses={200: s.PatientOut, 400: ERROR, **COMMON, **NOT_FOUND},
    )
    def post(self, request):
        serializer = s.LookupInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        patient = Patient.objects.filter(mrn=serializer.validated_data["mrn"]).first()
        log(request, ApiAction.API_LOOKUP, obj=patient, patient=patient, found=patient is not None)
        if patient is None:
            raise exceptions.NotFound({"mrn": ["No patient has this MRN."]})
        return _patient_answer(patient)


class PatientView(ApiView):
    perms = {"GET": "assessments.view_assessment"}
    serializer_class = s.PatientOut

    @extend_schema(
        summary="A patient and their assessments",
        responses={200: s.PatientOut, **COMMON, **NOT_FOUND},
    )
    def get(self, request, pk):
        patient = get_object_or_404(Patient, pk=pk)
        log(request, Action.VIEW_PATIENT, obj=patient, patient=patient)
        return _patient_answer(patient)


@csrf_exempt  # it changes nothing, and a POST must get the same JSON 404
@login_not_required
def not_found(request):
    return JsonResponse({"errors": {"__all__": ["Not found."]}}, status=404)


class SchemaView(SpectacularAPIView):
    """The OpenAPI schema: for a token as for a logged-in browser; 401 without either."""

    @classmethod
    def as_view(cls, **initkwargs):
        return login_not_required(super().as_view(**initkwargs))


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI from drf-spectacular-sidecar's static files, for logged-in users:
    others go to the login page."""

    template_name = "api/swagger_ui.html"

    @classmethod
    def as_view(cls, **initkwargs):
        view = super().as_view(**initkwargs)
        view.login_required = True  # DRF exempts its views from the login page; not this one
        return view
