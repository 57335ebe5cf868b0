import hashlib
import hmac
import ipaddress
import json
from datetime import UTC

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy, gettext_noop, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from common import proxy

from . import actions, rules

MRN_VALIDATOR = RegexValidator(
    r"^[A-Za-z0-9-]{1,32}\Z", _("An MRN is 1 to 32 letters, digits or hyphens.")
)


def translated(choices: dict[str, str]) -> list[tuple[str, str]]:
    """The rules' codes with their (English) labels, shown in the reader's language."""
    return [(code, gettext_lazy(label)) for code, label in choices.items()]


# A short name for each rule code, wherever people read codes: the lists, the
# history, the exports. The codes themselves stay in data and machine columns.
CODE_LABELS = {
    "tumor_gt_5cm": _("Largest tumor > 5 cm"),
    "multiple_tumors": _("Multiple tumors"),
    "vascular_invasion": _("Vascular invasion"),
    "severe_cirrhosis": _("Severe cirrhosis"),
    "child_pugh_b8_b9": _("Child-Pugh B8 or B9"),
    "child_pugh_c": _("Child-Pugh C"),
    "repeated_tace": _("Two or more prior sessions"),
    "moderate_cirrhosis": _("Moderate cirrhosis"),
    "child_pugh_b": _("Child-Pugh B"),
    "albi_grade_3": _("ALBI grade 3"),
    "decompensation_signs": _("Signs of decompensation"),
    "liver_panel_missing": _("No liver panel"),
    "main_portal_vein": _("Main portal vein thrombus"),
    "prior_tace": _("One prior session"),
    "adverse_pathology": _("Adverse pathology"),
    "narrow_margin": _("Margin under 1 cm"),
}


def person_name(user) -> str:
    """How a person is named wherever people read it: the full name from the admin, or
    the user name where none is set."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def confirmation_labels(names: list[str]) -> str:
    """What was confirmed on saving (Assessment.confirmations), in words."""
    labels = {"possible_duplicate": gettext("Possible duplicate")}
    return gettext(", ").join(
        labels.get(name) or str(Assessment._meta.get_field(name).verbose_name).capitalize()
        for name in names
    )


def code_labels(codes: list[str]) -> str:
    return gettext(", ").join(str(CODE_LABELS.get(code, code)) for code in codes)


def pk_url(name: str):
    """reverse(name, args=[pk]) for the rows of a list, from one reverse() a page."""
    marker = "9876543210"
    head, tail = reverse(name, args=[int(marker)]).split(marker)
    return lambda pk: f"{head}{pk}{tail}"


class HistoryAction(models.TextChoices):
    CREATED = "created", _("Created")
    AMENDED = "amended", _("Amended")
    SIGNATURE_WITHDRAWN = "signature_withdrawn", _("Amended; signature withdrawn")
    SIGNED = "signed", _("Signed")
    VOIDED = "voided", _("Voided")
    DELETED = "deleted", _("Deleted")


class AuditedHistory(models.Model):
    """Extra columns of every history row: what the change was, in words."""

    action = models.CharField(max_length=32, choices=HistoryAction.choices)

    class Meta:
        abstract = True


def audited_history():
    return HistoricalRecords(
        bases=[AuditedHistory],
        history_change_reason_field=models.TextField(null=True),
    )


# An assessment that calls for a first adjuvant session, and so has a window: the
# worklist's "due" rows before the sessions recorded after it are taken into account.
FIRST_SESSION_DUE = Q(
    recommendation=rules.RECOMMENDED,
    prior_adjuvant_tace_sessions=0,
    status__in=["draft", "signed"],
)
# Ruleset 4: an assessment that calls for a second session after one recorded, whose
# window runs from the first session's date.
SECOND_SESSION_DUE = Q(
    recommendation=rules.RECOMMENDED,
    prior_adjuvant_tace_sessions=1,
    status__in=["draft", "signed"],
    ruleset__in=[ruleset for ruleset in rules.RULESETS if rules.reads_pathology(ruleset)],
)


def _unit_range_constraints(field: str, ranges: dict) -> list[models.CheckConstraint]:
    """A lab value within the range of the unit it was entered in."""
    return [
        models.CheckConstraint(
            condition=Q(**{f"{field}__isnull": True})
            | ~Q(**{f"{field}_unit": unit})
            | Q(**{f"{field}__gte": low, f"{field}__lte": high}),
            name=f"assessment_{field}_range_{unit}",
        )
        for unit, (low, high) in ranges.items()
    ]


class ResectionMargin(models.TextChoices):
    WIDE = "ge_1cm", _("At least 1 cm")
    NARROW = "lt_1cm", _("Under 1 cm")
    INVOLVED = "r1", _("Involved (R1)")


class YesNo(models.TextChoices):
    YES = "yes", _("Yes")
    NO = "no", _("No")


class MviGrade(models.TextChoices):
    """Microvascular invasion, graded as the Chinese pathology guideline does."""

    M0 = "m0", _("M0: no microvascular invasion")
    M1 = "m1", _("M1: 5 or fewer, within 1 cm of the tumor")
    M2 = "m2", _("M2: more than 5, or beyond 1 cm")


AFP_MAX_NG_ML = 1_000_000


class Patient(models.Model):
    """A patient, known here only by the hospital's medical record number."""

    mrn = models.CharField("MRN", max_length=32, unique=True, validators=[MRN_VALIDATOR])
    created_at = models.DateTimeField(auto_now_add=True)

    history = audited_history()

    class Meta:
        ordering = ["mrn"]
        constraints = [
            models.CheckConstraint(
                condition=Q(mrn__regex=r"^[A-Z0-9-]{1,32}$"), name="patient_mrn_format"
            ),
        ]

    def __str__(self):
        return self.mrn

    def get_absolute_url(self):
        return reverse("assessments:patient", args=[self.pk])


