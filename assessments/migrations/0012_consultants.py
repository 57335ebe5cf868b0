"""Two-person sign-off: Consultants sign; Clinicians create, amend and void.

ROLES is every role as it stands after this migration; the test suite re-creates
the roles from it after tests that empty the database.
"""

import importlib

from django.contrib.auth.management import create_permissions
from django.db import migrations

roles_0003 = importlib.import_module("assessments.migrations.0003_roles")

CLINICIANS = roles_0003.CLINICIANS
REVIEWERS = roles_0003.REVIEWERS
CONSULTANTS = "Consultants"
CLINICIAN_PERMISSIONS = [
    codename for codename in roles_0003.ROLES[CLINICIANS] if codename != "sign_assessment"
]
ROLES = {
    CLINICIANS: CLINICIAN_PERMISSIONS,
    CONSULTANTS: [*CLINICIAN_PERMISSIONS, "sign_assessment", "export_assessment"],
    REVIEWERS: [*roles_0003.ROLES[REVIEWERS], "export_assessment"],
}


def set_roles(roles):
    def apply(apps, schema_editor):
        # New permissions (export_assessment) are normally created after all migrations.
        app_config = apps.get_app_config("assessments")
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
        Group = apps.get_model("auth", "Group")
        Permission = apps.get_model("auth", "Permission")
        for name, codenames in roles.items():
            group, _ = Group.objects.get_or_create(name=name)
            group.permissions.set(
                Permission.objects.filter(
                    content_type__app_label="assessments", codename__in=codenames
                )
            )
        Group.objects.filter(name__in=set(ROLES) - set(roles)).delete()

    return apply


class Migration(migrations.Migration):
    dependencies = [("assessments", "0011_signature_record_and_worklist_indexes")]

    operations = [migrations.RunPython(set_roles(ROLES), set_roles(roles_0003.ROLES))]
