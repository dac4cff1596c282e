"""``callaudit docs``: the dbt docs and the GX Data Docs are built from the real warehouse (embedded
PostgreSQL, dbt, the GX checkpoint), load nothing from another host, and are served on one local port."""

from __future__ import annotations

import shutil
import socket
import threading
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import yaml

from docs_site.docs import (
    ASSETS_DIR,
    GX_CDN,
    GX_VENDOR_DIR,
    DocsBuild,
    css_references,
    declared_integrity,
    external_loads,
    gx_site_dir,
    inlined_dbt_artifacts,
    localize_gx_page,
    offline_dbt_page,
    page_loads,
    script_safe_json,
    sri_matches,
)
from flows.config import REPO_ROOT

CHROMIUM = Path("/usr/bin/chromium")


def order_compliance_description() -> str:
    models = yaml.safe_load((REPO_ROOT / "dbt_project/models/marts/_marts__models.yml").read_text("utf-8"))
    (model,) = [m for m in models["models"] if m["name"] == "order_compliance"]
    return model["description"]


@pytest.fixture(scope="module")
def database_url(warehouse_url: str) -> str:
    """The session's shared warehouse (one daily run: seeds, models and data), read-only."""
    return warehouse_url


@pytest.fixture(scope="module")
def built(database_url: str) -> DocsBuild:
    """The warehouse's models, one GX checkpoint run (it writes the Data Docs), then ``build_docs``."""
    from docs_site.docs import build_docs
    from expectations.checkpoint import run_checkpoint
    from flows.config import get_settings
    from warehouse.db import sqlalchemy_url

    settings = get_settings()
    shutil.rmtree(gx_site_dir(settings.gx_dir), ignore_errors=True)  # only this module's results
    run_checkpoint(
        sqlalchemy_url(database_url), database_url, settings.gx_dir, settings.contract().audited_status
    )
    return build_docs(database_url, settings)


