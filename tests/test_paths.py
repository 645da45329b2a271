import base64

from hypothesis import given
from hypothesis import strategies as st

from fim.core import paths

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


def test_plain_ascii_path_is_shown_unchanged():
    assert paths.display(b"/home/alice/public_html/index.php") == "/home/alice/public_html/index.php"


def test_right_to_left_override_is_escaped_so_php_cannot_pose_as_png():
    shown = paths.display("/up/evil\u202egnp.php".encode())
    assert "\u202e" not in shown
    assert shown == "/up/evil\\u202egnp.php"


def test_newline_and_escape_sequences_cannot_forge_lines_or_colour_a_terminal():
    shown = paths.display(b"/x/a\nFAKE LINE\r\x1b[2Jb")
    assert "\n" not in shown and "\r" not in shown and "\x1b" not in shown
    assert shown == "/x/a\\nFAKE LINE\\r\\x1b[2Jb"


def test_undecodable_bytes_are_shown_as_hex_escapes():
    assert paths.display(b"/x/\xff\xfe.php") == "/x/\\xff\\xfe.php"


def test_c1_control_and_raw_byte_of_same_value_display_differently():
    assert paths.display("\x85".encode()) != paths.display(b"\x85")


def test_backslash_is_doubled_so_display_is_unambiguous():
    assert paths.display(b"a\\x41") == "a\\\\x41"
    assert paths.display(b"a\\x41") != paths.display(b"aA")


def test_json_fields_carry_exact_bytes_when_display_differs():
    raw = b"/x/\xff\n.php"
    fields = paths.json_path_fields(raw)
    assert base64.b64decode(fields["path_b64"]) == raw
    assert "path_b64" not in paths.json_path_fields("/x/café.php".encode())


@given(st.binary(max_size=200))
def test_display_never_emits_control_or_bidi_characters(raw):
    shown = paths.display(raw)
    assert shown.isprintable()
    assert not any(ch in BIDI for ch in shown)


@given(st.binary(max_size=200))
def test_display_is_reversible_to_the_exact_bytes(raw):
    assert paths.undisplay(paths.display(raw)) == raw


@given(st.text(max_size=100))
def test_display_is_reversible_for_any_unicode_name(text):
    raw = text.encode("utf-8", "surrogatepass")
    assert paths.undisplay(paths.display(raw)) == raw


@given(st.binary(max_size=120))
def test_json_fields_always_reversible(raw):
    fields = paths.json_path_fields(raw)
    if "path_b64" in fields:
        assert base64.b64decode(fields["path_b64"]) == raw
    else:
        assert fields["path"].encode("utf-8") == raw


def test_extension_is_lower_case_last_suffix_and_ignores_leading_dot():
    assert paths.extension(b"/u/a.PHP.jpg") == b".jpg"
    assert paths.extension(b"/u/x.jpg.Php") == b".php"
    assert paths.extension(b"/u/.htaccess") == b""
    assert paths.extension(b"/u/README") == b""
