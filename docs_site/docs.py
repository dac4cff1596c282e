"""``callaudit docs``: the dbt docs and the Great Expectations Data Docs, built to render offline and served
together on one local HTTP server.

Neither site may load anything from another host:

- dbt's ``index.html`` fetches ``manifest.json``/``catalog.json`` at run time and, when usage statistics are
  on, injects Snowplow's ``sp.js`` from a CDN. Both artifacts are inlined into the page (what
  ``dbt docs generate --static`` does, with ``<`` escaped so a description cannot close the script) and the
  tracker's script URL becomes an empty ``data:`` script: one self-contained file.
- GX 1.24's pages link bootstrap, bootstrap-table, bootstrap-datepicker, popper, jQuery, vega and
  font-awesome from CDNs and a logo from S3. Each CDN file is vendored in ``docs_site/docs_assets`` (versions,
  licenses and sources in its README), copied into the built site and linked relatively; the logo is the
  one GX ships in the site's ``static/images``.

``external_loads`` lists what a page would fetch from elsewhere; the tests hold every built page to zero.
Pure functions first, I/O (building, serving) after.

One module (about 590 lines): the page rewriting, the build and the server all serve one rule —
nothing loads from another host — and the tests hold the built pages to it with the same functions.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html as html_lib
import json
import logging
import os
import re
import shutil
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

log = logging.getLogger(__name__)

ASSETS_DIR = Path(__file__).resolve().with_name("docs_assets")
# Where the vendored files go inside the built GX site.
GX_VENDOR_DIR = "static/vendor"

# Every CDN file GX 1.24.1's Data Docs pages load → its copy in docs_assets (see the README there).
GX_CDN: dict[str, str] = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": (
        "bootstrap@4.3.1/dist/css/bootstrap.min.css"
    ),
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": (
        "bootstrap@4.3.1/dist/js/bootstrap.min.js"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": (
        "bootstrap-table@1.19.1/dist/bootstrap-table.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": (
        "bootstrap-table@1.19.1/dist/bootstrap-table.min.js"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.js": (
        "bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js"
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.css": (
        "bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.css": (
        "bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css": (
        "bootstrap-datepicker@1.9.0/dist/css/bootstrap-datepicker.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js": (
        "bootstrap-datepicker@1.9.0/dist/js/bootstrap-datepicker.min.js"
    ),
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css": (
        "forevolve-bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": (
        "popper.js@1.12.9/dist/umd/popper.min.js"
    ),
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery@3.7.1/dist/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": (
        "fontawesome-free@6.6.0/css/all.min.css"
    ),
    "https://cdn.jsdelivr.net/npm/vega@5": "vega@5.33.1/build/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite@5.23.0/build/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed@6.29.0/build/vega-embed.min.js",
}

# GX's navbar logo (with a ?d=…&dataContextId=… query) and its dark-mode background come from here.
GX_WEB_ASSETS = "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/"
GX_LOGO = "logo-long.png"

DBT_MANIFEST_PLACEHOLDER = '"MANIFEST.JSON INLINE DATA"'
DBT_CATALOG_PLACEHOLDER = '"CATALOG.JSON INLINE DATA"'
# dbt's index.html names a favicon with an unexpanded webpack template (a local 404 in every browser).
DBT_BROKEN_FAVICON = "\"${require('./assets/favicons/favicon.ico')}\""
EMPTY_SCRIPT = "data:text/javascript,"

GX_MISSING_HINT = (
    "no Great Expectations results yet: run `callaudit demo` or `callaudit run` first "
    "(the checkpoint at the end of the daily flow writes the Data Docs)"
)


# ---------------------------------------------------------------------------------------------------------
# pure helpers


def is_external(url: str) -> bool:
    """http(s) and protocol-relative URLs leave the machine; relative paths, data: and blob: do not."""
    u = url.strip().lower()
    return u.startswith(("http://", "https://", "//"))


# url(...) and @import "..." in CSS (quoted or not; data: URIs with parentheses inside quotes are skipped
# over as a whole).
_CSS_REF = re.compile(
    r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)'"]*?))\s*\)|@import\s+(?:"([^"]*)"|'([^']*)')""",
    re.IGNORECASE,
)
# A string literal in an inline script that is the URL of a script or stylesheet: what a page injects at run
# time (dbt's Snowplow loader sets ``i.src="//d1fc8wv8zag5ca.cloudfront.net/2.9.0/sp.js"``).
_SCRIPT_LITERAL_URL = re.compile(
    r"""(["'])((?:https?:)?//[^"'\s<>]+?\.(?:m?js|css)(?:\?[^"'\s<>]*)?)\1""", re.IGNORECASE
)
# <link rel> values that make the browser fetch (or connect to) the href.
_FETCHING_RELS = {
    "stylesheet",
    "icon",
    "shortcut",
    "apple-touch-icon",
    "mask-icon",
    "manifest",
    "preload",
    "modulepreload",
    "prefetch",
    "preconnect",
    "dns-prefetch",
}
_SRC_ATTRS = {
    "script": ("src",),
    "img": ("src", "srcset"),
    "iframe": ("src",),
    "frame": ("src",),
    "embed": ("src",),
    "source": ("src", "srcset"),
    "audio": ("src",),
    "video": ("src", "poster"),
    "track": ("src",),
    "input": ("src",),
    "object": ("data",),
    "image": ("href", "xlink:href"),
    "use": ("href", "xlink:href"),
}


