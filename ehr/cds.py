"""The CDS Hooks services: discovery, what is read from a call, and the cards.

Only the documented fields of a call are read: `hook`, `hookInstance`,
`context.patientId`, `context.draftOrders` (order-select) and the prefetch keys
below. Nothing is fetched from the EHR's FHIR server: a missing or unusable
prefetch is answered 412 (CDS Hooks 2.0, "Prefetch").
"""

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from assessments import rules, wording
from assessments.models import Assessment, HistoryAction, Patient, code_labels

from . import codes, smart

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


def parse_call(body, *, service_id: str) -> dict:
    """The fields read from a call, checked. Raises BadRequest or Unusable."""
    if not isinstance(body, dict):
        raise BadRequest("the body is not a JSON object")
    hook = SERVICES[service_id]["hook"]
    if body.get("hook") != hook:
        raise BadRequest(f"this service answers the {hook} hook")
    hook_instance = _get(body, "hookInstance", str, BadRequest)
    context = _get(body, "context", dict, BadRequest)
    patient_id = _get(context, "patientId", str, BadRequest, "context.patientId")
    draft_orders = None
    if hook == "order-select":
        draft_orders = _get(context, "draftOrders", dict, BadRequest, "context.draftOrders")
    prefetch = _get(body, "prefetch", dict, what="prefetch")
    return {
        "hook_instance": hook_instance[:64],
        "patient_id": patient_id,
        "draft_orders": draft_orders,
        "prefetch": prefetch,
    }


def mrn_from(prefetch: dict, *, patient_id: str, system: str) -> str:
    """The MRN in the prefetched Patient's identifiers, under the client's system."""
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


def _effective(observation: dict, key: str) -> datetime | date:
    text = observation.get("effectiveDateTime") or observation.get("effectiveInstant")
    if not isinstance(text, str):
        raise Unusable(f"prefetch.{key}: the Observation has no effectiveDateTime")
    try:
        if "T" not in text:
            return date.fromisoformat(text)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise Unusable(f"prefetch.{key}: the Observation's date cannot be read") from None
    if timezone.is_naive(moment):
        raise Unusable(f"prefetch.{key}: the Observation's time has no time zone")
    return moment


def latest_lab(prefetch: dict, key: str) -> Lab | None:
    """The lab of a prefetch key: a searchset Bundle of at most one Observation
    (null or an empty Bundle: none). Observations that are not final are left out."""
    if key not in prefetch:
        raise Unusable(f"prefetch.{key} is missing")
    bundle = prefetch[key]
    if bundle is None:
        return None
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise Unusable(f"prefetch.{key} is not a Bundle")
    entries = bundle.get("entry") or []
    if not isinstance(entries, list):
        raise Unusable(f"prefetch.{key}: entry is not a list")
    observations = [e.get("resource") for e in entries if isinstance(e, dict)]
    if not observations:
        return None
    observation = observations[0]
    if not isinstance(observation, dict) or observation.get("resourceType") != "Observation":
        raise Unusable(f"prefetch.{key} holds something other than an Observation")
    if observation.get("status") not in USABLE_OBSERVATION_STATUSES:
        return None
    codings = (observation.get("code") or {}).get("coding") or []
    if not any(
        isinstance(c, dict) and c.get("system") == codes.LOINC and c.get("code") in LAB_CODES[key]
        for c in codings
    ):
        raise Unusable(f"prefetch.{key}: the Observation is not coded as expected")
    quantity = observation.get("valueQuantity")
    value = quantity.get("value") if isinstance(quantity, dict) else None
    if not isinstance(value, Decimal | int) or isinstance(value, bool) or not value > 0:
        raise Unusable(f"prefetch.{key}: the Observation has no positive valueQuantity")
    if not Decimal(value).is_finite():
        raise Unusable(f"prefetch.{key}: the Observation has no positive valueQuantity")
    unit = quantity.get("code") if quantity.get("system") == codes.UCUM else None
    if key == "inr" and unit is None and quantity.get("unit") is None:
        unit = "1"  # an INR is a ratio: no unit at all is a usable INR
    if unit not in LAB_UNITS[key]:
        raise Unusable(f"prefetch.{key}: the unit is not one of {', '.join(LAB_UNITS[key])}")
    return Lab(
        value=Decimal(value), unit=LAB_UNITS[key][unit], effective=_effective(observation, key)
    )


