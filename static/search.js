// Search page: digest's own full-text index (digest/search.py, digest/fulltext.py), searched
// here with no library. Everything is resolved relative to this page, so the site works under
// any sub-path.
const form = document.getElementById("search-form");
const input = document.getElementById("search-q");
const status = document.getElementById("search-status");
const list = document.getElementById("search-results");
const choice = document.getElementById("search-lang"); // only on a site in several languages
const manifestUrl = new URL(form.dataset.index, location.href);
const root = new URL("../", manifestUrl); // search-index/ sits at the site root
const SHOWN = 20;
const STEM_SLACK = 3; // as fulltext.STEM_SLACK: letters a query word may run past a stem it begins with
const PREFIX = 0.7; // a word the query word only begins ("alma" → "almaty") counts this much
const NEAR = 0.9; // a stem the query word begins (an inflection no story uses) counts this much
const ENGINE = 1; // the index format this script reads (fulltext.ENGINE)
let latest = 0;
let manifest = null;
const files = new Map(); // URL → promise of its JSON

// The index's manifest, fetched once (again after a failure).
function index() {
  if (!manifest) {
    manifest = (async () => {
      const r = await fetch(manifestUrl, { cache: "no-cache" });
      if (!r.ok) throw new Error(`index.json: HTTP ${r.status}`);
      const m = await r.json();
      if (m.engine !== ENGINE) throw new Error(`index format ${m.engine}, this page reads ${ENGINE}`);
      return m;
    })();
    manifest.catch(() => { manifest = null; });
  }
  return manifest;
}

// One gzip-compressed JSON file of the index. A server may already have unpacked it (it then
// sent Content-Encoding: gzip); the two magic bytes tell.
function packed(path) {
  const url = new URL(path, manifestUrl).href;
  if (!files.has(url)) {
    const p = (async () => {
      const r = await fetch(url);
      if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
      let bytes = new Uint8Array(await r.arrayBuffer());
      if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
        const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
        bytes = new Uint8Array(await new Response(stream).arrayBuffer());
      }
      return JSON.parse(new TextDecoder().decode(bytes));
    })();
    p.catch(() => files.delete(url));
    files.set(url, p);
  }
  return files.get(url);
}

// As the index folds words (fulltext.py): lower case, diacritics off.
const fold = (w) => w.toLowerCase().normalize("NFD").replace(/\p{M}/gu, "");
const WORD = /[\p{L}\p{N}]+/gu;
const words = (text) => (text.normalize("NFC").match(WORD) ?? []).map(fold).filter(Boolean);

// The term entries of one shard whose stems can match query word q: stems from q less
// STEM_SLACK letters (but at least its first two: a stem can sort before its own word, "city"
// → "citi", "jobs" → "job") up to every word q begins, in the chunk or two that hold them (the
// manifest lists each chunk's first stem; stems sort as JavaScript compares strings).
async function entries(shard, q) {
  const lo = q.slice(0, Math.max(2, q.length - STEM_SLACK));
  // A one-letter word is only itself: as a prefix it would fetch every chunk of its letter.
  const hi = q.length > 1 ? q + "\uffff" : q;
  const wanted = [];
  shard.chunks.forEach((first, i) => {
    const next = shard.chunks[i + 1];
    if (first <= hi && (next === undefined || next > lo)) wanted.push(packed(`${shard.path}t${i}.gz`));
  });
  return (await Promise.all(wanted)).flat().filter(([stem]) => stem >= lo && stem <= hi);
}

// Query word q over the shards: story (shard number, story number) → its score, and the word
// forms to mark in excerpts. A stem matches when a story used q itself (any shard: q's stem is
// then the same everywhere), else when q begins one of its forms, else (an inflection no story
// uses) when q begins with it: the longest such stem.
async function match(shards, q, total) {
  const found = await Promise.all(shards.map((s) => entries(s, q)));
  const factor = new Map(); // stem → weight of the match
  for (const list of found) {
    for (const [stem, forms] of list) {
      if (stem === q || forms.includes(q)) factor.set(stem, 1);
      else if (!factor.has(stem) && forms.some((f) => f.startsWith(q))) factor.set(stem, PREFIX);
    }
  }
  if (!factor.size) {
    let best = 0;
    for (const list of found) {
      for (const [stem] of list) {
        if (stem.length >= 3 && q.startsWith(stem) && stem.length > best) best = stem.length;
      }
    }
    if (best) factor.set(q.slice(0, best), NEAR);
  }
  const df = new Map();
  for (const list of found) {
    for (const [stem, , postings] of list) {
      if (factor.has(stem)) df.set(stem, (df.get(stem) ?? 0) + postings.length / 2);
    }
  }
  const scores = new Map();
  const marks = new Set();
  found.forEach((list, s) => {
    for (const [stem, forms, postings] of list) {
      const f = factor.get(stem);
      if (f === undefined) continue;
      for (const form of forms) if (f !== PREFIX || form.startsWith(q)) marks.add(form);
      const n = df.get(stem);
      const idf = Math.log(1 + (total - n + 0.5) / (n + 0.5));
      let doc = 0;
      for (let i = 0; i < postings.length; i += 2) {
        doc += postings[i];
        const key = `${s}:${doc}`;
        const score = (f * idf * postings[i + 1]) / 100;
        if (!(scores.get(key) >= score)) scores.set(key, score);
      }
    }
  });
  return { scores, marks };
}

