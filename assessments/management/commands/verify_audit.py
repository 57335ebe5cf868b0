from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from assessments.audit import broken_links, read_checkpoints
from assessments.models import AuditEvent


class Command(BaseCommand):
    help = (
        "Check the audit chain (each event's HMAC and its link to the one before), the "
        "history rows it seals, that each record equals its newest history row and that "
        "none with a history is missing; with --checkpoints, that every checkpoint is "
        "still in the chain. Print every broken link and exit 1 if there is one."
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
        broken = broken_links(known)
        if not broken:
            count = AuditEvent.objects.count()
            if checkpoints:
                message = _(
                    "The audit chain is intact (%(count)d events, %(known)d checkpoints in it)."
                )
            else:
                message = _("The audit chain is intact (%(count)d events).")
            self.stdout.write(message % {"count": count, "known": len(known)})
            return
        for where, problem in broken:
            self.stdout.write(
                _("The audit chain is broken at %(where)s: %(problem)s.")
                % {"where": where, "problem": problem}
            )
        self.stdout.write(
            ngettext("%(count)d broken link.", "%(count)d broken links.", len(broken))
            % {"count": len(broken)}
        )
        raise SystemExit(1)
