"""Whole-spec checks of `dataServices` and of what services use of it.

Every name a service or an index refers to must exist; each provider's credential group
must hold the keys the provider signs in with.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from .data_services import PINECONE_KEYS, SNOWFLAKE_KEYS, WEAVIATE_KEYS
from .errors import SpecError, quoted_list
from .model import Platform, SecretGroup, Service
from .source import FieldPath


class Checker(Protocol):
    p: Platform
    service_names: list[str]

    def err(self, path: FieldPath, message: str) -> SpecError: ...

    def unique(
        self, base: FieldPath, values: list[str], what: str, field: str = "name"
    ) -> Iterator[SpecError]: ...

    def reference(self, path: FieldPath, name: str, known: list[str], what: str) -> SpecError: ...


_NO_GROUP = SecretGroup()


def data_service_errors(c: Checker) -> Iterator[SpecError]:
    data = c.p.data_services
    base: FieldPath = ("dataServices",)
    if data.snowflake is not None:
        sf = data.snowflake
        yield from _credentials(c, (*base, "snowflake"), sf.credentials, SNOWFLAKE_KEYS)
        yield from c.unique(
            (*base, "snowflake", "warehouses"), [w.name for w in sf.warehouses], "warehouse"
        )
        yield from c.unique(
            (*base, "snowflake", "databases"), [d.name for d in sf.databases], "database"
        )
        for i, db in enumerate(sf.databases):
            yield from c.unique(
                (*base, "snowflake", "databases", i, "schemas"),
                list(db.schemas),
                f"schema of {db.name}",
                field="",
            )
    if data.pinecone is not None:
        pc = data.pinecone
        yield from _credentials(c, (*base, "pinecone"), pc.credentials, PINECONE_KEYS)
        yield from c.unique((*base, "pinecone", "indexes"), [i.name for i in pc.indexes], "index")
        for i, index in enumerate(pc.indexes):
            yield from _owner(c, (*base, "pinecone", "indexes", i, "owner"), index.owner)
    if data.weaviate is not None:
        wv = data.weaviate
        yield from _credentials(c, (*base, "weaviate"), wv.credentials, WEAVIATE_KEYS)
        yield from c.unique(
            (*base, "weaviate", "collections"), [x.name for x in wv.collections], "collection"
        )
        for i, collection in enumerate(wv.collections):
            yield from _owner(c, (*base, "weaviate", "collections", i, "owner"), collection.owner)
            yield from c.unique(
                (*base, "weaviate", "collections", i, "properties"),
                [p.name.lower() for p in collection.properties],
                "property",
            )


def service_data_errors(c: Checker, base: FieldPath, s: Service) -> Iterator[SpecError]:
    uses = s.data_services
    data = c.p.data_services
    at: FieldPath = (*base, "dataServices")
    if uses.snowflake is not None:
        yield from _no_admin_credentials(c, base, s)
        if data.snowflake is None:
            yield c.err((*at, "snowflake"), "the spec has no dataServices.snowflake section")
        else:
            warehouses = [w.name for w in data.snowflake.warehouses]
            databases = [d.name for d in data.snowflake.databases]
            if uses.snowflake.warehouse not in warehouses:
                yield c.reference(
                    (*at, "snowflake", "warehouse"),
                    uses.snowflake.warehouse,
                    warehouses,
                    "warehouse",
                )
            if uses.snowflake.database not in databases:
                yield c.reference(
                    (*at, "snowflake", "database"), uses.snowflake.database, databases, "database"
                )
    yield from _references(
        c,
        (*at, "pinecone"),
        uses.pinecone,
        [i.name for i in data.pinecone.indexes] if data.pinecone else None,
        "Pinecone index",
        "pinecone",
    )
    yield from _references(
        c,
        (*at, "weaviate"),
        uses.weaviate,
        [x.name for x in data.weaviate.collections] if data.weaviate else None,
        "Weaviate collection",
        "weaviate",
    )


def _no_admin_credentials(c: Checker, base: FieldPath, s: Service) -> Iterator[SpecError]:
    """A service with its own Snowflake user must not also get the admin's sign-in."""
    groups = c.p.secrets.groups if c.p.secrets else {}
    for j, group in enumerate(s.secrets.groups):
        admin = [k for k in SNOWFLAKE_KEYS[1:] if k in groups.get(group, _NO_GROUP).keys]
        if admin:
            yield c.err(
                (*base, "secrets", "groups", j),
                f"group '{group}' hands this service the Snowflake admin's {quoted_list(admin)}; "
                "with dataServices.snowflake it signs in as its own user: drop the group and "
                "list the keys it needs under secrets.keys",
            )
    for j, key in enumerate(s.secrets.keys):
        if key in SNOWFLAKE_KEYS[1:]:
            yield c.err(
                (*base, "secrets", "keys", j),
                f"'{key}' is the Snowflake admin's; with dataServices.snowflake this service "
                "signs in as its own user",
            )


def _references(
    c: Checker,
    at: FieldPath,
    names: Sequence[str],
    known: list[str] | None,
    what: str,
    section: str,
) -> Iterator[SpecError]:
    if names and known is None:
        yield c.err(at, f"the spec has no dataServices.{section} section")
        return
    for j, name in enumerate(names):
        if name not in (known or []):
            yield c.reference((*at, j), name, known or [], what)


def _owner(c: Checker, at: FieldPath, owner: str) -> Iterator[SpecError]:
    if owner not in c.service_names:
        yield c.reference(at, owner, c.service_names, "owning service")


def _credentials(c: Checker, at: FieldPath, group: str, keys: Sequence[str]) -> Iterator[SpecError]:
    groups = c.p.secrets.groups if c.p.secrets else {}
    if group not in groups:
        yield c.reference((*at, "credentials"), group, list(groups), "secret group")
        return
    missing = [k for k in keys if k not in groups[group].keys]
    if missing:
        yield c.err(
            (*at, "credentials"),
            f"group '{group}' lacks {quoted_list(missing)}, which the provider signs in with; "
            f"add {'it' if len(missing) == 1 else 'them'} to its keys",
        )
