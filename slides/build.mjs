#!/usr/bin/env node
// Build the slide decks: container.training Markdown chapters -> self-contained reveal.js HTML.
//
//   node build.mjs                         every deck (slides/*/deck.yml) into slides/build/<lang>/
//   node build.mjs --manifest M --out DIR  one deck (tests use this for broken manifests)
//   options: --root DIR  where image paths start (default: the repository, parent of slides/)
//
// The output folder holds index.html, deck.css, the engine copied from node_modules (never a CDN)
// and the pictures the slides use, so it opens from file:// with no network. Bad input stops the
// build with one line naming the file, slide or field, in English or French (LANG=fr...).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import yaml from "js-yaml";
import { parseChapter } from "./lib/ctmd.mjs";
import { renderPage } from "./lib/page.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const LANGS = ["en", "fr"];
const require = createRequire(import.meta.url);

const MESSAGES = {
  manifest_unreadable: {
    en: "cannot read the deck manifest {file}: {detail}",
    fr: "impossible de lire le manifeste du diaporama {file} : {detail}",
  },
  manifest_yaml: {
    en: "{file}: not valid YAML: {detail}",
    fr: "{file} : YAML invalide : {detail}",
  },
  manifest_not_mapping: {
    en: "{file}: the manifest must be a mapping (title, lang, chapters)",
    fr: "{file} : le manifeste doit être un dictionnaire (title, lang, chapters)",
  },
  field_missing: {
    en: "{file}: field '{field}' is missing or empty",
    fr: "{file} : le champ « {field} » est absent ou vide",
  },
  field_type: {
    en: "{file}: field '{field}' must be {expected}",
    fr: "{file} : le champ « {field} » doit être {expected}",
  },
  bad_lang: {
    en: "{file}: field 'lang' is '{value}'; expected one of: {choices}",
    fr: "{file} : le champ « lang » vaut « {value} » ; valeurs possibles : {choices}",
  },
  chapter_missing: {
    en: "{file}: chapters[{index}]: no chapter file {chapter} (looked for {path})",
    fr: "{file} : chapters[{index}] : pas de fichier de chapitre {chapter} (cherché : {path})",
  },
  chapter_empty: {
    en: "{file}: chapters[{index}]: {chapter} holds no slide",
    fr: "{file} : chapters[{index}] : {chapter} ne contient aucune diapositive",
  },
  image_missing: {
    en: "{chapter}, slide {slide}: picture {src} not found (looked for {path})",
    fr: "{chapter}, diapositive {slide} : image {src} introuvable (cherchée : {path})",
  },
  image_remote: {
    en: "{chapter}, slide {slide}: picture {src} is remote; the deck must open offline: put it under images/",
    fr: "{chapter}, diapositive {slide} : l'image {src} est distante ; le diaporama doit s'ouvrir hors ligne : placez-la dans images/",
  },
  engine_missing: {
    en: "reveal.js is not installed in slides/node_modules: run `make slides` (npm ci in slides/)",
    fr: "reveal.js n'est pas installé dans slides/node_modules : lancez `make slides` (npm ci dans slides/)",
  },
  usage: {
    en: "usage: node build.mjs [--manifest FILE --out DIR] [--root DIR]",
    fr: "usage : node build.mjs [--manifest FICHIER --out DOSSIER] [--root DOSSIER]",
  },
  built: {
    en: "{lang}: {count} slides -> {out}",
    fr: "{lang} : {count} diapositives -> {out}",
  },
};

const TYPES = {
  string: { en: "a text", fr: "un texte" },
  list: { en: "a list of file names", fr: "une liste de noms de fichiers" },
};

function uiLang() {
  const env = process.env.LC_ALL || process.env.LC_MESSAGES || process.env.LANG || "";
  return env.toLowerCase().startsWith("fr") ? "fr" : "en";
}

function t(key, params = {}) {
  const text = MESSAGES[key][uiLang()];
  return text.replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? `{${name}}`));
}

class BuildError extends Error {
  constructor(key, params) {
    super(t(key, params));
  }
}

/** Read and check a manifest: {title, subtitle?, notes?, lang, chapters: [file.md...]}. */
export function loadManifest(file) {
  let text;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new BuildError("manifest_unreadable", { file, detail: err.code || err.message });
  }
  let doc;
  try {
    doc = yaml.load(text);
  } catch (err) {
    throw new BuildError("manifest_yaml", { file, detail: err.reason || err.message });
  }
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) throw new BuildError("manifest_not_mapping", { file });
  for (const field of ["title", "lang", "chapters"]) {
    if (doc[field] === undefined || doc[field] === null || doc[field] === "") {
      throw new BuildError("field_missing", { file, field });
    }
  }
  for (const field of ["title", "subtitle", "notes", "lang"]) {
    if (doc[field] !== undefined && typeof doc[field] !== "string") {
      throw new BuildError("field_type", { file, field, expected: TYPES.string[uiLang()] });
    }
  }
  if (!LANGS.includes(doc.lang)) throw new BuildError("bad_lang", { file, value: doc.lang, choices: LANGS.join(", ") });
  if (!Array.isArray(doc.chapters) || doc.chapters.length === 0 || doc.chapters.some((c) => typeof c !== "string")) {
    throw new BuildError("field_type", { file, field: "chapters", expected: TYPES.list[uiLang()] });
  }
  return doc;
}

