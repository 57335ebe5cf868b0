"""The CDS Hooks services: discovery, what is read from a call, and the cards.

Only the documented fields of a call are read: `hook`, `hookInstance`,
`context.patientId`, `context.selections` and `context.draftOrders`
(order-select), `fhirServer` and `fhirAuthorization`, and the prefetch keys below.
A key the call does not prefetch is read from the EHR's FHIR server when the call
grants access to the one registered for its client (fhir_access.py). Without the
Patient there is no MRN: 412 (CDS Hooks 2.0, "Prefetch"); a lab that cannot be had
is said in the card's detail, as is every entry of a lab Bundle left out.
"""

import re
import uuid
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from assessments import rules, wording
from assessments.models import Assessment, HistoryAction, Patient, code_labels

from . import codes, fhir_access, smart
from .auth import CLOCK_SKEW
from .models import CdsClient, IssuedCard

PATIENT_VIEW = "adjuvant-tace"
ORDER_SELECT = "adjuvant-tace-order-check"
SERVICES = {
    PATIENT_VIEW: {
        "hook": "patient-view",
        "title": _("Adjuvant TACE after liver resection"),
        "description": _(
            "The patient's latest adjuvant-TACE assessment: the recommendation, its window "
            "and why; a warning when the liver tests have worsened since."
        ),
    },
    ORDER_SELECT: {
        "hook": "order-select",
        "title": _("Adjuvant TACE order check"),
        "description": _(
            "When a chemoembolisation (TACE) order is drafted: whether the latest "
            "adjuvant-TACE assessment supports it."
        ),
    },
}
# The latest value of each lab, by LOINC code (docs/fhir.md gives each code's source).
LAB_CODES = {
    "bilirubin": [codes.LOINC_BILIRUBIN_MASS, codes.LOINC_BILIRUBIN_MOLES],
    "albumin": [codes.LOINC_ALBUMIN],
    "inr": [codes.LOINC_INR],
}
PREFETCH = {
    "patient": "Patient/{{context.patientId}}",
    **{
        name: "Observation?patient={{context.patientId}}&code="
        + ",".join(f"{codes.LOINC}|{code}" for code in loinc)
        + "&_sort=-date&_count=1"
        for name, loinc in LAB_CODES.items()
    },
}
# UCUM units (valueQuantity.code) to the units the rules know.
LAB_UNITS = {
    "bilirubin": {"umol/L": "umol_l", "mg/dL": "mg_dl"},
    "albumin": {"g/L": "g_l", "g/dL": "g_dl"},
    "inr": {"{INR}": None, "1": None},
}
USABLE_OBSERVATION_STATUSES = {"final", "amended", "corrected"}
SUMMARY_MAX = 140  # CDS Hooks 2.0: "less than 140 characters"
FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")  # FHIR R4 `id`: also safe in a URL path
LAB_NAMES = {
    "bilirubin": _("Bilirubin"),
    "albumin": _("Albumin"),
    "inr": pgettext_lazy("in a sentence", "INR"),
}
# Why a lab, or an entry of its Bundle, was not read: said in the card's detail.
LEFT_OUT = {
    "not_fetched": _("not provided, and the call gives no access to the EHR's FHIR server"),
    "server_not_registered": _(
        "not provided, and the call's FHIR server is not the one registered for this EHR"
    ),
    "fetch_failed": _("could not be read from the EHR's FHIR server"),
    "operation_outcome": _("the EHR reported an error (OperationOutcome)"),
    "not_a_bundle": _("not a search Bundle"),
    "not_observation": _("an entry that is not an Observation"),
    "not_final": _("an Observation that is not final"),
    "other_patient": _("an Observation of another patient"),
    "wrong_code": _("an Observation without the expected LOINC code"),
    "no_value": _("an Observation without a positive number as its value"),
    "unit": _("an Observation in a unit not read here"),
    "no_time": _("an Observation without a readable effective time"),
}
# The Child-Pugh contraindications of the newest ruleset.
CHILD_PUGH_CONTRAINDICATIONS = {"child_pugh_b8_b9", "child_pugh_c"}
# Each Child-Pugh lab at its best value in the form's ranges: a lab the EHR did not
# give counts 1 point, so the score of the newer labs alone is the least they allow.
BEST_LABS = {
    "bilirubin": rules.BILIRUBIN_RANGES["umol_l"][0],
    "albumin": rules.ALBUMIN_RANGES["g_l"][1],
    "inr": rules.INR_RANGE[0],
}
FEEDBACK_DAYS = 30


