"""What the search reads or sets below Whoosh's public API, in one place.

Written against Whoosh-Reloaded WRITTEN_AGAINST; tests/search/test_whoosh_internals.py fails when another
version is installed, so that these few lines are read again against its source (whoosh/codec/whoosh3.py's
W3LeafMatcher, whoosh/matching/wrappers.py, whoosh/writing.py's SegmentWriter).
"""
from array import array

import whoosh
from whoosh.matching.wrappers import WrappingMatcher

WRITTEN_AGAINST = "2.7.5"
_BLOCK_READER = ("_read_ids", "_read_weights", "_goto", "_lastblock", "_nextoffset")


def read_postings(reader, field: str, term: str) -> tuple[array, array]:
    """(document numbers, term frequencies) of a term in one segment, deleted documents included.

    Whole blocks are taken from Whoosh's W3 posting reader (a hundred times faster than stepping its matcher
    posting by posting, which is pure Python); any other matcher is stepped through the public interface."""
    matcher = reader.postings(field, term)
    while isinstance(matcher, WrappingMatcher):  # the deletion filter: callers drop deleted documents
        matcher = matcher.child
    ids, weights = array("i"), array("f")
    matcher.reset()
    if all(hasattr(matcher, name) for name in _BLOCK_READER):
        while True:
            matcher._read_ids()
            matcher._read_weights()
            ids.extend(matcher._ids)
            weights.extend(matcher._weights)
            if matcher._lastblock:
                break
            matcher._goto(matcher._nextoffset)
        return ids, weights
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(matcher.weight())
        matcher.next()
    return ids, weights


def replace_schema(writer, schema) -> None:
    """Make a full rebuild's commit record `schema`: the public API only adds or removes fields one by one."""
    writer.schema = schema


def installed_version() -> str:
    return whoosh.versionstring()