/** Every slide of the deck, in manifest order, with where it came from. */
function readSlides(manifestFile, deck) {
  const dir = path.dirname(manifestFile);
  return deck.chapters.flatMap((chapter, index) => {
    const full = path.join(dir, chapter);
    if (!fs.existsSync(full)) throw new BuildError("chapter_missing", { file: manifestFile, index, chapter, path: full });
    const slides = parseChapter(fs.readFileSync(full, "utf8"));
    if (slides.length === 0) throw new BuildError("chapter_empty", { file: manifestFile, index, chapter });
    return slides.map((s, i) => ({ ...s, chapter, index: i + 1 }));
  });
}

/** Local pictures the slides show, checked to exist; remote ones are refused. */
function collectImages(slides, root) {
  const images = new Set();
  for (const slide of slides) {
    const html = slide.steps.join("\n") + slide.notes;
    for (const m of html.matchAll(/<img[^>]*\bsrc="([^"]+)"/g)) {
      const src = m[1];
      const where = { chapter: slide.chapter, slide: slide.index, src };
      if (/^([a-z][a-z0-9+.-]*:|\/\/)/i.test(src)) throw new BuildError("image_remote", where);
      const full = path.resolve(root, decodeURI(src));
      if (!fs.existsSync(full)) throw new BuildError("image_missing", { ...where, path: full });
      images.add(src);
    }
  }
  return [...images];
}

function copy(from, to) {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.cpSync(from, to, { recursive: true });
}

/** The engine, from the pinned npm package: only what the page loads, plus its licence. */
function copyEngine(out) {
  let pkgFile;
  try {
    pkgFile = require.resolve("reveal.js/package.json");
  } catch {
    throw new BuildError("engine_missing", {});
  }
  const pkg = path.dirname(pkgFile);
  const dest = path.join(out, "vendor", "reveal.js");
  for (const [from, to] of [
    ["dist/reset.css", "reset.css"],
    ["dist/reveal.css", "reveal.css"],
    ["dist/reveal.js", "reveal.js"],
    ["dist/theme/white.css", "theme/white.css"],
    ["dist/theme/fonts/source-sans-pro", "theme/fonts/source-sans-pro"],
    ["plugin/notes/notes.js", "plugin/notes/notes.js"],
    ["LICENSE", "LICENSE"],
  ]) {
    copy(path.join(pkg, from), path.join(dest, to));
  }
  return JSON.parse(fs.readFileSync(pkgFile, "utf8")).version;
}

/**
 * Build one deck into `out`, replaced whole (no stale picture survives). The deck is written
 * beside it first and swapped in at the end, so a browser or a test reading `out` meanwhile
 * sees the old deck, the new one or (for an instant) none, never half of one.
 * Returns the language and the slide count.
 */
export function buildDeck(manifestFile, out, root) {
  const deck = loadManifest(manifestFile);
  const slides = readSlides(manifestFile, deck);
  const images = collectImages(slides, root);
  const staging = `${out}.tmp-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { recursive: true });
  try {
    const version = copyEngine(staging);
    copy(path.join(HERE, "theme", "deck.css"), path.join(staging, "deck.css"));
    for (const src of images) copy(path.resolve(root, decodeURI(src)), path.join(staging, decodeURI(src)));
    fs.writeFileSync(path.join(staging, "index.html"), renderPage(deck, slides, version));
    fs.rmSync(out, { recursive: true, force: true });
    fs.renameSync(staging, out);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return { lang: deck.lang, count: slides.length + 1 };
}

function parseArgs(argv) {
  const args = { root: path.resolve(HERE, "..") };
  for (let i = 0; i < argv.length; i += 2) {
    const [key, value] = [argv[i], argv[i + 1]];
    if (!["--manifest", "--out", "--root"].includes(key) || value === undefined) throw new BuildError("usage", {});
    args[key.slice(2)] = path.resolve(value);
  }
  if (Boolean(args.manifest) !== Boolean(args.out)) throw new BuildError("usage", {});
  return args;
}

function main(argv) {
  const args = parseArgs(argv);
  const jobs = args.manifest
    ? [[args.manifest, args.out]]
    : LANGS.map((lang) => [path.join(HERE, lang, "deck.yml"), path.join(HERE, "build", lang)]);
  for (const [manifest, out] of jobs) {
    const { lang, count } = buildDeck(manifest, out, args.root);
    console.log(t("built", { lang, count, out: path.relative(process.cwd(), path.join(out, "index.html")) }));
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof BuildError)) throw err;
    console.error(`slides: ${err.message}`);
    process.exit(2);
  }
}