def gx_pages(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.html") if GX_VENDOR_DIR not in p.relative_to(root).as_posix())


# --- the external-URL lister and the rewriting, on small pages --------------------------------------------


def test_external_loads_finds_what_a_browser_would_fetch_and_nothing_else() -> None:
    page = """<html><head>
      <link rel="stylesheet" href="https://cdn.example.com/a.css">
      <link rel="canonical" href="https://example.com/page">
      <link rel="shortcut icon" href="//icons.example.com/favicon.ico">
      <link rel="stylesheet" href="static/local.css">
      <script src="https://code.example.com/lib.js"></script>
      <script>var s = document.createElement("script"); s.src = "//tracker.example.net/sp.js";
              var doc = "https://example.com/see-the-docs";</script>
      <style>@import "https://fonts.example.com/css"; .x { background: url('https://img.example.com/bg.png') }
             .y { background: url("data:image/png;base64,AA") } .z { background: url(img/local.png) }</style>
    </head><body>
      <a href="https://example.com/not-a-load">link</a>
      <img src="HTTPS://img.example.com/logo.png" srcset="small.png 1x, https://img.example.com/big.png 2x">
      <div style="background-image: url(http://img.example.com/div.png)"></div>
      <iframe src="https://frame.example.com/"></iframe>
    </body></html>"""
    assert external_loads(page) == [
        "//icons.example.com/favicon.ico",
        "//tracker.example.net/sp.js",
        "HTTPS://img.example.com/logo.png",
        "http://img.example.com/div.png",
        "https://cdn.example.com/a.css",
        "https://code.example.com/lib.js",
        "https://fonts.example.com/css",
        "https://frame.example.com/",
        "https://img.example.com/bg.png",
        "https://img.example.com/big.png",
    ]
    assert {"static/local.css", "img/local.png", "small.png"} <= set(page_loads(page))
    assert external_loads("<p>nothing to load</p>") == []


def test_localize_rewrites_cdn_tags_and_the_s3_logo() -> None:
    bootstrap_js = "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js"
    page = f"""<html><head>
      <link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css"/>
      <script src="{bootstrap_js}" integrity="sha384-xyz" crossorigin="anonymous"></script>
      <style>.navbar-brand a {{ background: url('https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/full_logo_dark.png') }}</style>
      <link rel="shortcut icon" href="../../../../static/images/favicon.ico" type="image/x-icon"/>
    </head><body>
      <img src="https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png?d=1&amp;dataContextId=2">
    </body></html>"""  # noqa: E501
    assert len(external_loads(page)) == 4
    out = localize_gx_page(page, "../../", {"logo-long.png", "favicon.ico"})
    assert external_loads(out) == []
    assert 'href="../../static/vendor/bootstrap@4.3.1/dist/css/bootstrap.min.css"' in out
    assert '<script src="../../static/vendor/bootstrap@4.3.1/dist/js/bootstrap.min.js">' in out
    assert 'src="../../static/images/logo-long.png"' in out
    assert 'href="../../static/images/favicon.ico"' in out
    assert "integrity" not in out and "crossorigin" not in out
    assert "prefers-color-scheme: dark" in out  # the dark-mode logo replaced by the local one


def test_dbt_page_inlines_artifacts_and_drops_the_tracker() -> None:
    template = (
        '<html><head><link rel="shortcut icon" href="${require(\'./assets/favicons/favicon.ico\')}"/></head>'
        '<script>var n={manifest:"MANIFEST.JSON INLINE DATA",catalog:"CATALOG.JSON INLINE DATA"};'
        'i.src="//d1fc8wv8zag5ca.cloudfront.net/2.9.0/sp.js"</script></html>'
    )
    manifest = '{"nodes": {"m": {"description": "a </script> <b>tag</b> and CATALOG.JSON INLINE DATA"}}}'
    page = offline_dbt_page(template, manifest, '{"nodes": {}}')
    assert external_loads(template) == ["//d1fc8wv8zag5ca.cloudfront.net/2.9.0/sp.js"]
    assert external_loads(page) == []
    assert "</script> <b>" not in page  # the description cannot close the script element
    parsed_manifest, catalog = inlined_dbt_artifacts(page)
    assert parsed_manifest["nodes"]["m"]["description"].startswith("a </script> <b>tag</b>")
    assert catalog == {"nodes": {}}
    assert "<" not in script_safe_json('["</script>"]')
    with pytest.raises(RuntimeError, match="dbt changed its docs page"):
        offline_dbt_page("<html></html>", "{}", "{}")


# --- the vendored files ---------------------------------------------------------------------------------


def test_vendored_files_are_exactly_those_the_pages_reference() -> None:
    referenced = set(GX_CDN.values())
    for target in list(referenced):
        path = ASSETS_DIR / target
        assert path.is_file(), target
        if target.endswith(".css"):
            for ref in css_references(path.read_text("utf-8")):
                if ref.startswith("data:"):
                    continue
                assert not urlsplit(ref).netloc, f"{target} loads {ref}"
                font = (path.parent / urlsplit(ref).path).resolve()
                assert font.is_file(), f"{target} references {ref}, not vendored"
                referenced.add(font.relative_to(ASSETS_DIR).as_posix())
    shipped = {
        p.relative_to(ASSETS_DIR).as_posix()
        for p in ASSETS_DIR.rglob("*")
        if p.is_file() and not p.name.startswith(("LICENSE", "README"))
    }
    assert shipped == referenced, "vendored files that no page references, or references with no file"
    readme = (ASSETS_DIR / "README.md").read_text("utf-8")
    for target in GX_CDN.values():
        assert target.split("/")[0] in readme  # each package@version is documented
    for package in {t.split("/")[0] for t in GX_CDN.values()}:
        assert any((ASSETS_DIR / package).glob("LICENSE*")), f"no license file for {package}"


# --- the real build ---------------------------------------------------------------------------------------


def test_dbt_docs_page_is_self_contained_and_documents_order_compliance(built: DocsBuild) -> None:
    from flows.config import get_settings

    assert built.dbt_error is None and built.dbt_index is not None
    page = built.dbt_index.read_text("utf-8")
    description = order_compliance_description()
    first_sentence = description.split(". ")[0]
    assert first_sentence in page
    manifest, catalog = inlined_dbt_artifacts(page)
    node = manifest["nodes"]["model.callaudit.order_compliance"]
    assert node["description"].split() == description.split()
    assert "model.callaudit.order_compliance" in catalog["nodes"]  # dbt run built it: its columns are there
    assert external_loads(page) == []
    # dbt's own page does load from a CDN (its tracker), so the check above can fail
    raw = (get_settings().dbt_target_dir / "index.html").read_text("utf-8")
    assert external_loads(raw) == ["//d1fc8wv8zag5ca.cloudfront.net/2.9.0/sp.js"]


def test_every_gx_page_loads_nothing_external(built: DocsBuild) -> None:
    from flows.config import get_settings

    assert built.gx_notice is None and built.gx_index is not None
    assert built.unvendored == []
    site = gx_site_dir(get_settings().gx_dir)
    raw_pages = gx_pages(site)
    pages = gx_pages(built.gx_index.parent)
    assert len(pages) == built.gx_pages == len(raw_pages) >= 3
    assert any("validations" in p.parts for p in pages) and any("expectations" in p.parts for p in pages)
    for raw in raw_pages:  # GX's own pages load from CDNs: the lister sees it
        loads = external_loads(raw.read_text("utf-8"))
        assert "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css" in loads, raw
        assert set(loads) - set(GX_CDN) <= {u for u in loads if "great-expectations-web-assets" in u}
    for page in pages:
        assert external_loads(page.read_text("utf-8")) == [], page


def test_the_vendored_files_match_the_integrity_gx_declares(built: DocsBuild) -> None:
    from flows.config import get_settings

    declared: dict[str, str] = {}
    for raw in gx_pages(gx_site_dir(get_settings().gx_dir)):
        declared.update(declared_integrity(raw.read_text("utf-8")))
    assert len(declared) == 2  # popper and bootstrap's script are pinned by GX with sha384
    for url, integrity in declared.items():
        assert sri_matches(integrity, (ASSETS_DIR / GX_CDN[url]).read_bytes()), url
        assert not sri_matches(integrity, b"another file")


def test_no_gx_results_yet_still_builds_the_dbt_docs(
    built: DocsBuild, database_url: str, tmp_path: Path
) -> None:
    from docs_site.docs import build_docs
    from flows.config import Settings

    fresh = build_docs(database_url, Settings(state_dir=tmp_path))
    assert fresh.dbt_index is not None and fresh.dbt_index.is_file()
    assert fresh.gx_index is None and "run `callaudit demo` or `callaudit run` first" in fresh.gx_notice
    assert not (fresh.root / "gx").exists()
    home = fresh.index.read_text("utf-8")
    assert 'href="dbt/"' in home and 'href="gx/"' not in home and "callaudit demo" in home


def test_a_removed_gx_site_is_rebuilt_from_the_stored_results(built: DocsBuild, tmp_path: Path) -> None:
    from docs_site.docs import DocsUnavailable, build_gx_docs
    from flows.config import get_settings

    gx_dir = tmp_path / "gx"
    shutil.copytree(get_settings().gx_dir, gx_dir)
    shutil.rmtree(gx_site_dir(gx_dir))
    index, pages, unvendored = build_gx_docs(gx_dir, tmp_path / "out")
    assert index.is_file() and unvendored == []
    rebuilt = gx_pages(tmp_path / "out")
    assert len(rebuilt) == pages >= built.gx_pages  # every stored result and suite, at least this run's
    assert all(external_loads(p.read_text("utf-8")) == [] for p in rebuilt)
    with pytest.raises(DocsUnavailable, match="run `callaudit demo` or `callaudit run` first"):
        build_gx_docs(tmp_path / "never-validated", tmp_path / "out2")


def test_cli_prints_where_the_docs_are_and_why_one_is_missing(
    built: DocsBuild, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    import docs_site.docs
    from cli.main import main

    missing = DocsBuild(root=built.root, dbt_index=built.dbt_index, gx_notice=docs_site.docs.GX_MISSING_HINT)
    monkeypatch.setattr(docs_site.docs, "build_docs", lambda: missing)
    assert main(["docs"]) == 0
    out = " ".join(capsys.readouterr().out.split())  # rich wraps long lines
    assert str(built.dbt_index) in out and "run `callaudit demo` or `callaudit run` first" in out
    # --serve on a port that is taken: a clear error, not a traceback
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["docs", "--serve", "--port", str(port)]) == 1
    assert f"cannot listen on 127.0.0.1:{port}" in " ".join(capsys.readouterr().out.split())


# --- serving ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(built: DocsBuild):
    from docs_site.docs import serve_docs, server_url

    server = serve_docs(built, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server_url(server)
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""


def test_one_server_serves_both_sites_and_every_file_they_load(built: DocsBuild, served: str) -> None:
    assert urlsplit(served).hostname == "127.0.0.1"
    status, home = fetch(served)
    assert status == 200 and b'href="dbt/"' in home and b'href="gx/"' in home
    status, dbt = fetch(served + "dbt/")
    assert status == 200 and order_compliance_description().split(". ")[0].encode() in dbt
    status, gx = fetch(served + "gx/")
    assert status == 200 and b"Great Expectations" in gx
    assert fetch(served + "gx/no-such-page.html")[0] == 404

    gx_root = built.gx_index.parent
    assets: set[str] = set()
    for page in gx_pages(gx_root):
        page_url = served + "gx/" + page.relative_to(gx_root).as_posix()
        status, body = fetch(page_url)
        assert status == 200, page_url
        for load in page_loads(body.decode("utf-8")):
            if not load.startswith("data:"):
                assets.add(urljoin(page_url, load))
    vendored = {a for a in assets if f"/{GX_VENDOR_DIR}/" in a}
    assert len(vendored) == len(set(GX_CDN.values()))  # every vendored CDN file is referenced by a page
    for asset in sorted(assets):
        assert urlsplit(asset).netloc == urlsplit(served).netloc, asset
        status, body = fetch(asset)
        assert status == 200 and body, asset
        if asset.endswith(".css"):  # the icon fonts of font-awesome's CSS
            for ref in css_references(body.decode("utf-8")):
                if not ref.startswith("data:"):
                    assert fetch(urljoin(asset, ref))[0] == 200, (asset, ref)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium")
def test_a_browser_renders_both_sites_without_leaving_this_machine(built: DocsBuild, served: str) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    gx_root = built.gx_index.parent
    validation = next(p for p in gx_pages(gx_root) if "validations" in p.parts)
    requests: list[str] = []
    failed: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page()
            page.on("request", lambda r: requests.append(r.url))
            page.on("requestfailed", lambda r: failed.append(r.url))
            for path in ("gx/", "gx/" + validation.relative_to(gx_root).as_posix()):
                page.goto(served + path, wait_until="load")
                # bootstrap's pl-5 (3rem) applied, its plugins and font-awesome's solid face loaded
                assert page.evaluate(
                    "getComputedStyle(document.querySelector('.container-fluid')).paddingLeft"
                ) == ("48px")
                assert page.evaluate("typeof jQuery.fn.bootstrapTable") == "function"
                assert page.evaluate("typeof vegaEmbed") == "function"
                faces = page.evaluate(
                    "document.fonts.load('900 16px \"Font Awesome 6 Free\"').then(f => f.length)"
                )
                assert faces >= 1
            page.goto(served + "dbt/#!/model/model.callaudit.order_compliance", wait_until="load")
            page.wait_for_selector(f"text={order_compliance_description().split('. ')[0]}", timeout=60_000)
        finally:
            browser.close()
    hosts = {urlsplit(u).hostname for u in requests if urlsplit(u).scheme in ("http", "https")}
    assert hosts == {"127.0.0.1"}, sorted(set(requests))
    assert any("/static/vendor/" in u for u in requests)
    # the only misses are dbt's own unrendered Angular image templates ({{ getIcon(…) }}), all local
    assert all(urlsplit(u).hostname == "127.0.0.1" and "getIcon" in u for u in failed), failed
