import pytest
from django.contrib.auth.models import Group

from assessments import roles


@pytest.mark.django_db
def test_the_migrations_leave_exactly_the_live_roles():
    migrated = {
        group.name: sorted(group.permissions.values_list("codename", flat=True))
        for group in Group.objects.all()
    }
    assert migrated == {name: sorted(codenames) for name, codenames in roles.ROLES.items()}


def test_no_role_lists_a_permission_twice():
    for codenames in roles.ROLES.values():
        assert len(codenames) == len(set(codenames))
