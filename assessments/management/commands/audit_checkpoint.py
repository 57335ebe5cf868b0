import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from assessments.models import AuditEvent


class Command(BaseCommand):
    help = (
        "Print the audit chain's head (event id, hash, time); with --to, append it to "
        "PATH too. Keep that file off the database server: verify_audit --checkpoints "
        "then proves no event up to each checkpoint was removed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--to", type=Path, help="a file to append the checkpoint to")

    def handle(self, *args, to: Path | None = None, **options):
        head = AuditEvent.objects.order_by("-id").only("id", "hash", "timestamp").first()
        if head is None:
            raise CommandError(_("The audit chain is empty: nothing to checkpoint yet."))
        line = f"{head.id} {head.hash} {head.timestamp.isoformat()}"
        if to is not None:
            # Created mode 600: the file is for the audit, not for everybody on the host.
            descriptor = os.open(to, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(descriptor, "a") as checkpoints:
                checkpoints.write(line + "\n")
        self.stdout.write(line)
