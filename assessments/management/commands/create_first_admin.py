import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _


class Command(BaseCommand):
    help = (
        "On a database with no user yet, create the administrator 'admin' with a "
        "random password, printed once. Does nothing otherwise."
    )

    def handle(self, *args, **options):
        User = get_user_model()
        if User.objects.exists():
            return
        password = secrets.token_urlsafe(16)
        User.objects.create_superuser(username="admin", email="", password=password)
        self.stdout.write(
            self.style.WARNING(
                _(
                    "Created the administrator 'admin' with the password below. It is shown "
                    "only this once: note it now."
                )
                + f"\n\n    {password}\n"
            )
        )
