"""Which source wins each Institution field when several sources give a value.

Registers of the wojewodas are the legal source of status, validity, decisions and operators; RJPS is
the richest source of contacts and coordinates. A source key matches an entry by prefix, so
"cis-kis" covers all 16 "cis-kis-NN" registers. Sources not listed rank last; ties go to the value
seen most recently."""
from __future__ import annotations

LEGAL_FIRST = ("cis-kis", "owes", "pup", "rjps", "demo")
CONTACT_FIRST = ("rjps", "pup", "owes", "cis-kis", "demo")

_LEGAL_FIELDS = {
    "status", "valid_from", "valid_until", "decision_number", "decision_date", "register_number",
    "operator_name", "operator_krs", "operator_nip", "operator_regon", "krs", "nip", "regon",
    "service_area", "partners",
}


def ranking(field: str) -> tuple[str, ...]:
    return LEGAL_FIRST if field in _LEGAL_FIELDS else CONTACT_FIRST


def rank(field: str, source: str) -> int:
    """Lower is better."""
    order = ranking(field)
    for i, prefix in enumerate(order):
        if source == prefix or source.startswith(prefix + "-"):
            return i
    return len(order)