def css_references(css: str) -> list[str]:
    """Every url() and @import target in a piece of CSS, in order."""
    return [next(g for g in m.groups() if g is not None).strip() for m in _CSS_REF.finditer(css)]


def script_literal_urls(js: str) -> list[str]:
    """Absolute or protocol-relative .js/.css URLs written as string literals in a script."""
    return [m.group(2) for m in _SCRIPT_LITERAL_URL.finditer(js)]


class _LoadCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.loads: list[str] = []
        self._raw: str | None = None  # "style" or "script" while inside one

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k.lower(): (v or "") for k, v in attrs}
        if tag == "link":
            rels = set(values.get("rel", "").lower().split())
            if rels & _FETCHING_RELS and values.get("href"):
                self.loads.append(values["href"])
        for attr in _SRC_ATTRS.get(tag, ()):
            value = values.get(attr)
            if not value:
                continue
            if attr == "srcset":
                self.loads.extend(part.strip().split(" ")[0] for part in value.split(",") if part.strip())
            else:
                self.loads.append(value)
        if values.get("style"):
            self.loads.extend(css_references(values["style"]))
        if tag == "style" or (tag == "script" and not values.get("src")):
            self._raw = tag

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self._raw = None

    def handle_endtag(self, tag: str) -> None:
        if tag == self._raw:
            self._raw = None

    def handle_data(self, data: str) -> None:
        if self._raw == "style":
            self.loads.extend(css_references(data))
        elif self._raw == "script":
            self.loads.extend(script_literal_urls(data))


def page_loads(html: str) -> list[str]:
    """What a page makes the browser fetch: stylesheet/icon/preload links, script/img/iframe/media sources,
    url() and @import in <style> and style attributes, and script or stylesheet URLs written as string
    literals in inline scripts (loaders that inject a <script> at run time). Anchors are not loads."""
    collector = _LoadCollector()
    collector.feed(html)
    collector.close()
    return collector.loads


def external_loads(html: str) -> list[str]:
    """The URLs on another host that a page would load (see ``page_loads``), sorted, each once."""
    return sorted({url for url in page_loads(html) if is_external(url)})


def script_safe_json(text: str) -> str:
    """JSON re-serialised to be pasted into a <script>: ASCII only and no ``<`` (so no ``</script>``)."""
    return json.dumps(json.loads(text), separators=(",", ":")).replace("<", "\\u003c")


def offline_dbt_page(index_html: str, manifest_json: str, catalog_json: str) -> str:
    """dbt's docs page as one self-contained file: artifacts inlined, run-time script injection disabled."""
    for placeholder in (DBT_MANIFEST_PLACEHOLDER, DBT_CATALOG_PLACEHOLDER):
        if index_html.count(placeholder) != 1:
            raise RuntimeError(
                f"dbt's docs index.html does not have exactly one {placeholder} to inline the artifacts into "
                "(dbt changed its docs page): docs_site/docs.py needs updating"
            )
    # the tracker and any other script/stylesheet URL the page's code would inject
    page = _SCRIPT_LITERAL_URL.sub(lambda m: f"{m.group(1)}{EMPTY_SCRIPT}{m.group(1)}", index_html)
    page = page.replace(DBT_BROKEN_FAVICON, '"data:,"')
    inline = {
        DBT_MANIFEST_PLACEHOLDER: script_safe_json(manifest_json),
        DBT_CATALOG_PLACEHOLDER: script_safe_json(catalog_json),
    }
    # one pass, so nothing inside the inlined data can be taken for the other placeholder
    pattern = re.compile("|".join(re.escape(p) for p in inline))
    return pattern.sub(lambda m: inline[m.group(0)], page)


