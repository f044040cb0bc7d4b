// Search page: Pagefind's JS API with our own small markup (no UI bundle to download).
// Everything is resolved relative to this page, so the site works under any sub-path.
const form = document.getElementById("search-form");
const input = document.getElementById("search-q");
const status = document.getElementById("search-status");
const list = document.getElementById("search-results");
const bundle = new URL(form.dataset.bundle, location.href);
const root = new URL("../", bundle); // pagefind/ sits at the site root
const SHOWN = 20;
let pagefind = null;
let latest = 0;

// The index comes in shards (digest/search.py): pagefind/ is the first, with the API and its
// WebAssembly; pagefind/shards.json lists the others, which Pagefind merges into one search.
function engine() {
  if (!pagefind) {
    pagefind = (async () => {
      const listed = fetch(new URL("shards.json", bundle), { cache: "no-cache" }).then((r) => {
        if (!r.ok) throw new Error(`shards.json: HTTP ${r.status}`);
        return r.json();
      });
      listed.catch(() => {}); // handled below, once the API has loaded
      const pf = await import(bundle.href);
      // Result URLs are site paths ("/articles/x/index.html"); prefix them with the real root.
      await pf.options({ baseUrl: root.pathname });
      const { shards } = await listed;
      await Promise.all(shards.map((s) => pf.mergeIndex(new URL(s, bundle).pathname, { baseUrl: root.pathname })));
      return { pf, sharded: shards.length > 0 };
    })();
    pagefind.catch(() => { pagefind = null; }); // let a later query try again
  }
  return pagefind;
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
    let results = (await pf.search(q)).results;
    if (sharded && !q.includes('"')) {
      // Each shard is searched on its own, and a shard without any word starting with a query
      // word falls back to its longest word that starts the query word ("a" for "almaty"),
      // which would flood the merged results. So on a sharded index keep only the pages that
      // hold every query word exactly (stemmed, as Pagefind's "quoted" search matches it).
      for (const word of q.split(/\s+/)) {
        const exact = new Set((await pf.search(`"${word}"`)).results.map((r) => r.id));
        results = results.filter((r) => exact.has(r.id));
      }
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
