// Search page: Pagefind's JS API with our own small markup (no UI bundle to download).
// Everything is resolved relative to this page, so the site works under any sub-path.
const form = document.getElementById("search-form");
const input = document.getElementById("search-q");
const status = document.getElementById("search-status");
const list = document.getElementById("search-results");
const bundle = new URL(form.dataset.bundle, location.href);
const root = new URL("../", bundle); // pagefind/ sits at the site root
const SHOWN = 20;
const SHARD = "shard"; // the synthetic filter that tags each shard's pages (see engine)
const LANGUAGE = "language"; // the synthetic filter that tags each index with its language
const choice = document.getElementById("search-lang"); // only on a site in several languages
let pagefind = null;
let latest = 0;

// The index comes in shards (digest/search.py): pagefind/ is the first, with the API and its
// WebAssembly; pagefind/shards.json lists the others, which Pagefind merges into one search.
// Each shard is tagged with a synthetic filter ("shard": its number, the primary is "0"), which
// is how a merged result tells which shard it came from (see shardsMatching), and with its
// language. A query is stemmed by the WebAssembly of the API that searches it, so the indexes
// come in engines, one API each (indexes whose languages share a stemmer, see search.py); every
// engine is searched and the results ranked together by score.
function engine() {
  if (!pagefind) {
    pagefind = (async () => {
      const r = await fetch(new URL("shards.json", bundle), { cache: "no-cache" });
      if (!r.ok) throw new Error(`shards.json: HTTP ${r.status}`);
      const listed = await r.json();
      const indexes = listed.indexes ?? [{ path: "", engine: "" }, ...listed.shards.map((s) => ({ path: s, engine: "" }))];
      const tagged = indexes.length > 1;
      // Result URLs are site paths ("/articles/x/index.html"); prefix them with the real root.
      const tag = (x, i) => (tagged ? { mergeFilter: { [SHARD]: String(i), [LANGUAGE]: x.language ?? "" } } : {});
      const engines = new Map();
      for (const [i, x] of indexes.entries()) {
        if (x.path === x.engine) engines.set(x.engine, { api: import(new URL(x.path + "pagefind.js", bundle).href), first: [x, i], merged: [], languages: new Set() });
        const e = engines.get(x.engine);
        if (x.path !== x.engine) e.merged.push([x, i]);
        e.languages.add(x.language);
      }
      return Promise.all([...engines.values()].map(async (e) => {
        const pf = await e.api;
        await pf.options({ baseUrl: root.pathname, ...tag(...e.first) });
        await Promise.all(e.merged.map(([x, i]) => pf.mergeIndex(new URL(x.path, bundle).pathname, { baseUrl: root.pathname, ...tag(x, i) })));
        return { pf, sharded: e.merged.length > 0, languages: e.languages };
      }));
    })();
    pagefind.catch(() => { pagefind = null; }); // let a later query try again
  }
  return pagefind;
}

// Pagefind's own normalisation of a word (lower case, no punctuation, no diacritics).
const norm = (w) => w.toLocaleLowerCase().normalize("NFD").replace(/[\p{M}]|[^\p{L}\p{N}]/gu, "");
// A result location's length bonus when the indexed word has the query word's (stemmed) length
// (Pagefind: balanced_score = weight² × exp(e^(-d²/8) - 1) at the default term similarity,
// d = 1 + the length difference), i.e. the word itself matched.
const SAME_LENGTH = Math.exp(Math.exp(-1 / 8) - 1);
const bonus = (l) => l.balanced_score / (l.weight * 24) ** 2;
const lengthGap = (l) => Math.sqrt(Math.max(0, -8 * Math.log(Math.max(1e-9, Math.log(bonus(l)) + 1))));

