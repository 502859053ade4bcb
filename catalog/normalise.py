"""The normalisation stage: what adapters hand over as raw text is parsed once, here, at the catalog's door
(catalog.merge runs it on every item after catalog.clean), instead of inside each adapter.

* phones: `phones_raw` -> `phones` (E.164 with the raw text kept, catalog.phones), unless the source
  gave its phones already split (a document reader's per-cell list);
* address: `address_raw` -> street, building, flat, postal code, locality (catalog.address), filling
  only the parts the source did not give as separate columns or elements.

Names of TERYT units are not parsed here: they need the TERYT registry (geo.units, before the merge)."""
from __future__ import annotations

from dataclasses import replace

from catalog.address import parse_address
from catalog.phones import normalise_phones
from catalog.records import SourceItem

ADDRESS_PARTS = ("street", "building", "flat", "postal_code", "locality")


def normalise_fields(fields: dict) -> dict:
    """A copy of `fields` with the phones and address parts parsed from their raw text where missing."""
    out = dict(fields)
    if out.get("phones_raw") and not out.get("phones"):
        out["phones"] = normalise_phones(out["phones_raw"])
    raw = out.get("address_raw")
    if raw and not all(out.get(part) for part in ADDRESS_PARTS):
        parsed = parse_address(raw)
        for part in ADDRESS_PARTS:
            if not out.get(part) and (value := getattr(parsed, part)):
                out[part] = value
    return out


def normalise_item(item: SourceItem) -> SourceItem:
    fields = normalise_fields(item.fields)
    return item if fields == item.fields else replace(item, fields=fields)
