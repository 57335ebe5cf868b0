"""SMART App Launch (EHR launch) against a fake EHR served in-process: the happy path
and each refusal, the framing, the cookies, and the client registration."""

import io
import json
import time
from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import formats
from joserfc.jwk import RSAKey

from assessments.models import AuditEvent
from ehr.actions import Action as EhrAction
from ehr.models import SmartClient, SmartUser
from tests.ehr.conftest import FakeEhr as CdsEhr
from tests.ehr.conftest import hook_request, observation, schema_errors
from tests.factories import events, make_user, record

from .fake_smart import CLIENT_ID, FHIR_USER, MRN_SYSTEM, FakeSmartEhr, patient_resource

Action = AuditEvent.Action
SCOPES = "launch openid fhirUser patient/Patient.rs patient/Observation.rs"


def register(ehr, *extra, stdin=None):
    args = ["smart_client", "add", "--iss", ehr.iss, "--client-id", CLIENT_ID]
    args += ["--mrn-system", MRN_SYSTEM, "--frame-origin", ehr.origin, *extra]
    call_command(*args, stdout=io.StringIO())


@pytest.fixture
def ehr(db, django_user_model):
    with FakeSmartEhr() as ehr:
        register(ehr)
        ehr.user = make_user(django_user_model, "dr-lee", "Clinicians")
        call_command(
            "smart_client", "map-user", "--iss", ehr.iss, "--fhir-user", FHIR_USER,
            "--user", "dr-lee", stdout=io.StringIO(),
        )  # fmt: skip
        yield ehr


def start(client, ehr, iss=None):
    """The app's answer to the EHR's launch, and the query of its authorization request."""
    response = client.get("/smart/launch", {"iss": iss or ehr.iss, "launch": "launch-abc"})
    if response.status_code != 302:
        return response, None
    return response, {k: v[0] for k, v in parse_qs(urlsplit(response["Location"]).query).items()}


def authorize(response) -> str:
    """What the EHR's authorization server answers: the callback's path and query."""
    answer = requests.get(response["Location"], allow_redirects=False, timeout=5)
    location = urlsplit(answer.headers["Location"])
    return f"{location.path}?{location.query}"


def launch(client, ehr):
    response, _ = start(client, ehr)
    assert response.status_code == 302
    return client.get(authorize(response))


def refusal(reason):
    refused = events(EhrAction.SMART_REFUSED)
    assert [event.detail["reason"] for event in refused] == [reason]
    return refused[0]


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_authorization_request_is_an_ehr_launch_with_pkce(client, ehr):
    response, query = start(client, ehr)
    assert response["Location"].startswith(f"{ehr.origin}/auth/authorize?")
    assert query["response_type"] == "code"
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == "http://testserver/smart/callback"
    assert query["aud"] == ehr.iss
    assert query["launch"] == "launch-abc"
    assert query["scope"] == SCOPES
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43 and query["state"] and query["nonce"]
    # The verifier stays in the session, never in the request.
    assert client.session["smart_pending"]["verifier"] not in response["Location"]
    assert events(EhrAction.SMART_LAUNCH)[0].detail["step"] == "authorization_requested"


def test_a_mapped_user_lands_logged_in_on_the_patients_page(client, ehr):
    assessment = record(ehr.user)
    response = launch(client, ehr)
    assert response.status_code == 302
    assert response["Location"] == assessment.patient.get_absolute_url()
    assert logged_in(client) and client.session["_auth_user_id"] == str(ehr.user.pk)
    page = client.get(response["Location"])
    assert page.status_code == 200 and b"MRN-1" in page.content
    # The verifier went to the token endpoint, the access token to the FHIR read.
    asked = ehr.authorize_requests[0]
    assert ehr.token_requests[0]["form"]["code_verifier"]
    assert ehr.fhir_requests[-1]["path"] == f"/fhir/Patient/{ehr.patient['id']}"
    landed = [e for e in events(EhrAction.SMART_LAUNCH) if e.detail["step"] == "logged_in"]
    assert landed[0].user == ehr.user and landed[0].patient == assessment.patient
    assert landed[0].detail["fhir_user"] == FHIR_USER
    assert [e.detail["use"] for e in events(EhrAction.SMART_TOKEN)] == [
        "code_exchange",
        "read_patient",
    ]
    assert len(events(Action.LOGIN)) == 1
    # No token, verifier or code in the audit trail, nor in the session once launched.
    secrets_seen = [*ehr.access_tokens, asked["state"], asked["nonce"]]
    trail = json.dumps([e.detail for e in AuditEvent.objects.all()])
    session = json.dumps(dict(client.session))
    for secret in secrets_seen:
        assert secret not in trail and secret not in session


