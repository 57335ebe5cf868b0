import hashlib
import json
from datetime import UTC

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.urls import reverse
from simple_history.models import HistoricalRecords

from . import rules

MRN_VALIDATOR = RegexValidator(
    r"^[A-Za-z0-9-]{1,32}\Z", "An MRN is 1 to 32 letters, digits or hyphens."
)


class HistoryAction(models.TextChoices):
    CREATED = "created", "Created"
    AMENDED = "amended", "Amended"
    SIGNATURE_WITHDRAWN = "signature_withdrawn", "Amended; signature withdrawn"
    SIGNED = "signed", "Signed"
    VOIDED = "voided", "Voided"
    DELETED = "deleted", "Deleted"


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


class Assessment(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SIGNED = "signed", "Signed"
        VOIDED = "voided", "Voided"

    SIGNATURE_MEANING = "reviewed and approved"
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

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="assessments")
    resection_date = models.DateField()
    tumor_size_cm = models.DecimalField(
        "largest tumor diameter (cm)", max_digits=3, decimal_places=1
    )
    tumor_count = models.PositiveSmallIntegerField("number of tumors")
    vascular_invasion = models.CharField(max_length=32, choices=rules.VASCULAR_INVASION)
    cirrhosis_grade = models.CharField(max_length=16, choices=rules.CIRRHOSIS_GRADES)
    prior_adjuvant_tace_sessions = models.PositiveSmallIntegerField(
        "prior adjuvant TACE sessions", default=0
    )
    # Ruleset 2's optional liver-function panel: all five values or none.
    bilirubin = models.DecimalField(
        "total bilirubin", max_digits=6, decimal_places=2, null=True, blank=True
    )
    bilirubin_unit = models.CharField(
        max_length=8, choices=rules.BILIRUBIN_UNITS, null=True, blank=True
    )
    albumin = models.DecimalField(
        "serum albumin", max_digits=4, decimal_places=2, null=True, blank=True
    )
    albumin_unit = models.CharField(
        max_length=8, choices=rules.ALBUMIN_UNITS, null=True, blank=True
    )
    inr = models.DecimalField("INR", max_digits=4, decimal_places=2, null=True, blank=True)
    ascites = models.CharField(max_length=16, choices=rules.ASCITES, null=True, blank=True)
    encephalopathy = models.CharField(
        max_length=16, choices=rules.ENCEPHALOPATHY, null=True, blank=True
    )
    notes = models.TextField(blank=True, max_length=5000)

    ruleset = models.CharField(max_length=8)
    recommendation = models.CharField(max_length=32, choices=rules.RECOMMENDATIONS)
    risk_level = models.CharField(max_length=8, choices=rules.RISK_LEVELS)
    risk_factors = models.JSONField(default=list)
    contraindications = models.JSONField(default=list)
    cautions = models.JSONField(default=list)
    rationale = models.JSONField(default=list)
    child_pugh_score = models.PositiveSmallIntegerField(null=True, blank=True)
    child_pugh_class = models.CharField("Child-Pugh class", max_length=1, null=True, blank=True)
    albi_score = models.DecimalField(
        "ALBI score", max_digits=5, decimal_places=3, null=True, blank=True
    )
    albi_grade = models.PositiveSmallIntegerField("ALBI grade", null=True, blank=True)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    # Optimistic concurrency: every save through the services adds one.
    version = models.PositiveIntegerField(default=1)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    signature_meaning = models.CharField(max_length=64, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.TextField(blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

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
        ]
        permissions = [
            ("sign_assessment", "Can sign an assessment"),
            ("void_assessment", "Can void an assessment"),
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
        ]

    def __str__(self):
        return f"Assessment {self.pk} of {self.patient}"

    def get_absolute_url(self):
        return reverse("assessments:detail", args=[self.pk])

    @property
    def is_voided(self) -> bool:
        return self.status == self.Status.VOIDED

    @property
    def rule_inputs(self) -> rules.Inputs:
        return rules.Inputs.from_data(
            {name: getattr(self, name) for name in self.RULE_INPUTS + self.PANEL_INPUTS}
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
    def newer_ruleset(self) -> str | None:
        return rules.LATEST_RULESET if self.ruleset != rules.LATEST_RULESET else None

    def first_session_window(self):
        """The first session's window, for a recommendation of the first session only:
        after a prior session, the next one is a second session, with no window."""
        if self.recommendation != rules.RECOMMENDED or self.prior_adjuvant_tace_sessions:
            return None
        return rules.first_session_window(self.resection_date)


class AuditEvent(models.Model):
    """An append-only, hash-chained record of what history tables do not capture."""

    class Action(models.TextChoices):
        LOGIN = "login", "Logged in"
        LOGOUT = "logout", "Logged out"
        LOGIN_FAILED = "login_failed", "Failed login"
        LOCKED_OUT = "locked_out", "Locked out"
        VIEW_ASSESSMENT = "view_assessment", "Viewed an assessment"
        VIEW_HISTORY = "view_history", "Viewed an assessment's history"
        VIEW_PATIENT = "view_patient", "Viewed a patient's assessments"
        EXPORT = "export", "Exported"
        PERMISSION_DENIED = "permission_denied", "Refused: no permission"
        USER_CHANGED = "user_changed", "User or group changed"
        # Through the REST API (api/): each names the token in its detail.
        API_EVALUATE = "api_evaluate", "API: scored inputs (nothing stored)"
        API_LIST = "api_list", "API: listed assessments"
        API_LOOKUP = "api_lookup", "API: looked up a patient by MRN"
        API_CREATE = "api_create", "API: created an assessment"
        API_AMEND = "api_amend", "API: amended an assessment"
        API_VOID = "api_void", "API: voided an assessment"
        API_TOKEN = "api_token", "API token created or revoked"

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
    action = models.CharField(max_length=32, choices=Action.choices)
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

    def compute_hash(self) -> str:
        payload = json.dumps(
            [
                self.prev_hash,
                self.timestamp.astimezone(UTC).isoformat(),
                self.user_id,
                self.username,
                self.action,
                self.object_type,
                self.object_id,
                self.patient_id,
                self.client_ip,
                self.detail,
            ],
            sort_keys=True,
            separators=(",", ":"),
        )
        return hashlib.sha256(payload.encode()).hexdigest()