class VersionedRecord(models.Model):
    """A record amended in numbered versions and voided with a reason, never deleted.

    Its status takes a VOIDED value (each record type has its own Status), its
    history is written by save() (audited_history), and the services own its
    changes: amend and void check the version, then save the next.
    """

    # Optimistic concurrency: every save through the services adds one.
    version = models.PositiveIntegerField(default=1)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.TextField(_("reason for voiding"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    @property
    def is_voided(self) -> bool:
        return self.status == self.Status.VOIDED


class Assessment(VersionedRecord):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SIGNED = "signed", _("Signed")
        VOIDED = "voided", _("Voided")

    SIGNATURE_MEANING = gettext_noop("reviewed and approved")  # stored in English; shown translated
    # Field names by role, in the order of the form.
    RULE_INPUTS = [
        "tumor_size_cm",
        "tumor_count",
        "vascular_invasion",
        "cirrhosis_grade",
        "prior_adjuvant_tace_sessions",
    ]
    PANEL_INPUTS = [
        "bilirubin",
        "bilirubin_unit",
        "albumin",
        "albumin_unit",
        "inr",
        "ascites",
        "encephalopathy",
    ]
    RESULT = [
        "ruleset",
        "recommendation",
        "risk_level",
        "risk_factors",
        "contraindications",
        "cautions",
    ]
    LIVER_FUNCTION = ["child_pugh_score", "child_pugh_class", "albi_score", "albi_grade"]
    # Recorded for follow-up since ruleset 3; ruleset 4 reads them.
    PATHOLOGY = [
        "resection_margin",
        "satellite_nodules",
        "mvi_grade",
        "afp_before_ng_ml",
        "afp_after_ng_ml",
        "tumor_rupture",
    ]

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="assessments")
    resection_date = models.DateField(_("resection date"))
    tumor_size_cm = models.DecimalField(
        _("largest tumor diameter (cm)"), max_digits=3, decimal_places=1
    )
    tumor_count = models.PositiveSmallIntegerField(_("number of tumors"))
    vascular_invasion = models.CharField(
        _("vascular invasion"), max_length=32, choices=translated(rules.VASCULAR_INVASION)
    )
    cirrhosis_grade = models.CharField(
        _("cirrhosis grade"), max_length=16, choices=translated(rules.CIRRHOSIS_GRADES)
    )
    prior_adjuvant_tace_sessions = models.PositiveSmallIntegerField(
        _("prior adjuvant TACE sessions"), default=0
    )
    # Ruleset 2's optional liver-function panel: all five values or none.
    bilirubin = models.DecimalField(
        _("total bilirubin"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    bilirubin_unit = models.CharField(
        _("bilirubin unit"),
        max_length=8,
        choices=translated(rules.BILIRUBIN_UNITS),
        null=True,
        blank=True,
    )
    albumin = models.DecimalField(
        _("serum albumin"), max_digits=4, decimal_places=2, null=True, blank=True
    )
    albumin_unit = models.CharField(
        _("albumin unit"),
        max_length=8,
        choices=translated(rules.ALBUMIN_UNITS),
        null=True,
        blank=True,
    )
    inr = models.DecimalField(_("INR"), max_digits=4, decimal_places=2, null=True, blank=True)
    ascites = models.CharField(
        _("ascites"), max_length=16, choices=translated(rules.ASCITES), null=True, blank=True
    )
    encephalopathy = models.CharField(
        _("hepatic encephalopathy"),
        max_length=16,
        choices=translated(rules.ENCEPHALOPATHY),
        null=True,
        blank=True,
    )
    # Pathology and AFP: recorded for follow-up; part of the advice from ruleset 4.
    resection_margin = models.CharField(
        _("resection margin"), max_length=8, choices=ResectionMargin.choices, blank=True
    )
    satellite_nodules = models.CharField(
        _("satellite nodules"), max_length=3, choices=YesNo.choices, blank=True
    )
    mvi_grade = models.CharField(_("MVI grade"), max_length=2, choices=MviGrade.choices, blank=True)
    afp_before_ng_ml = models.DecimalField(
        _("AFP before surgery (ng/mL)"), max_digits=8, decimal_places=1, null=True, blank=True
    )
    afp_after_ng_ml = models.DecimalField(
        _("AFP after surgery (ng/mL)"), max_digits=8, decimal_places=1, null=True, blank=True
    )
    tumor_rupture = models.CharField(
        _("tumor rupture"), max_length=3, choices=YesNo.choices, blank=True
    )
    notes = models.TextField(_("notes"), blank=True, max_length=5000)
    # What the user confirmed on saving this version: each unusual value by its field's
    # name, and "possible_duplicate" (forms.SaveChecks). The rules never read it.
    confirmations = models.JSONField(_("confirmed as correct"), default=list, blank=True)

    ruleset = models.CharField(_("ruleset"), max_length=8)
    recommendation = models.CharField(
        _("recommendation"), max_length=32, choices=translated(rules.RECOMMENDATIONS)
    )
    risk_level = models.CharField(
        _("risk level"), max_length=8, choices=translated(rules.RISK_LEVELS)
    )
    risk_factors = models.JSONField(_("risk factors"), default=list)
    contraindications = models.JSONField(_("contraindications"), default=list)
    cautions = models.JSONField(_("cautions"), default=list)
    # Ruleset 4: the findings the cautions adverse_pathology and narrow_margin name.
    pathology_findings = models.JSONField(_("pathology findings"), default=list, blank=True)
    rationale = models.JSONField(default=list)
    child_pugh_score = models.PositiveSmallIntegerField(
        _("Child-Pugh score"), null=True, blank=True
    )
    child_pugh_class = models.CharField(_("Child-Pugh class"), max_length=1, null=True, blank=True)
    albi_score = models.DecimalField(
        _("ALBI score"), max_digits=5, decimal_places=3, null=True, blank=True
    )
    albi_grade = models.PositiveSmallIntegerField(_("ALBI grade"), null=True, blank=True)

    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("signed by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    signature_meaning = models.CharField(_("signature meaning"), max_length=64, blank=True)
    # The version the signer reviewed (signing saves the next one).
    signed_version = models.PositiveIntegerField(_("version signed"), null=True, blank=True)
    self_signed = models.BooleanField(
        _("self-signed"),
        default=False,
        help_text=_("Signed by its author, allowed by DJANGO_ALLOW_SELF_SIGN."),
    )

    history = audited_history()

    class Meta:
        ordering = ["-created_at", "-id"]
        # The list: newest first, overall or within a filter. Its search by MRN and the
        # patient page go through the index Django makes for the patient foreign key.
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="assessment_created_idx"),
            models.Index(fields=["status", "-created_at", "-id"], name="assessment_status_idx"),
            models.Index(
                fields=["recommendation", "-created_at", "-id"], name="assessment_recommend_idx"
            ),
            # The list sorted by resection date, and the worklist's windows.
            models.Index(fields=["-resection_date", "-id"], name="assessment_resection_idx"),
            # Not a partial index: SQLite cannot match its condition to bound parameters.
            # Prior sessions first, so the recommendation filter keeps its own index.
            models.Index(
                fields=["prior_adjuvant_tace_sessions", "recommendation", "resection_date", "id"],
                name="assessment_due_idx",
            ),
            # The worklist's "My recent assessments", newest first.
            models.Index(fields=["created_by", "-created_at", "-id"], name="assessment_author_idx"),
        ]
        permissions = [
            ("sign_assessment", "Can sign an assessment"),
            ("void_assessment", "Can void an assessment"),
            ("export_assessment", "Can export assessments as CSV"),
            ("view_outcomes", "Can view the unit's outcomes"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    tumor_size_cm__gte=rules.TUMOR_SIZE_MIN_CM,
                    tumor_size_cm__lte=rules.TUMOR_SIZE_MAX_CM,
                ),
                name="assessment_tumor_size_range",
            ),
            models.CheckConstraint(
                condition=Q(
                    tumor_count__gte=rules.TUMOR_COUNT_MIN,
                    tumor_count__lte=rules.TUMOR_COUNT_MAX,
                ),
                name="assessment_tumor_count_range",
            ),
            models.CheckConstraint(
                condition=Q(
                    prior_adjuvant_tace_sessions__gte=rules.PRIOR_SESSIONS_MIN,
                    prior_adjuvant_tace_sessions__lte=rules.PRIOR_SESSIONS_MAX,
                ),
                name="assessment_prior_sessions_range",
            ),
            models.CheckConstraint(
                condition=Q(vascular_invasion__in=list(rules.VASCULAR_INVASION)),
                name="assessment_vascular_invasion_code",
            ),
            models.CheckConstraint(
                condition=Q(cirrhosis_grade__in=list(rules.CIRRHOSIS_GRADES)),
                name="assessment_cirrhosis_grade_code",
            ),
            models.CheckConstraint(
                condition=Q(recommendation__in=list(rules.RECOMMENDATIONS)),
                name="assessment_recommendation_code",
            ),
            models.CheckConstraint(
                condition=Q(risk_level__in=list(rules.RISK_LEVELS)),
                name="assessment_risk_level_code",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "signed", "voided"]),
                name="assessment_status_code",
            ),
            models.CheckConstraint(
                condition=Q(
                    bilirubin__isnull=True,
                    bilirubin_unit__isnull=True,
                    albumin__isnull=True,
                    albumin_unit__isnull=True,
                    inr__isnull=True,
                    ascites__isnull=True,
                    encephalopathy__isnull=True,
                )
                | Q(
                    bilirubin__isnull=False,
                    bilirubin_unit__isnull=False,
                    albumin__isnull=False,
                    albumin_unit__isnull=False,
                    inr__isnull=False,
                    ascites__in=list(rules.ASCITES),
                    encephalopathy__in=list(rules.ENCEPHALOPATHY),
                ),
                name="assessment_liver_panel_all_or_none",
            ),
            *_unit_range_constraints("bilirubin", rules.BILIRUBIN_RANGES),
            *_unit_range_constraints("albumin", rules.ALBUMIN_RANGES),
            models.CheckConstraint(
                condition=Q(inr__isnull=True)
                | Q(inr__gte=rules.INR_RANGE[0], inr__lte=rules.INR_RANGE[1]),
                name="assessment_inr_range",
            ),
            models.CheckConstraint(
                condition=Q(bilirubin_unit__isnull=True)
                | Q(
                    bilirubin_unit__in=list(rules.BILIRUBIN_UNITS),
                    albumin_unit__in=list(rules.ALBUMIN_UNITS),
                ),
                name="assessment_unit_codes",
            ),
            models.CheckConstraint(
                condition=Q(resection_margin__in=["", *ResectionMargin.values])
                & Q(satellite_nodules__in=["", *YesNo.values])
                & Q(mvi_grade__in=["", *MviGrade.values])
                & Q(tumor_rupture__in=["", *YesNo.values]),
                name="assessment_pathology_codes",
            ),
            *(
                models.CheckConstraint(
                    condition=Q(**{f"{field}__isnull": True})
                    | Q(**{f"{field}__gte": 0, f"{field}__lte": AFP_MAX_NG_ML}),
                    name=f"assessment_{field}_range",
                )
                for field in ("afp_before_ng_ml", "afp_after_ng_ml")
            ),
        ]

    def __str__(self):
        return f"Assessment {self.pk} of {self.patient}"

    def get_absolute_url(self):
        return reverse("assessments:detail", args=[self.pk])

    @property
    def rule_inputs(self) -> rules.Inputs:
        return rules.Inputs.from_data(
            {
                name: getattr(self, name)
                for name in self.RULE_INPUTS + self.PANEL_INPUTS + self.PATHOLOGY
            }
        )

    @property
    def liver_panel(self) -> rules.LiverPanel | None:
        return self.rule_inputs.liver_panel

    @property
    def liver_function(self) -> dict | None:
        if self.child_pugh_score is None:
            return None
        return {
            "child_pugh_score": self.child_pugh_score,
            "child_pugh_class": self.child_pugh_class,
            "albi_score": self.albi_score,
            "albi_grade": self.albi_grade,
        }

    @property
    def pathology_recorded(self) -> bool:
        return any(getattr(self, name) not in ("", None) for name in self.PATHOLOGY)

    @property
    def newer_ruleset(self) -> str | None:
        return rules.LATEST_RULESET if self.ruleset != rules.LATEST_RULESET else None

    @property
    def reads_pathology(self) -> bool:
        return rules.reads_pathology(self.ruleset)

    def first_session_window(self):
        """The first session's window, for a recommendation of the first session only:
        after a prior session, the next one is a second session, with no window."""
        if self.recommendation != rules.RECOMMENDED or self.prior_adjuvant_tace_sessions:
            return None
        return rules.first_session_window(self.resection_date)

    @property
    def advises_second_session(self) -> bool:
        """Ruleset 4: a second session advised, whose window runs from the first."""
        return (
            self.reads_pathology
            and self.recommendation == rules.RECOMMENDED
            and self.prior_adjuvant_tace_sessions == 1
        )

    def window(self, first_session_on=None):
        """The window of the session this assessment calls for: the first session's, or
        (ruleset 4) the second's, from the first session's date (given, or annotated by
        queries.with_sessions); None without a date to run from."""
        if self.advises_second_session:
            first = first_session_on or getattr(self, "first_session_on", None)
            return rules.second_session_window(first) if first else None
        return self.first_session_window()


