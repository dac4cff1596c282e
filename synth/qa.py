"""The truth of the QA scorecard (marts.call_qa_items) for a synthetic call: each item's status from the
templates its lines were made of, as a phrasebank's ``QA_MET`` says which items each template meets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

QA_ITEMS = (
    "greeting",
    "names_self",
    "names_company",
    "refers_to_order",
    "states_purpose",
    "new_slot_named",
    "availability_confirmed",
    "polite_close",
)
QA_APPLIES_TO = {"new_slot_named": 2, "availability_confirmed": 4}  # call type (intent); others: every call


def qa_truth(met_by: Mapping[str, frozenset[str]], templates: Sequence[str], intent: int) -> dict[str, str]:
    """Each QA item's status (met, not_met, not_applicable) in an answered call of intent ``intent`` made of
    ``templates``, from ``met_by`` (template -> the items it meets)."""
    met = frozenset().union(*(met_by.get(t, frozenset()) for t in templates))
    return {
        item: "not_applicable"
        if QA_APPLIES_TO.get(item, intent) != intent
        else ("met" if item in met else "not_met")
        for item in QA_ITEMS
    }
