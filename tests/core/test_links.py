"""Shared links: refusals with their messages, normalisation rules, and idempotence."""

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from bot.core.links import MAX_URL_LENGTH, LinkError, display_host, normalize_url


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # Whitespace and Discord's <no-embed> brackets.
        ("  https://example.com/a  ", "https://example.com/a"),
        ("<https://example.com/a>", "https://example.com/a"),
        (" <https://example.com/a> \n", "https://example.com/a"),
        # Scheme and host case; http upgraded; www dropped.
        ("HTTPS://EXAMPLE.COM/Path", "https://example.com/Path"),
        ("http://example.com/a", "https://example.com/a"),
        ("HtTp://Example.Com", "https://example.com/"),
        ("https://www.example.com/a", "https://example.com/a"),
        ("https://WWW.Example.com/a", "https://example.com/a"),
        ("https://www.www.example.com/a", "https://example.com/a"),
        ("https://www.com/", "https://www.com/"),  # "www" is the name here, not a prefix
        ("https://blog.example.com/a", "https://blog.example.com/a"),
        ("https://example.com./a", "https://example.com/a"),
        # Default ports.
        ("http://example.com:80/a", "https://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("http://example.com:8080/a", "https://example.com:8080/a"),
        ("https://example.com:80/a", "https://example.com:80/a"),
        # Fragment.
        ("https://example.com/a#section-2", "https://example.com/a"),
        ("https://example.com/#", "https://example.com/"),
        # Tracking parameters removed, the rest sorted, blank values kept.
        ("https://example.com/a?utm_source=x&utm_medium=y&utm_campaign=z", "https://example.com/a"),
        ("https://example.com/a?UTM_Source=x&id=3", "https://example.com/a?id=3"),
        ("https://example.com/a?fbclid=1&gclid=2&mc_cid=3&mc_eid=4", "https://example.com/a"),
        ("https://example.com/a?ref=hn&ref_src=twsrc&igshid=5&si=6", "https://example.com/a"),
        ("https://example.com/a?b=2&a=1", "https://example.com/a?a=1&b=2"),
        ("https://example.com/a?b=&a", "https://example.com/a?a&b="),
        ("https://example.com/a?tag=z&tag=a&id=1", "https://example.com/a?id=1&tag=z&tag=a"),
        ("https://example.com/a?x=1&&y=2&", "https://example.com/a?x=1&y=2"),
        ("https://example.com/a?", "https://example.com/a"),
        ("https://example.com/a?referrer=x", "https://example.com/a?referrer=x"),
        ("https://example.com/search?q=a+b", "https://example.com/search?q=a+b"),
        ("https://example.com/a?next=/b?c=d", "https://example.com/a?next=/b?c=d"),
        # Paths: duplicate and trailing slashes, dot segments.
        ("https://example.com", "https://example.com/"),
        ("https://example.com/", "https://example.com/"),
        ("https://example.com//", "https://example.com/"),
        ("https://example.com/a/", "https://example.com/a"),
        ("https://example.com//a///b//", "https://example.com/a/b"),
        ("https://example.com/a/./b/../c", "https://example.com/a/c"),
        ("https://example.com/../../a", "https://example.com/a"),
        ("https://example.com/a/%2e%2E/b", "https://example.com/b"),
        # Percent-encoding: unreserved decoded, hex upper-cased, the rest escaped.
        ("https://example.com/%7Euser/%41%62%63", "https://example.com/~user/Abc"),
        ("https://example.com/a%2fb", "https://example.com/a%2Fb"),
        ("https://example.com/%e2%82%ac", "https://example.com/%E2%82%AC"),
        ("https://example.com/café", "https://example.com/caf%C3%A9"),
        ("https://example.com/100%", "https://example.com/100%25"),
        ("https://example.com/a%zz", "https://example.com/a%25zz"),
        ("https://example.com/a?q=%7e%2f", "https://example.com/a?q=~%2F"),
        ("https://example.com/a?q=ü", "https://example.com/a?q=%C3%BC"),
        ("https://example.com/a?q=a%26b", "https://example.com/a?q=a%26b"),
        ("https://example.com/@user/post", "https://example.com/@user/post"),
        # Internationalised hosts.
        ("https://bücher.de/a", "https://xn--bcher-kva.de/a"),
        ("https://BÜCHER.de/a", "https://xn--bcher-kva.de/a"),
        ("https://xn--bcher-kva.de/a", "https://xn--bcher-kva.de/a"),
        ("https://www.例え.jp/", "https://xn--r8jz45g.jp/"),
        ("https://example。com/a", "https://example.com/a"),  # ideographic full stop
        # Public IP addresses are fine.
        ("http://8.8.8.8/dns", "https://8.8.8.8/dns"),
        ("http://[2606:4700:4700:0::1111]:443/", "https://[2606:4700:4700::1111]/"),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize_url(raw) == expected


VIDEO = "dQw4w9WgXcQ"
CANONICAL_VIDEO = f"https://youtube.com/watch?v={VIDEO}"


@pytest.mark.parametrize(
    "raw",
    [
        f"https://youtu.be/{VIDEO}",
        f"http://youtu.be/{VIDEO}?t=42",
        f"https://youtu.be/{VIDEO}?si=AbCdEf",
        f"https://youtube.com/watch?v={VIDEO}",
        f"https://www.youtube.com/watch?v={VIDEO}",
        f"https://www.youtube.com/watch?v={VIDEO}&t=1m30s&list=PL123&index=2",
        f"https://www.youtube.com/watch?feature=share&v={VIDEO}#t=10",
        f"https://m.youtube.com/watch?v={VIDEO}",
        f"https://music.youtube.com/watch?v={VIDEO}&feature=share",
        f"https://youtube.com/shorts/{VIDEO}",
        f"https://www.youtube.com/shorts/{VIDEO}?feature=share",
        f"https://www.youtube.com/embed/{VIDEO}?start=5",
        f"https://www.youtube-nocookie.com/embed/{VIDEO}",
        f"https://www.youtube.com/live/{VIDEO}",
        f"<https://YOUTU.BE/{VIDEO}/>",
    ],
)
def test_youtube_links_normalise_to_one_watch_url(raw: str) -> None:
    assert normalize_url(raw) == CANONICAL_VIDEO


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://youtube.com/watch?v=tooshort", "https://youtube.com/watch?v=tooshort"),
        ("https://www.youtube.com/@somechannel", "https://youtube.com/@somechannel"),
        ("https://youtube.com/playlist?list=PL1&si=x", "https://youtube.com/playlist?list=PL1"),
        ("https://youtu.be/", "https://youtu.be/"),
    ],
)
def test_other_youtube_pages_are_normalised_generically(raw: str, expected: str) -> None:
    assert normalize_url(raw) == expected