def has_tace_order(draft_orders: dict) -> bool:
    """A draft ServiceRequest coded SNOMED CT 441525007 (chemoembolisation)."""
    entries = draft_orders.get("entry") if draft_orders.get("resourceType") == "Bundle" else None
    for entry in entries if isinstance(entries, list) else []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or resource.get("resourceType") != "ServiceRequest":
            continue
        if resource.get("status") != "draft":
            continue
        codings = (resource.get("code") or {}).get("coding") or []
        if any(
            isinstance(c, dict)
            and c.get("system") == codes.SNOMED
            and c.get("code") == codes.SNOMED_CHEMOEMBOLISATION
            for c in codings
        ):
            return True
    return False


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
    """Child-Pugh again, with the labs newer than the assessment."""

    labs_dated: date
    score: int | None = None  # None: the assessment has no panel to compare with
    child_pugh_class: str | None = None
    worse: bool = False


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
    if panel is None:
        return LiverChange(labs_dated=dated)
    changes = {}
    for name, lab in newer.items():
        changes[name] = lab.value
        if lab.unit:
            changes[f"{name}_unit"] = lab.unit
    # The assessment's own ascites and encephalopathy; the newer labs, the others kept.
    score = sum(rules.child_pugh_points(replace(panel, **changes)).values())
    new_class = rules.child_pugh_class(score)
    return LiverChange(
        labs_dated=dated,
        score=score,
        child_pugh_class=new_class,
        worse=new_class > assessment.child_pugh_class,
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


def detail(assessment: Assessment, change: LiverChange | None, today: date) -> str:
    """The card's Markdown: the result, its factors, the rationale, the liver tests."""
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
        if change.score is None:
            lines.append(
                "- "
                + gettext(
                    "Liver tests dated %(date)s are newer than the assessment, which has no "
                    "liver panel: re-evaluate with one."
                )
                % {"date": date_format(change.labs_dated)}
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


def assessment_card(request, assessment: Assessment, change: LiverChange | None, today) -> dict:
    high_and_ruled_out = assessment.risk_level == rules.HIGH and assessment.contraindications
    warning = high_and_ruled_out or window_passed(assessment, today)
    summary = _recommendation_summary(assessment, today)
    if change is not None and change.worse:
        warning = True
        summary = gettext("Liver function has changed since the assessment: re-evaluate")
    return _card(
        request,
        summary=summary,
        indicator="warning" if warning else "info",
        detail_text=detail(assessment, change, today),
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
    ]
    return [words for fired, words in concerns if fired]


def order_card(request, assessment: Assessment, change: LiverChange | None, today) -> dict:
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
        indicator="warning" if concerns else "info",
        detail_text=detail(assessment, change, today),
        ruleset=assessment.ruleset,
        link_label=gettext("Open the assessment"),
        link_url=assessment.get_absolute_url(),
    )


def answer(
    request, *, service_id: str, call: dict, mrn: str
) -> tuple[list[dict], Patient | None, Assessment | None]:
    """The cards for a checked call: (cards, the patient, the assessment shown)."""
    labs = {name: latest_lab(call["prefetch"], name) for name in LAB_CODES}
    today = timezone.localdate()
    patient = Patient.objects.filter(mrn=mrn).first()
    if service_id == ORDER_SELECT and not has_tace_order(call["draft_orders"]):
        return [], patient, None
    assessment = latest_assessment(mrn, voided_too=service_id == ORDER_SELECT)
    if assessment is None:
        return [no_assessment_card(request)], patient, None
    change = liver_change(assessment, labs)
    make = order_card if service_id == ORDER_SELECT else assessment_card
    card = make(request, assessment, change, today)
    card["links"] += smart.launch_links(request, assessment)
    return [card], patient, assessment