def test_an_unknown_patient_opens_a_new_assessment_with_the_mrn(client, ehr):
    ehr.patient = patient_resource(mrn="MRN-NEW-5")
    response = launch(client, ehr)
    assert response["Location"] == "/assessments/new/"
    form = client.get("/assessments/new/")
    assert form.context["form"].initial["mrn"] == "MRN-NEW-5"
    # Once: the next new assessment starts empty.
    assert "mrn" not in client.get("/assessments/new/").context["form"].initial


def test_a_new_assessment_gets_the_ehrs_newest_labs_with_date_and_source(client, ehr):
    ehr.patient = patient_resource(mrn="MRN-NEW-6")
    ehr.observations = [
        # JSON text from the EHR: 30.5 reaches the form as the Decimal 30.5.
        observation("bilirubin", 30.5, "2026-11-20T08:00:00+00:00"),
        observation("albumin", 35, "2026-11-21"),
        {**observation("inr", 1.1, "2026-11-22"), "valueQuantity": {"value": 1}},
    ]
    launch(client, ehr)
    form = client.get("/assessments/new/").context["form"]
    assert form.initial["mrn"] == "MRN-NEW-6"
    assert form.initial["bilirubin"] == "30.5" and form.initial["bilirubin_unit"] == "umol_l"
    assert form.initial["albumin"] == "35" and form.initial["albumin_unit"] == "g_l"
    day = formats.date_format(date(2026, 11, 20))
    assert form.fields["bilirubin"].help_text.startswith(f"From the EHR ({ehr.iss}), dated {day}.")
    assert "From the EHR" in form.fields["albumin"].help_text
    # An INR without a UCUM unit and no unit at all is a ratio: kept; the search was audited.
    assert form.initial["inr"] == "1"
    uses = [e.detail["use"] for e in events(EhrAction.SMART_TOKEN)]
    assert uses == ["code_exchange", "read_patient", "search_bilirubin", "search_albumin",
                    "search_inr"]  # fmt: skip


def test_a_lab_the_app_cannot_read_is_left_out(client, ehr):
    ehr.patient = patient_resource(mrn="MRN-NEW-7")
    bad = observation("albumin", 35, "2026-11-21")
    bad["valueQuantity"]["code"] = bad["valueQuantity"]["unit"] = "mmol/L"
    ehr.observations = [observation("bilirubin", 20, "2026-11-20"), bad]
    launch(client, ehr)
    form = client.get("/assessments/new/").context["form"]
    assert form.initial["bilirubin"] == "20" and "albumin" not in form.initial


def test_a_known_patient_lands_on_the_page_without_reading_labs(client, ehr):
    record(ehr.user)
    ehr.observations = [observation("bilirubin", 20, "2026-11-20")]
    launch(client, ehr)
    assert not any(r["path"] == "/fhir/Observation" for r in ehr.fhir_requests)


def test_a_cards_app_context_opens_its_assessment(client, ehr):
    assessment = record(ehr.user)
    ehr.app_context = json.dumps({"assessment": assessment.pk})
    assert launch(client, ehr)["Location"] == assessment.get_absolute_url()


def test_an_app_context_of_another_patient_is_ignored(client, ehr):
    record(ehr.user)
    other = record(ehr.user, mrn="MRN-2")
    ehr.app_context = json.dumps({"assessment": other.pk})
    assert launch(client, ehr)["Location"] != other.get_absolute_url()


def test_an_unregistered_iss_is_refused_without_calling_it(client, ehr):
    response, _ = start(client, ehr, iss="https://evil.example/fhir")
    assert response.status_code == 403
    assert b"not registered" in response.content
    assert refusal("unregistered_iss").detail["iss"] == "https://evil.example/fhir"
    assert ehr.fhir_requests == []
    assert response["X-Frame-Options"] == "DENY"


def test_a_wrong_state_is_refused(client, ehr):
    response, _ = start(client, ehr)
    callback = authorize(response).replace("state=", "state=forged")
    answer = client.get(callback)
    assert answer.status_code == 403
    refusal("wrong_state")
    assert not logged_in(client)
    assert ehr.token_requests == []  # the code is never exchanged