def test_video_ids_keep_their_case() -> None:
    assert (
        normalize_url("https://youtu.be/AbCdEfGhIjK") == "https://youtube.com/watch?v=AbCdEfGhIjK"
    )


def refusal(raw: str) -> str:
    with pytest.raises(LinkError) as caught:
        normalize_url(raw)
    return str(caught.value)


PRIVATE = "Links to localhost or private addresses can't be shared"


@pytest.mark.parametrize(
    "raw",
    [
        "http://localhost/",
        "http://localhost:8080/admin",
        "https://LOCALHOST",
        "http://app.localhost/",
        "http://printer.local/",
        "http://db.internal/",
        "http://router.home.arpa/",
        "http://127.0.0.1/",
        "http://127.255.0.9:3000/",
        "http://10.0.0.5/",
        "http://172.16.0.1/",
        "http://172.31.255.255/",
        "http://192.168.1.1",
        "http://169.254.169.254/latest/meta-data",  # link-local (cloud metadata)
        "http://100.64.0.1/",  # carrier-grade NAT
        "http://0.0.0.0/",
        "http://224.0.0.1/",  # multicast
        "http://[::1]/",
        "http://[::]/",
        "http://[fe80::1]/",
        "http://[fc00::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:10.0.0.1]/",
        # Spellings browsers read as 127.0.0.1.
        "http://127.1/",
        "http://0x7f.0.0.1/",
        "http://0177.0.0.1/",
        "http://2130706433/",
        "http://１２７.０.０.１/",  # full-width digits
    ],
)
def test_private_addresses_are_refused(raw: str) -> None:
    assert refusal(raw) == PRIVATE


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("ftp://example.com/file", "Only http:// and https:// links can be shared (got ftp://…)"),
        ("FTP://example.com/file", "Only http:// and https:// links can be shared (got ftp://…)"),
        ("javascript:alert(1)", "Only http:// and https:// links can be shared (got javascript:…)"),
        ("mailto:me@example.com", "Only http:// and https:// links can be shared (got mailto:…)"),
        ("file:///etc/passwd", "Only http:// and https:// links can be shared (got file://…)"),
        (
            "example.com/page",
            "That doesn't look like a link: example.com/page (links start with https://)",
        ),
        (
            "example.com:8080/page",
            "That doesn't look like a link: example.com:8080/page (links start with https://)",
        ),
        ("just some words", "That doesn't look like a link: just some words"),
        ("", "That doesn't look like a link: it's empty"),
        ("  <>  ", "That doesn't look like a link: it's empty"),
        ("https://", "That doesn't look like a link: https://"),
        ("https:///path", "That doesn't look like a link: https:///path"),
        ("https:example.com", "That doesn't look like a link: https:example.com"),
        ("https://intranet/", "That doesn't look like a link: https://intranet/"),
        ("https://exa mple.com/", "That doesn't look like a link: https://exa mple.com/"),
        (
            "https://a.com https://b.com",
            "That doesn't look like a link: https://a.com https://b.com",
        ),
        ("https://example.com:99999/", "That doesn't look like a link: https://example.com:99999/"),
        ("https://example.com:0/", "That doesn't look like a link: https://example.com:0/"),
        ("https://example.com:abc/", "That doesn't look like a link: https://example.com:abc/"),
        ("https://[::1/", "That doesn't look like a link: https://[::1/"),
        ("https://exa_mple!.com/", "That doesn't look like a link: https://exa_mple!.com/"),
        ("https://a..b.com/", "That doesn't look like a link: https://a..b.com/"),
        ("https://example.123/", "That doesn't look like a link: https://example.123/"),
        ("https://256.1.1.1/", "That doesn't look like a link: https://256.1.1.1/"),
        ("https://%65xample.com/", "That doesn't look like a link: https://%65xample.com/"),
        (
            "https://" + "a" * 64 + ".com/",
            "That doesn't look like a link: https://" + "a" * 51 + "…",
        ),
        (
            "https://user:secret@example.com/",
            "Links with a username or password in them can't be shared",
        ),
        (
            "https://example.com@evil.com/",
            "Links with a username or password in them can't be shared",
        ),
        ("https://example.com/" + "a" * 2000, "That link is too long (over 2000 characters)"),
    ],
)
def test_refusals_say_what_is_wrong(raw: str, message: str) -> None:
    assert refusal(raw) == message


