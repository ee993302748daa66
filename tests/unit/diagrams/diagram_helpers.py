"""Helpers shared by the diagram tests: read back what a learner sees in an SVG."""
import html
import re
import xml.etree.ElementTree as ET

NS = "{http://www.w3.org/2000/svg}"


def svg_texts(svg: str) -> list[str]:
    """The visible text of an SVG (what a learner reads), entities decoded."""
    return [html.unescape(t) for t in re.findall(r"<text[^>]*>(.*?)</text>", svg, flags=re.S)]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg.split("?>", 1)[1] if svg.startswith("<?xml") else svg)


def groups(svg: str) -> dict[str, ET.Element]:
    """Element id -> its <g> (every cluster object is a group with an id)."""
    return {g.get("id"): g for g in parse(svg).iter(f"{NS}g") if g.get("id")}


def links(svg: str) -> set[tuple[str, str]]:
    """(data-from, data-to) of every connection drawn."""
    return {(g.get("data-from"), g.get("data-to")) for g in parse(svg).iter(f"{NS}g") if g.get("data-from")}


def tooltip(group: ET.Element) -> str:
    t = group.find(f"{NS}title")
    return t.text if t is not None else ""


def group_texts(group: ET.Element) -> list[str]:
    return [t.text or "" for t in group.iter(f"{NS}text")]


def coordinates(group: ET.Element) -> list[tuple]:
    """Every coordinate a group's shapes carry (rect, text, circle, path), in order."""
    keys = ("x", "y", "width", "height", "cx", "cy", "r", "d")
    return [(el.tag, tuple(el.get(k) for k in keys)) for el in group.iter() if el.tag != f"{NS}title"]
