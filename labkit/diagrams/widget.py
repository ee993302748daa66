"""The diagram as a Jupyter widget (anywidget): hover for details, click two pods for a trace, layers, zoom.

The drawing stays labkit's SVG (:mod:`.svg`); the front end only reads what the SVG already says:
every object is a ``<g id=…>`` with a ``<title>`` (shown as a tooltip box that follows the pointer,
also where the browser would not show native tooltips), ``data-targets`` (the pods a Service or a
policy reaches: lit while hovered), ``class="layer layer-…"`` (a checkbox per layer). A click on a
pod, then on another, sends ``pick = [source, destination]`` to Python, which answers with the same
drawing painted with the packet's path (:func:`labkit.trace.trace`) and the hops as text.
Zoom changes the drawing's width (fit = 100 % of the output area, so no sideways scrolling).
"""
from __future__ import annotations

import anywidget
import traitlets

ESM = r"""
function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "lk-live";
  const bar = document.createElement("div");
  bar.className = "lk-bar";
  const layers = document.createElement("span");
  const zoomOut = button("−", "zoom_out"), zoomFit = button("⤢", "zoom_fit"), zoomIn = button("+", "zoom_in");
  const clear = button("✕", "clear");
  const hint = document.createElement("span");
  hint.className = "lk-hint";
  bar.append(layers, zoomOut, zoomFit, zoomIn, clear, hint);
  const canvas = document.createElement("div");
  canvas.className = "lk-canvas";
  const tip = document.createElement("div");
  tip.className = "lk-tip";
  const text = document.createElement("pre");
  text.className = "lk-trace";
  const status = document.createElement("div");
  status.className = "lk-status";
  root.append(bar, canvas, text, status, tip);
  el.append(root);
  let zoom = 1, source = null;
  const hidden = new Set();

  function button(label, key) {
    const b = document.createElement("button");
    b.textContent = label;
    b.className = "lk-btn lk-" + key;
    b.title = model.get("texts")[key] || key;
    return b;
  }
  function svg() { return canvas.querySelector("svg"); }
  function applyZoom() {
    const s = svg();
    if (s) { s.style.width = (zoom * 100) + "%"; s.style.maxWidth = zoom === 1 ? "100%" : "none"; }
  }
  function applyLayers() {
    const s = svg();
    if (!s) return;
    for (const g of s.querySelectorAll("g.layer")) {
      const name = [...g.classList].find(c => c.startsWith("layer-")).slice(6);
      g.style.display = hidden.has(name) ? "none" : "";
    }
  }
  function buildToggles() {
    layers.textContent = "";
    const s = svg();
    if (!s) return;
    const names = model.get("toggles");
    for (const name of Object.keys(names)) {
      if (!s.querySelector("g.layer-" + name)) continue;
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.checked = !hidden.has(name);
      box.onchange = () => { box.checked ? hidden.delete(name) : hidden.add(name); applyLayers(); };
      label.append(box, " " + names[name]);
      label.className = "lk-toggle";
      layers.append(label);
    }
  }
  function markSource() {
    const s = svg();
    if (!s) return;
    s.querySelectorAll(".lk-src").forEach(n => n.classList.remove("lk-src"));
    if (source) { const g = s.getElementById(source); if (g) g.classList.add("lk-src"); }
    hint.textContent = source ? model.get("texts").pick_destination.replace("{src}", source.slice(2))
                              : model.get("texts").pick_source;
  }
  function draw() {
    canvas.innerHTML = model.get("svg").replace(/^<\?xml[^>]*>\s*/, "");
    applyZoom(); applyLayers(); buildToggles(); markSource();
  }
  function owner(target) {
    const g = target.closest && target.closest("g[id]");
    return g && canvas.contains(g) ? g : null;
  }
  canvas.addEventListener("mousemove", (ev) => {
    const g = owner(ev.target);
    canvas.querySelectorAll(".lk-hl").forEach(n => n.classList.remove("lk-hl"));
    if (!g) { tip.style.display = "none"; return; }
    const title = g.querySelector(":scope > title");
    for (const id of (g.dataset.targets || g.dataset.pods || "").split(" ").filter(Boolean)) {
      const t = svg().getElementById(id);
      if (t) t.classList.add("lk-hl");
    }
    if (!title) { tip.style.display = "none"; return; }
    tip.textContent = title.textContent;
    tip.style.display = "block";
    const box = root.getBoundingClientRect();
    const x = Math.min(ev.clientX - box.left + 14, Math.max(0, box.width - tip.offsetWidth - 4));
    tip.style.left = x + "px";
    tip.style.top = (ev.clientY - box.top + 16) + "px";
  });
  canvas.addEventListener("mouseleave", () => {
    tip.style.display = "none";
    canvas.querySelectorAll(".lk-hl").forEach(n => n.classList.remove("lk-hl"));
  });
  canvas.addEventListener("click", (ev) => {
    const g = owner(ev.target);
    if (!g || !g.classList.contains("pod")) return;
    if (!source || source === g.id) { source = g.id; markSource(); return; }
    model.set("pick", [source, g.id]);
    model.save_changes();
    source = null;
    markSource();
  });
  zoomIn.onclick = () => { zoom = Math.min(4, zoom * 1.5); applyZoom(); };
  zoomOut.onclick = () => { zoom = Math.max(1, zoom / 1.5); applyZoom(); };
  zoomFit.onclick = () => { zoom = 1; applyZoom(); };
  clear.onclick = () => { source = null; model.set("pick", []); model.save_changes(); markSource(); };
  model.on("change:svg", draw);
  model.on("change:trace", () => { text.textContent = model.get("trace"); text.style.display = model.get("trace") ? "block" : "none"; });
  model.on("change:status", () => { status.textContent = model.get("status"); });
  draw();
  text.textContent = model.get("trace");
  text.style.display = model.get("trace") ? "block" : "none";
  status.textContent = model.get("status");
}
export default { render };
"""

