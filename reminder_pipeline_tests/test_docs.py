"""The README's images: each one exists in docs/ and is one docs/screenshots.py regenerates, so none goes stale."""

from __future__ import annotations

import importlib.util
import re
import sys
from functools import cache
from types import ModuleType

from reminder_pipeline_tests.conftest import PROJECT

DOCS = PROJECT / "docs"
MARKDOWN_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)")
HTML_IMAGE = re.compile(r"<img\b[^>]*\bsrc=[\"']([^\"']+)[\"']", re.IGNORECASE)


def referenced_images(markdown: str) -> list[str]:
    """The local images a Markdown text shows (``![alt](path)`` or ``<img src=...>``), web addresses left out."""
    found = MARKDOWN_IMAGE.findall(markdown) + HTML_IMAGE.findall(markdown)
    return [path for path in found if not re.match(r"[a-z]+:", path)]


@cache
def screenshots_script() -> ModuleType:
    """docs/screenshots.py as a module (registered first: its dataclasses look their module up)."""
    spec = importlib.util.spec_from_file_location("docs_screenshots", DOCS / "screenshots.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def readme_images() -> list[str]:
    return referenced_images((PROJECT / "README.md").read_text(encoding="utf-8"))


def test_images_are_found_in_markdown_and_html() -> None:
    text = (
        "![The graph](docs/asset-lineage.png)\n"
        'text <img alt="x" src="docs/worklist.png" width="700"> more\n'
        "![remote](https://example.com/a.png) and [a link](docs/not-an-image.png)\n"
    )
    assert referenced_images(text) == ["docs/asset-lineage.png", "docs/worklist.png"]


def test_the_readme_shows_images() -> None:
    assert readme_images()


def test_every_image_the_readme_shows_exists() -> None:
    missing = [path for path in readme_images() if not (PROJECT / path).is_file()]
    assert missing == []


def test_every_image_the_readme_shows_is_regenerated_by_the_script() -> None:
    taken = {f"docs/{shot.name}" for shot in screenshots_script().SHOTS}
    assert [path for path in readme_images() if path not in taken] == []


def test_the_script_takes_the_four_tour_pages() -> None:
    shots = {shot.name: shot for shot in screenshots_script().SHOTS}
    tour = {name: (shots[name].app, shots[name].path) for name in screenshots_script().TOUR if name in shots}
    assert tour == {
        "dashboard-overview.png": ("dashboard", "/"),
        "dashboard-worklist.png": ("dashboard", "/worklist"),
        "dashboard-customer.png": ("dashboard", "/customers/{customer}"),
        "asset-lineage.png": ("dagster", "/asset-groups"),
    }


def test_every_screenshot_is_committed_and_none_is_left_over() -> None:
    taken = sorted(shot.name for shot in screenshots_script().SHOTS)
    assert sorted(path.name for path in DOCS.glob("*.png")) == taken


def test_the_readmes_tour_shows_the_four_tour_pages() -> None:
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    start = readme.index("## Five-minute tour")
    tour = readme[start : readme.index("\n## ", start + 1)]
    assert sorted(referenced_images(tour)) == sorted(f"docs/{name}" for name in screenshots_script().TOUR)
