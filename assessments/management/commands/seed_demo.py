"""Made-up patients and assessments for demonstrations and benchmarks, quickly.

Each assessment is computed by the rules engine (through the same mapping as
the services) from a spread of realistic inputs, and has the history rows a
real one would have: created, sometimes amended or re-evaluated under ruleset
2, often signed, now and then voided, each version with its user, time,
action and reason. Views of the assessments fill the audit log, hash-chained.
After the assessments, each patient's follow-up: TACE sessions (mostly inside
the first-session window when recommended, some late, some never; a few when
not recommended), recurrences that come sooner at high risk, recurrence-free
visits and some deaths, each with its history row, sealed in the chain.

Rows are written in bulk with executemany, each value prepared by its own
field as bulk_create prepares it. bulk_create itself, and simple-history's
bulk helpers built on it, also compile every value into the SQL text in
Python, which made seeding four to five times slower; history rows are made
here the way simple-history's bulk_history_create makes them, one per version
(it costs 1.6 times the seeding's time). The audit module seals them
(audit.history_seals, as it seals the app's) and chains every event
(audit.append), under the chain's lock.
"""

import os
import random
import secrets
import time
from collections import deque
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Max
from django.utils import timezone

from assessments import audit, rules, services
from assessments.models import Assessment, AuditEvent, FollowUpEvent, HistoryAction, Patient

MRN_PREFIX = "DEMO-"
CLINICIANS = 8
REVIEWERS = 2
CHUNK = 5000  # assessments built and written at a time
YEARS = 3
# The oldest 30% were made under ruleset 1, the next 30% under ruleset 2.
RULESET_2_FROM, RULESET_3_FROM = 0.3, 0.6
AMEND_REASONS = [
    "Tumor size corrected from the final pathology report.",
    "Size re-measured on the resected specimen.",
    "Entry error corrected.",
]
VOID_REASONS = ["Entered for the wrong patient.", "Duplicate of another assessment."]
# Follow-up: median months to recurrence by risk level, to death without one.
RECURRENCE_MEDIAN_MONTHS = {rules.HIGH: 16, rules.LOW: 48}
DEATH_MEDIAN_MONTHS = 150
DAYS_PER_MONTH = 30.4375
# Columns whose values (str, int or None here) go to the driver as they are.
PLAIN = {
    "CharField",
    "TextField",
    "ForeignKey",
    "BigIntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "BigAutoField",
}


def _pick(rng: random.Random, weighted: dict):
    return rng.choices(list(weighted), weights=list(weighted.values()))[0]


def _clamp(value: float, low: float, high: float) -> float:
    return min(high, max(low, value))


def liver_panel(rng: random.Random) -> dict:
    """Mostly Child-Pugh A, some B, a few C; some values in the other units."""
    bilirubin = _clamp(rng.lognormvariate(2.9, 0.5), 3, 400)  # µmol/L, median about 18
    albumin = _clamp(rng.gauss(38, 5), 18, 52)  # g/L
    mg_dl, g_dl = rng.random() < 0.15, rng.random() < 0.2
    return dict(
        bilirubin=Decimal(f"{bilirubin / 17.1:.2f}" if mg_dl else f"{bilirubin:.1f}"),
        bilirubin_unit="mg_dl" if mg_dl else "umol_l",
        albumin=Decimal(f"{albumin / 10:.1f}" if g_dl else f"{albumin:.0f}"),
        albumin_unit="g_dl" if g_dl else "g_l",
        inr=Decimal(f"{_clamp(rng.gauss(1.1, 0.15), 0.85, 3.5):.2f}"),
        ascites=_pick(rng, {"none": 85, "mild": 12, "moderate_severe": 3}),
        encephalopathy=_pick(rng, {"none": 94, "grade_1_2": 5, "grade_3_4": 1}),
    )


