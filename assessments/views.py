from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from . import rules, services
from .forms import AssessmentForm
from .models import Assessment, Patient

PAGE_SIZE = 25


def assessment_list(request):
    assessments = Assessment.objects.select_related("patient", "created_by")
    query = request.GET.get("q", "").strip()
    if query:
        assessments = assessments.filter(patient__mrn__startswith=query.upper())
    recommendation = request.GET.get("recommendation", "")
    if recommendation in rules.RECOMMENDATIONS:
        assessments = assessments.filter(recommendation=recommendation)
    page = Paginator(assessments, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "assessments/assessment_list.html",
        {
            "page": page,
            "query": query,
            "recommendation": recommendation,
            "recommendations": rules.RECOMMENDATIONS,
        },
    )


def assessment_create(request):
    form = AssessmentForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        assessment = services.record_assessment(
            data=form.cleaned_data, inputs=form.rule_inputs(), user=request.user
        )
        return redirect(assessment)
    return render(request, "assessments/assessment_form.html", {"form": form})


def assessment_detail(request, pk):
    assessment = get_object_or_404(
        Assessment.objects.select_related("patient", "created_by"), pk=pk
    )
    window = assessment.first_session_window()
    return render(
        request,
        "assessments/assessment_detail.html",
        {
            "assessment": assessment,
            "window": window,
            "window_passed": window is not None
            and timezone.localtime(assessment.created_at).date() > window[1],
            "factors": [(c, rules.RISK_FACTORS[c]) for c in assessment.risk_factors],
            "contraindications": [
                (c, rules.CONTRAINDICATIONS[c]) for c in assessment.contraindications
            ],
            "cautions": [(c, rules.CAUTIONS[c]) for c in assessment.cautions],
        },
    )


def patient_detail(request, pk):
    patient = get_object_or_404(Patient, pk=pk)
    assessments = patient.assessments.select_related("created_by")
    return render(
        request,
        "assessments/patient_detail.html",
        {"patient": patient, "assessments": assessments},
    )