def discovery() -> dict:
    return {
        "services": [
            {
                "id": service_id,
                "hook": service["hook"],
                "title": str(service["title"]),
                "description": str(service["description"]),
                "prefetch": dict(PREFETCH),
            }
            for service_id, service in SERVICES.items()
        ]
    }


class BadRequest(Exception):
    """The call is not a CDS Hooks request for this service: 400."""


class Unusable(Exception):
    """A prefetch key is missing or cannot be read: 412."""


# Reading a call


def _get(obj, key, kind, error=Unusable, what=None):
    value = obj.get(key) if isinstance(obj, dict) else None
    if not isinstance(value, kind):
        raise error(f"{what or key} is missing or not a JSON {kind.__name__}")
    return value


def _fhir_access(body: dict) -> dict | None:
    """`fhirServer` and the token of `fhirAuthorization`, checked; None without them."""
    authorization = body.get("fhirAuthorization")
    if authorization is None:
        return None
    if not isinstance(authorization, dict):
        raise BadRequest("fhirAuthorization is not a JSON object")
    token = authorization.get("access_token")
    if not isinstance(token, str) or not token.strip():
        raise BadRequest("fhirAuthorization.access_token is missing")
    if str(authorization.get("token_type", "")).lower() != "bearer":
        raise BadRequest("fhirAuthorization.token_type is not Bearer")
    server = body.get("fhirServer")
    if not isinstance(server, str) or not server.strip():
        raise BadRequest("fhirServer is required with fhirAuthorization")
    return {"server": server.strip().rstrip("/"), "token": token.strip()}


def parse_call(body, *, service_id: str) -> dict:
    """The fields read from a call, checked. Raises BadRequest."""
    if not isinstance(body, dict):
        raise BadRequest("the body is not a JSON object")
    hook = SERVICES[service_id]["hook"]
    if body.get("hook") != hook:
        raise BadRequest(f"this service answers the {hook} hook")
    hook_instance = _get(body, "hookInstance", str, BadRequest)
    context = _get(body, "context", dict, BadRequest)
    patient_id = _get(context, "patientId", str, BadRequest, "context.patientId")
    if not FHIR_ID.fullmatch(patient_id):
        raise BadRequest("context.patientId is not a FHIR id")
    draft_orders = selections = None
    if hook == "order-select":
        draft_orders = _get(context, "draftOrders", dict, BadRequest, "context.draftOrders")
        selections = _get(context, "selections", list, BadRequest, "context.selections")
        if not selections or not all(isinstance(s, str) for s in selections):
            raise BadRequest("context.selections is not a list of order references")
    prefetch = body.get("prefetch", {})
    if not isinstance(prefetch, dict):
        raise BadRequest("prefetch is not a JSON object")
    return {
        "hook_instance": hook_instance[:64],
        "patient_id": patient_id,
        "draft_orders": draft_orders,
        "selections": selections,
        "prefetch": prefetch,
        "fhir_access": _fhir_access(body),
    }


def gather(call: dict, client: CdsClient) -> tuple[dict, dict[str, str]]:
    """The prefetch, with each key it lacks read from the EHR's FHIR server when the
    call grants access to the server registered for its client: (the resources by
    key, why each key still missing is missing)."""
    resources = dict(call["prefetch"])
    missing = [key for key in PREFETCH if key not in resources]
    if not missing:
        return resources, {}
    access = call["fhir_access"]
    if access is None:
        return resources, dict.fromkeys(missing, "not_fetched")
    if not client.fhir_server or access["server"] != client.fhir_server:
        return resources, dict.fromkeys(missing, "server_not_registered")
    reader = fhir_access.Reader(server=client.fhir_server, token=access["token"])
    problems = {}
    for key in missing:
        query = PREFETCH[key].replace("{{context.patientId}}", call["patient_id"])
        try:
            resources[key] = reader.read(query)
        except fhir_access.Failed:
            problems[key] = "fetch_failed"
    return resources, problems


