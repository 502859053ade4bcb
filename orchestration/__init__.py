"""Orchestration: the layer above every other package.

It runs the stages in order (source -> capture -> record -> catalog -> geo -> index), owns the commands
that cross packages (`scrape`, `ingest`, `reparse`, `load-demo`, `start`, `import-document`, `unmerge`,
`status --geo/--coverage`) and assembles the root `wsparcie` command. Nothing below imports it."""
