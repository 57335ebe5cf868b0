from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from . import rules

MRN_VALIDATOR = RegexValidator(
    r"^[A-Za-z0-9-]{1,32}\Z", "An MRN is 1 to 32 letters, digits or hyphens."
)


class Patient(models.Model):
    """A patient, known here only by the hospital's medical record number."""

    mrn = models.CharField("MRN", max_length=32, unique=True, validators=[MRN_VALIDATOR])
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

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
    notes = models.TextField(blank=True, max_length=5000)

    ruleset = models.CharField(max_length=8)
    recommendation = models.CharField(max_length=32, choices=rules.RECOMMENDATIONS)
    risk_level = models.CharField(max_length=8, choices=rules.RISK_LEVELS)
    risk_factors = models.JSONField(default=list)
    contraindications = models.JSONField(default=list)
    cautions = models.JSONField(default=list)
    rationale = models.JSONField(default=list)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
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
        ]

    def __str__(self):
        return f"Assessment {self.pk} of {self.patient}"

    def get_absolute_url(self):
        return reverse("assessments:detail", args=[self.pk])

    def rule_inputs(self) -> rules.Inputs:
        return rules.Inputs(
            tumor_size_cm=self.tumor_size_cm,
            tumor_count=self.tumor_count,
            vascular_invasion=self.vascular_invasion,
            cirrhosis_grade=self.cirrhosis_grade,
            prior_adjuvant_tace_sessions=self.prior_adjuvant_tace_sessions,
        )

    def first_session_window(self):
        if self.recommendation != rules.RECOMMENDED:
            return None
        return rules.first_session_window(self.resection_date)
