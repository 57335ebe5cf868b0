import json
import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from assessments import audit
from ehr import smart
from ehr.actions import Action
from ehr.models import SmartClient, SmartUser


def _private_jwks(path: str) -> dict:
    """The app's private key for private_key_jwt: one RSA or EC key with its `kid`."""
    try:
        with open(path, encoding="utf-8") as file:
            jwks = json.load(file)
    except (OSError, ValueError) as error:
        raise CommandError(f"{path}: {error}") from None
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(keys, list) or len(keys) != 1 or not isinstance(keys[0], dict):
        raise CommandError(f'{path}: a JWKS {{"keys": [...]}} with exactly one private key')
    key = keys[0]
    if key.get("kty") not in ("RSA", "EC") or "d" not in key or not key.get("kid"):
        raise CommandError(f"{path}: the key must be a private RSA or EC key with a kid")
    return jwks


class Command(BaseCommand):
    help = (
        "Register an EHR allowed to launch the app (SMART App Launch: its FHIR base URL, "
        "the client id it gave the app, the MRN identifier system, the origins that may "
        "frame the app), map its users (fhirUser) to users of the app, remove, or list."
    )

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="command", required=True)
        add = commands.add_parser("add", help="Register a SMART launch client.")
        add.add_argument("--iss", required=True, help="The EHR's FHIR base URL, exactly.")
        add.add_argument("--client-id", required=True, help="The client id the EHR gave.")
        secret = add.add_mutually_exclusive_group()
        secret.add_argument(
            "--client-secret",
            action="store_true",
            help="A confidential client: read its secret from standard input.",
        )
        secret.add_argument(
            "--jwks-file", help="private_key_jwt: a JSON file with the app's private key."
        )
        add.add_argument(
            "--mrn-system",
            required=True,
            help="The Patient.identifier.system under which the EHR holds the hospital's MRN.",
        )
        add.add_argument(
            "--frame-origin",
            action="append",
            default=[],
            help="An origin whose pages may frame the launched app (repeat for more).",
        )
        remove = commands.add_parser("remove", help="Remove a client and its user mappings.")
        remove.add_argument("--iss", required=True)
        map_user = commands.add_parser("map-user", help="Map a fhirUser to a user of the app.")
        unmap_user = commands.add_parser("unmap-user", help="Remove a fhirUser's mapping.")
        for sub in (map_user, unmap_user):
            sub.add_argument("--iss", required=True)
            sub.add_argument("--fhir-user", required=True, help="e.g. Practitioner/123")
        map_user.add_argument("--user", required=True, help="The app's user name.")
        commands.add_parser("list", help="List the clients and their user mappings.")

    def handle(self, *args, command, **options):
        getattr(self, command.replace("-", "_"))(**options)

    def _log(self, client, detail):
        audit.log_event(action=Action.SMART_CLIENT, obj=client, detail=detail)

    def _client(self, iss) -> SmartClient:
        client = SmartClient.objects.filter(iss=smart.normalized_iss(iss)).first()
        if client is None:
            raise CommandError(f"No SMART launch client {iss!r}.")
        return client

    def add(self, *, iss, client_id, client_secret, jwks_file, mrn_system, frame_origin, **_):
        iss, client_id, mrn_system = (
            smart.normalized_iss(iss),
            client_id.strip(),
            mrn_system.strip(),
        )
        if not smart.is_allowed_url(iss):
            raise CommandError("--iss must be an https:// URL (http:// only on loopback).")
        if not client_id or not mrn_system:
            raise CommandError("--client-id and --mrn-system may not be empty.")
        try:
            origins = sorted({smart.origin_of(origin) for origin in frame_origin})
        except ValueError as error:
            raise CommandError(f"--frame-origin: {error}") from None
        fields = {"auth_method": SmartClient.Auth.PUBLIC}
        if client_secret:
            secret = sys.stdin.readline().strip()
            if not secret:
                raise CommandError("--client-secret: no secret on standard input.")
            fields = {"auth_method": SmartClient.Auth.SECRET, "client_secret": secret}
        elif jwks_file:
            fields = {"auth_method": SmartClient.Auth.PRIVATE_KEY}
            fields["private_jwks"] = _private_jwks(jwks_file)
        with transaction.atomic():
            if SmartClient.objects.filter(iss=iss).exists():
                raise CommandError(f"{iss!r} is registered: remove it first to replace it.")
            client = SmartClient.objects.create(
                iss=iss, client_id=client_id, mrn_system=mrn_system, frame_origins=origins, **fields
            )
            self._log(
                client,
                {
                    "change": "registered",
                    "iss": iss,
                    "client_id": client_id,
                    "auth": client.auth_method,
                    "mrn_system": mrn_system,
                    "frame_origins": origins,
                },
            )
        self.stdout.write(f"Registered {iss} ({client.get_auth_method_display()}).")

    def remove(self, *, iss, **_):
        with transaction.atomic():
            client = self._client(iss)
            self._log(client, {"change": "removed", "iss": client.iss})
            client.delete()
        self.stdout.write(f"Removed {client.iss}.")

    def map_user(self, *, iss, fhir_user, user, **_):
        client = self._client(iss)
        fhir_user = smart.relative_reference(fhir_user.strip(), client.iss)
        local = get_user_model().objects.filter(username=user).first()
        if local is None:
            raise CommandError(f"No user {user!r}: create the user and give the role first.")
        with transaction.atomic():
            mapping, created = SmartUser.objects.update_or_create(
                client=client, fhir_user=fhir_user, defaults={"user": local}
            )
            self._log(
                client,
                {"change": "user_mapped", "fhir_user": fhir_user, "user": local.get_username()},
            )
        self.stdout.write(f"{client.iss} {fhir_user} -> {local.get_username()}")

    def unmap_user(self, *, iss, fhir_user, **_):
        client = self._client(iss)
        fhir_user = smart.relative_reference(fhir_user.strip(), client.iss)
        with transaction.atomic():
            deleted, _by_model = SmartUser.objects.filter(
                client=client, fhir_user=fhir_user
            ).delete()
            if not deleted:
                raise CommandError(f"{fhir_user!r} is not mapped for {client.iss}.")
            self._log(client, {"change": "user_unmapped", "fhir_user": fhir_user})
        self.stdout.write(f"Unmapped {fhir_user}.")

    def list(self, **_):
        for client in SmartClient.objects.prefetch_related("users__user"):
            origins = ",".join(client.frame_origins) or "(no frame)"
            self.stdout.write(
                f"{client.iss}\t{client.client_id}\t{client.auth_method}\t{client.mrn_system}"
                f"\t{origins}"
            )
            for mapping in client.users.all():
                self.stdout.write(f"\t{mapping.fhir_user} -> {mapping.user.get_username()}")
