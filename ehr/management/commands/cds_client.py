import json

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from assessments import audit
from ehr.actions import Action
from ehr.auth import check_jwks
from ehr.fhir_access import check_server
from ehr.models import CdsClient


class Command(BaseCommand):
    help = (
        "Register an EHR allowed to call the CDS Hooks services (its issuer, its public keys "
        "from a JWKS file, stored here and never fetched, the identifier system of its "
        "MRNs and, optionally, its FHIR server), remove one, or list them."
    )

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="command", required=True)
        add = commands.add_parser("add", help="Register an EHR client.")
        add.add_argument("--issuer", required=True, help="The `iss` of its JWTs, exactly.")
        add.add_argument(
            "--jwks-file", required=True, help='A JSON file {"keys": [...]} of public keys.'
        )
        add.add_argument(
            "--mrn-system",
            required=True,
            help="The Patient.identifier.system under which it sends the hospital's MRN.",
        )
        add.add_argument(
            "--fhir-server",
            default="",
            help="The base URL of its FHIR server (https): what a call does not prefetch is "
            "read there with the call's access token, and nowhere else. Without it, "
            "nothing is fetched.",
        )
        remove = commands.add_parser("remove", help="Remove an EHR client by issuer.")
        remove.add_argument("--issuer", required=True)
        commands.add_parser(
            "list", help="List the clients: issuer, MRN system, key ids, date, FHIR server."
        )

    def handle(self, *args, command, **options):
        getattr(self, command)(**options)

    def add(self, *, issuer, jwks_file, mrn_system, fhir_server, **options):
        issuer, mrn_system = issuer.strip(), mrn_system.strip()
        if not issuer or not mrn_system:
            raise CommandError("--issuer and --mrn-system may not be empty.")
        if fhir_server:
            try:
                fhir_server = check_server(fhir_server)
            except ValueError as error:
                raise CommandError(f"--fhir-server: {error}") from None
        try:
            with open(jwks_file, encoding="utf-8") as file:
                jwks = json.load(file)
            check_jwks(jwks)
        except (OSError, ValueError) as error:
            raise CommandError(f"{jwks_file}: {error}") from None
        with transaction.atomic():
            if CdsClient.objects.filter(issuer=issuer).exists():
                raise CommandError(f"{issuer!r} is registered: remove it first to replace it.")
            client = CdsClient.objects.create(
                issuer=issuer, jwks=jwks, mrn_system=mrn_system, fhir_server=fhir_server
            )
            audit.log_event(
                action=Action.CDS_CLIENT,
                obj=client,
                detail={
                    "change": "registered",
                    "issuer": issuer,
                    "mrn_system": mrn_system,
                    "fhir_server": fhir_server,
                    "keys": client.key_ids,
                },
            )
        self.stdout.write(f"Registered {issuer} ({len(jwks['keys'])} key(s)).")

    def remove(self, *, issuer, **options):
        with transaction.atomic():
            client = CdsClient.objects.filter(issuer=issuer).first()
            if client is None:
                raise CommandError(f"No EHR client {issuer!r}.")
            audit.log_event(
                action=Action.CDS_CLIENT,
                obj=client,
                detail={"change": "removed", "issuer": issuer},
            )
            client.delete()
        self.stdout.write(f"Removed {issuer}.")

    def list(self, **options):
        for client in CdsClient.objects.all():
            keys = ",".join(kid or "(no kid)" for kid in client.key_ids)
            self.stdout.write(
                f"{client.issuer}\t{client.mrn_system}\t{keys}\t{client.created_at:%Y-%m-%d}"
                f"\t{client.fhir_server or '-'}"
            )
