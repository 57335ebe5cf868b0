from django.core.management.base import BaseCommand

from assessments.audit import first_broken_link
from assessments.models import AuditEvent


class Command(BaseCommand):
    help = "Check the hash chain of the audit log; report the first broken link. Exit 1 if broken."

    def handle(self, *args, **options):
        broken = first_broken_link()
        if broken is None:
            count = AuditEvent.objects.count()
            self.stdout.write(f"The audit chain is intact ({count} events).")
            return
        event_id, problem = broken
        self.stdout.write(f"The audit chain is broken at event {event_id}: it {problem}.")
        raise SystemExit(1)