CSS = """
.lk-live { position: relative; width: 100%; max-width: 100%; font-family: sans-serif; }
.lk-bar { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; margin: 2px 0 6px; font-size: 13px; }
.lk-toggle { margin-right: 8px; cursor: pointer; }
.lk-btn { min-width: 28px; cursor: pointer; }
.lk-hint { color: #555; margin-left: 8px; }
.lk-canvas { width: 100%; overflow-x: auto; overflow-y: hidden; }
.lk-canvas svg { display: block; height: auto; }
.lk-canvas g.pod { cursor: pointer; }
.lk-canvas text { pointer-events: none; }
.lk-canvas g.lk-hl > rect, .lk-canvas g.lk-src > rect { stroke: #ff8f00 !important; stroke-width: 4px !important; }
.lk-tip { display: none; position: absolute; z-index: 10; pointer-events: none; white-space: pre; background: #fffde7;
          border: 1px solid #999; border-radius: 4px; padding: 4px 8px; font: 13px/1.35 monospace; color: #222;
          box-shadow: 0 2px 6px rgba(0,0,0,.2); max-width: 90%; overflow: hidden; }
.lk-trace { display: none; white-space: pre-wrap; font-size: 13px; background: #fff8e1; border-left: 4px solid #ff8f00;
            padding: 6px 10px; margin: 6px 0; }
.lk-status { color: #555; font-size: 13px; }
"""


class DiagramWidget(anywidget.AnyWidget):
    """The front end of a live diagram (see the module docstring)."""

    _esm = ESM
    _css = CSS
    svg = traitlets.Unicode("").tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)
    trace = traitlets.Unicode("").tag(sync=True)
    pick = traitlets.List(traitlets.Unicode(), default_value=[]).tag(sync=True)
    toggles = traitlets.Dict({}).tag(sync=True)     # layer class -> label shown by its checkbox
    texts = traitlets.Dict({}).tag(sync=True)       # the toolbar's words, in the learner's language