PATIENT_MISSING = {
    "not_fetched": "prefetch.patient is missing and the call gives no FHIR access",
    "server_not_registered": (
        "prefetch.patient is missing and fhirServer is not the FHIR server registered "
        "for this client"
    ),
    "fetch_failed": "the Patient could not be read from the EHR's FHIR server",
}


def mrn_from(prefetch: dict, *, patient_id: str, system: str, missing: str = "") -> str:
    """The MRN in the Patient's identifiers, under the client's system."""
    if "patient" not in prefetch and missing in PATIENT_MISSING:
        raise Unusable(PATIENT_MISSING[missing])
    patient = _get(prefetch, "patient", dict, what="prefetch.patient")
    if patient.get("resourceType") != "Patient" or patient.get("id") != patient_id:
        raise Unusable("prefetch.patient is not the Patient of context.patientId")
    identifiers = patient.get("identifier")
    for identifier in identifiers if isinstance(identifiers, list) else []:
        if isinstance(identifier, dict) and identifier.get("system") == system:
            value = identifier.get("value")
            if isinstance(value, str) and value.strip():
                return value.strip().upper()
    raise Unusable(f"prefetch.patient has no identifier of system {system}")


@dataclass(frozen=True)
class Lab:
    value: Decimal
    unit: str | None  # the rules' unit code; None for the INR
    effective: datetime | date

    def newer_than(self, moment: datetime) -> bool:
        """A lab dated by day only counts as newer on the assessment's own day too."""
        if isinstance(self.effective, datetime):
            return self.effective > moment
        return self.effective >= timezone.localdate(moment)

    @property
    def when(self) -> datetime:
        """For choosing the newest: a day counts from its first moment, here."""
        if isinstance(self.effective, datetime):
            return self.effective
        return timezone.make_aware(datetime.combine(self.effective, time.min))


@dataclass
class Labs:
    """The newest usable value of each lab, and what was left out, by lab."""

    latest: dict[str, Lab | None] = field(default_factory=dict)
    left_out: dict[str, Counter] = field(default_factory=dict)


def _moment(text) -> datetime | date | None:
    """A FHIR dateTime or instant with its day at least; a time needs its zone."""
    if not isinstance(text, str):
        return None
    try:
        if "T" not in text:
            return date.fromisoformat(text) if len(text) == 10 else None
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return None if timezone.is_naive(moment) else moment


def _effective(observation: dict) -> datetime | date | None:
    """effectiveDateTime, effectiveInstant, or the end (else the start) of
    effectivePeriod."""
    for name in ("effectiveDateTime", "effectiveInstant"):
        if name in observation:
            return _moment(observation[name])
    period = observation.get("effectivePeriod")
    if isinstance(period, dict):
        return _moment(period.get("end")) or _moment(period.get("start"))
    return None


def _unit(quantity: dict, key: str) -> str:
    """The UCUM code of a valueQuantity, if one the lab knows, else "". With a
    `system`, it must be UCUM and its `code` one the lab knows; without, a `code` or
    a `unit` spelled as such a code is taken."""
    if key == "inr" and quantity.get("code") is None and quantity.get("unit") is None:
        return "1"  # an INR is a ratio: no unit at all is a usable INR
    system = quantity.get("system")
    if system is not None:
        code = quantity.get("code")
        return code if system == codes.UCUM and code in LAB_UNITS[key] else ""
    for name in ("code", "unit"):
        if quantity.get(name) in LAB_UNITS[key]:
            return quantity[name]
    return ""


