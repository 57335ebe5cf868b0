"""Each user's permissions, kept for a few seconds in Django's cache; and the views'
permission check, which audits a refusal.

Django's ModelBackend loads a user's and the user's groups' permissions (two
queries) on every request, since the user object is loaded anew each time. Here
the set is kept for PERMISSIONS_SECONDS, and every change that can alter any
user's permissions (a user, a group or a permission saved or deleted, a
membership or grant changed) starts a new generation, so the next request of
every user loads them again. The generation lives in Django's cache: with a shared
cache (DJANGO_CACHE_URL, Redis) every worker sees it at once; with local memory,
one process only (other processes would see a change within PERMISSIONS_SECONDS,
so make serve warns when it starts several workers without one). The generation
changes when the change is made and again when it is committed: a worker that
loaded the old permissions in between cached them under the first one.
Deactivating a user is immediate anyway: is_active and is_superuser are read
from the user row, loaded on every request.
"""

import secrets
from functools import partial, wraps

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from . import audit
from .models import AuditEvent

PERMISSIONS_SECONDS = 10
GENERATION = "permissions-generation"


def _new_generation() -> str:
    # Never a number used before, even if the cache dropped the last one.
    return secrets.token_hex(8)


def _key(name: str) -> str:
    return f"permissions:{cache.get_or_set(GENERATION, _new_generation, None)}:{name}"


def cached(name: str, compute):
    """compute(), kept as the permissions are: for PERMISSIONS_SECONDS, and until any user,
    group or grant changes. For what follows from them, such as who holds a role."""
    key = _key(name)
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, PERMISSIONS_SECONDS)
    return value


class CachedPermissionsBackend(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            load = partial(super().get_all_permissions, user_obj)
            user_obj._perm_cache = cached(f"user-{user_obj.pk}", load)
        return user_obj._perm_cache


def forget_permissions(sender=None, update_fields=None, **kwargs) -> None:
    """A new generation: every user's permissions are loaded again."""
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return  # a login changes nobody's permissions
    _start_generation()
    transaction.on_commit(_start_generation, using=kwargs.get("using"))


def _start_generation() -> None:
    cache.set(GENERATION, _new_generation(), None)


def connect_signals() -> None:
    User = get_user_model()
    for model in (User, Group, Permission):
        post_save.connect(forget_permissions, sender=model, dispatch_uid=f"perms_save_{model}")
        post_delete.connect(forget_permissions, sender=model, dispatch_uid=f"perms_del_{model}")
    for through in (User.groups.through, User.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(forget_permissions, sender=through, dispatch_uid=f"perms_{through}")


def audited_permission_required(perm: str, *, denied=None):
    """403 without the permission, and the refusal itself audited (unlike Django's
    permission_required, which redirects to the login page). `denied`, if given,
    answers the refusal with its own page (status 403) instead of the generic one."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.has_perm(perm):
                audit.log_event(
                    action=AuditEvent.Action.PERMISSION_DENIED,
                    request=request,
                    detail={"permission": perm, "path": request.path, "method": request.method},
                )
                if denied is not None and (answer := denied(request, *args, **kwargs)):
                    return answer
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