def rule_data(rng: random.Random, ruleset: str) -> dict:
    """Rule inputs as a form's cleaned data would hold them."""
    invasion = {"none": 60, "microvascular": 26, "portal_vein_branch": 11}
    if ruleset != rules.RULESET_1:
        invasion["portal_vein_main"] = 3
    no_panel = dict.fromkeys(Assessment.PANEL_INPUTS)
    panel = liver_panel(rng) if ruleset != rules.RULESET_1 and rng.random() < 0.7 else no_panel
    return dict(
        tumor_size_cm=Decimal(f"{_clamp(rng.lognormvariate(1.35, 0.55), 0.5, 30):.1f}"),
        tumor_count=_pick(rng, {1: 70, 2: 14, 3: 8, 4: 5, 6: 3}),
        vascular_invasion=_pick(rng, invasion),
        cirrhosis_grade=_pick(rng, {"none": 30, "mild": 40, "moderate": 22, "severe": 8}),
        prior_adjuvant_tace_sessions=_pick(rng, {0: 82, 1: 13, 2: 5}),
        **panel,
    )


class Table:
    """Rows for one table, written with executemany."""

    def __init__(self, model, *, with_pk: bool):
        self.model = model
        self.connection = connections[DEFAULT_DB_ALIAS]  # not the proxy: once per value adds up
        self.fields = [f for f in model._meta.concrete_fields if with_pk or not f.primary_key]
        self.prepare = [
            None if f.get_internal_type() in PLAIN else f.get_db_prep_save for f in self.fields
        ]
        quote = self.connection.ops.quote_name
        self.sql = "INSERT INTO {} ({}) VALUES ({})".format(
            quote(model._meta.db_table),
            ", ".join(quote(f.column) for f in self.fields),
            ", ".join(["%s"] * len(self.fields)),
        )
        self.rows = []

    def add(self, obj, **values) -> None:
        """A row of obj's attributes; values by attname take their place."""
        row, connection = [], self.connection
        for field, prepare in zip(self.fields, self.prepare, strict=True):
            value = (
                values[field.attname] if field.attname in values else getattr(obj, field.attname)
            )
            row.append(value if prepare is None or value is None else prepare(value, connection))
        self.rows.append(row)

    def history(self, obj, *, action: str, when, user, reason=None) -> None:
        """A history row of obj as it is now, as simple-history writes one."""
        self.add(
            obj,
            history_date=when,
            history_user_id=user.pk,
            history_change_reason=reason,
            history_type="+" if action == HistoryAction.CREATED else "~",
            action=action,
        )

    def write(self) -> int:
        with self.connection.cursor() as cursor:
            cursor.executemany(self.sql, self.rows)
        written, self.rows = len(self.rows), []
        return written


