/* Browser side of the reader harness: epub.js renders the book into #viewer (paginated, one
 * column, like a phone or tablet reading system) and `window.reader` answers questions about
 * what is on screen. Everything returned is plain JSON; the Node driver (read.mjs) calls these
 * through page.evaluate and does the real mouse clicks and the screenshots.
 *
 * "On screen" means: the element has a client rect that intersects the visible part of the
 * viewer, in page coordinates (the iframe's own rect already includes epub.js's column scroll).
 */
/* global ePub */
"use strict";

window.reader = (() => {
  let book = null;
  let rendition = null;
  let relocations = 0;
  const errors = [];

  const viewer = () => document.getElementById("viewer");
  const nextFrame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  function contentsList() {
    return rendition ? rendition.getContents() : [];
  }

  /** The first element matching selector in any rendered section, with its Contents. */
  function find(selector) {
    for (const contents of contentsList()) {
      const element = contents.document && contents.document.querySelector(selector);
      if (element) return { contents, element };
    }
    return null;
  }

  function clipRect() {
    const container = viewer().querySelector(".epub-container") || viewer();
    const r = container.getBoundingClientRect();
    return {
      left: Math.max(r.left, 0),
      top: Math.max(r.top, 0),
      right: Math.min(r.right, window.innerWidth),
      bottom: Math.min(r.bottom, window.innerHeight),
    };
  }

  function round(rect) {
    return {
      left: Math.round(rect.left), top: Math.round(rect.top),
      width: Math.round(rect.right - rect.left), height: Math.round(rect.bottom - rect.top),
    };
  }

  /** Where an element is on the page: its visible fragments in page coordinates. */
  function placeOf(element) {
    const frame = element.ownerDocument.defaultView.frameElement.getBoundingClientRect();
    const clip = clipRect();
    const visible = [];
    let total = 0;
    let shown = 0;
    for (const r of element.getClientRects()) {
      const rect = { left: r.left + frame.left, top: r.top + frame.top, right: r.right + frame.left, bottom: r.bottom + frame.top };
      const area = Math.max(0, rect.right - rect.left) * Math.max(0, rect.bottom - rect.top);
      total += area;
      const cut = {
        left: Math.max(rect.left, clip.left), top: Math.max(rect.top, clip.top),
        right: Math.min(rect.right, clip.right), bottom: Math.min(rect.bottom, clip.bottom),
      };
      if (cut.right - cut.left >= 1 && cut.bottom - cut.top >= 1) {
        shown += (cut.right - cut.left) * (cut.bottom - cut.top);
        visible.push(cut);
      }
    }
    // Hit test at the centre of the first visible fragment: is this element what a tap would reach?
    let hit = false;
    if (visible.length) {
      const c = visible[0];
      const x = (c.left + c.right) / 2 - frame.left;
      const y = (c.top + c.bottom) / 2 - frame.top;
      const topmost = element.ownerDocument.elementFromPoint(x, y);
      hit = Boolean(topmost && (topmost === element || element.contains(topmost) || topmost.contains(element)));
    }
    return {
      onScreen: visible.length > 0,
      visibleFraction: total ? Math.round((shown / total) * 1000) / 1000 : 0,
      hit,
      rects: visible.map(round),
      center: visible.length
        ? { x: (visible[0].left + visible[0].right) / 2, y: (visible[0].top + visible[0].bottom) / 2 }
        : null,
    };
  }

  function describe(selector) {
    const found = find(selector);
    if (!found) return { selector, found: false, onScreen: false };
    const { element } = found;
    return {
      selector, found: true, tag: element.localName, id: element.id || null,
      text: (element.textContent || "").replace(/\s+/g, " ").trim(),
      ...placeOf(element),
    };
  }

  function attribute(selector, name) {
    const found = find(selector);
    return found ? found.element.getAttribute(name) : null;
  }

  function location() {
    const loc = rendition.currentLocation() || rendition.location;
    if (!loc || !loc.start) return { href: null };
    return {
      href: loc.start.href,
      cfi: loc.start.cfi,
      page: loc.start.displayed ? loc.start.displayed.page : null,
      pages: loc.start.displayed ? loc.start.displayed.total : null,
      atStart: Boolean(loc.atStart),
      atEnd: Boolean(loc.atEnd),
    };
  }

  /** Wait until images and fonts of the rendered sections are ready and layout has settled. */
  async function settle() {
    const waits = [];
    for (const contents of contentsList()) {
      const doc = contents.document;
      if (!doc) continue;
      if (doc.fonts) waits.push(doc.fonts.ready);
      for (const img of doc.images) {
        if (!img.complete) {
          waits.push(new Promise((resolve) => {
            img.addEventListener("load", resolve, { once: true });
            img.addEventListener("error", resolve, { once: true });
          }));
        }
      }
    }
    await Promise.race([Promise.all(waits), sleep(5000)]);
    await nextFrame();
    await nextFrame();
  }

  async function open(url) {
    const box = viewer().getBoundingClientRect();
    book = ePub(url, { openAs: "epub" });
    rendition = book.renderTo(viewer(), {
      width: Math.round(box.width), height: Math.round(box.height),
      flow: "paginated", spread: "none", allowScriptedContent: false,
    });
    rendition.on("relocated", () => { relocations += 1; });
    rendition.on("displayerror", (err) => errors.push(String(err)));
    await book.ready;
    const navigation = await book.loaded.navigation;
    const metadata = await book.loaded.metadata;
    const opf = await book.load(book.path.toString());
    const metas = Array.from(opf.getElementsByTagName("meta"));
    const metaValue = (property) => {
      const m = metas.find((node) => node.getAttribute("property") === property && !node.getAttribute("refines"));
      return m ? m.textContent.trim() : null;
    };
    const items = Array.from(opf.getElementsByTagName("item"));
    return {
      title: metadata.title,
      spine: book.spine.spineItems.map((item) => item.href),
      toc: navigation.toc.map((entry) => ({ label: entry.label.trim(), href: entry.href })),
      coverUrl: await book.coverUrl(),
      activeClass: metaValue("media:active-class"),
      overlays: items.filter((item) => item.getAttribute("media-type") === "application/smil+xml").length,
      documentsWithOverlay: items.filter((item) => item.getAttribute("media-overlay")).length,
    };
  }

  async function display(target) {
    await rendition.display(target);
    await settle();
    return location();
  }

  async function next() {
    await rendition.next();
    await settle();
    return location();
  }

  /** Turn pages forward (as a reader would) until selector is on screen, within the current
   *  section and at most `limit` turns. */
  async function pageTo(selector, limit = 40) {
    const section = location().href;
    let turns = 0;
    while (find(selector) && !describe(selector).onScreen && turns < limit) {
      const before = JSON.stringify(location());
      await next();
      turns += 1;
      const now = location();
      if (JSON.stringify(now) === before || now.href !== section) break; // end of the section or book
    }
    return { turns, ...describe(selector) };
  }

  /** The cover / title page: the cover image, loaded and shown. */
  function cover(selector = "img") {
    const found = find(selector);
    if (!found) return { found: false };
    const img = found.element;
    return {
      ...describe(selector),
      alt: img.getAttribute("alt"),
      complete: img.complete,
      naturalWidth: img.naturalWidth,
      naturalHeight: img.naturalHeight,
      heading: (find("h1") ? find("h1").element.textContent : "").trim(),
    };
  }

  /** Visible text of the rendered page (elements at least partly on screen), for contents checks. */
  function screenText(selector = "a, h1, h2, h3, p, li > span") {
    const out = [];
    for (const contents of contentsList()) {
      for (const el of contents.document.querySelectorAll(selector)) {
        if (placeOf(el).onScreen) out.push((el.textContent || "").replace(/\s+/g, " ").trim());
      }
    }
    return out;
  }

  function style(element) {
    const s = element.ownerDocument.defaultView.getComputedStyle(element);
    return { backgroundColor: s.backgroundColor, color: s.color };
  }

  /** The colour actually behind an element: the first non-transparent background up the tree. */
  function effectiveBackground(element) {
    for (let el = element; el; el = el.parentElement) {
      const bg = style(el).backgroundColor;
      if (bg && bg !== "transparent" && !/rgba\(.*,\s*0\)$/.test(bg)) return bg;
    }
    return "rgb(255, 255, 255)";
  }

  /** What a Media Overlays player does during playback: put the active class on a sentence. */
  function highlight(className, selector = "span.sentence[id]") {
    const found = find(selector);
    if (!found) return { found: false, selector };
    const span = found.element;
    const block = span.closest("p, h1, h2, h3, h4, h5, h6, li, blockquote, figcaption, td, th, dd, dt") || span.parentElement;
    const before = style(span);
    span.classList.add(className);
    const after = style(span);
    return {
      found: true, selector, className, id: span.id,
      text: span.textContent.replace(/\s+/g, " ").trim(),
      block: block.localName,
      spanBefore: before,
      spanActive: after,
      blockBackground: style(block).backgroundColor,
      blockEffectiveBackground: effectiveBackground(block),
      ...placeOf(span),
    };
  }

  return {
    open, display, next, pageTo, describe, attribute, cover, screenText, highlight, location, settle,
    relocations: () => relocations,
    errors: () => errors.slice(),
  };
})();
