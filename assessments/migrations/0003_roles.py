from django.contrib.auth.management import create_permissions
from django.db import migrations

CLINICIANS = "Clinicians"
REVIEWERS = "Reviewers"
ROLES = {
    CLINICIANS: [
        "view_patient",
        "view_assessment",
        "add_assessment",
        "change_assessment",
        "sign_assessment",
        "void_assessment",
        "view_historicalassessment",
        "view_historicalpatient",
    ],
    REVIEWERS: [
        "view_patient",
        "view_assessment",
        "view_historicalassessment",
        "view_historicalpatient",
        "view_auditevent",
    ],
}


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations; make them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(
            Permission.objects.filter(content_type__app_label="assessments", codename__in=codenames)
        )


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("assessments", "0002_audit_trail"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
