// Slide records -> one reveal.js HTML page (pure: data in, text out).
//
// Every section carries `data-title`, `data-chapter` and `data-slide` so a reader (or a test) can
// map a slide of the deck back to its source without parsing Markdown again. Scripts are the UMD
// builds, loaded with classic <script> tags: Chromium refuses ES modules from file://.

const LABELS = {
  en: { extra: "Extra details", lab: "Hands-on", notesHint: "Press S for the speaker notes" },
  fr: { extra: "Pour aller plus loin", lab: "À vous de jouer", notesHint: "Touche S : notes de l'orateur" },
};

export function escapeHtml(text) {
  return String(text)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

/** The opening slide, made from the manifest so both languages start the same way. */
function titleSection(deck) {
  const labels = LABELS[deck.lang];
  const subtitle = deck.subtitle ? `<p class="subtitle">${escapeHtml(deck.subtitle)}</p>` : "";
  const notes = deck.notes ? `<aside class="notes">${escapeHtml(deck.notes)}</aside>` : "";
  return `<section class="title-slide" data-title="${escapeHtml(deck.title)}" data-chapter="" data-slide="0">
<h1>${escapeHtml(deck.title)}</h1>
${subtitle}
<p class="hint">${escapeHtml(labels.notesHint)}</p>
${notes}
</section>`;
}

function slideSection(slide, deck) {
  const classes = (slide.props.class || "").split(/[\s,]+/).filter(Boolean);
  const id = slide.props.name ? ` id="${escapeHtml(slide.props.name)}"` : "";
  const badge = classes.includes("extra-details")
    ? `<div class="badge extra-badge">${escapeHtml(LABELS[deck.lang].extra)}</div>\n`
    : "";
  const steps = slide.steps
    .map((html, i) => (i === 0 ? html : `<div class="fragment step">\n${html}\n</div>`))
    .join("\n");
  const notes = slide.notes ? `\n<aside class="notes">\n${slide.notes}\n</aside>` : "";
  return `<section${id} class="${escapeHtml(classes.join(" "))}" data-title="${escapeHtml(slide.title)}" \
data-chapter="${escapeHtml(slide.chapter)}" data-slide="${slide.index}">
${badge}${steps}${notes}
</section>`;
}

/** The whole page. `deck`: {title, subtitle, lang, notes}; `slides`: parsed slide records. */
export function renderPage(deck, slides, engineVersion) {
  const labels = LABELS[deck.lang];
  const sections = [titleSection(deck), ...slides.map((s) => slideSection(s, deck))].join("\n\n");
  return `<!DOCTYPE html>
<html lang="${deck.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="kubenet-lab slides/build.mjs with reveal.js ${escapeHtml(engineVersion)}">
<title>${escapeHtml(deck.title)}</title>
<link rel="stylesheet" href="vendor/reveal.js/reset.css">
<link rel="stylesheet" href="vendor/reveal.js/reveal.css">
<link rel="stylesheet" href="vendor/reveal.js/theme/white.css">
<link rel="stylesheet" href="deck.css">
<style>.reveal .lab::before { content: "${escapeHtml(labels.lab)}"; }</style>
</head>
<body>
<div class="reveal">
<div class="slides">
${sections}
</div>
</div>
<script src="vendor/reveal.js/reveal.js"></script>
<script src="vendor/reveal.js/plugin/notes/notes.js"></script>
<script>
Reveal.initialize({
  hash: true,
  width: 1280,
  height: 720,
  margin: 0.04,
  center: false,
  transition: "none",
  slideNumber: "c/t",
  plugins: [RevealNotes],
});
</script>
</body>
</html>
`;
}