// Which shards really match one query word. Pagefind searches each merged index on its own, and
// an index with no word starting with the query word falls back to its longest word that the
// query word starts with ("a" for "almaty"), so an index as a whole either extends the word
// (every result holds a word starting with it) or falls back (every result holds that one
// shorter word). Which one shows in any of its results' data (the fragment, loaded anyway for a
// result that is shown): it extends the word if a matched location has the length bonus of the
// word itself or if a matched word starts with the query word. When no shard extends the word, a
// single index would fall back to the longest such word of all: keep the shards whose fallback
// word is longest (smallest length gap), as one index would.
async function shardsMatching(pf, word, counts) {
  const t = norm(word);
  const extending = [], fallback = [];
  await Promise.all(Object.entries(counts).filter(([, n]) => n > 0).map(async ([shard]) => {
    const { results } = await pf.search(word, { filters: { [SHARD]: shard } });
    if (!results.length) return;
    const data = await results[0].data();
    const words = (data.raw_content ?? data.content).split(/[\r\n\s]+/g);
    const located = data.weighted_locations;
    const whole = located.some((l) => Math.abs(bonus(l) - SAME_LENGTH) < 1e-4);
    const prefix = located.some(({ location }) => {
      const w = norm(words[location] ?? "");
      return w.startsWith(t) || (t.length > 2 && w.length >= t.length && w.startsWith(t.slice(0, -1)));
    });
    if (whole || prefix) extending.push(shard);
    else fallback.push({ shard, gap: Math.min(...located.map(lengthGap)) });
  }));
  if (extending.length || !fallback.length) return new Set(extending);
  const best = Math.min(...fallback.map((f) => f.gap));
  return new Set(fallback.filter((f) => f.gap - best < 0.5).map((f) => f.shard));
}

// Pagefind excerpts are text with <mark> around hits; rebuild them from text nodes only,
// so nothing in an excerpt can ever become markup.
function excerpt(html) {
  const doc = new DOMParser().parseFromString(html, "text/html");
  const p = document.createElement("p");
  p.className = "excerpt";
  for (const node of doc.body.childNodes) {
    if (node.nodeName === "MARK") {
      const mark = document.createElement("mark");
      mark.textContent = node.textContent;
      p.append(mark);
    } else {
      p.append(node.textContent);
    }
  }
  return p;
}

function item(data) {
  const li = document.createElement("li");
  li.className = "card";
  const h = document.createElement("h2");
  const a = document.createElement("a");
  a.href = new URL(data.url, location.href).href;
  a.textContent = data.meta.title || data.url;
  h.append(a);
  li.append(h);
  if (data.meta.date) {
    const meta = document.createElement("p");
    meta.className = "meta";
    meta.textContent = data.meta.date;
    li.append(meta);
  }
  const text = excerpt(data.excerpt);
  // The story's language (a meta value, digest/search.py), as cards elsewhere on the site mark it.
  if (data.meta.lang) h.lang = text.lang = data.meta.lang;
  li.append(text);
  return li;
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
    const language = choice?.value ?? "";
    const engines = (await engine()).filter((e) => !language || e.languages.has(language));
    const found = await Promise.all(engines.map((e) => searchEngine(e, q, language)));
    const results = found.flat().sort((a, b) => b.score - a.score);
    const top = await Promise.all(results.slice(0, SHOWN).map((r) => r.data()));
    if (ticket !== latest) return; // a newer query has started
    list.replaceChildren(...top.map(item));
    const n = results.length;
    status.textContent = n === 0 ? `No stories match “${q}”.`
      : `${n} ${n === 1 ? "story matches" : "stories match"} “${q}”` + (n > SHOWN ? `; the first ${SHOWN} are shown.` : ".");
  } catch (err) {
    if (ticket !== latest) return;
    status.textContent = "Search could not load. Serve the site over HTTP (it cannot run from a file:// page).";
    throw err;
  }
}

// One engine's results for the query (in the chosen language, if any).
async function searchEngine({ pf, sharded }, q, language) {
  const only = language ? { [LANGUAGE]: language } : {};
  {
    let results;
    if (sharded && !q.includes('"')) {
      // Only the shards that really match every query word (shardsMatching), searched together.
      const words = q.split(/\s+/).filter((w) => norm(w));
      let keep = null;
      for (const word of words) {
        const counts = (await pf.search(word, { filters: only })).filters?.[SHARD] ?? {};
        // A word no index holds at all (not even a fallback) is left out of the query, by one
        // index as by every shard.
        if (!Object.values(counts).some((n) => n > 0)) continue;
        const matching = await shardsMatching(pf, word, counts);
        keep = keep ? new Set([...keep].filter((s) => matching.has(s))) : matching;
        if (!keep.size) break; // no shard matches every word so far: nothing matches
      }
      results = keep && keep.size ? (await pf.search(q, { filters: { ...only, [SHARD]: { any: [...keep] } } })).results : [];
    } else {
      results = (await pf.search(q, { filters: only })).results;
    }
    return results;
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
