"""Admission to both services: API keys with scopes, per-key rate limits, bounded load."""

from services.auth.admission import (
    Admission,
    Rule,
    RuleFor,
    ingest_rule,
    query_rule,
    require_event_scopes,
)
from services.auth.api_keys import ApiKey, bearer_token, key_hash, new_key
from services.auth.key_cache import AuthSettings, KeyCache, KeysUnavailable
from services.auth.key_store import (
    DuplicateName,
    KeyRow,
    create_key,
    key_in_force,
    list_keys,
    migrate,
    revoke_key,
)
from services.auth.scopes import (
    IMPORT,
    MODERATOR_DELETION,
    SCOPES,
    Scope,
    grants,
    missing_event_scopes,
    scope_for_event,
)

__all__ = [
    "IMPORT",
    "MODERATOR_DELETION",
    "SCOPES",
    "Admission",
    "ApiKey",
    "AuthSettings",
    "DuplicateName",
    "KeyCache",
    "KeyRow",
    "KeysUnavailable",
    "Rule",
    "RuleFor",
    "Scope",
    "bearer_token",
    "create_key",
    "grants",
    "ingest_rule",
    "key_hash",
    "key_in_force",
    "list_keys",
    "migrate",
    "missing_event_scopes",
    "new_key",
    "query_rule",
    "require_event_scopes",
    "revoke_key",
    "scope_for_event",
]