class FollowUpEvent(VersionedRecord):
    """What happened after the recommendation: a session given, a recurrence, a
    recurrence-free visit, a death. Amended with a reason, voided, never deleted."""

    class Kind(models.TextChoices):
        TACE_SESSION = "tace_session", _("Adjuvant TACE session given")
        RECURRENCE = "recurrence", _("Recurrence")
        NO_RECURRENCE = "no_recurrence", _("Last follow-up, no recurrence")
        DEATH = "death", _("Death")

    class Complications(models.TextChoices):
        NONE = "none", pgettext_lazy("complications", "None")
        MINOR = "minor", _("Minor")
        MAJOR = "major", _("Major")

    class Site(models.TextChoices):
        INTRAHEPATIC = "intrahepatic", _("Intrahepatic")
        EXTRAHEPATIC = "extrahepatic", _("Extrahepatic")
        BOTH = "both", _("Both intra- and extrahepatic")

    class FoundBy(models.TextChoices):
        IMAGING = "imaging", _("Imaging")
        AFP = "afp", _("AFP")
        BOTH = "both", _("Imaging and AFP")

    class Cause(models.TextChoices):
        HCC = "hcc", _("HCC")
        LIVER_FAILURE = "liver_failure", _("Liver failure")
        OTHER = "other", _("Other")
        UNKNOWN = "unknown", _("Unknown")

    class Status(models.TextChoices):
        RECORDED = "recorded", _("Recorded")
        VOIDED = "voided", _("Voided")

    # The fields each kind takes beyond the date and the notes; the others stay empty.
    KIND_FIELDS = {
        Kind.TACE_SESSION: ["assessment", "complications", "complication_details"],
        Kind.RECURRENCE: ["recurrence_site", "found_by"],
        Kind.NO_RECURRENCE: [],
        Kind.DEATH: ["death_cause"],
    }
    DETAIL_FIELDS = [
        "assessment",
        "complications",
        "complication_details",
        "recurrence_site",
        "found_by",
        "death_cause",
    ]

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(_("event"), max_length=16, choices=Kind.choices)
    date = models.DateField(_("date"))
    # A session follows one of the patient's assessments.
    assessment = models.ForeignKey(
        "Assessment",
        on_delete=models.PROTECT,
        related_name="sessions",
        null=True,
        blank=True,
        verbose_name=_("assessment it follows"),
    )
    complications = models.CharField(
        _("complications"), max_length=8, choices=Complications.choices, blank=True
    )
    complication_details = models.TextField(_("complication details"), max_length=1000, blank=True)
    recurrence_site = models.CharField(
        _("site of recurrence"), max_length=16, choices=Site.choices, blank=True
    )
    found_by = models.CharField(_("found by"), max_length=8, choices=FoundBy.choices, blank=True)
    death_cause = models.CharField(
        _("cause of death"), max_length=16, choices=Cause.choices, blank=True
    )
    notes = models.TextField(_("notes"), max_length=5000, blank=True)

    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.RECORDED
    )

    history = audited_history()

    class Meta:
        ordering = ["date", "id"]
        verbose_name = _("follow-up event")
        verbose_name_plural = _("follow-up events")
        permissions = [("void_followupevent", "Can void a follow-up event")]
        indexes = [
            # The patient's timeline, and the sessions the worklist and outcomes look up.
            models.Index(fields=["patient", "date", "id"], name="followup_patient_idx"),
            models.Index(fields=["kind", "patient", "date"], name="followup_kind_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["tace_session", "recurrence", "no_recurrence", "death"]),
                name="followup_kind_code",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["recorded", "voided"]), name="followup_status_code"
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="tace_session", assessment__isnull=False)
                    & Q(complications__in=["none", "minor", "major"])
                )
                | (~Q(kind="tace_session") & Q(assessment__isnull=True, complications="")),
                name="followup_session_fields",
            ),
            models.CheckConstraint(
                condition=Q(
                    kind="recurrence",
                    recurrence_site__in=["intrahepatic", "extrahepatic", "both"],
                    found_by__in=["imaging", "afp", "both"],
                )
                | (~Q(kind="recurrence") & Q(recurrence_site="", found_by="")),
                name="followup_recurrence_fields",
            ),
            models.CheckConstraint(
                condition=Q(
                    kind="death", death_cause__in=["hcc", "liver_failure", "other", "unknown"]
                )
                | (~Q(kind="death") & Q(death_cause="")),
                name="followup_death_fields",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} of {self.patient} on {self.date}"

    def get_absolute_url(self):
        return reverse("assessments:event", args=[self.pk])


