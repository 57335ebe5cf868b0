"""Who may do what, sealed into the audit chain as the clinical record is.

Each change to a user, group, permission, API token or EHR client writes an
account_sealed event carrying the digest of the row as the database holds it (its
many-to-many links included); verify_audit compares the live rows with their newest
sealed state, so a superuser flag, a group membership or an EHR key written behind
the app is found. Secrets (password hashes, token digests) are hashed on their own
before the row is digested: nothing of them can be read back from the chain.
"""

import hashlib
from collections import defaultdict
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.db import connections
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save, pre_delete
from django.utils.translation import gettext

from ..models import AuditEvent
from .chain import log_event, row_digest
from .signals import acting_request


@dataclass(frozen=True)
class Sealed:
    secrets: tuple[str, ...] = ()  # hashed before the row is digested, the key too
    unsealed: tuple[str, ...] = ()  # changed in ordinary use, granting nothing
    # Written by migrations (historical models send no signal the seals hear): what
    # differs is sealed when a migrate applies migrations.
    migrated: bool = False


# One line a model: what verify_audit holds to its newest sealed state.
SEALED = {
    settings.AUTH_USER_MODEL.lower(): Sealed(secrets=("password",), unsealed=("last_login",)),
    "auth.group": Sealed(migrated=True),
    "auth.permission": Sealed(migrated=True),
    getattr(settings, "KNOX_TOKEN_MODEL", "knox.AuthToken").lower(): Sealed(
        secrets=("digest", "token_key")
    ),
    "ehr.cdsclient": Sealed(),
    "ehr.smartclient": Sealed(secrets=("client_secret", "private_jwks")),
    "ehr.smartuser": Sealed(),
}


def sealed_models() -> dict:
    """label -> model, for the sealed models installed."""
    models = {}
    for label in SEALED:
        try:
            models[label] = apps.get_model(label)
        except LookupError:
            continue
    return models


def _hashed(value) -> str | None:
    return None if value is None else hashlib.sha256(str(value).encode()).hexdigest()


def _key(model, spec: Sealed, pk) -> str:
    return _hashed(pk) if model._meta.pk.attname in spec.secrets else str(pk)


def _links(field, pks) -> dict:
    """Source pk -> the sorted pks it links to through a many-to-many field."""
    through = field.remote_field.through
    source, target = f"{field.m2m_field_name()}_id", f"{field.m2m_reverse_field_name()}_id"
    rows = through._base_manager.values_list(source, target)
    if pks is not None:
        rows = rows.filter(**{f"{source}__in": pks})
    links = defaultdict(list)
    for source_pk, target_pk in rows.iterator():
        links[source_pk].append(target_pk)
    return {pk: sorted(targets) for pk, targets in links.items()}


def states(model, pks=None, *, new: bool = False) -> dict[str, str]:
    """Key -> digest of each row (of those pks) as the database holds it; new rows
    have no many-to-many links yet, and are read without looking for them."""
    spec = SEALED[model._meta.label_lower]
    fields = [
        field.attname
        for field in model._meta.concrete_fields
        if field.name not in spec.unsealed and field.attname not in spec.unsealed
    ]
    rows = model._base_manager.values(*fields)
    if pks is not None:
        rows = rows.filter(pk__in=pks)
    links = {field.name: {} if new else _links(field, pks) for field in model._meta.many_to_many}
    digests = {}
    pk_name = model._meta.pk.attname
    for row in rows.order_by("pk").iterator():
        pk = row[pk_name]
        state = {name: _hashed(v) if name in spec.secrets else v for name, v in row.items()}
        for name, linked in links.items():
            state[name] = linked.get(pk, [])
        digests[_key(model, spec, pk)] = row_digest(state)
    return digests


def seal(model, pks, *, change: str, new: bool = False) -> None:
    """One event sealing these rows as they now are (None: no longer there)."""
    pks = list(pks)
    if not pks:
        return
    spec = SEALED[model._meta.label_lower]
    now = states(model, pks, new=new)
    keys = [_key(model, spec, pk) for pk in pks]
    log_event(
        action=AuditEvent.Action.ACCOUNT_SEALED,
        request=acting_request(),
        detail={
            "model": model._meta.label_lower,
            "change": change,
            "rows": {key: now.get(key) for key in keys},
        },
    )


def note(newest: dict, event) -> None:
    """Take an account_sealed event's rows into newest: (model, key) -> (event id, digest)."""
    detail = event.detail if isinstance(event.detail, dict) else {}
    rows = detail.get("rows")
    if isinstance(rows, dict):
        for key, digest in rows.items():
            newest[(detail.get("model"), key)] = (event.id, digest)


