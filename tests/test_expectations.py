"""The GX suites keep only what dbt cannot check: row counts against the table's input (``input_counts``,
computed from what the loader and the stages recorded) and PII scans of redacted text. Every other invariant
is a dbt test or contract, or a constraint of ``sql/``; a table with neither has no suite."""

from __future__ import annotations

from expectations.suites import NO_EMAIL, NO_LONG_NUMBER, SUITES


def test_every_expectation_is_a_pii_scan_or_a_row_count_against_the_input() -> None:
    assert len({s.name for s in SUITES}) == len(SUITES)
    for suite in SUITES:
        assert suite.expectations or suite.row_count_from or suite.row_count_at_least, suite.name
        for spec in suite.expectations:
            assert spec.kind == "ExpectColumnValuesToNotMatchRegex", (suite.name, spec)
            assert spec.kwargs["regex"] in (NO_EMAIL, NO_LONG_NUMBER), (suite.name, spec)


def test_a_suite_no_longer_declared_leaves_the_gx_context(tmp_path) -> None:
    """An existing GX context (``.state/gx``) keeps the suites of earlier runs: the checkpoint removes those
    of tables it no longer validates, with their validation definitions, so the Data Docs do not list them."""
    import great_expectations as gx

    from expectations.checkpoint import retire_suites

    context = gx.get_context(mode="file", project_root_dir=str(tmp_path))
    batch = (
        context.data_sources.add_pandas("frames")
        .add_dataframe_asset("frame")
        .add_batch_definition_whole_dataframe("whole")
    )
    for name in ("raw.audio_tones", "raw.calls"):
        suite = context.suites.add(gx.ExpectationSuite(name=name))
        context.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch, suite=suite))

    assert retire_suites(context, {"raw.calls"}) == ["raw.audio_tones"]
    assert [s.name for s in context.suites.all()] == ["raw.calls"]
    assert [d.name for d in context.validation_definitions.all()] == ["raw.calls"]
    assert retire_suites(context, {"raw.calls"}) == []