def read_observation(resource, key: str, patient_id: str) -> Lab | str:
    """The lab of one Bundle entry, or why it is left out (a LEFT_OUT code)."""
    if not isinstance(resource, dict) or resource.get("resourceType") != "Observation":
        return "not_observation"
    if resource.get("status") not in USABLE_OBSERVATION_STATUSES:
        return "not_final"
    subject = resource.get("subject")
    reference = subject.get("reference") if isinstance(subject, dict) else None
    if isinstance(reference, str) and not reference.endswith(f"Patient/{patient_id}"):
        return "other_patient"
    codings = (resource.get("code") or {}).get("coding") or []
    if not isinstance(codings, list) or not any(
        isinstance(c, dict) and c.get("system") == codes.LOINC and c.get("code") in LAB_CODES[key]
        for c in codings
    ):
        return "wrong_code"
    quantity = resource.get("valueQuantity")
    value = quantity.get("value") if isinstance(quantity, dict) else None
    if not isinstance(value, Decimal | int) or isinstance(value, bool):
        return "no_value"
    if not (Decimal(value).is_finite() and value > 0):
        return "no_value"
    unit = _unit(quantity, key)
    if not unit:
        return "unit"
    effective = _effective(resource)
    if effective is None:
        return "no_time"
    return Lab(value=Decimal(value), unit=LAB_UNITS[key][unit], effective=effective)


def latest_lab(value, key: str, *, patient_id: str) -> tuple[Lab | None, Counter]:
    """The newest usable Observation of a lab's searchset Bundle, by its effective
    time, and what was left out. Null: no lab on record."""
    left_out = Counter()
    if value is None:
        return None, left_out
    if isinstance(value, dict) and value.get("resourceType") == "OperationOutcome":
        left_out["operation_outcome"] += 1
        return None, left_out
    if not isinstance(value, dict) or value.get("resourceType") != "Bundle":
        left_out["not_a_bundle"] += 1
        return None, left_out
    entries = value.get("entry") or []
    if not isinstance(entries, list):
        left_out["not_a_bundle"] += 1
        return None, left_out
    labs = []
    for entry in entries:
        search = entry.get("search") if isinstance(entry, dict) else None
        mode = search.get("mode") if isinstance(search, dict) else None
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if mode == "outcome" or (
            isinstance(resource, dict) and resource.get("resourceType") == "OperationOutcome"
        ):
            left_out["operation_outcome"] += 1
            continue
        lab = read_observation(resource, key, patient_id)
        if isinstance(lab, Lab):
            labs.append(lab)
        else:
            left_out[lab] += 1
    newest = max(labs, key=lambda lab: lab.when, default=None)
    return newest, left_out


def read_labs(resources: dict, problems: dict[str, str], *, patient_id: str) -> Labs:
    labs = Labs()
    for key in LAB_CODES:
        if key in resources:
            labs.latest[key], labs.left_out[key] = latest_lab(
                resources[key], key, patient_id=patient_id
            )
        else:
            labs.latest[key] = None
            labs.left_out[key] = Counter([problems[key]])
    return labs


def _reference(resource: dict) -> str:
    return f"{resource.get('resourceType')}/{resource.get('id')}"


def selected_tace_orders(draft_orders: dict, selections: list[str]) -> list[dict]:
    """The selected draft ServiceRequests coded SNOMED CT 441525007
    (chemoembolisation). The other draft orders are context, not the question."""
    entries = draft_orders.get("entry") if draft_orders.get("resourceType") == "Bundle" else None
    found = []
    for entry in entries if isinstance(entries, list) else []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or resource.get("resourceType") != "ServiceRequest":
            continue
        if resource.get("status") != "draft" or _reference(resource) not in selections:
            continue
        codings = (resource.get("code") or {}).get("coding") or []
        if any(
            isinstance(c, dict)
            and c.get("system") == codes.SNOMED
            and c.get("code") == codes.SNOMED_CHEMOEMBOLISATION
            for c in codings
        ):
            found.append(resource)
    return found


# What the app knows


