"""README is the way in: short, the first screen says how to run and where to read, and
every link of README and docs/ leads somewhere."""
import re

import pytest

from tests.examples import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")),
         ROOT / "benchmarks" / "README.md"]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def slug(heading):
    """The anchor a code host gives a heading: lower case, punctuation dropped, spaces to -."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page):
    return {slug(line.lstrip("#")) for line in page.read_text().splitlines()
            if re.match(r"#{1,6} ", line)}


def broken_links(page):
    """The links of a Markdown page whose file, or heading, is missing."""
    broken = []
    for target in LINK.findall(page.read_text()):
        if re.match(r"[a-z]+:", target):          # http:, https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(target)
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(target)
    return broken


def test_readme_is_at_most_200_lines():
    n = len((ROOT / "README.md").read_text().splitlines())
    assert n <= 200, f"README.md has {n} lines; move detail into docs/"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_and_figure_exists(page):
    assert broken_links(page) == []


def test_the_first_screen_says_how_to_run_test_and_start_reading():
    first = "\n".join((ROOT / "README.md").read_text().splitlines()[:30])
    assert "python examples/gaussian_mixture.py" in first
    assert 'pip install -e ".[test]" && python -m pytest' in first
    assert "docs/notebooks" in first and "reading route" in first.lower()


def test_readme_commands_are_ci_s_commands():
    readme, ci = (ROOT / "README.md").read_text(), (ROOT / ".ci" / "run").read_text()
    assert 'pip install -q -e ".[test]"' in ci and "python -m pytest" in ci
    assert 'pip install -e ".[test]" && python -m pytest' in readme


def test_every_docs_page_is_reachable_from_readme():
    """Nothing moved out of README is lost: each page is linked from README or from a page
    README links to."""
    reached, todo = set(), [ROOT / "README.md"]
    while todo:
        page = todo.pop()
        for target in LINK.findall(page.read_text()):
            dest = (page.parent / target.partition("#")[0]).resolve()
            if dest.suffix in (".md", ".ipynb") and dest.exists() and dest not in reached:
                reached.add(dest)
                if dest.suffix == ".md":
                    todo.append(dest)
    pages = set((ROOT / "docs").rglob("*.md")) | set((ROOT / "docs").rglob("*.ipynb"))
    assert sorted(str(p.relative_to(ROOT)) for p in pages - reached) == []


def test_a_missing_figure_or_heading_is_reported(tmp_path):
    page = tmp_path / "page.md"
    (tmp_path / "there.png").write_bytes(b"")
    page.write_text("# Top\n![a](there.png) ![b](gone.png) [c](#top) [d](#nowhere) "
                    "[e](https://example.org/x)\n")
    assert broken_links(page) == ["gone.png", "#nowhere"]


def test_slug_matches_the_code_host():
    assert slug(" The main job: what it reaches") == "the-main-job-what-it-reaches"
    assert slug("DCGAN and conditional DCGAN on Fashion-MNIST") == \
        "dcgan-and-conditional-dcgan-on-fashion-mnist"


def test_the_tour_in_readme_runs(tmp_path, monkeypatch):
    readme = (ROOT / "README.md").read_text()
    tour = readme.split("## A tour in ten lines", 1)[1].split("```python\n", 1)[1]
    code = tour.split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README tour", "exec"), {})
    assert (tmp_path / "ckpt.npz").exists()
