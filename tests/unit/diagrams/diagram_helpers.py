"""Helpers shared by the diagram tests."""
import re


def svg_texts(svg: str) -> list[str]:
    """The visible text of an SVG (what a learner reads), entities decoded."""
    import html
    return [html.unescape(t) for t in re.findall(r"<text[^>]*>(.*?)</text>", svg, flags=re.S)]
