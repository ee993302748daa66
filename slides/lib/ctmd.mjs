// container.training Markdown -> slide records (pure: text in, data out).
//
// The chapters keep the syntax container.training feeds to remark.js, so they can move between
// the two projects unchanged:
//   `---` on its own line separates slides, `--` reveals the rest of a slide step by step,
//   leading `class: pic` / `class: extra-details` / `name: x` / `exclude: true` lines are slide
//   properties, `???` starts the speaker notes, `.lab[...]` (any `.name[...]`) wraps content in a
//   box with that class. Everything else is plain Markdown, rendered with `marked`.
// We render at build time instead of shipping the Markdown to the browser: the deck then opens
// from file:// with no parser at run time, and tests can read the slides from the HTML itself.
import { Marked } from "marked";

// Properties remark understands that our chapters may use; any other `word: text` first line is
// content (e.g. "Note: ..."), which is what an author expects.
const PROPERTY_KEYS = new Set(["class", "name", "exclude", "layout", "template", "background-image"]);
const FENCE = /^\s{0,3}(`{3,}|~{3,})/;
const LINK_DEF = /^\s{0,3}\[[^\]\n]+\]:\s*\S+/;
// `.name[` not glued to a word (so `a.b[0]` in prose is left alone).
const MACRO_START = /(^|[^\w\\])\.([A-Za-z][\w-]*)\[/;

const marked = new Marked({ gfm: true });

/** Mark which lines sit inside fenced code blocks: separators there are code, not structure. */
function fencedLines(lines) {
  const inside = new Array(lines.length).fill(false);
  let open = null;
  lines.forEach((line, i) => {
    const m = FENCE.exec(line);
    if (open) {
      inside[i] = true;
      if (m && m[1][0] === open[0] && m[1].length >= open.length && line.trim() === m[1]) open = null;
    } else if (m) {
      inside[i] = true;
      open = m[1];
    }
  });
  return inside;
}

/** Split `lines` on lines equal to `separator` (trailing spaces ignored) outside code fences. */
function splitOn(lines, separator) {
  const inside = fencedLines(lines);
  const parts = [[]];
  lines.forEach((line, i) => {
    if (!inside[i] && line.trimEnd() === separator) parts.push([]);
    else parts[parts.length - 1].push(line);
  });
  return parts;
}

/** Split one chapter's text into raw slide texts. */
export function splitSlides(text) {
  return splitOn(text.replace(/\r\n?/g, "\n").split("\n"), "---").map((l) => l.join("\n"));
}

/** Leading `key: value` lines of a slide (remark's slide properties). */
function takeProperties(lines) {
  const props = {};
  let i = 0;
  while (i < lines.length && lines[i].trim() === "") i++;
  for (; i < lines.length; i++) {
    const m = /^([a-z][\w-]*):\s*(.*?)\s*$/.exec(lines[i]);
    if (!m || !PROPERTY_KEYS.has(m[1])) break;
    props[m[1]] = m[2];
  }
  return { props, rest: lines.slice(i) };
}

/** Ranges of `text` that are code (fences and inline spans): macros there stay literal. */
function codeRanges(text) {
  const ranges = [];
  const lines = text.split("\n");
  const inside = fencedLines(lines);
  let offset = 0;
  lines.forEach((line, i) => {
    if (inside[i]) ranges.push([offset, offset + line.length]);
    else {
      for (const m of line.matchAll(/(`+)[^`]*?\1/g)) ranges.push([offset + m.index, offset + m.index + m[0].length]);
    }
    offset += line.length + 1;
  });
  return ranges;
}

/** Index of the `]` closing the `[` at `open`, or -1 (brackets nest; `\]` is escaped). */
function closingBracket(text, open) {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === "[") depth++;
    else if (text[i] === "]" && --depth === 0) return i;
  }
  return -1;
}

/**
 * Render Markdown with container.training's `.name[...]` macros.
 * A macro whose content spans lines becomes a <div>, otherwise a <span> (as remark does). Macros
 * are swapped for placeholder words before `marked` runs, then for their own HTML after, so
 * Markdown inside and around them renders normally. `linkDefs` are the slide's reference links,
 * made visible to every piece the slide is cut into.
 */
export function renderMarkdown(text, linkDefs = "") {
  const html = [];
  const ranges = codeRanges(text);
  const inCode = (pos) => ranges.some(([a, b]) => pos >= a && pos < b);
  let out = "";
  let cursor = 0;
  const macro = new RegExp(MACRO_START.source, "g"); // own lastIndex: this function recurses
  for (let m = macro.exec(text); m; m = macro.exec(text)) {
    const start = m.index + m[1].length;
    const open = macro.lastIndex - 1;
    if (start < cursor || inCode(start)) continue;
    const close = closingBracket(text, open);
    if (close < 0) continue;
    const inner = text.slice(open + 1, close);
    const block = inner.includes("\n");
    const body = block ? renderMarkdown(inner, linkDefs) : renderInline(inner, linkDefs);
    const tag = block ? "div" : "span";
    html.push(`<${tag} class="${m[2]}">${body}</${tag}>`);
    const token = `CTMDMACRO${html.length - 1}X`;
    out += text.slice(cursor, start) + (block ? `\n\n${token}\n\n` : token);
    cursor = close + 1;
    macro.lastIndex = cursor;
  }
  out += text.slice(cursor);
  let rendered = marked.parse(out + (linkDefs ? `\n\n${linkDefs}\n` : ""));
  rendered = rendered.replace(/<p>CTMDMACRO(\d+)X<\/p>/g, (_, n) => html[Number(n)]);
  return rendered.replace(/CTMDMACRO(\d+)X/g, (_, n) => html[Number(n)]);
}

/** One-line macro content: rendered as a paragraph (so reference links resolve), unwrapped. */
function renderInline(text, linkDefs) {
  const html = renderMarkdown(text, linkDefs).trim();
  const m = /^<p>([\s\S]*)<\/p>$/.exec(html);
  return m && !m[1].includes("<p>") ? m[1] : html;
}

/** Reference-link definitions of a slide (outside code), which remark shares across its steps. */
function linkDefinitions(lines) {
  const inside = fencedLines(lines);
  return lines.filter((l, i) => !inside[i] && LINK_DEF.test(l)).join("\n");
}

function stripLinkDefinitions(lines) {
  const inside = fencedLines(lines);
  return lines.filter((l, i) => inside[i] || !LINK_DEF.test(l));
}

/** Plain text of an HTML fragment (for titles). */
export function textOf(html) {
  return html
    .replace(/<[^>]+>/g, "")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&")
    .trim();
}

/** The slide's title: its first heading, else (picture slides) its first image's alt text. */
function slideTitle(html) {
  const heading = /<h[1-6][^>]*>([\s\S]*?)<\/h[1-6]>/.exec(html);
  if (heading) return textOf(heading[1]);
  const alt = /<img[^>]*\balt="([^"]*)"/.exec(html);
  return alt ? textOf(alt[1]) : "";
}

/**
 * Parse one raw slide into {props, steps: [html...], notes: html, title}.
 * `steps[0]` is shown first; each later step is revealed by a `--` in the source.
 */
export function parseSlide(raw) {
  const { props, rest } = takeProperties(raw.split("\n"));
  const [content, ...noteParts] = splitOn(rest, "???");
  const noteLines = noteParts.flatMap((p, i) => (i ? ["???", ...p] : p));
  const defs = linkDefinitions(content);
  const steps = splitOn(stripLinkDefinitions(content), "--")
    .map((lines) => lines.join("\n"))
    .map((md) => renderMarkdown(md, defs).trim());
  // `:EN:`/`:FR:` lines are container.training's table-of-contents metadata, not notes.
  const notesMd = noteLines.filter((l) => !/^:[A-Z]{2}:/.test(l)).join("\n").trim();
  const notes = notesMd ? renderMarkdown(notesMd).trim() : "";
  return { props, steps, notes, title: slideTitle(steps.join("\n")) };
}

/** Parse a chapter: every slide except those marked `exclude: true`. */
export function parseChapter(text) {
  return splitSlides(text)
    .filter((raw) => raw.trim() !== "")
    .map(parseSlide)
    .filter((s) => String(s.props.exclude).toLowerCase() !== "true");
}
