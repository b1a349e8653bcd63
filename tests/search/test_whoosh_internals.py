"""shop/search/whoosh_internals.py reads Whoosh below its public API: these tests say when that reading
must be checked again (another Whoosh version) and that it still gives what the public API gives."""
from whoosh import fields
from whoosh.filedb.filestore import FileStorage

from shop.search import whoosh_internals


def test_the_installed_whoosh_is_the_one_the_internals_were_written_against():
    assert whoosh_internals.installed_version() == whoosh_internals.WRITTEN_AGAINST, (
        f"Whoosh {whoosh_internals.installed_version()} is installed; shop/search/whoosh_internals.py was "
        f"written against {whoosh_internals.WRITTEN_AGAINST}. Re-read W3LeafMatcher's block reading "
        "(whoosh/codec/whoosh3.py: _read_ids, _read_weights, _goto, _lastblock, _nextoffset, _ids, _weights), "
        "the deletion wrapper (whoosh/matching/wrappers.py) and SegmentWriter.schema (whoosh/writing.py), "
        "then update WRITTEN_AGAINST.")


def _segment_reader(tmp_path):
    """One segment of 1,000 documents over several posting blocks, a few repeated words, some deleted."""
    schema = fields.Schema(key=fields.ID(stored=True), text=fields.TEXT(phrase=False))
    ix = FileStorage(str(tmp_path)).create_index(schema)
    writer = ix.writer()
    for n in range(1000):
        writer.add_document(key=str(n), text="common " * (1 + n % 3) + ("rare" if n % 97 == 0 else "other"))
    writer.commit()
    writer = ix.writer()
    for n in range(0, 1000, 10):
        writer.delete_by_term("key", str(n))
    writer.commit(merge=False)
    return ix.reader()


def test_block_reading_gives_the_postings_of_the_public_matcher(tmp_path):
    reader = _segment_reader(tmp_path)
    matcher = reader.postings("text", "common")
    while hasattr(matcher, "child"):
        matcher = matcher.child
    assert all(hasattr(matcher, name) for name in whoosh_internals._BLOCK_READER), \
        "Whoosh's posting reader no longer reads whole blocks: the fast path is not taken"
    for term in ("common", "rare", "other"):
        ids, weights = whoosh_internals.read_postings(reader, "text", term)
        expected = list(reader.postings("text", term).items_as("weight"))  # without the deleted documents
        kept = [(d, w) for d, w in zip(ids, weights) if not reader.is_deleted(d)]
        assert kept == expected, term
        assert len(ids) > len(kept)  # the deleted documents are in the blocks too
    assert len(whoosh_internals.read_postings(reader, "text", "common")[0]) == 1000


def test_a_rebuild_commit_records_the_replaced_schema(tmp_path):
    storage = FileStorage(str(tmp_path))
    writer = storage.create_index(fields.Schema(key=fields.ID(stored=True))).writer()
    whoosh_internals.replace_schema(writer, fields.Schema(key=fields.ID(stored=True), text=fields.TEXT))
    writer.add_document(key="1", text="mật ong")
    writer.commit()
    assert sorted(storage.open_index().schema.names()) == ["key", "text"]
