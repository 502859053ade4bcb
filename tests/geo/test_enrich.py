from sqlmodel import select

from catalog.models import GeocodeCache, Institution
from geo.enrich import enrich
from geo.quality import format_report, report


def test_enrich_fills_parts_point_and_teryt(session, geo_settings, add):
    zab = add("GOPS w Zabłudowie", "ops", address_raw="ul. Rynek 8, 16-060 Zabłudów", phones_raw="85 718 81 00")
    byton = add("GOPS w Bytoniu", "ops")                                   # only the name says where
    krk = add("MOPS Kraków", "ops", address_raw="ul. Józefińska 14, 30-529 Kraków", lat=50.0451, lon=19.9566)
    stats = enrich(session, geo_settings)
    session.commit()
    assert stats.seen == 3 and stats.changed == 3 and stats.source_points == 1
    for inst in (zab, byton, krk):
        session.refresh(inst)
    assert (zab.street, zab.building, zab.postal_code, zab.locality) == ("ul. Rynek", "8", "16-060", "Zabłudów")
    assert zab.address_raw == "ul. Rynek 8, 16-060 Zabłudów"
    assert (zab.gmina_id6, zab.powiat_teryt, zab.woj_teryt, zab.teryt_method) == ("200214", "2002", "20", "postcode")
    assert (zab.geo_precision, zab.geo_source) == ("postcode", "offline:postcode")
    assert zab.phones == [{"raw": "85 718 81 00", "e164": "+48857188100"}]
    assert (byton.gmina_id6, byton.powiat_teryt, byton.woj_teryt, byton.teryt_method) == (
        "041102", "0411", "04", "name")
    assert (byton.geo_precision, byton.geo_source) == ("locality", "offline:geonames")
    assert (krk.lat, krk.lon, krk.geo_precision) == (50.0451, 19.9566, "source")
    assert (krk.gmina_id6, krk.powiat_teryt, krk.teryt_flag) == ("126101", "1261", None)
    assert session.exec(select(GeocodeCache)).all()        # geocoder answers were remembered


def test_second_run_skips_complete_rows(session, geo_settings, add):
    inst = add("GOPS", "ops", address_raw="16-060 Zabłudów")
    enrich(session, geo_settings)
    session.commit()
    before = session.get(Institution, inst.id).updated_at
    again = enrich(session, geo_settings)
    assert again.seen == 0 and again.changed == 0
    forced = enrich(session, geo_settings, [inst.id], force=True)
    assert forced.seen == 1 and forced.changed == 0      # nothing differs: nothing written
    assert session.get(Institution, inst.id).updated_at == before


def test_explicit_codes_kept_and_disagreement_flagged(session, geo_settings, add):
    explicit = add("GOPS Grabówka", "ops", address_raw="16-060 Zabłudów", gmina_id6="200216",
                   teryt_method="explicit")
    far = add("CIS", "cis", address_raw="ul. Józefińska 14, 30-529 Kraków", lat=50.2, lon=20.3)
    stats = enrich(session, geo_settings, [explicit.id, far.id])
    session.commit()
    session.refresh(explicit)
    session.refresh(far)
    assert (explicit.gmina_id6, explicit.powiat_teryt, explicit.teryt_method) == ("200216", "2002", "explicit")
    assert far.gmina_id6 == "126101" and "Proszowice" in far.teryt_flag
    assert stats.flagged == 1

    d = report(session)
    assert d["total"] == 2 and d["flagged"] == 1 and d["without_teryt"] == 0
    assert d["by_precision"] == {"postcode": 1, "source": 1}
    text = format_report(d)
    assert "Do sprawdzenia" in text and "Proszowice" in text


def test_unresolvable_rows_are_reported(session, geo_settings, add):
    add("Fundacja Bez Adresu", "ps")
    stats = enrich(session, geo_settings)
    assert stats.unresolved == 1
    d = report(session)
    assert d["without_teryt"] == 1 and d["without_teryt_sample"][0]["name"] == "Fundacja Bez Adresu"
    assert "Bez kodów TERYT: 1" in format_report(d)


def test_powiat_only_source_rows(session, geo_settings, add):
    pup = add("Powiatowy urząd pracy — Zabrze", "pup", powiat_teryt="2478", woj_teryt="24", lat=50.31, lon=18.78,
              geo_precision="powiat", geo_source="demo:teryt-point")
    stats = enrich(session, geo_settings)
    session.refresh(pup)
    assert (pup.gmina_id6, pup.powiat_teryt, pup.woj_teryt, pup.teryt_method) == (None, "2478", "24", "explicit")
    assert (pup.lat, pup.geo_precision) == (50.31, "powiat")
    assert stats.changed == 1
    assert enrich(session, geo_settings).seen == 0        # complete now: not examined again
    assert report(session)["without_teryt"] == 0


def test_touched_ids_are_rederived_after_an_address_change(session, geo_settings, add):
    inst = add("GOPS", "ops", address_raw="16-060 Zabłudów")
    enrich(session, geo_settings)
    # The merge rewrote the address (a move to Bytoń); the ingest passes the touched id.
    inst.address_raw, inst.postal_code, inst.locality = "88-231 Bytoń", "88-231", "Bytoń"
    session.add(inst)
    stats = enrich(session, geo_settings, [inst.id])
    session.refresh(inst)
    assert stats.seen == 1 and stats.changed == 1
    assert (inst.gmina_id6, inst.powiat_teryt, inst.geo_precision) == ("041102", "0411", "postcode")
    assert abs(inst.lat - 52.554) < 0.01


def test_codes_a_source_gave_are_never_rederived(session, geo_settings, add):
    from catalog.models import FieldProvenance

    inst = add("GOPS", "ops", address_raw="16-060 Zabłudów")
    enrich(session, geo_settings, [inst.id])
    assert (inst.gmina_id6, inst.teryt_method) == ("200214", "postcode")
    # A source now states the gmina (the new gmina Grabówka): the merge writes it with its provenance.
    inst.gmina_id6 = "200216"
    session.add(inst)
    session.add(FieldProvenance(institution_id=inst.id, field="gmina_id6", source="rjps", source_key="1",
                                value='"200216"'))
    session.flush()
    enrich(session, geo_settings, [inst.id])                # a later ingest touching it again
    session.refresh(inst)
    assert (inst.gmina_id6, inst.powiat_teryt, inst.teryt_method) == ("200216", "2002", "explicit")