def check(newest: dict) -> list[tuple[int | None, str, str]]:
    """Every sealed model's live rows against their newest seal: (event id, where, what)."""
    problems = []
    for label, model in sealed_models().items():
        name = model._meta.model_name
        for key, digest in states(model).items():
            event_id, sealed = newest.pop((label, key), (None, None))
            if event_id is None:
                what = gettext("it is sealed by no event (written behind the app)")
            elif sealed != digest:
                what = gettext("it differs from its newest sealed state (changed behind the app)")
            else:
                continue
            problems.append((None, f"{name} {key}", what))
        for (sealed_label, key), (_, digest) in sorted(newest.items(), key=str):
            if sealed_label == label and digest is not None:
                problems.append(
                    (
                        None,
                        f"{name} {key}",
                        gettext("it is sealed but gone (deleted behind the app)"),
                    )
                )
    return problems


def seal_what_differs(*, change: str, after_migrations: bool = False) -> None:
    """Seal the rows that differ from their newest seal, in one event per model: each
    model none of whose rows was ever sealed (the first run, on an upgraded database)
    and, after migrations were applied, the models that migrations write. Any other
    row written behind the app stays for verify_audit to report."""
    newest = {}
    sealed = AuditEvent.objects.filter(action=AuditEvent.Action.ACCOUNT_SEALED)
    for event in sealed.order_by("id").iterator():
        note(newest, event)
    ever_sealed = {label for label, _ in newest}
    for label, model in sealed_models().items():
        if label in ever_sealed and not (after_migrations and SEALED[label].migrated):
            continue
        live = states(model)
        rows = {
            key: digest
            for key, digest in live.items()
            if newest.get((label, key), (None, None))[1] != digest
        }
        for (sealed_label, key), (_, digest) in newest.items():
            if sealed_label == label and digest is not None and key not in live:
                rows[key] = None
        if rows:
            log_event(
                action=AuditEvent.Action.ACCOUNT_SEALED,
                detail={"model": label, "change": change, "rows": rows},
            )


# Signal handlers.


def on_saved(sender, instance, created, update_fields=None, **kwargs):
    spec = SEALED[sender._meta.label_lower]
    if update_fields is not None and set(update_fields) <= set(spec.unsealed):
        return
    seal(sender, [instance.pk], change="created" if created else "changed", new=created)


def remember_links(sender, instance, **kwargs):
    """Before a delete: the sealed rows that link to it, whose links the delete cuts."""
    linked = []
    for model in sealed_models().values():
        for field in model._meta.many_to_many:
            if field.related_model is sender:
                through = field.remote_field.through
                pks = through._base_manager.filter(
                    **{f"{field.m2m_reverse_field_name()}_id": instance.pk}
                ).values_list(f"{field.m2m_field_name()}_id", flat=True)
                linked.append((model, sorted(set(pks))))
    instance._sealed_links = linked


def on_deleted(sender, instance, **kwargs):
    seal(sender, [instance.pk], change="deleted")
    for model, pks in getattr(instance, "_sealed_links", []):
        seal(model, pks, change=f"{sender._meta.model_name} deleted")


def on_links_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    if action == "pre_clear" and reverse:
        field = _field_of(sender)
        instance._sealed_clearing = list(
            sender._base_manager.filter(
                **{f"{field.m2m_reverse_field_name()}_id": instance.pk}
            ).values_list(f"{field.m2m_field_name()}_id", flat=True)
        )
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    change = f"{_field_of(sender).name} {action.removeprefix('post_')}"
    if not reverse:
        seal(type(instance), [instance.pk], change=change)
    elif action == "post_clear":
        seal(model, getattr(instance, "_sealed_clearing", []), change=change)
    else:
        seal(model, sorted(pk_set or ()), change=change)


def _field_of(through):
    for model in sealed_models().values():
        for field in model._meta.many_to_many:
            if field.remote_field.through is through:
                return field
    raise LookupError(through)


def seal_after_migrate(sender, plan=None, using="default", **kwargs):
    # Once, after the last app's post_migrate: every app's permissions exist by then.
    # A migrate that applies nothing (each service start) seals only a first run;
    # a flush (plan None) has emptied the chain and the accounts.
    last = [config for config in apps.get_app_configs() if config.models_module is not None][-1]
    if sender is not last:
        return
    tables = set(connections[using].introspection.table_names())
    if all(model._meta.db_table in tables for model in [AuditEvent, *sealed_models().values()]):
        seal_what_differs(change="migrate", after_migrations=plan is None or bool(plan))


def connect_signals() -> None:
    for label, model in sealed_models().items():
        uid = f"seal_{label}"
        post_save.connect(on_saved, sender=model, dispatch_uid=f"{uid}_save")
        pre_delete.connect(remember_links, sender=model, dispatch_uid=f"{uid}_pre_delete")
        post_delete.connect(on_deleted, sender=model, dispatch_uid=f"{uid}_delete")
        for field in model._meta.many_to_many:
            through = field.remote_field.through
            m2m_changed.connect(on_links_changed, sender=through, dispatch_uid=f"{uid}_{field}")
    post_migrate.connect(seal_after_migrate, dispatch_uid="seal_after_migrate")