class AuditEvent(models.Model):
    """An append-only chain of events, each an HMAC over the one before.

    Besides logins, views, exports and refusals, each history row of a patient or
    an assessment is sealed into the chain by a record_changed event that carries
    the row's digest (audit.row_digest)."""

    @actions.register
    class Action(models.TextChoices):
        """The record's own actions; other apps register theirs (actions.py)."""

        LOGIN = "login", _("Logged in")
        LOGOUT = "logout", _("Logged out")
        LOGIN_FAILED = "login_failed", _("Failed login")
        LOCKED_OUT = "locked_out", _("Locked out")
        VIEW_ASSESSMENT = "view_assessment", _("Viewed an assessment")
        VIEW_HISTORY = "view_history", _("Viewed an assessment's history")
        VIEW_PATIENT = "view_patient", _("Viewed a patient's assessments")
        EXPORT = "export", _("Exported")
        PERMISSION_DENIED = "permission_denied", _("Refused: no permission")
        USER_CHANGED = "user_changed", _("User or group changed")
        RECORD_CHANGED = "record_changed", _("Clinical record changed")
        CHAIN_KEYED = "chain_keyed", _("Audit chain keyed")
        PASSWORD_CHANGED = "password_changed", _("Changed own password")
        VIEW_OUTCOMES = "view_outcomes", _("Viewed the outcomes page")
        VIEW_EVENT = "view_event", _("Viewed a follow-up event")
        ACCESS_DELETED = "access_deleted", _("Lockout or access log deleted")
        # A user, group, permission, API token or EHR client as it now is (audit.SEALED).
        ACCOUNT_SEALED = "account_sealed", _("Account, token or EHR client sealed")

    GENESIS = "0" * 64

    timestamp = models.DateTimeField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    # The name as given, kept for failed logins and as the user was named then.
    username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=32, choices=actions.choices)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    # A unique previous hash: two events can never claim the same predecessor.
    prev_hash = models.CharField(max_length=64, unique=True)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["-id"]
        # The audit log's filters, each newest first; the patient filter uses the
        # foreign key's index.
        indexes = [
            models.Index(fields=["timestamp"], name="auditevent_timestamp_idx"),
            models.Index(fields=["action", "-id"], name="auditevent_action_idx"),
            models.Index(Upper("username"), F("id").desc(), name="auditevent_username_idx"),
        ]

    def __str__(self):
        return f"{self.timestamp:%Y-%m-%d %H:%M:%S} {self.username} {self.action}"

    def _payload(self, client_ip: str | None = None) -> bytes:
        # The address in its canonical form, whichever form the database gives back.
        address = proxy.canonical(self.client_ip) if client_ip is None else client_ip
        return json.dumps(
            [
                self.prev_hash,
                self.timestamp.astimezone(UTC).isoformat(),
                self.user_id,
                self.username,
                self.action,
                self.object_type,
                self.object_id,
                self.patient_id,
                address,
                self.detail,
            ],
            sort_keys=True,
            separators=(",", ":"),
        ).encode()

    def compute_hash(self, client_ip: str | None = None) -> str:
        # Keyed: without DJANGO_AUDIT_KEY, which is never in the database, nobody
        # can compute a hash that verifies, so nobody can forge or rechain events.
        payload = self._payload(client_ip)
        return hmac.new(settings.AUDIT_KEY.encode(), payload, hashlib.sha256).hexdigest()

    def compute_legacy_hash(self, client_ip: str | None = None) -> str:
        """The unkeyed SHA-256 of the events written before the chain was keyed; the
        chain_keyed event (migration 0009) that follows them is keyed, and anchors them."""
        return hashlib.sha256(self._payload(client_ip)).hexdigest()

    def hashes_it_may_have(self, *, legacy: bool) -> list[str]:
        """Its hash over the canonical address and, for an IPv6 address, over the form
        the app wrote before addresses were made canonical (str() of Python's address)."""
        compute = self.compute_legacy_hash if legacy else self.compute_hash
        hashes = [compute()]
        if self.client_ip and ":" in self.client_ip:
            hashes.append(compute(str(ipaddress.ip_address(self.client_ip))))
        return hashes