def latest_assessment(mrn: str, *, voided_too: bool) -> Assessment | None:
    assessments = Assessment.objects.filter(patient__mrn=mrn).select_related("patient")
    if not voided_too:
        assessments = assessments.exclude(status=Assessment.Status.VOIDED)
    return assessments.order_by("-created_at", "-id").first()


def inputs_recorded_at(assessment: Assessment) -> datetime:
    """When the assessment's inputs (and so its labs) were last entered: its creation
    or latest amendment; signing or voiding changes no input."""
    changed = assessment.history.filter(
        action__in=[
            HistoryAction.CREATED,
            HistoryAction.AMENDED,
            HistoryAction.SIGNATURE_WITHDRAWN,
        ]
    ).order_by("-history_date")
    return changed.values_list("history_date", flat=True).first() or assessment.created_at


@dataclass(frozen=True)
class LiverChange:
    """Child-Pugh again, with the labs newer than the assessment: with the
    assessment's other items, or, when it has no panel, with the newer labs alone
    (each item they do not give at its 1 point: the least score they allow)."""

    labs_dated: date
    score: int
    child_pugh_class: str
    alone: bool  # the assessment has no panel
    worse: bool  # a worse class than the assessment's (than A, alone)
    rules_out: bool  # a Child-Pugh contraindication of the newest ruleset, new

    @property
    def alarming(self) -> bool:
        return self.worse or self.rules_out

    @property
    def critical(self) -> bool:
        return self.alarming and self.child_pugh_class == "C"


def liver_change(assessment: Assessment, labs: dict[str, Lab | None]) -> LiverChange | None:
    recorded = inputs_recorded_at(assessment)
    newer = {name: lab for name, lab in labs.items() if lab and lab.newer_than(recorded)}
    if not newer:
        return None
    dated = max(
        timezone.localdate(lab.effective) if isinstance(lab.effective, datetime) else lab.effective
        for lab in newer.values()
    )
    panel = assessment.liver_panel
    alone = panel is None
    if alone:
        panel = rules.LiverPanel(**BEST_LABS, ascites="none", encephalopathy="none")
    changes = {}
    for name, lab in newer.items():
        changes[name] = lab.value
        if lab.unit:
            changes[f"{name}_unit"] = lab.unit
    # The assessment's own ascites and encephalopathy; the newer labs, the others kept.
    panel = replace(panel, **changes)
    score = sum(rules.child_pugh_points(panel).values())
    new_class = rules.child_pugh_class(score)
    # What the rules engine makes of the assessment with these labs, today's ruleset.
    result = rules.evaluate(replace(assessment.rule_inputs, liver_panel=panel))
    contraindications = set(result.contraindications) & CHILD_PUGH_CONTRAINDICATIONS
    return LiverChange(
        labs_dated=dated,
        score=score,
        child_pugh_class=new_class,
        alone=alone,
        worse=new_class > (assessment.child_pugh_class or "A"),
        rules_out=bool(contraindications - set(assessment.contraindications)),
    )


def window_passed(assessment: Assessment, today: date) -> bool:
    window = assessment.first_session_window()
    return window is not None and today > window[1]


# Cards


def _dates(window) -> dict:
    return {"start": date_format(window[0]), "end": date_format(window[1])}


def _summary(text: str) -> str:
    return text if len(text) < SUMMARY_MAX else text[: SUMMARY_MAX - 2] + "…"


def _recommendation_summary(assessment: Assessment, today: date) -> str:
    window = assessment.first_session_window()
    if assessment.recommendation == rules.RECOMMENDED:
        if window is None:
            return gettext("A second and last adjuvant TACE session is recommended")
        if today > window[1]:
            return gettext(
                "Adjuvant TACE recommended, but the usual window (%(start)s to %(end)s) has passed"
            ) % _dates(window)
        return gettext("Adjuvant TACE recommended: first session %(start)s to %(end)s") % _dates(
            window
        )
    if assessment.risk_level == rules.LOW:
        return gettext("Adjuvant TACE not recommended: low risk of recurrence")
    return gettext(
        "Adjuvant TACE not recommended: high risk of recurrence, but ruled out by a "
        "contraindication"
    )


