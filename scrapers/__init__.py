"""Source adapters (one module per source: fetch + parse into SourceItems), the shared HTTP client,
document readers and the ingest pipeline. Adding a source = one new module + one line in registry.py."""
