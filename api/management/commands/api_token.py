from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, transaction
from django.utils import timezone

from api.actions import ApiAction
from api.models import ApiToken
from api.tokens import revoke
from assessments import audit


class Command(BaseCommand):
    help = (
        "Create an API token for a user (printed once, alone on the last line), revoke one "
        "by name, or list them. A token acts as its user, with the same roles."
    )

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="command", required=True)
        create = commands.add_parser("create", help="Create a token and print it once.")
        create.add_argument("username")
        create.add_argument("--name", required=True, help="Which system uses it; unique.")
        create.add_argument(
            "--expires-days",
            type=int,
            default=settings.API_TOKEN_DEFAULT_DAYS,
            help=f"Days until it expires (default {settings.API_TOKEN_DEFAULT_DAYS}).",
        )
        revoke = commands.add_parser("revoke", help="Revoke (delete) a token by name.")
        revoke.add_argument("name")
        commands.add_parser("list", help="List the tokens: name, user, created, expiry.")

    def handle(self, *args, command, **options):
        getattr(self, command)(**options)

    def create(self, *, username, name, expires_days, **options):
        if expires_days < 1:
            raise CommandError("--expires-days must be at least 1.")
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        if not user.is_active:
            raise CommandError(f"The user {username!r} is not active.")
        try:
            with transaction.atomic():
                token, secret = ApiToken.objects.create(
                    user=user, expiry=timedelta(days=expires_days), name=name
                )
        except IntegrityError:
            raise CommandError(f"A token named {name!r} exists: choose another name.") from None
        audit.log_event(
            action=ApiAction.API_TOKEN,
            user=user,
            detail={"change": "created", "token": name, "expiry": token.expiry.isoformat()},
        )
        expires = timezone.localtime(token.expiry).strftime("%Y-%m-%d %H:%M %Z")
        self.stdout.write(
            f"Token {name!r} for {username}, expires {expires}. "
            "It is shown only now: keep it secret."
        )
        self.stdout.write(secret)

    def revoke(self, *, name, **options):
        token = ApiToken.objects.select_related("user").filter(name=name).first()
        if token is None:
            raise CommandError(f"No token named {name!r}.")
        revoke(token, by=None)
        self.stdout.write(f"Token {name!r} revoked.")

    def list(self, **options):
        for token in ApiToken.objects.select_related("user"):
            state = "expired" if token.is_expired else "valid"
            self.stdout.write(
                f"{token.name}\t{token.user.username}\t{token.created:%Y-%m-%d}\t"
                f"{token.expiry:%Y-%m-%d}\t{state}"
            )
