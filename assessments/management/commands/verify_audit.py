from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from assessments.audit import first_broken_link, read_checkpoints
from assessments.models import AuditEvent


class Command(BaseCommand):
    help = (
        "Check the audit chain (each event's HMAC and its link to the one before), the "
        "history rows it seals and that each record equals its newest history row; with "
        "--checkpoints, that every checkpoint is still in the chain. Exit 1 at the first "
        "broken link."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoints",
            type=Path,
            help="a file of checkpoints written by audit_checkpoint --to",
        )

    def handle(self, *args, checkpoints: Path | None = None, **options):
        try:
            known = read_checkpoints(checkpoints) if checkpoints else {}
        except (OSError, ValueError) as error:
            raise CommandError(
                _("Cannot read the checkpoints: %(error)s") % {"error": error}
            ) from None
        broken = first_broken_link(known)
        if broken is None:
            count = AuditEvent.objects.count()
            if checkpoints:
                message = _(
                    "The audit chain is intact (%(count)d events, %(known)d checkpoints in it)."
                )
            else:
                message = _("The audit chain is intact (%(count)d events).")
            self.stdout.write(message % {"count": count, "known": len(known)})
            return
        where, problem = broken
        self.stdout.write(
            _("The audit chain is broken at %(where)s: %(problem)s.")
            % {"where": where, "problem": problem}
        )
        raise SystemExit(1)