def inlined_dbt_artifacts(page: str) -> tuple[dict, dict]:
    """The manifest and catalog inlined in an offline dbt docs page (``{manifest:{…},catalog:{…}}``)."""
    start = page.find("{manifest:{")
    if start < 0:
        raise ValueError("no inlined manifest in this page")
    decoder = json.JSONDecoder()
    manifest, end = decoder.raw_decode(page, start + len("{manifest:"))
    if not page.startswith(",catalog:", end):
        raise ValueError("no inlined catalog after the manifest")
    catalog, _ = decoder.raw_decode(page, end + len(",catalog:"))
    return manifest, catalog


_TAG = re.compile(r"<(?:script|link)\b[^>]*>", re.IGNORECASE)
_ATTR = re.compile(r"""\s(src|href|integrity|crossorigin)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)""", re.IGNORECASE)
_WEB_ASSET_CSS = re.compile(
    r"""url\(\s*(["']?)""" + re.escape(GX_WEB_ASSETS) + r"""([\w.-]+)(?:\?[^"')\s]*)?\1\s*\)"""
)
_WEB_ASSET_ATTR = re.compile(
    r"""(src|href)=(["'])""" + re.escape(GX_WEB_ASSETS) + r"""([\w.-]+)(?:\?[^"'\s]*)?\2"""
)
# GX 1.24 counts one folder too few for the favicon of validation pages (a local 404): re-anchor it.
_GX_FAVICON = re.compile(r"""href=(["'])(?:\./|(?:\.\./)+)static/images/favicon\.ico\1""")
# GX hides the navbar <img> in dark mode and shows full_logo_dark.png from S3 as a background instead.
_DARK_LOGO_STYLE = (
    "<style>/* callaudit docs: offline dark-mode logo */ @media (prefers-color-scheme: dark) {"
    " .navbar-brand a img { visibility: visible; filter: invert(1) hue-rotate(180deg); } }</style>"
)


def _attr_value(raw: str) -> str:
    return html_lib.unescape(raw[1:-1] if raw[:1] in "\"'" else raw)


def declared_integrity(page: str) -> dict[str, str]:
    """CDN URL → Subresource Integrity value, for the <script>/<link> tags of a page that declare one."""
    found = {}
    for tag in _TAG.finditer(page):
        attrs = {m.group(1).lower(): _attr_value(m.group(2)) for m in _ATTR.finditer(tag.group(0))}
        url = attrs.get("src") or attrs.get("href")
        if url and attrs.get("integrity"):
            found[url] = attrs["integrity"]
    return found


def localize_gx_page(page: str, to_root: str, images: frozenset[str] | set[str]) -> str:
    """A GX Data Docs page with every CDN file pointed at the vendored copy and the S3 logo at the site's
    own image. ``to_root`` is the relative path from the page to the site root ("" or "../../"); ``images``
    are the names in the site's static/images. Integrity/crossorigin attributes of rewritten tags go (the
    hashes are checked at build time; a file:// page cannot pass a CORS-mode integrity check)."""
    vendor = f"{to_root}{GX_VENDOR_DIR}/"

    def rewrite_tag(match: re.Match) -> str:
        tag = match.group(0)
        attrs = {m.group(1).lower(): _attr_value(m.group(2)) for m in _ATTR.finditer(tag)}
        url = attrs.get("src") or attrs.get("href")
        if url not in GX_CDN:
            return tag

        def attr(m: re.Match) -> str:
            name = m.group(1).lower()
            if name in ("integrity", "crossorigin"):
                return ""
            if name in ("src", "href"):
                return f' {m.group(1)}="{vendor}{GX_CDN[url]}"'
            return m.group(0)

        return _ATTR.sub(attr, tag)

    page = _TAG.sub(rewrite_tag, page)

    dark_logo_dropped = False

    def css_asset(match: re.Match) -> str:
        nonlocal dark_logo_dropped
        name = match.group(2)
        if name in images:
            return f"url('{to_root}static/images/{name}')"
        dark_logo_dropped = True
        return "none"

    page = _WEB_ASSET_CSS.sub(css_asset, page)

    def attr_asset(match: re.Match) -> str:
        name = match.group(3)
        local = f"{to_root}static/images/{name}" if name in images else "data:,"
        return f'{match.group(1)}="{local}"'

    page = _WEB_ASSET_ATTR.sub(attr_asset, page)
    page = _GX_FAVICON.sub(lambda m: f'href="{to_root}static/images/favicon.ico"', page)
    if dark_logo_dropped and GX_LOGO in images and "</head>" in page:
        page = page.replace("</head>", f"{_DARK_LOGO_STYLE}\n</head>", 1)
    return page


