"""Follow-up: Clinicians and Consultants record, amend and void events, which
Reviewers read; Reviewers and Consultants see the outcomes page.

ROLES is every role as it stands after this migration; the test suite re-creates
the roles from it after tests that empty the database.
"""

import importlib

from django.db import migrations

roles_0012 = importlib.import_module("assessments.migrations.0012_consultants")

CLINICIANS = roles_0012.CLINICIANS
CONSULTANTS = roles_0012.CONSULTANTS
REVIEWERS = roles_0012.REVIEWERS
READ_FOLLOW_UP = ["view_followupevent", "view_historicalfollowupevent"]
FOLLOW_UP = [*READ_FOLLOW_UP, "add_followupevent", "change_followupevent", "void_followupevent"]
ROLES = {
    CLINICIANS: [*roles_0012.ROLES[CLINICIANS], *FOLLOW_UP],
    CONSULTANTS: [*roles_0012.ROLES[CONSULTANTS], *FOLLOW_UP, "view_outcomes"],
    REVIEWERS: [*roles_0012.ROLES[REVIEWERS], *READ_FOLLOW_UP, "view_outcomes"],
}


class Migration(migrations.Migration):
    dependencies = [("assessments", "0015_followup_events_and_pathology")]

    operations = [
        migrations.RunPython(roles_0012.set_roles(ROLES), roles_0012.set_roles(roles_0012.ROLES))
    ]