class Seeder:
    def __init__(self, *, count: int, clinicians, reviewers, seed: int):
        self.count, self.clinicians, self.reviewers = count, clinicians, reviewers
        self.rng = random.Random(seed)
        self.now = timezone.now()
        self.first = self.now - timedelta(days=365 * YEARS)
        self.recent = deque(maxlen=200)  # patients a follow-up assessment may be for
        self.number = Patient.objects.filter(mrn__startswith=MRN_PREFIX).count()
        self.next_id = {
            model: (model.objects.aggregate(last=Max("id"))["last"] or 0) + 1
            for model in (Patient, Assessment, FollowUpEvent)
        }
        self.tables = {
            "patients": Table(Patient, with_pk=True),
            "patient history": Table(Patient.history.model, with_pk=False),
            "assessments": Table(Assessment, with_pk=True),
            "assessment history": Table(Assessment.history.model, with_pk=False),
            "follow-up events": Table(FollowUpEvent, with_pk=True),
            "follow-up history": Table(FollowUpEvent.history.model, with_pk=False),
            "audit events": Table(AuditEvent, with_pk=False),
        }
        self.written = dict.fromkeys(self.tables, 0)
        self.last_history = {
            name: self.tables[name].model.objects.aggregate(last=Max("history_id"))["last"] or 0
            for name in ("patient history", "assessment history", "follow-up history")
        }
        self.users = {user.pk: user for user in [*clinicians, *reviewers]}
        self.events: list[AuditEvent] = []  # of the chunk, chained when it is written
        self.of_patient: dict[int, list[Assessment]] = {}  # not voided

    def run(self) -> None:
        step = (self.now - self.first) / max(self.count, 1)
        for index in range(self.count):
            self.add_assessment(index, self.first + step * (index + self.rng.random()))
            if (index + 1) % CHUNK == 0 or index + 1 == self.count:
                self.write_chunk()
        self.add_follow_up()
        # Explicit ids leave PostgreSQL's sequences behind; SQLite keeps up by itself.
        connection = connections[DEFAULT_DB_ALIAS]
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(
                no_style(), [Patient, Assessment, FollowUpEvent]
            ):
                cursor.execute(sql)

    def new_id(self, model) -> int:
        self.next_id[model] += 1
        return self.next_id[model] - 1

    def later(self, moment, low_hours: float, high_hours: float):
        return min(self.now, moment + timedelta(hours=self.rng.uniform(low_hours, high_hours)))

    def add_assessment(self, index: int, moment) -> None:
        rng = self.rng
        clinician = rng.choice(self.clinicians)
        # Every other assessment is a new patient's; the rest follow up a recent one.
        if index % 2 == 0 or not self.recent:
            patient = Patient(
                id=self.new_id(Patient), mrn=f"{MRN_PREFIX}{self.number:05d}", created_at=moment
            )
            self.number += 1
            self.recent.append(patient)
            self.tables["patients"].add(patient)
            self.tables["patient history"].history(
                patient, action=HistoryAction.CREATED, when=moment, user=clinician
            )
        else:
            patient = rng.choice(self.recent)
        ruleset = (
            rules.RULESET_1
            if index < self.count * RULESET_2_FROM
            else rules.RULESET_2
            if index < self.count * RULESET_3_FROM
            else rules.RULESET_3
        )
        assessment = Assessment(
            id=self.new_id(Assessment),
            patient=patient,
            created_by=clinician,
            created_at=moment,
            updated_at=moment,
        )
        data = {
            "resection_date": (moment - timedelta(days=rng.randint(7, 60))).date(),
            **rule_data(rng, ruleset),
        }
        services.apply_inputs(assessment, data=data, ruleset=ruleset)
        history = self.tables["assessment history"]
        history.history(assessment, action=HistoryAction.CREATED, when=moment, user=clinician)
        for action, when, user, reason in self.story(assessment):
            history.history(assessment, action=action, when=when, user=user, reason=reason)
        self.tables["assessments"].add(assessment)  # as its last version left it
        self.add_views(assessment)
        if not assessment.is_voided:
            self.of_patient.setdefault(patient.pk, []).append(assessment)

    def story(self, assessment: Assessment):
        """Change the assessment step by step as the services would; yield each step."""
        rng, moment = self.rng, assessment.created_at
        clinician = assessment.created_by
        if assessment.ruleset == rules.RULESET_1 and rng.random() < 0.25:
            moment = self.next_version(assessment, 24 * 30, 24 * 400)
            self.amend(assessment, **liver_panel(rng))
            yield HistoryAction.AMENDED, moment, clinician, services.REEVALUATION_REASON
        elif rng.random() < 0.08:
            moment = self.next_version(assessment, 1, 48)
            size = _clamp(float(assessment.tumor_size_cm) + rng.choice([-0.5, 0.3, 1.2]), 0.5, 30)
            self.amend(assessment, tumor_size_cm=Decimal(f"{size:.1f}"))
            yield HistoryAction.AMENDED, moment, clinician, rng.choice(AMEND_REASONS)
        if rng.random() < 0.65:
            moment = self.next_version(assessment, 1, 72)
            signer = rng.choice(self.clinicians)
            assessment.status = Assessment.Status.SIGNED
            assessment.signed_by, assessment.signed_at = signer, moment
            assessment.signature_meaning = Assessment.SIGNATURE_MEANING
            yield HistoryAction.SIGNED, moment, signer, None
        if rng.random() < 0.02:
            moment = self.next_version(assessment, 1, 96)
            assessment.status = Assessment.Status.VOIDED
            assessment.voided_by, assessment.voided_at = clinician, moment
            assessment.void_reason = rng.choice(VOID_REASONS)
            yield HistoryAction.VOIDED, moment, clinician, assessment.void_reason

    def next_version(self, assessment: Assessment, low_hours: float, high_hours: float):
        """A version some hours after the last one; return its time."""
        assessment.updated_at = self.later(assessment.updated_at, low_hours, high_hours)
        assessment.version += 1
        return assessment.updated_at

    def amend(self, assessment: Assessment, **changes) -> None:
        names = ["resection_date", "notes", *Assessment.RULE_INPUTS, *Assessment.PANEL_INPUTS]
        data = {name: getattr(assessment, name) for name in names} | changes
        # A new liver panel is a re-evaluation under the newest ruleset.
        ruleset = rules.LATEST_RULESET if "bilirubin" in changes else assessment.ruleset
        services.apply_inputs(assessment, data=data, ruleset=ruleset)

    def add_views(self, assessment: Assessment) -> None:
        """The clinician views the result; a reviewer looks at some histories."""
        views = [(AuditEvent.Action.VIEW_ASSESSMENT, assessment.created_by, 0.01, 2)]
        if assessment.version > 1 and self.rng.random() < 0.3:
            reviewer = self.rng.choice(self.reviewers)
            views.append((AuditEvent.Action.VIEW_HISTORY, reviewer, 2, 96))
        for action, user, low, high in views:
            self.events.append(
                AuditEvent(
                    timestamp=self.later(assessment.created_at, low, high),
                    user=user,
                    username=user.username,
                    action=action,
                    object_type="assessment",
                    object_id=str(assessment.pk),
                    patient_id=assessment.patient_id,
                    client_ip="127.0.0.1",
                )
            )

    def add_follow_up(self) -> None:
        """Each patient's follow-up after the latest resection, recorded in time order."""
        events = []
        for assessments in self.of_patient.values():
            events += self.follow_up(sorted(assessments, key=lambda a: (a.resection_date, a.pk)))
        events.sort(key=lambda event: (event.created_at, event.id))
        for start in range(0, len(events), CHUNK):
            for event in events[start : start + CHUNK]:
                self.tables["follow-up events"].add(event)
                self.tables["follow-up history"].history(
                    event,
                    action=HistoryAction.CREATED,
                    when=event.created_at,
                    user=event.created_by,
                )
            self.write_chunk()

    def follow_up(self, assessments: list[Assessment]) -> list[FollowUpEvent]:
        """Dates from the latest resection to today: a recurrence or not, the last
        visit, perhaps a death; the sessions each assessment led to before the next
        resection; nothing after a death, nothing in the future."""
        rng, assessment = self.rng, assessments[-1]
        resected = assessment.resection_date
        today = self.now.date()
        # Seen until some weeks ago; one in ten lost to follow-up early.
        horizon = today - timedelta(days=rng.randint(0, 90))
        if rng.random() < 0.1:
            horizon = resected + timedelta(days=rng.randint(30, 400))
        horizon = min(horizon, today)
        if horizon <= resected:
            return []

        def months_later(median: float) -> date:
            days = rng.expovariate(0.693 / median) * DAYS_PER_MONTH
            return resected + timedelta(days=max(1, int(days)))

        recurrence = months_later(RECURRENCE_MEDIAN_MONTHS[assessment.risk_level])
        death = months_later(DEATH_MEDIAN_MONTHS)
        if recurrence < death:  # after a recurrence, death comes sooner
            death = min(death, recurrence + timedelta(days=int(rng.expovariate(1 / 500)) + 30))
        end = min(horizon, death)
        made, session = [], None
        for earlier, later in zip(assessments, [*assessments[1:], None], strict=True):
            session = self.session_date(earlier)
            before = later.resection_date if later else min(horizon, recurrence) + timedelta(1)
            if session is not None and session < before and session < death:
                made.append(self.event(earlier, FollowUpEvent.Kind.TACE_SESSION, session))
            else:
                session = None
        if recurrence <= end:
            made.append(self.event(assessment, FollowUpEvent.Kind.RECURRENCE, recurrence))
        else:
            visit = end if death > horizon else death - timedelta(days=rng.randint(1, 60))
            if visit > max(resected, session or resected):
                made.append(self.event(assessment, FollowUpEvent.Kind.NO_RECURRENCE, visit))
        if death <= horizon:
            made.append(self.event(assessment, FollowUpEvent.Kind.DEATH, death))
        return made

    def session_date(self, assessment: Assessment) -> date | None:
        rng, resected = self.rng, assessment.resection_date
        window = assessment.first_session_window()
        if window is not None:
            chance = rng.random()
            if chance < 0.7:
                return window[0] + timedelta(days=rng.randint(0, (window[1] - window[0]).days))
            if chance < 0.85:
                return window[1] + timedelta(days=rng.randint(1, 60))
            return None
        if assessment.recommendation == rules.RECOMMENDED:  # a second session
            return resected + timedelta(days=rng.randint(28, 70)) if rng.random() < 0.6 else None
        return resected + timedelta(days=rng.randint(28, 90)) if rng.random() < 0.08 else None

    def event(self, assessment: Assessment, kind: str, day: date) -> FollowUpEvent:
        rng = self.rng
        moment = datetime.combine(day, clock(9), tzinfo=UTC) + timedelta(
            hours=rng.uniform(0, 24 * 3)
        )
        moment = min(moment, self.now)
        event = FollowUpEvent(
            id=self.new_id(FollowUpEvent),
            patient_id=assessment.patient_id,
            kind=kind,
            date=day,
            created_by=rng.choice(self.clinicians),
            created_at=moment,
            updated_at=moment,
        )
        if kind == FollowUpEvent.Kind.TACE_SESSION:
            event.assessment_id = assessment.pk
            event.complications = _pick(rng, {"none": 85, "minor": 12, "major": 3})
            if event.complications != "none":
                event.complication_details = rng.choice(
                    ["Post-embolization syndrome.", "Groin haematoma.", "Transient fever."]
                )
        elif kind == FollowUpEvent.Kind.RECURRENCE:
            event.recurrence_site = _pick(rng, {"intrahepatic": 75, "extrahepatic": 10, "both": 15})
            event.found_by = _pick(rng, {"imaging": 60, "afp": 10, "both": 30})
        elif kind == FollowUpEvent.Kind.DEATH:
            event.death_cause = _pick(
                rng, {"hcc": 60, "liver_failure": 20, "other": 15, "unknown": 5}
            )
        return event

    def write_chunk(self) -> None:
        for name, table in self.tables.items():
            if name != "audit events":
                self.written[name] += table.write()
        for name in self.last_history:
            history_model = self.tables[name].model
            seals = audit.history_seals(
                history_model, after=self.last_history[name], users=self.users
            )
            if seals:
                self.last_history[name] = int(seals[-1].object_id)
            self.events += seals
        self.events.sort(key=lambda event: event.timestamp)
        audit.append(self.events, store=self.store_events)  # chained under the chain's lock
        self.events = []

    def store_events(self, events: list[AuditEvent]) -> None:
        table = self.tables["audit events"]
        for event in events:
            table.add(event)
        self.written["audit events"] += table.write()


