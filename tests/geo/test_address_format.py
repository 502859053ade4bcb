"""One address formatter (catalog.address.format_address) for the pages, /api/resolve and HSDS: a rural
address is "Bytoń 72, 88-231 Bytoń" everywhere (resolve used to write "72, 88-231 Bytoń")."""
from __future__ import annotations

from catalog.address import format_address, street_line
from catalog.models import Institution
from geo.resolve import institution_dict
from webapp.hsds import _address_line


def _inst(**parts) -> Institution:
    return Institution(id=1, name="GOPS w Bytoniu", type="ops", **parts)


def test_rural_urban_flat_and_raw_addresses():
    byton = _inst(building="72", postal_code="88-231", locality="Bytoń")
    assert format_address(byton) == "Bytoń 72, 88-231 Bytoń" and street_line(byton) == "Bytoń 72"
    flat = _inst(street="ul. Rynek", building="8", flat="3", postal_code="16-060", locality="Zabłudów")
    assert format_address(flat) == "ul. Rynek 8/3, 16-060 Zabłudów"
    assert format_address(_inst(address_raw="Zabłudów, przy rynku")) == "Zabłudów, przy rynku"


def test_every_output_writes_the_same_address(geo_settings):
    from webapp import create_app

    byton = _inst(building="72", postal_code="88-231", locality="Bytoń")
    page = create_app({"TESTING": True}).jinja_env.filters["address"](byton)
    assert institution_dict(byton)["address"] == page == "Bytoń 72, 88-231 Bytoń"
    assert _address_line(byton) == "Bytoń 72"
