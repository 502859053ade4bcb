"""Geography: TERYT reference units, address parsing, geocoding with precision, TERYT assignment and
"which office is responsible for this address" resolution. Shared by scrapers, index and webapp."""
