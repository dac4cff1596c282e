"""``callaudit docs``: the dbt docs and the Great Expectations Data Docs, built into ``.state/docs/`` to
render offline (``docs``) with the CDN files GX's pages would load vendored in ``docs_assets/``, and served
together on one local HTTP server."""
