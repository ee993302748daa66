"""The slide decks: both languages build offline, match the seed chapter and each other.

The decks are built once per module with `make slides` (npm installs the pinned engine the first
time; after that nothing leaves the machine). The tests read the built HTML, not the Markdown: what
counts is what the audience sees. Broken manifests and chapters are built into a temporary folder
with `node slides/build.mjs --manifest ... --out ...`.
"""
from __future__ import annotations

import filecmp
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SLIDES = ROOT / "slides"
BUILD = SLIDES / "build"
LANGS = ("en", "fr")
NOTEBOOKS = tuple(sorted(p.stem for p in (ROOT / "notebooks" / "src").glob("*.py")))   # one lab box each
# Attributes that make a browser fetch something (links <a href> only navigate when clicked).
FETCHING = {"script": ("src",), "link": ("href",), "img": ("src", "srcset"), "source": ("src", "srcset"),
            "iframe": ("src",), "video": ("src", "poster"), "audio": ("src",), "embed": ("src",),
            "object": ("data",), "track": ("src",), "image": ("href", "xlink:href"), "use": ("href",)}
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)|@import\s+['"]([^'"]+)""")


def build_decks() -> None:
    result = subprocess.run(["make", "-s", "slides"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"make slides failed:\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="module", autouse=True)
def decks() -> None:
    build_decks()


class Slide:
    def __init__(self, attrs: dict[str, str]) -> None:
        self.classes = (attrs.get("class") or "").split()
        self.title = attrs.get("data-title", "")
        self.chapter = attrs.get("data-chapter", "")
        self.text: list[str] = []      # what the audience sees
        self.notes: list[str] = []     # speaker notes
        self.headings: list[str] = []
        self.images: list[str] = []
        self.labs: list[str] = []      # text of the .lab boxes
        self.fragments = 0


class DeckParser(HTMLParser):
    """Slides of a built deck, with the resources the page fetches."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.slides: list[Slide] = []
        self.fetched: list[tuple[str, str]] = []   # (tag, url)
        self.styles: list[str] = []
        self._stack: list[tuple[str, str]] = []    # (tag, role)
        self._heading: list[str] | None = None

    def _role(self) -> set[str]:
        return {role for _, role in self._stack}

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = {k: v or "" for k, v in attrs_list}
        for name in FETCHING.get(tag, ()):
            if attrs.get(name) and not (tag == "link" and "stylesheet" not in attrs.get("rel", "")
                                        and "icon" not in attrs.get("rel", "")):
                self.fetched.append((tag, attrs[name]))
        if attrs.get("style"):
            self.styles.append(attrs["style"])
        classes = attrs.get("class", "").split()
        role = ""
        if tag == "section":
            self.slides.append(Slide(attrs))
            role = "section"
        elif tag == "aside" and "notes" in classes:
            role = "notes"
        elif "lab" in classes:
            role = "lab"
            self.slides[-1].labs.append("")
        elif tag in ("style", "script"):
            role = tag
        if "fragment" in classes:
            self.slides[-1].fragments += 1
        if tag == "img" and self.slides:
            self.slides[-1].images.append(attrs.get("src", ""))
        if re.fullmatch(r"h[1-6]", tag) and "notes" not in self._role():
            self._heading = []
        if tag not in ("img", "br", "hr", "meta", "link", "input", "source"):
            self._stack.append((tag, role))

    def handle_endtag(self, tag: str) -> None:
        if re.fullmatch(r"h[1-6]", tag) and self._heading is not None:
            self.slides[-1].headings.append("".join(self._heading).strip())
            self._heading = None
        while self._stack:
            if self._stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        roles = self._role()
        if "style" in roles:
            self.styles.append(data)
            return
        if "script" in roles or not self.slides or "section" not in roles:
            return
        slide = self.slides[-1]
        if "notes" in roles:
            slide.notes.append(data)
            return
        slide.text.append(data)
        if "lab" in roles:
            slide.labs[-1] += data
        if self._heading is not None:
            self._heading.append(data)


def parse(html: str) -> DeckParser:
    parser = DeckParser()
    parser.feed(html)
    return parser


def deck(lang: str) -> DeckParser:
    return parse((BUILD / lang / "index.html").read_text(encoding="utf-8"))


def is_remote(url: str) -> bool:
    url = url.strip()
    return url.startswith("//") or urlsplit(url).scheme not in ("", "file", "data")


def seed_titles() -> list[str]:
    """Titles of the seed chapter's slides: first heading, else the picture's alt text."""
    text = (SLIDES / "seed" / "kubernetes-network-model.md").read_text(encoding="utf-8")
    titles = []
    for raw in re.split(r"^---\s*$", text, flags=re.M):
        heading = re.search(r"^#{1,6}\s+(.+?)\s*$", raw, flags=re.M)
        alt = re.search(r"!\[([^\]]*)\]", raw)
        titles.append(heading.group(1) if heading else alt.group(1))
    return titles


def titles_fr() -> dict[str, str]:
    return yaml.safe_load((SLIDES / "fr" / "titles.yml").read_text(encoding="utf-8"))


def run_build(tmp_path: Path, manifest: dict | str, chapters: dict[str, str]) -> subprocess.CompletedProcess:
    """Build a deck from a manifest and chapters written into tmp_path."""
    for name, text in chapters.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    manifest_file = tmp_path / "deck.yml"
    manifest_file.write_text(manifest if isinstance(manifest, str) else yaml.safe_dump(manifest), encoding="utf-8")
    return subprocess.run(["node", str(SLIDES / "build.mjs"), "--manifest", str(manifest_file),
                           "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"})


# ---------------------------------------------------------------- the two decks


@pytest.mark.parametrize("lang", LANGS)
def test_deck_is_built_with_its_language_and_title(lang):
    html = (BUILD / lang / "index.html").read_text(encoding="utf-8")
    manifest = yaml.safe_load((SLIDES / lang / "deck.yml").read_text(encoding="utf-8"))
    assert f'<html lang="{lang}">' in html
    parsed = parse(html)
    assert parsed.slides[0].headings == [manifest["title"]]
    chapters = [s.chapter for s in parsed.slides[1:]]
    assert list(dict.fromkeys(chapters)) == manifest["chapters"]


@pytest.mark.parametrize("lang", LANGS)
def test_page_fetches_nothing_remote(lang):
    parsed = deck(lang)
    assert parsed.fetched, "the page loads its engine: the parser must see some resources"
    remote = [(tag, url) for tag, url in parsed.fetched if is_remote(url)]
    assert remote == []
    css = [m.group(1) or m.group(2) for style in parsed.styles for m in CSS_URL.finditer(style)]
    assert [u for u in css if is_remote(u)] == []


@pytest.mark.parametrize("lang", LANGS)
def test_every_local_resource_exists_in_the_build(lang):
    out = BUILD / lang
    parsed = deck(lang)
    for tag, url in parsed.fetched:
        assert (out / url).is_file(), f"{lang}: <{tag}> {url} is not in {out}"
    # The stylesheets' own url()/@import (fonts of the theme) are copied too, and local.
    for css_file in out.rglob("*.css"):
        for m in CSS_URL.finditer(css_file.read_text(encoding="utf-8")):
            url = (m.group(1) or m.group(2)).strip()
            assert not is_remote(url), f"{css_file} fetches {url}"
            if not url.startswith("data:"):
                target = (css_file.parent / urlsplit(url).path).resolve()
                assert target.is_file(), f"{css_file} refers to missing {url}"


def test_engine_comes_from_the_pinned_npm_package():
    lock = yaml.safe_load((SLIDES / "package-lock.json").read_text(encoding="utf-8"))
    version = lock["packages"]["node_modules/reveal.js"]["version"]
    assert version.startswith("5.")
    for lang in LANGS:
        html = (BUILD / lang / "index.html").read_text(encoding="utf-8")
        assert f"reveal.js {version}" in html
        engine = SLIDES / "node_modules" / "reveal.js" / "dist" / "reveal.js"
        assert filecmp.cmp(engine, BUILD / lang / "vendor" / "reveal.js" / "reveal.js", shallow=False)


@pytest.mark.parametrize("lang", LANGS)
def test_pictures_exist_and_come_from_the_language_folder(lang):
    out = BUILD / lang
    images = [src for s in deck(lang).slides for src in s.images]
    assert len(images) >= 5
    for src in images:
        assert (out / src).is_file(), f"{lang}: {src} missing from the build"
        assert filecmp.cmp(ROOT / src, out / src, shallow=False), f"{src} differs from the repository's"
        if lang == "fr":
            assert src.startswith("images/fr/"), src
        else:
            assert src.startswith("images/") and not src.startswith("images/fr/"), src


def test_both_languages_have_the_same_slides():
    en, fr = deck("en").slides, deck("fr").slides
    assert len(en) == len(fr) > 30
    for i, (a, b) in enumerate(zip(en, fr)):
        assert a.classes == b.classes, f"slide {i}: {a.title!r} vs {b.title!r}"
        assert a.fragments == b.fragments, f"slide {i}: {a.title!r}"
        assert len(a.images) == len(b.images) and len(a.labs) == len(b.labs), f"slide {i}: {a.title!r}"


def test_seed_titles_appear_in_order_in_english():
    seed = seed_titles()
    assert len(seed) == 12 and seed[0] == "Kubernetes network model"
    en_titles = [s.title for s in deck("en").slides]
    position = 0
    for title in seed:
        assert title in en_titles[position:], f"seed slide {title!r} missing or out of order"
        position = en_titles.index(title, position) + 1
    # The seed chapter comes whole, first, right after the title slide.
    assert en_titles[1:1 + len(seed)] == seed


def test_french_titles_follow_the_mapping_slide_by_slide():
    mapping = titles_fr()
    en, fr = deck("en").slides, deck("fr").slides
    for title in seed_titles():
        assert title in mapping, f"no French title for the seed slide {title!r}"
    for i, (a, b) in enumerate(zip(en, fr)):
        assert a.title, f"slide {i} has no title"
        assert mapping.get(a.title) == b.title, f"slide {i}: {a.title!r} -> {b.title!r}"
        assert a.title != b.title, f"slide {i} is not translated: {a.title!r}"


def test_slide_titles_are_the_visible_headings_or_picture_captions():
    for lang in LANGS:
        for s in deck(lang).slides:
            if "pic" in s.classes:
                assert s.images and not s.headings
            else:
                assert s.headings and s.headings[0] == s.title


@pytest.mark.parametrize("lang", LANGS)
def test_every_slide_has_speaker_notes(lang):
    for i, s in enumerate(deck(lang).slides):
        notes = " ".join(s.notes).strip()
        assert len(notes) > 40, f"{lang} slide {i} ({s.title!r}) has no real speaker notes"
        assert ":EN:" not in notes and ":FR:" not in notes


def test_notes_are_in_the_deck_language():
    en = " ".join(n for s in deck("en").slides for n in s.notes)
    fr = " ".join(n for s in deck("fr").slides for n in s.notes)
    assert re.search(r"\b(the|and|with)\b", en) and not re.search(r"\b(les|avec|dans)\b", en)
    assert re.search(r"\b(les|avec|dans)\b", fr)
    assert "nœud" in fr and "politique" in fr


@pytest.mark.parametrize("lang", LANGS)
def test_a_lab_slide_names_each_notebook(lang):
    slides = deck(lang).slides
    for name in NOTEBOOKS:
        path = f"notebooks/{lang}/{name}.ipynb"
        holders = [s for s in slides if any(path in lab for lab in s.labs)]
        assert len(holders) == 1, f"{lang}: {path} must be named in exactly one .lab box"
    other = "fr" if lang == "en" else "en"
    assert not any(f"notebooks/{other}/" in lab for s in slides for lab in s.labs)


def test_lab_slides_sit_at_the_same_place_in_both_languages():
    en, fr = deck("en").slides, deck("fr").slides
    for name in NOTEBOOKS:
        at_en = [i for i, s in enumerate(en) if any(f"notebooks/en/{name}" in lab for lab in s.labs)]
        at_fr = [i for i, s in enumerate(fr) if any(f"notebooks/fr/{name}" in lab for lab in s.labs)]
        assert at_en == at_fr


@pytest.mark.parametrize("lang", LANGS)
def test_no_raw_container_training_markup_is_left(lang):
    for i, s in enumerate(deck(lang).slides):
        text = "".join(s.text)
        lines = [line.strip() for line in text.splitlines()]
        assert ".lab[" not in text and "???" not in text, f"{lang} slide {i}"
        assert not any(line.startswith(("class:", "name:")) for line in lines), f"{lang} slide {i}"
        assert "--" not in lines, f"{lang} slide {i}: a bare -- is shown"


def test_step_by_step_reveals_and_classes_survive():
    en = deck("en").slides
    first = en[1]
    assert first.title == "Kubernetes network model" and first.fragments == 1
    assert sum("pic" in s.classes for s in en) == 5
    assert sum("extra-details" in s.classes for s in en) >= 3
    assert max(s.fragments for s in en) == 4    # the load-balancing slide


def test_kube_proxy_slides_show_real_chains():
    text = "".join("".join(s.text) for s in deck("en").slides)
    for needle in ("KUBE-SVC-MQGWZF2LFP6JZOOM", "--probability 0.33333333349", "DNAT --to-destination 10.244.1.3:80",
                   "map service-ips", "dstport 8472 nolearning", "10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink"):
        assert needle in text


def test_reference_links_resolve_in_both_languages():
    for lang in LANGS:
        html = (BUILD / lang / "index.html").read_text(encoding="utf-8")
        assert 'href="https://cilium.io/"' in html and 'href="https://www.youtube.com/watch?v=yOGHb2HjslY"' in html
        assert "[Cilium]" not in html and "[tables-have-turned]" not in html


# ---------------------------------------------------------------- the build on bad or tricky input

GOOD_MANIFEST = {"title": "T", "lang": "en", "chapters": ["a.md"]}


def test_build_refuses_a_missing_chapter(tmp_path):
    result = run_build(tmp_path, {**GOOD_MANIFEST, "chapters": ["a.md", "nope.md"]}, {"a.md": "# A\n"})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "deck.yml" in lines[0] and "chapters[1]" in lines[0] and "nope.md" in lines[0]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("manifest, words", [
    ({"lang": "en", "chapters": ["a.md"]}, ["'title'", "missing"]),
    ({"title": "T", "lang": "de", "chapters": ["a.md"]}, ["'lang'", "'de'", "en, fr"]),
    ({"title": "T", "lang": "en", "chapters": "a.md"}, ["'chapters'", "list"]),
    ("title: [unclosed", ["not valid YAML"]),
])
def test_build_names_the_bad_manifest_field(tmp_path, manifest, words):
    result = run_build(tmp_path, manifest, {"a.md": "# A\n"})
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("slides: ") and str(tmp_path / "deck.yml") in result.stderr
    for word in words:
        assert word in result.stderr


def test_build_refuses_missing_and_remote_pictures(tmp_path):
    chapter = "# A\n\n---\n\nclass: pic\n\n![x](images/no-such-picture.svg)\n"
    result = run_build(tmp_path, GOOD_MANIFEST, {"a.md": chapter})
    assert result.returncode == 2
    assert "a.md, slide 2" in result.stderr and "images/no-such-picture.svg" in result.stderr
    remote = "# A\n\n![x](https://example.com/x.png)\n"
    result = run_build(tmp_path, GOOD_MANIFEST, {"a.md": remote})
    assert result.returncode == 2 and "remote" in result.stderr and "a.md, slide 1" in result.stderr


def test_build_errors_speak_french_when_asked(tmp_path):
    (tmp_path / "deck.yml").write_text(yaml.safe_dump({**GOOD_MANIFEST, "chapters": ["nope.md"]}))
    result = subprocess.run(["node", str(SLIDES / "build.mjs"), "--manifest", str(tmp_path / "deck.yml"),
                             "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=120,
                            env={"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "fr_FR.UTF-8"})
    assert result.returncode == 2 and "pas de fichier de chapitre nope.md" in result.stderr


def test_converter_handles_the_container_training_corner_cases(tmp_path):
    chapter = "\n".join([
        "# Title one", "", "- first [Link]", "", "--", "", "- second [Link]", "",
        "[Link]: https://example.org/", "",
        "---", "", "name: second-slide", "class: extra-details", "",
        "## YAML in code", "", "```yaml", "a: 1", "---", "b: 2", "--", "```", "",
        ".lab[", "", "- step with a [nested [bracket] link](https://example.org/x)", "",
        "```bash", "echo .lab[not a macro]", "```", "", "]", "",
        "Inline .red[red words] here.", "", "???", "", "Notes with *emphasis*.", "",
        ":EN:- toc entry", "",
        "---", "", "exclude: true", "", "# Hidden", "",
    ])
    result = run_build(tmp_path, {**GOOD_MANIFEST, "subtitle": "S"}, {"a.md": chapter})
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    slides = parse(html).slides
    assert [s.title for s in slides] == ["T", "Title one", "YAML in code"]   # excluded slide dropped
    one, two = slides[1], slides[2]
    assert one.fragments == 1 and html.count('href="https://example.org/"') == 2
    assert 'id="second-slide"' in html and two.classes == ["extra-details"]
    assert "a: 1\n---\nb: 2\n--\n" in html            # separators inside a fence are code
    assert len(two.labs) == 1 and "nested [bracket] link" in two.labs[0]
    assert "echo .lab[not a macro]" in two.labs[0]    # no macro inside code
    assert '<span class="red">red words</span>' in html
    assert "<em>emphasis</em>" in html and "toc entry" not in html
