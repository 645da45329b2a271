"""The ``filetype`` external's shortcut for files whose first byte starts no known type."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from fim.detect import magic


def every_test_in_order(head: bytes) -> str:
    for name, test in magic._FILETYPES:
        if test(head):
            return name
    return ""


@given(st.binary(max_size=16))
def test_filetype_names_what_the_full_table_names_for_any_head(head):
    assert magic.filetype(head) == every_test_in_order(head)


def test_pdf_after_junk_is_still_a_pdf_and_a_php_file_is_nothing():
    assert magic.filetype(b"junk %PDF-1.7\n") == "PDF"
    assert magic.filetype(b"<?php echo 1;") == ""
    assert magic.filetype(b"GIF89a<?php") == "GIF"