def _labels(found: list[str]) -> str:
    return code_labels(found) or "-"


def _left_out_lines(labs: Labs | None) -> list[str]:
    lines = []
    for key, counts in (labs.left_out if labs else {}).items():
        if counts:
            what = gettext("; ").join(
                f"{count} × {LEFT_OUT[code]}" if count > 1 else str(LEFT_OUT[code])
                for code, count in counts.items()
            )
            lines.append(
                "- "
                + gettext("Not read (%(lab)s): %(what)s.") % {"lab": LAB_NAMES[key], "what": what}
            )
    return lines


def detail(
    assessment: Assessment, change: LiverChange | None, today: date, labs: Labs | None = None
) -> str:
    """The card's Markdown: the result, its factors, the rationale, the liver tests,
    and what of the EHR's data was not read."""
    window = assessment.first_session_window()
    lines = [
        gettext("**Assessment of %(date)s** (ruleset %(ruleset)s, %(status)s)")
        % {
            "date": date_format(timezone.localdate(assessment.created_at)),
            "ruleset": assessment.ruleset,
            "status": assessment.get_status_display(),
        },
        "",
        f"- {gettext('Recommendation')}: {assessment.get_recommendation_display()}",
        f"- {gettext('Risk of recurrence')}: {assessment.get_risk_level_display()}",
        f"- {gettext('High-risk factors')}: {_labels(assessment.risk_factors)}",
        f"- {gettext('Contraindications')}: {_labels(assessment.contraindications)}",
        f"- {gettext('Cautions')}: {_labels(assessment.cautions)}",
    ]
    if window is not None:
        lines.append(
            f"- {gettext('First session window')}: "
            + gettext("%(start)s to %(end)s") % _dates(window)
        )
        if today > window[1]:
            lines.append(
                "- "
                + gettext(
                    "The usual window has passed; the benefit of later adjuvant TACE is unproven."
                )
            )
    if assessment.child_pugh_score is not None:
        lines.append(
            f"- {gettext('Liver function')}: Child-Pugh {assessment.child_pugh_class} "
            f"({assessment.child_pugh_score}), ALBI {assessment.albi_grade}"
        )
    if change is not None:
        if change.alone:
            lines.append(
                "- "
                + gettext(
                    "Liver tests dated %(date)s are newer than the assessment, which has no "
                    "liver panel: re-evaluate with one."
                )
                % {"date": date_format(change.labs_dated)}
            )
            lines.append(
                "- "
                + gettext(
                    "The newer liver tests alone, each item they do not give at 1 point: "
                    "Child-Pugh %(class)s (at least %(score)s)."
                )
                % {"class": change.child_pugh_class, "score": change.score}
            )
        else:
            lines.append(
                "- "
                + gettext(
                    "With the liver tests of %(date)s and the assessment's ascites and "
                    "encephalopathy: Child-Pugh %(class)s (%(score)s)."
                )
                % {
                    "date": date_format(change.labs_dated),
                    "class": change.child_pugh_class,
                    "score": change.score,
                }
            )
    lines += _left_out_lines(labs)
    lines += ["", f"**{gettext('Rationale')}**", ""]
    lines += [f"- {sentence}" for sentence in wording.rationale(assessment)]
    lines += ["", f"_{gettext(rules.SCOPE_AND_LIMITS[0])}_"]
    return "\n".join(lines)


def _source(request, ruleset: str) -> dict:
    return {
        "label": gettext("Adjuvant TACE decision support, ruleset %(ruleset)s")
        % {"ruleset": ruleset},
        "url": request.build_absolute_uri(reverse("assessments:rules")),
    }


def _card(request, *, summary, indicator, detail_text, ruleset, link_label, link_url) -> dict:
    return {
        "uuid": str(uuid.uuid4()),
        "summary": _summary(summary),
        "indicator": indicator,
        "detail": detail_text,
        "source": _source(request, ruleset),
        "overrideReasons": codes.override_reasons(),
        "links": [
            {
                "label": link_label,
                "url": request.build_absolute_uri(link_url),
                "type": "absolute",
            }
        ],
    }


