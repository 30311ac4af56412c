"""HTTP server: the viewer, store files, tasks, feeds, curation writes."""
