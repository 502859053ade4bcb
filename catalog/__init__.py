"""The catalog: the domain model (institution types, institutions, sources, provenance)
and the one place that writes it (merge). Shared by scrapers, index and webapp."""