def relative_root(page: Path, root: Path) -> str:
    """The relative URL prefix from a page to its site's root: "" at the root, "../../" two folders down."""
    rel = os.path.relpath(root, page.parent)
    return "" if rel == "." else rel.replace(os.sep, "/") + "/"


def sri_matches(integrity: str, content: bytes) -> bool:
    """Whether a Subresource Integrity value (one or more "algo-base64" tokens) matches content."""
    for token in integrity.split():
        algo, _, digest = token.partition("-")
        if algo in ("sha256", "sha384", "sha512"):
            actual = base64.b64encode(hashlib.new(algo, content).digest()).decode()
            if actual == digest:
                return True
    return False


def home_page(dbt_ready: bool, gx_ready: bool, dbt_error: str | None, gx_notice: str | None) -> str:
    """The small page at ``/`` that links the two sites (no external resources)."""

    def entry(href: str, title: str, what: str, ready: bool, problem: str | None) -> str:
        if ready:
            return f'<li><a href="{href}">{title}</a> — {what}</li>'
        return f"<li>{title} — <em>not available: {html_lib.escape(problem or 'not built')}</em></li>"

    items = "\n".join(
        [
            entry(
                "dbt/",
                "dbt docs",
                "models, columns, tests, lineage graph",
                dbt_ready,
                dbt_error,
            ),
            entry(
                "gx/",
                "Great Expectations Data Docs",
                "expectation suites and the latest validation results",
                gx_ready,
                gx_notice,
            ),
        ]
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>callaudit docs</title>
<style>
 body {{ font-family: system-ui, sans-serif; max-width: 44rem; margin: 3rem auto; padding: 0 1rem; }}
 li {{ margin: .6rem 0; }} em {{ color: #a33; }}
</style></head>
<body><h1>callaudit docs</h1>
<ul>
{items}
</ul>
<p>Everything here is served from this machine; nothing is loaded from the internet.</p>
</body></html>
"""


# ---------------------------------------------------------------------------------------------------------
# I/O: building


class DocsUnavailable(RuntimeError):
    """A site that cannot be built yet, with the reason to show the user."""


@dataclass
class DocsBuild:
    root: Path
    dbt_index: Path | None = None
    gx_index: Path | None = None
    gx_pages: int = 0
    dbt_error: str | None = None
    gx_notice: str | None = None
    # external URLs that were left on GX pages with no vendored copy (neutralised to data:,)
    unvendored: list[str] = field(default_factory=list)

    @property
    def index(self) -> Path:
        return self.root / "index.html"


def docs_root(settings=None) -> Path:
    from flows.config import get_settings

    return (settings or get_settings()).state_dir / "docs"


def gx_site_dir(gx_dir: Path) -> Path:
    """Where the checkpoint's Data Docs build writes the local site (expectations/checkpoint.py)."""
    return gx_dir / "gx" / "uncommitted" / "data_docs" / "local_site"


def build_dbt_docs(database_url: str, out_dir: Path) -> Path:
    """``dbt docs generate`` (flows.transform), then one offline page at ``out_dir/index.html``."""
    from flows.transform import dbt_docs_generate

    index = dbt_docs_generate(database_url)
    target = index.parent
    page = offline_dbt_page(
        index.read_text(encoding="utf-8"),
        (target / "manifest.json").read_text(encoding="utf-8"),
        (target / "catalog.json").read_text(encoding="utf-8"),
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / "index.html"
    out.write_text(page, encoding="utf-8")
    return out


def rebuild_gx_site(gx_dir: Path) -> None:
    """Re-render the Data Docs from the validation results GX stored (when the site folder was removed)."""
    import great_expectations as gx

    context = gx.get_context(mode="file", project_root_dir=str(gx_dir))
    context.build_data_docs()


def _has_validations(gx_dir: Path) -> bool:
    store = gx_dir / "gx" / "uncommitted" / "validations"
    return store.is_dir() and any(p.is_file() for p in store.rglob("*.json"))


def vendored_file(relative: str) -> Path:
    return ASSETS_DIR / relative


def build_gx_docs(gx_dir: Path, out_dir: Path) -> tuple[Path, int, list[str]]:
    """Copy the GX site to ``out_dir``, ship the vendored assets with it and make every page offline.
    Returns the index, the number of pages and any external URL that had no vendored copy."""
    site = gx_site_dir(gx_dir)
    if not (site / "index.html").exists():
        if not _has_validations(gx_dir):
            raise DocsUnavailable(GX_MISSING_HINT)
        log.info("rebuilding the GX Data Docs from the stored validation results in %s", gx_dir)
        rebuild_gx_site(gx_dir)
        if not (site / "index.html").exists():
            raise DocsUnavailable(f"Great Expectations wrote no Data Docs in {site}")
    if out_dir.exists():
        shutil.rmtree(out_dir)
    shutil.copytree(site, out_dir)
    shutil.copytree(ASSETS_DIR, out_dir / GX_VENDOR_DIR)
    images_dir = out_dir / "static" / "images"
    images = frozenset(p.name for p in images_dir.iterdir()) if images_dir.is_dir() else frozenset()
    checked: set[tuple[str, str]] = set()
    unvendored: set[str] = set()
    vendor_dir = out_dir / GX_VENDOR_DIR
    pages = sorted(p for p in out_dir.rglob("*.html") if not p.is_relative_to(vendor_dir))
    for path in pages:
        page = path.read_text(encoding="utf-8")
        for url, integrity in declared_integrity(page).items():
            if url in GX_CDN and (url, integrity) not in checked:
                if not sri_matches(integrity, vendored_file(GX_CDN[url]).read_bytes()):
                    raise RuntimeError(
                        f"the vendored {GX_CDN[url]} does not match the integrity {integrity} "
                        f"GX declares for {url}"
                    )
                checked.add((url, integrity))
        page = localize_gx_page(page, relative_root(path, out_dir), images)
        left = external_loads(page)
        for url in left:  # a GX upgrade added a CDN file: keep the page offline, say what is missing
            page = page.replace(url, "data:,")
        unvendored.update(left)
        path.write_text(page, encoding="utf-8")
    if unvendored:
        log.warning(
            "GX Data Docs load files with no vendored copy (left out): %s", ", ".join(sorted(unvendored))
        )
    return out_dir / "index.html", len(pages), sorted(unvendored)


def build_docs(database_url: str | None = None, settings=None) -> DocsBuild:
    """Both sites under ``<state dir>/docs`` (``dbt/``, ``gx/``) and a home page linking them. A site that
    cannot be built is reported in the result, not raised, so the other one is still there."""
    import psycopg

    from flows.config import get_settings
    from warehouse.db import ready_database

    settings = settings or get_settings()
    build = DocsBuild(root=docs_root(settings))
    build.root.mkdir(parents=True, exist_ok=True)
    try:
        url = database_url or ready_database(settings)
        build.dbt_index = build_dbt_docs(url, build.root / "dbt")
    except (RuntimeError, psycopg.Error) as exc:
        build.dbt_error = f"dbt docs: {exc}"
        shutil.rmtree(build.root / "dbt", ignore_errors=True)
    try:
        build.gx_index, build.gx_pages, build.unvendored = build_gx_docs(settings.gx_dir, build.root / "gx")
    except DocsUnavailable as exc:
        build.gx_notice = str(exc)
        shutil.rmtree(build.root / "gx", ignore_errors=True)
    build.index.write_text(
        home_page(build.dbt_index is not None, build.gx_index is not None, build.dbt_error, build.gx_notice),
        encoding="utf-8",
    )
    return build


# ---------------------------------------------------------------------------------------------------------
# I/O: serving


class DocsRequestHandler(SimpleHTTPRequestHandler):
    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".css": "text/css",
        ".svg": "image/svg+xml",
        ".woff2": "font/woff2",
        ".woff": "font/woff",
        ".ttf": "font/ttf",
        ".otf": "font/otf",
    }

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args) -> None:
        log.debug("%s %s", self.address_string(), format % args)


def serve_docs(site: DocsBuild | Path, host: str = "127.0.0.1", port: int = 8580) -> ThreadingHTTPServer:
    """An HTTP server (not yet serving) for a build's root: ``/`` the home page, ``/dbt/``, ``/gx/``.
    Port 0 takes any free port (``server.server_address`` says which)."""
    root = site.root if isinstance(site, DocsBuild) else Path(site)
    handler = functools.partial(DocsRequestHandler, directory=str(root))
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def server_url(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}/"


def serve(server: ThreadingHTTPServer) -> None:
    """Serve until Ctrl-C, then close the socket."""
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