def no_assessment_card(request) -> dict:
    return _card(
        request,
        summary=gettext("No adjuvant-TACE assessment recorded"),
        indicator="info",
        detail_text=gettext(
            "This patient has no adjuvant-TACE assessment in the app. After a liver resection "
            "for hepatocellular carcinoma, record one to see whether adjuvant TACE is "
            "recommended, and when."
        ),
        ruleset=rules.LATEST_RULESET,
        link_label=gettext("New assessment"),
        link_url=reverse("assessments:create"),
    )


def _change_summary(change: LiverChange) -> str:
    numbers = {"class": change.child_pugh_class, "score": change.score}
    if change.rules_out and change.alone:
        return (
            gettext(
                "Newer liver tests alone score Child-Pugh %(class)s (at least %(score)s "
                "points), which rules TACE out: re-evaluate"
            )
            % numbers
        )
    if change.rules_out:
        return (
            gettext(
                "Newer liver tests give Child-Pugh %(class)s (%(score)s points), which rules "
                "TACE out: re-evaluate"
            )
            % numbers
        )
    if change.alone:
        return (
            gettext(
                "Newer liver tests alone score Child-Pugh %(class)s (at least %(score)s "
                "points): re-evaluate with a liver panel"
            )
            % numbers
        )
    return gettext("Liver function has changed since the assessment: re-evaluate")


def _indicator(warning: bool, change: LiverChange | None) -> str:
    if change is not None and change.critical:
        return "critical"
    return "warning" if warning or (change is not None and change.alarming) else "info"


def assessment_card(
    request, assessment: Assessment, change: LiverChange | None, today, labs: Labs
) -> dict:
    high_and_ruled_out = assessment.risk_level == rules.HIGH and assessment.contraindications
    warning = high_and_ruled_out or window_passed(assessment, today)
    summary = _recommendation_summary(assessment, today)
    if change is not None and change.alarming:
        summary = _change_summary(change)
    return _card(
        request,
        summary=summary,
        indicator=_indicator(warning, change),
        detail_text=detail(assessment, change, today, labs),
        ruleset=assessment.ruleset,
        link_label=gettext("Open the assessment"),
        link_url=assessment.get_absolute_url(),
    )


def order_concerns(assessment: Assessment, change: LiverChange | None, today) -> list[str]:
    """Why the latest assessment does not support a TACE order, in words; none: it does."""
    concerns = [
        (assessment.is_voided, gettext("voided")),
        (assessment.recommendation != rules.RECOMMENDED, gettext("not recommended")),
        (bool(assessment.contraindications), gettext("contraindicated")),
        (assessment.status == Assessment.Status.DRAFT, gettext("unsigned")),
        (window_passed(assessment, today), gettext("window passed")),
        (change is not None and change.worse, gettext("liver function worse")),
        (change is not None and change.rules_out, gettext("ruled out by newer liver tests")),
    ]
    return [words for fired, words in concerns if fired]


def order_card(
    request, assessment: Assessment, change: LiverChange | None, today, labs: Labs
) -> dict:
    concerns = order_concerns(assessment, change, today)
    if concerns:
        summary = gettext("Check before ordering TACE: the latest assessment is %(concerns)s") % {
            "concerns": gettext(", ").join(concerns)
        }
    else:
        window = assessment.first_session_window()
        summary = (
            gettext(
                "TACE order: the latest assessment supports it, first session %(start)s to %(end)s"
            )
            % _dates(window)
            if window
            else gettext("TACE order: the latest assessment recommends a second and last session")
        )
    return _card(
        request,
        summary=summary,
        indicator=_indicator(bool(concerns), change),
        detail_text=detail(assessment, change, today, labs),
        ruleset=assessment.ruleset,
        link_label=gettext("Open the assessment"),
        link_url=assessment.get_absolute_url(),
    )


