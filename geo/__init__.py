"""Geography: TERYT reference units, address parsing, geocoding with precision, TERYT assignment and
"which office is responsible for this address" resolution. Shared by scrapers, index and webapp.

Modules: teryt (reference units), text (folding), address (parse_address), gazetteer (offline layers, each
with its licence), boundaries (point-in-polygon), offline (offline geocoder), nominatim (geopy client),
geocoder (chain + GeocodeCache), assign (TERYT assignment), enrich (pipeline stage), resolve (competent
units), quality (status --geo report), cli (`wsparcie resolve`)."""