// An excerpt of a story's text: the window of WINDOW words that holds the most of the query's
// words (then the most hits; the first such window), its hits marked. Built from text nodes
// and <mark> elements only, so nothing in the index can become markup. ``marks``: for each
// query word, the word forms it matched.
const WINDOW = 30;
const bitCount = (x) => { let n = 0; for (; x; x &= x - 1) n++; return n; };
function excerpt(text, marks, lang) {
  const p = document.createElement("p");
  p.className = "excerpt";
  if (lang) p.lang = lang;
  const found = [...text.matchAll(WORD)];
  if (!found.length) return p;
  const hits = []; // [word number, the query words it is (one bit each)]
  found.forEach((m, i) => {
    const w = fold(m[0]);
    let bits = 0;
    marks.forEach((forms, j) => { if (j < 31 && forms.has(w)) bits |= 1 << j; });
    if (bits) hits.push([i, bits]);
  });
  let from = 0, best = 0;
  for (const [h] of hits.slice(0, 400)) { // a window opens a little before a hit
    const start = Math.max(0, h - 12);
    let cover = 0, count = 0;
    for (const [i, bits] of hits) if (i >= start && i < start + WINDOW) { cover |= bits; count++; }
    const score = bitCount(cover) * 10000 + count;
    if (score > best) [best, from] = [score, start];
  }
  const upto = Math.min(found.length, from + WINDOW);
  const marked = new Set(hits.map(([i]) => i));
  let at = found[from].index;
  if (from > 0) p.append("…");
  for (let i = from; i < upto; i++) {
    if (!marked.has(i)) continue;
    const m = found[i];
    p.append(text.slice(at, m.index));
    const mark = document.createElement("mark");
    mark.textContent = m[0];
    p.append(mark);
    at = m.index + m[0].length;
  }
  const end = upto < found.length ? found[upto - 1].index + found[upto - 1][0].length : text.length;
  p.append(text.slice(at, end) + (upto < found.length ? " …" : ""));
  return p;
}

function item(doc, marks) {
  const li = document.createElement("li");
  li.className = "card";
  const h = document.createElement("h2");
  const a = document.createElement("a");
  a.href = new URL(doc.u, root).href;
  a.textContent = doc.t || doc.u;
  h.append(a);
  li.append(h);
  if (doc.d) {
    const meta = document.createElement("p");
    meta.className = "meta";
    meta.textContent = doc.d;
    li.append(meta);
  }
  // The story's language, as cards elsewhere on the site mark it.
  if (doc.l) h.lang = doc.l;
  li.append(excerpt(doc.x, marks, doc.l));
  return li;
}

async function search(q, language) {
  const m = await index();
  const shards = m.shards.filter((s) => !language || s.language === language);
  const total = shards.reduce((n, s) => n + s.docs, 0);
  const terms = [...new Set(words(q))];
  if (!terms.length || !shards.length) return { results: [], marks: [], missing: [] };
  const all = await Promise.all(terms.map((t) => match(shards, t, total)));
  // Every word must match, and the scores add up; a word no story has at all (a typo) is left
  // out and named, rather than emptying the results.
  const missing = terms.filter((t, i) => !all[i].scores.size);
  const matched = all.filter((x) => x.scores.size);
  if (!matched.length) return { results: [], marks: [], missing };
  let scores = matched[0].scores;
  for (const { scores: next } of matched.slice(1)) {
    const both = new Map();
    for (const [key, score] of scores) if (next.has(key)) both.set(key, score + next.get(key));
    scores = both;
  }
  const results = [...scores].map(([key, score]) => {
    const [s, doc] = key.split(":").map(Number);
    return { shard: shards[s], s, doc, score };
  });
  // Best first; on a tie the newer story (shards and their stories are oldest first).
  results.sort((a, b) => b.score - a.score || b.s - a.s || b.doc - a.doc);
  return { results, marks: matched.map((x) => x.marks), missing };
}

async function run(query) {
  const ticket = ++latest;
  const q = query.trim();
  const url = new URL(location.href);
  if (q) url.searchParams.set("q", q); else url.searchParams.delete("q");
  history.replaceState(null, "", url);
  if (!q) {
    list.replaceChildren();
    status.textContent = "";
    return;
  }
  status.textContent = "Searching…";
  try {
    const { results, marks, missing } = await search(q, choice?.value ?? "");
    const top = await Promise.all(results.slice(0, SHOWN).map((r) => packed(`${r.shard.path}d${r.doc}.gz`)));
    if (ticket !== latest) return; // a newer query has started
    list.replaceChildren(...top.map((doc) => item(doc, marks)));
    const n = results.length;
    status.textContent = n === 0 ? `No stories match “${q}”.`
      : `${n} ${n === 1 ? "story matches" : "stories match"} “${q}”` + (n > SHOWN ? `; the first ${SHOWN} are shown.` : ".")
        + (missing.length ? ` No story has ${missing.map((w) => `“${w}”`).join(", ")}.` : "");
  } catch (err) {
    if (ticket !== latest) return;
    status.textContent = "Search could not load. Serve the site over HTTP (it cannot run from a file:// page).";
    throw err;
  }
}

let timer = 0;
input.addEventListener("input", () => {
  clearTimeout(timer);
  timer = setTimeout(() => run(input.value), 200);
});
choice?.addEventListener("change", () => run(input.value));
form.addEventListener("submit", (event) => {
  event.preventDefault();
  clearTimeout(timer);
  run(input.value);
});
const initial = new URLSearchParams(location.search).get("q");
if (initial) {
  input.value = initial;
  run(initial);
}