def answer(
    request, *, service_id: str, call: dict, mrn: str, labs: Labs
) -> tuple[list[dict], Patient | None, Assessment | None]:
    """The cards for a checked call: (cards, the patient, the assessment shown)."""
    today = timezone.localdate()
    patient = Patient.objects.filter(mrn=mrn).first()
    if service_id == ORDER_SELECT and not selected_tace_orders(
        call["draft_orders"], call["selections"]
    ):
        return [], patient, None
    assessment = latest_assessment(mrn, voided_too=service_id == ORDER_SELECT)
    if assessment is None:
        return [no_assessment_card(request)], patient, None
    change = liver_change(assessment, labs.latest)
    make = order_card if service_id == ORDER_SELECT else assessment_card
    card = make(request, assessment, change, today, labs)
    card["links"] += smart.launch_links(request, assessment)
    return [card], patient, assessment


def remember_cards(cards: list[dict], *, client: CdsClient, service_id: str) -> None:
    """Keep the cards' uuids for their feedback; forget those past FEEDBACK_DAYS."""
    now = timezone.now()
    IssuedCard.objects.filter(issued_at__lt=now - timedelta(days=FEEDBACK_DAYS)).delete()
    IssuedCard.objects.bulk_create(
        IssuedCard(uuid=card["uuid"], client=client, service=service_id, issued_at=now)
        for card in cards
    )


# Feedback

FEEDBACK_OUTCOMES = {"accepted", "overridden"}
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def _timestamp(text, issued_at: datetime, index: int) -> str:
    """An RFC 3339 date-time (CDS Hooks 2.0: outcomeTimestamp, RFC 3339 section 5.6),
    not before its card was issued nor in the future, the clocks' allowance given."""
    where = f"feedback[{index}].outcomeTimestamp"
    if not isinstance(text, str) or not RFC3339.fullmatch(text):
        raise BadRequest(f"{where} is not an RFC 3339 date-time, such as 2026-03-01T10:15:00Z")
    try:
        moment = datetime.fromisoformat(text.upper())
    except ValueError:
        raise BadRequest(f"{where} is not a date-time that exists") from None
    if not issued_at - CLOCK_SKEW <= moment <= timezone.now() + CLOCK_SKEW:
        raise BadRequest(f"{where} is before its card was issued, or in the future")
    return text


def feedback_items(body, *, client: CdsClient, service_id: str) -> list[dict]:
    """The feedback of a request, checked: each for a card this service issued to this
    client, with its outcome and time. Raises BadRequest naming the item."""
    items = body.get("feedback") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise BadRequest('the body is {"feedback": [...]}, with at least one item')
    checked = []
    for index, item in enumerate(items):
        where = f"feedback[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("card"), str):
            raise BadRequest(f"{where} names no card")
        try:
            card_uuid = uuid.UUID(item["card"])
        except ValueError:
            raise BadRequest(f"{where}.card is not a card of this service") from None
        issued = IssuedCard.objects.filter(uuid=card_uuid, client=client, service=service_id)
        issued_at = issued.values_list("issued_at", flat=True).first()
        if issued_at is None:
            raise BadRequest(f"{where}.card is not a card of this service")
        if item.get("outcome") not in FEEDBACK_OUTCOMES:
            raise BadRequest(f"{where}.outcome is accepted or overridden")
        entry = {
            "card": str(card_uuid),
            "outcome": item["outcome"],
            "outcomeTimestamp": _timestamp(item.get("outcomeTimestamp"), issued_at, index),
        }
        override = item.get("overrideReason")
        if item["outcome"] == "overridden" and isinstance(override, dict):
            reason = override.get("reason") if isinstance(override.get("reason"), dict) else {}
            entry["reason"] = {
                key: str(reason[key])[:255]
                for key in ("system", "code", "display")
                if key in reason
            }
            if isinstance(override.get("userComment"), str):
                entry["userComment"] = override["userComment"][:1000]
        checked.append(entry)
    return checked