def test_a_callback_without_a_launch_is_refused(client, ehr):
    answer = client.get("/smart/callback", {"code": "x", "state": "y"})
    assert answer.status_code == 403
    refusal("no_launch_under_way")


def test_the_state_is_used_once(client, ehr):
    response, _ = start(client, ehr)
    callback = authorize(response)
    client.get(callback)
    client.post("/accounts/logout/")
    assert client.get(callback).status_code == 403
    refusal("no_launch_under_way")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"aud": "another-app"}, "id_token_aud"),
        ({"nonce": "another-launch"}, "id_token_nonce"),
        ({"nonce": None}, "id_token_nonce"),
        ({"iss": "https://other-idp.example"}, "id_token_iss"),
        ({"exp": int(time.time()) - 120}, "id_token_expired"),
        ({"exp": None}, "id_token_exp"),
    ],
)
def test_a_bad_id_token_is_refused(client, ehr, change, reason):
    ehr.id_token_changes = change
    answer = launch(client, ehr)
    assert answer.status_code == 403
    assert b"identity token could not be verified" in answer.content
    refusal(reason)
    assert not logged_in(client)


def test_an_id_token_within_the_clock_skew_is_accepted(client, ehr):
    ehr.id_token_changes = {"exp": int(time.time()) - 30}
    assert launch(client, ehr).status_code == 302
    assert logged_in(client)


def test_an_id_token_signed_by_another_key_is_refused(client, ehr):
    ehr.sign_with = ehr.other_key
    assert launch(client, ehr).status_code == 403
    refusal("id_token_signature")
    assert not logged_in(client)


def test_an_unknown_fhir_user_is_refused_and_no_user_made(client, ehr):
    ehr.fhir_user = "Practitioner/999"
    users = get_user_model().objects.count()
    answer = launch(client, ehr)
    assert answer.status_code == 403
    assert b"not mapped to a user" in answer.content
    refusal("unknown_fhir_user")
    assert not logged_in(client)
    assert get_user_model().objects.count() == users


def test_a_mapped_but_inactive_user_is_refused(client, ehr):
    ehr.user.is_active = False
    ehr.user.save()
    assert launch(client, ehr).status_code == 403
    refusal("unknown_fhir_user")


def test_a_patient_without_an_mrn_is_refused(client, ehr):
    ehr.patient = patient_resource(system="urn:some:other:hospital")
    answer = launch(client, ehr)
    assert answer.status_code == 403
    assert b"no MRN of this hospital" in answer.content
    refusal("no_mrn")
    assert not logged_in(client)


def test_the_ehr_denying_the_authorization_is_refused(client, ehr):
    response, _ = start(client, ehr)
    assert client.get("/smart/callback?error=access_denied&state=x").status_code == 403
    refusal("authorization_denied")


def test_a_token_exchange_refused_by_the_ehr_is_refused(client, ehr):
    response, _ = start(client, ehr)
    callback = authorize(response)
    ehr.codes.clear()  # the EHR forgot the code
    assert client.get(callback).status_code == 403
    refusal("token_exchange_failed")
    assert events(EhrAction.SMART_TOKEN)[0].detail["status"] != "ok"


def test_a_confidential_client_sends_its_secret(db, client, django_user_model, monkeypatch):
    with FakeSmartEhr() as ehr:
        ehr.client_secret = "s3cret-from-the-ehr"
        monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-from-the-ehr\n"))
        register(ehr, "--client-secret")
        user = make_user(django_user_model, "dr-lee", "Clinicians")
        SmartUser.objects.create(client=SmartClient.objects.get(), fhir_user=FHIR_USER, user=user)
        assert launch(client, ehr).status_code == 302
        assert ehr.token_requests[0]["authorization"].startswith("Basic ")
        assert logged_in(client)
        listing = io.StringIO()
        call_command("smart_client", "list", stdout=listing)
        assert "s3cret" not in listing.getvalue()
        assert "s3cret" not in json.dumps([e.detail for e in AuditEvent.objects.all()])


def test_a_client_with_a_private_key_signs_its_assertion(db, client, django_user_model, tmp_path):
    app_key = RSAKey.generate_key(2048, parameters={"kid": "app-1", "alg": "RS384"})
    path = tmp_path / "app-key.json"
    path.write_text(json.dumps({"keys": [app_key.as_dict(private=True)]}))
    with FakeSmartEhr() as ehr:
        ehr.client_key = RSAKey.import_key(app_key.as_dict(private=False))
        register(ehr, "--jwks-file", str(path))
        user = make_user(django_user_model, "dr-lee", "Clinicians")
        SmartUser.objects.create(client=SmartClient.objects.get(), fhir_user=FHIR_USER, user=user)
        assert launch(client, ehr).status_code == 302
        assert logged_in(client)
        assert ehr.token_requests[0]["form"]["client_assertion"]


