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
let pagefind = null;
let latest = 0;

// The index comes in shards (digest/search.py): pagefind/ is the first, with the API and its
// WebAssembly; pagefind/shards.json lists the others, which Pagefind merges into one search.
// Each shard is tagged with a synthetic filter ("shard": its number, the primary is "0"), which
// is how a merged result tells which shard it came from (see shardsMatching).
function engine() {
  if (!pagefind) {
    pagefind = (async () => {
      const listed = fetch(new URL("shards.json", bundle), { cache: "no-cache" }).then((r) => {
        if (!r.ok) throw new Error(`shards.json: HTTP ${r.status}`);
        return r.json();
      });
      listed.catch(() => {}); // handled below, once the API has loaded
      const pf = await import(bundle.href);
      const { shards } = await listed;
      // Result URLs are site paths ("/articles/x/index.html"); prefix them with the real root.
      const tag = (i) => (shards.length ? { mergeFilter: { [SHARD]: String(i) } } : {});
      await pf.options({ baseUrl: root.pathname, ...tag(0) });
      await Promise.all(shards.map((s, i) => pf.mergeIndex(new URL(s, bundle).pathname, { baseUrl: root.pathname, ...tag(i + 1) })));
      return { pf, sharded: shards.length > 0 };
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
  h.className = "card-title";
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
  li.append(excerpt(data.excerpt));
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
    const { pf, sharded } = await engine();
    let results;
    if (sharded && !q.includes('"')) {
      // Only the shards that really match every query word (shardsMatching), searched together.
      const words = q.split(/\s+/).filter((w) => norm(w));
      let keep = null;
      for (const word of words) {
        const counts = (await pf.search(word)).filters?.[SHARD] ?? {};
        // A word no index holds at all (not even a fallback) is left out of the query, by one
        // index as by every shard.
        if (!Object.values(counts).some((n) => n > 0)) continue;
        const matching = await shardsMatching(pf, word, counts);
        keep = keep ? new Set([...keep].filter((s) => matching.has(s))) : matching;
        if (!keep.size) break; // no shard matches every word so far: nothing matches
      }
      results = keep && keep.size ? (await pf.search(q, { filters: { [SHARD]: { any: [...keep] } } })).results : [];
    } else {
      results = (await pf.search(q)).results;
    }
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

let timer = 0;
input.addEventListener("input", () => {
  clearTimeout(timer);
  timer = setTimeout(() => run(input.value), 200);
});
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