def demo_users(password: str):
    """demo-clinician-1.. and demo-reviewer-1.., in their groups, with the demo password."""
    User = get_user_model()
    hashed = make_password(password)  # once: the hasher is slow on purpose
    made = {}
    for role, group, count in (
        ("clinician", "Clinicians", CLINICIANS),
        ("reviewer", "Reviewers", REVIEWERS),
    ):
        made[role] = []
        for number in range(1, count + 1):
            user, _ = User.objects.get_or_create(username=f"demo-{role}-{number}")
            user.password = hashed
            user.save()
            user.groups.add(Group.objects.get(name=group))
            made[role].append(user)
    return made["clinician"], made["reviewer"]


class Command(BaseCommand):
    help = (
        "Add made-up patients (MRN DEMO-00000, ...), assessments and follow-up events, "
        "with their history and audit events, and demo users. Only with debug on."
    )

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=1000, help="Assessments to add.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Add to a database that also holds patients other than the demo's.",
        )
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")

    def handle(self, *args, count, force, seed, **options):
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo adds made-up patients: it runs only with DJANGO_DEBUG=1, "
                "never on a production database."
            )
        if count < 0:
            raise CommandError("--count must be 0 or more.")
        if not force and Patient.objects.exclude(mrn__startswith=MRN_PREFIX).exists():
            raise CommandError(
                f"This database holds patients whose MRN does not begin with {MRN_PREFIX}: "
                "it is not a demo database. Use --force to add demo data to it anyway."
            )
        # Given for a benchmark's throw-away database; otherwise a new one, printed below.
        password = os.environ.get("SEED_DEMO_PASSWORD") or secrets.token_urlsafe(12)
        started = time.monotonic()
        with transaction.atomic():
            clinicians, reviewers = demo_users(password)
            seeder = Seeder(count=count, clinicians=clinicians, reviewers=reviewers, seed=seed)
            seeder.run()
        written = ", ".join(f"{number} {name}" for name, number in seeder.written.items())
        self.stdout.write(
            f"Added {written} in {time.monotonic() - started:.1f} s.\n"
            f"Demo users: demo-clinician-1 to -{CLINICIANS} (Clinicians), demo-reviewer-1 to "
            f"-{REVIEWERS} (Reviewers); password: {password}"
        )