def test_a_public_key_file_is_refused_for_private_key_jwt(db, tmp_path):
    public = RSAKey.generate_key(2048, parameters={"kid": "app-1"}).as_dict(private=False)
    path = tmp_path / "public.json"
    path.write_text(json.dumps({"keys": [public]}))
    with pytest.raises(CommandError, match="private RSA or EC key"):
        call_command(
            "smart_client", "add", "--iss", "https://ehr.example/fhir", "--client-id", "x",
            "--mrn-system", MRN_SYSTEM, "--jwks-file", str(path), stdout=io.StringIO(),
        )  # fmt: skip


def test_the_launched_session_is_framed_by_the_ehr_only(client, ehr, settings):
    settings.SMART_FRAMED_COOKIES = True
    assessment = record(ehr.user)
    response = launch(client, ehr)
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["samesite"] == "None" and cookie["secure"]
    assert cookie.output().endswith("; Partitioned")
    page = client.get(assessment.patient.get_absolute_url())
    assert "X-Frame-Options" not in page
    policy = page["Content-Security-Policy"]
    assert (
        f"frame-ancestors {ehr.origin}" in policy
        and "'none'" not in policy.split("frame-ancestors")[1].split(";")[0]
    )
    assert "default-src 'self'" in policy


def test_a_password_session_stays_unframeable(client, clinician, settings):
    settings.SMART_FRAMED_COOKIES = True
    client.force_login(clinician)
    page = client.get("/")
    assert page["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]
    login = client.post(
        "/accounts/login/", {"username": clinician.username, "password": "x"}, follow=False
    )
    cookie = login.cookies.get(settings.SESSION_COOKIE_NAME)
    assert cookie is None or cookie["samesite"] != "None"


def test_framed_cookies_stay_lax_without_the_setting(client, ehr):
    response = launch(client, ehr)
    assert response.cookies["sessionid"]["samesite"] == "Lax"


def test_an_http_iss_off_loopback_is_refused_at_registration(db):
    with pytest.raises(CommandError, match="https"):
        call_command(
            "smart_client", "add", "--iss", "http://ehr.example/fhir", "--client-id", "x",
            "--mrn-system", MRN_SYSTEM, stdout=io.StringIO(),
        )  # fmt: skip


def test_a_frame_origin_must_be_an_origin(db):
    with pytest.raises(CommandError, match="not an origin"):
        call_command(
            "smart_client", "add", "--iss", "https://ehr.example/fhir", "--client-id", "x",
            "--mrn-system", MRN_SYSTEM, "--frame-origin", "https://ehr.example/chart",
            stdout=io.StringIO(),
        )  # fmt: skip


def test_mapping_an_unknown_user_is_refused(ehr):
    with pytest.raises(CommandError, match="No user 'ghost'"):
        call_command(
            "smart_client", "map-user", "--iss", ehr.iss, "--fhir-user", "Practitioner/5",
            "--user", "ghost", stdout=io.StringIO(),
        )  # fmt: skip
    changes = [e.detail["change"] for e in events(EhrAction.SMART_CLIENT)]
    assert changes == ["registered", "user_mapped"]


def test_a_cds_card_links_to_the_launch_naming_its_assessment(ehr, tmp_path):
    assessment = record(ehr.user)
    cds = CdsEhr()
    cds.register(tmp_path)
    response = cds.post("/cds-services/adjuvant-tace", hook_request())
    assert schema_errors("card-response", response.json()) == []
    links = response.json()["cards"][0]["links"]
    smart = [link for link in links if link["type"] == "smart"]
    assert smart == [
        {
            "label": "Open in the app from the chart (SMART launch)",
            "url": "http://testserver/smart/launch",
            "type": "smart",
            "appContext": json.dumps({"assessment": assessment.pk}),
        }
    ]
    assert [link["type"] for link in links] == ["absolute", "smart"]


def test_no_smart_link_before_an_ehr_is_registered_to_launch(db, clinician, tmp_path):
    record(clinician)
    cds = CdsEhr()
    cds.register(tmp_path)
    links = cds.post("/cds-services/adjuvant-tace", hook_request()).json()["cards"][0]["links"]
    assert [link["type"] for link in links] == ["absolute"]
