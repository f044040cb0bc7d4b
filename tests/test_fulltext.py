"""The files of one shard of the full-text index (digest/fulltext.py), as static/search.js reads them."""

import gzip
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from digest import fulltext
from digest.fulltext import Doc, Lexicon, index_shard


def _doc(n: int, title: str, text: str, language: str = "en") -> Doc:
    return Doc(f"articles/story-{n}/index.html", title, "1 May 2026", language, text)


def _entries(shard: fulltext.Shard) -> list[list]:
    """Every term entry of the shard, chunk after chunk."""
    return [entry for i in range(len(shard.chunks)) for entry in json.loads(gzip.decompress(shard.files[f"t{i}.gz"]))]


def _by_stem(shard: fulltext.Shard) -> dict[str, tuple[list[str], dict[int, int]]]:
    """stem → (forms, {story number: weight}), the doc steps added up as search.js does."""
    out = {}
    for stem, forms, postings in _entries(shard):
        docs, doc = {}, 0
        for i in range(0, len(postings), 2):
            doc += postings[i]
            docs[doc] = postings[i + 1]
        out[stem] = (forms, docs)
    return out


def test_russian_inflections_share_one_stem_with_every_form_listed():
    shard = index_shard([_doc(0, "Засуха в степи", "Засухи и засухой."), _doc(1, "Дождь", "Никакой засухи.")],
                        Lexicon("ru"))
    stems = _by_stem(shard)
    forms, docs = stems["засух"]
    # "засухой" is folded as the browser folds a query (й → и): a query "засухой" finds it.
    assert forms == ["засуха", "засухи", "засухои"]
    assert set(docs) == {0, 1}
    assert not [s for s in stems if s != "засух" and s.startswith("засух")]


def test_english_possessive_case_and_diacritics_meet():
    lexicon = Lexicon("en")
    assert {stem for _, stem in lexicon.terms("Almaty's")} == {stem for _, stem in lexicon.terms("almaty")} | {"s"}
    assert set(lexicon.terms("ALMATY almaty")) == {("almaty", "almati")}
    assert fulltext.fold("é") == "e" and fulltext.fold("café") == "cafe"
    assert lexicon.terms("Café cafe") == {("cafe", "cafe"): 2}
    shard = index_shard([_doc(0, "Café life", "In Almaty's old town."), _doc(1, "Almaty", "A cafe.")], lexicon)
    stems = _by_stem(shard)
    assert stems["cafe"][0] == ["cafe"] and set(stems["cafe"][1]) == {0, 1}
    assert set(stems["almati"][1]) == {0, 1}
    # A dotless ı has no decomposition: "Almatı" is folded to itself, it does not meet "almaty".
    assert set(lexicon.terms("Almatı")) == {("almatı", "almatı")}


def test_a_title_hit_outweighs_the_same_word_in_the_body():
    shard = index_shard([_doc(0, "Zebra report", "alpha beta gamma"), _doc(1, "Report", "zebra alpha beta gamma")],
                        Lexicon("en"))
    weights = _by_stem(shard)["zebra"][1]
    assert weights[0] > weights[1] >= 1
    report = _by_stem(shard)["report"][1]
    assert report[0] == report[1]  # otherwise equal: the same length, the same title word