def test_length_limit_is_inclusive() -> None:
    prefix = "https://example.com/"
    at_limit = prefix + "a" * (MAX_URL_LENGTH - len(prefix))
    assert normalize_url(at_limit) == at_limit
    assert refusal(at_limit + "a") == "That link is too long (over 2000 characters)"


def test_length_is_checked_after_normalising_too() -> None:
    # 600 "é" fit in 2000 characters but escape to 3,600.
    assert refusal("https://example.com/" + "é" * 600) == (
        "That link is too long (over 2000 characters)"
    )


def test_link_error_is_a_value_error() -> None:
    assert issubclass(LinkError, ValueError)


def test_http_and_https_are_the_same_piece() -> None:
    assert normalize_url("http://example.com/post") == normalize_url("https://example.com/post")


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://example.com/a", "example.com"),
        ("https://www.example.com/a", "example.com"),
        ("https://blog.example.com:8443/a", "blog.example.com"),
        ("https://xn--bcher-kva.de/", "xn--bcher-kva.de"),
        ("https://[2606:4700:4700::1111]/", "[2606:4700:4700::1111]"),
        ("<https://Example.COM/>", "example.com"),
        (CANONICAL_VIDEO, "youtube.com"),
        ("not a link", "not a link"),
        ("https://[broken/", "https://[broken/"),
    ],
)
def test_display_host(url: str, host: str) -> None:
    assert display_host(url) == host


# --- properties -------------------------------------------------------------------------------

_label = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFXYZ0123456789äöüéçñ", min_size=1, max_size=20
)
_host = st.builds(
    lambda www, labels, tld: ("www." if www else "") + ".".join([*labels, tld]),
    st.booleans(),
    st.lists(_label, min_size=1, max_size=3),
    st.sampled_from(["com", "org", "de", "io", "COM", "jp"]),
)
#: Anything that can follow the host, including characters that need escaping, stray "%",
#: escapes of both kinds, dot segments, "?", "&", "=" and "#".
_tail_alphabet = st.sampled_from(
    [
        *"abcXYZ019-._~/?#&=+%:@!$'()*,;é€中",
        "%41",
        "%7e",
        "%2F",
        "%2f",
        "%e2%82%ac",
        "/../",
        "/./",
        "//",
        "utm_source=x",
        "si=1",
    ]
)
_tail = st.lists(_tail_alphabet, max_size=40).map("".join)


@st.composite
def http_urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https", "HTTP", "Https"]))
    port = draw(st.sampled_from(["", ":80", ":443", ":8080", ":08443"]))
    return f"{scheme}://{draw(_host)}{port}/{draw(_tail)}"


@settings(max_examples=500)
@given(http_urls())
@example(f"https://youtu.be/{VIDEO}?t=1")
@example("http://www.www.example.com//a/./%2e%2E/%7e?b=%zz&a=&utm_source=1#x")
def test_normalize_is_idempotent(url: str) -> None:
    try:
        once = normalize_url(url)
    except LinkError:
        assume(False)  # a generated host IDNA can't encode; nothing to be idempotent about
        raise
    assert normalize_url(once) == once
    assert once.startswith("https://")
    assert "#" not in once
    assert len(once) <= MAX_URL_LENGTH


@given(_host, st.sampled_from(["", ":8080"]), _tail)
def test_http_and_https_spellings_normalise_alike(host: str, port: str, tail: str) -> None:
    try:
        secure = normalize_url(f"https://{host}{port}/{tail}")
    except LinkError:
        assume(False)
        raise
    assert normalize_url(f"http://{host}{port}/{tail}") == secure


@settings(max_examples=500)
@given(st.one_of(st.text(), st.builds(lambda t: "https://" + t, st.text())))
@example("https://\ud800.com/")
@example("http://[::1]x/")
def test_anything_either_normalises_or_is_refused_with_a_link_error(raw: str) -> None:
    try:
        result = normalize_url(raw)
    except LinkError as error:
        assert str(error)
    else:
        assert result.startswith("https://")
        assert normalize_url(result) == result