def test_a_story_file_holds_what_the_result_list_shows():
    doc = _doc(0, "Title", "Body text " * 3)
    shard = index_shard([doc, _doc(1, "Other", "")], Lexicon("en"))
    assert json.loads(gzip.decompress(shard.files["d0.gz"])) == {
        "u": doc.url, "t": doc.title, "d": doc.date, "l": doc.language, "x": doc.text}
    assert shard.docs == 2
    assert sorted(shard.files) == sorted(["d0.gz", "d1.gz"] + [f"t{i}.gz" for i in range(len(shard.chunks))])
    long = index_shard([_doc(0, "T", "word " * (fulltext.TEXT_LIMIT // 5 + 100))], Lexicon("en"))
    assert len(json.loads(gzip.decompress(long.files["d0.gz"]))["x"]) == fulltext.TEXT_LIMIT


def _many_words() -> list[Doc]:
    """Enough distinct words for many chunks: Latin, Cyrillic, a letter beyond U+FFFF (UTF-16
    surrogates, which sort before U+E000…U+FFFF) and full-width letters (U+FF21…)."""
    letters = ["a", "b", "ж", "щ", "𐐨", "ａ", "é"]
    words = []
    for i in range(4000):
        word, n = "", i
        for _ in range(5):
            word += letters[n % len(letters)]
            n //= len(letters)
        words.append(word)
    return [_doc(n, f"Story {n}", " ".join(words[n::7])) for n in range(7)]


def test_chunks_are_sorted_in_utf16_order_and_about_chunk_bytes_each():
    shard = index_shard(_many_words(), Lexicon("kk"))
    assert len(shard.chunks) > 5
    stems = []
    for i, first in enumerate(shard.chunks):
        raw = gzip.decompress(shard.files[f"t{i}.gz"]).decode("utf-8")
        entries = json.loads(raw)
        assert entries and entries[0][0] == first
        # Measured in bytes of JSON, as fulltext.py counts them.
        assert len(raw.encode()) <= fulltext.CHUNK_BYTES + 2 or len(entries) == 1, (i, len(raw.encode()))
        stems += [entry[0] for entry in entries]
    assert stems == sorted(stems, key=lambda s: s.encode("utf-16-be"))
    assert len(set(stems)) == len(stems)
    # Not code point order: a stem with U+10428 comes before one with U+FF41.
    assert stems != sorted(stems)


def test_a_single_entry_larger_than_a_chunk_is_a_chunk_of_its_own():
    docs = [_doc(n, "x", "common") for n in range(3000)]  # the postings of "common" alone: ~15,000 bytes
    shard = index_shard(docs, Lexicon("en"))
    entries = [json.loads(gzip.decompress(shard.files[f"t{i}.gz"])) for i in range(len(shard.chunks))]
    big = [chunk for chunk in entries
           if len(json.dumps(chunk, separators=(",", ":"), ensure_ascii=False).encode()) > fulltext.CHUNK_BYTES]
    assert big and all(len(chunk) == 1 for chunk in big)


def test_the_same_stories_give_the_same_bytes():
    first = index_shard(_many_words(), Lexicon("ru"))
    again = index_shard(_many_words(), Lexicon("ru"))
    assert first == again
    for data in first.files.values():
        assert data[:2] == b"\x1f\x8b" and data[4:8] == b"\0\0\0\0"  # gzip with no time in it


def test_a_kazakh_lexicon_does_not_stem():
    text = "Алматыда қалалар засухи Almaty's cities"
    kazakh = Lexicon("kk").terms(text)
    assert all(form == stem for form, stem in kazakh)
    assert ("cities", "cities") in kazakh and ("засухи", "засухи") in kazakh
    # … where the Russian and English ones do.
    assert ("засухи", "засух") in Lexicon("ru").terms(text)
    assert ("cities", "citi") in Lexicon("en").terms(text)


# --- A property: the term chunks hold exactly the stories' words. ---

_LETTERS = "abeoszéèñüßİıАаБбЗзСсУуХхЙйЁёЫы"
_word = st.text(alphabet=_LETTERS, min_size=1, max_size=6)
_text = st.lists(st.tuples(_word, st.sampled_from([" ", ", ", ". ", "'", "-", "_", "\n"])), max_size=12).map(
    lambda parts: "".join(w + sep for w, sep in parts))


@settings(max_examples=50, deadline=None)
@given(language=st.sampled_from(["en", "ru", "kk", "fr"]),
       stories=st.lists(st.tuples(_text, _text), min_size=1, max_size=6))
def test_decoded_postings_are_exactly_the_stories_holding_each_stem(language, stories):
    docs = [_doc(n, title, text, language) for n, (title, text) in enumerate(stories)]
    shard = index_shard(docs, Lexicon(language))
    decoded = {}
    for stem, forms, postings in _entries(shard):
        assert stem not in decoded
        assert postings[0] >= 0 and all(step > 0 for step in postings[2::2])  # stories in order
        assert all(weight >= 1 for weight in postings[1::2])
        decoded[stem] = (set(forms), _by_stem_postings(postings))
    expected: dict[str, set[int]] = {}
    lexicon = Lexicon(language)
    for n, doc in enumerate(docs):
        for form, stem in lexicon.terms(doc.title) + lexicon.terms(doc.text):
            expected.setdefault(stem, set()).add(n)
            assert form in decoded[stem][0], (form, stem)
    assert {stem: docs_ for stem, (_, docs_) in decoded.items()} == expected
    assert shard.docs == len(docs)


def _by_stem_postings(postings: list[int]) -> set[int]:
    docs, doc = set(), 0
    for i in range(0, len(postings), 2):
        doc += postings[i]
        docs.add(doc)
    return docs


def test_a_lone_surrogate_in_a_story_is_replaced_not_fatal():
    shard = index_shard([_doc(0, "Broken \ud800 title", "Text with \udfff a lone surrogate")], Lexicon("en"))
    story = json.loads(gzip.decompress(shard.files["d0.gz"]))
    assert story["t"] == "Broken ? title" and "lone surrogate" in story["x"]


def test_without_isal_the_index_is_the_same_json_in_standard_gzip():
    # A platform with no isal wheel (pyproject's marker) compresses with zlib: the same content,
    # another format string, so its shards live in other folders.
    import subprocess
    import sys

    script = (
        "import sys; sys.modules['isal'] = None\n"
        "import gzip, json\n"
        "from digest import fulltext as f\n"
        "s = f.index_shard([f.Doc('a/', 'Almaty water', '1 May', 'en', 'Drought in Almaty.')], f.Lexicon('en'))\n"
        "print(json.dumps([f.GZIP, f.FORMAT, {k: json.loads(gzip.decompress(v)) for k, v in s.files.items()}]))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    name, form, files = json.loads(out)
    ours = index_shard([Doc("a/", "Almaty water", "1 May", "en", "Drought in Almaty.")], Lexicon("en"))
    assert name == "zlib" and form != fulltext.FORMAT
    assert files == {k: json.loads(gzip.decompress(v)) for k, v in ours.files.items()}
