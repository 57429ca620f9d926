"""Validate shared content links and normalise them, so the same piece can't be logged twice.

Two spellings of one page (http vs https, "www.", tracking parameters, a trailing slash, a
youtu.be short link) normalise to one string, which is what the store keeps unique. Refusals
raise ``LinkError`` with a message written for the member who shared the link.
"""

from __future__ import annotations

import ipaddress
import re
import string
from urllib.parse import quote, unquote, urlsplit

MAX_URL_LENGTH = 2000

#: Query parameters that identify the share, not the content.
TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "mc_cid", "mc_eid", "ref", "ref_src", "igshid", "si"}
)
TRACKING_PREFIXES = ("utm_",)

#: Names that never reach the public internet (RFC 6761, RFC 6762, RFC 8375).
_PRIVATE_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa")

_YOUTUBE_HOSTS = frozenset({"youtube.com", "m.youtube.com", "music.youtube.com"})
_YOUTUBE_PATH_PREFIXES = frozenset({"shorts", "embed", "live", "v"})
_YOUTUBE_ID = re.compile(r"[A-Za-z0-9_-]{11}")

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_PORT_AFTER_COLON = re.compile(r"\d+(?:[/?#]|$)")
_HOST_LABEL = re.compile(r"[a-z0-9_-]{1,63}")
_UNSAFE_CHAR = re.compile(r"[\x00-\x20\x7f]|\s")
_NUMBER = re.compile(r"(?:0[xX][0-9A-Fa-f]*|[0-9]+)")

_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
#: Characters left as they are (RFC 3986 sub-delims, ":" and "@"; "%" for existing escapes).
_PATH_SAFE = "/:@!$&'()*+,;=%"
_QUERY_KEY_SAFE = "/:@!$'()*+,;?%"
_QUERY_VALUE_SAFE = _QUERY_KEY_SAFE + "="


class LinkError(ValueError):
    """A link that can't be shared; the message is shown to the member as is."""


def _preview(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _not_a_link(text: str, hint: str = "") -> LinkError:
    return LinkError(f"That doesn't look like a link: {_preview(text)}{hint}")


_PRIVATE = "Links to localhost or private addresses can't be shared"
_TOO_LONG = f"That link is too long (over {MAX_URL_LENGTH} characters)"


def _unwrap(raw: str) -> str:
    """Trim whitespace and Discord's embed-suppressing <angle brackets>."""
    text = raw.strip()
    if text.startswith("<"):
        text = text[1:]
    if text.endswith(">"):
        text = text[:-1]
    return text.strip()


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        return False
    return True


def _check_scheme(text: str) -> str:
    match = _SCHEME.match(text)
    rest = text[match.end() :] if match else ""
    # "example.com:8080/x" parses as scheme "example.com"; it's a link without a scheme.
    if match is None or (not rest.startswith("//") and _PORT_AFTER_COLON.match(rest)):
        raise _not_a_link(text, " (links start with https://)")
    scheme = match.group(1).lower()
    if scheme not in ("http", "https"):
        shown = f"{scheme}://…" if rest.startswith("//") else f"{scheme}:…"
        raise LinkError(f"Only http:// and https:// links can be shared (got {shown})")
    return scheme


def _parse_number(label: str) -> int | None:
    if not _NUMBER.fullmatch(label):
        return None
    if label[:2].lower() == "0x":
        return int(label[2:] or "0", 16)
    if len(label) > 1 and label.startswith("0"):
        return int(label, 8) if set(label) <= set("01234567") else None
    return int(label)


def _ends_in_number(host: str) -> bool:
    """As browsers decide it: a host whose last label is numeric must be an IPv4 address."""
    return _NUMBER.fullmatch(host.rsplit(".", 1)[-1]) is not None


def _parse_ipv4(host: str, original: str) -> ipaddress.IPv4Address:
    """Parse an IPv4 host the way browsers do ("127.1", "0x7f.0.0.1", "2130706433")."""
    labels = host.split(".")
    numbers = [_parse_number(label) for label in labels]
    if len(labels) > 4 or any(n is None for n in numbers):
        raise _not_a_link(original)
    values = [n for n in numbers if n is not None]
    *leading, last = values
    if any(n > 255 for n in leading) or last >= 256 ** (5 - len(values)):
        raise _not_a_link(original)
    address = last
    for index, n in enumerate(leading):
        address += n << (8 * (3 - index))
    return ipaddress.IPv4Address(address)


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def _drop_www(host: str) -> str:
    while host.startswith("www.") and "." in host[4:]:
        host = host[4:]
    return host


def _normalize_host(hostname: str, original: str) -> str:
    host = hostname.lower().removesuffix(".")
    if not host:
        raise _not_a_link(original)
    if ":" in host:  # IPv6 (urlsplit has already taken the brackets off)
        try:
            v6 = ipaddress.IPv6Address(host)
        except ValueError:
            raise _not_a_link(original) from None
        if not _is_public(v6):
            raise LinkError(_PRIVATE)
        return f"[{v6.compressed}]"
    try:
        # After IDNA, so full-width digits can't smuggle an address past the IPv4 check.
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise _not_a_link(original) from None
    if _ends_in_number(host):
        v4 = _parse_ipv4(host, original)
        if not _is_public(v4):
            raise LinkError(_PRIVATE)
        return str(v4)
    host = _drop_www(host)
    if host == "localhost" or host.endswith(_PRIVATE_SUFFIXES):
        raise LinkError(_PRIVATE)
    labels = host.split(".")
    if len(labels) < 2 or len(host) > 253 or not all(_HOST_LABEL.fullmatch(x) for x in labels):
        raise _not_a_link(original)
    return host


def _unescape_unreserved(match: re.Match[str]) -> str:
    char = chr(int(match.group(1), 16))
    return char if char in _UNRESERVED else "%" + match.group(1).upper()


def _normalize_escapes(text: str, safe: str) -> str:
    """Decode escapes of unreserved characters, upper-case the rest, escape what must be."""
    text = _STRAY_PERCENT.sub("%25", text)
    text = _ESCAPE.sub(_unescape_unreserved, text)
    return quote(text, safe=safe)


def _path_segments(path: str) -> list[str]:
    """Segments with empty ones (duplicate and trailing slashes) and dot segments resolved."""
    segments: list[str] = []
    for segment in _normalize_escapes(path, _PATH_SAFE).split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(segment)
    return segments


def _is_tracking(key: str) -> bool:
    name = unquote(key).lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)


def _query_pairs(query: str) -> list[tuple[str, str | None]]:
    """Non-tracking (key, value) pairs, sorted by key; value None for a bare "key"."""
    pairs: list[tuple[str, str | None]] = []
    for item in query.split("&"):
        if not item:
            continue
        key, sep, value = item.partition("=")
        key = _normalize_escapes(key, _QUERY_KEY_SAFE)
        if _is_tracking(key):
            continue
        pairs.append((key, _normalize_escapes(value, _QUERY_VALUE_SAFE) if sep else None))
    # Stable: repeated keys keep their order, which can matter ("?tag=b&tag=a").
    pairs.sort(key=lambda pair: pair[0])
    return pairs


def _youtube_id(host: str, segments: list[str], query: list[tuple[str, str | None]]) -> str | None:
    candidate: str | None = None
    if host == "youtu.be" and segments:
        candidate = segments[0]
    elif host in _YOUTUBE_HOSTS or host == "youtube-nocookie.com":
        if segments == ["watch"]:
            candidate = next((v for k, v in query if k == "v"), None)
        elif len(segments) >= 2 and segments[0] in _YOUTUBE_PATH_PREFIXES:
            candidate = segments[1]
    if candidate is not None and _YOUTUBE_ID.fullmatch(candidate):
        return candidate
    return None


def normalize_url(raw: str) -> str:
    """The canonical https form of a shareable link; raises ``LinkError`` if it can't be shared.

    Idempotent: normalising a normalised link gives it back unchanged.
    """
    text = _unwrap(raw)
    if len(text) > MAX_URL_LENGTH:
        raise LinkError(_TOO_LONG)
    if not text:
        raise LinkError("That doesn't look like a link: it's empty")
    if _UNSAFE_CHAR.search(text) or not _encodable(text):
        raise _not_a_link(text)
    scheme = _check_scheme(text)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise _not_a_link(text) from None
    if "@" in parts.netloc:
        raise LinkError("Links with a username or password in them can't be shared")
    if "\\" in parts.netloc or "%" in parts.netloc:
        raise _not_a_link(text)
    host = _normalize_host(parts.hostname or "", text)
    if port == 0:
        raise _not_a_link(text)
    # Everything becomes https, so 443 is always the default; 80 was, for an http link.
    if port == 443 or (port == 80 and scheme == "http"):
        port = None

    segments = _path_segments(parts.path)
    query = _query_pairs(parts.query)
    video = _youtube_id(host, segments, query)
    if video is not None:
        return f"https://youtube.com/watch?v={video}"

    netloc = host if port is None else f"{host}:{port}"
    path = "/" + "/".join(segments)
    url = f"https://{netloc}{path}"
    if query:
        url += "?" + "&".join(key if value is None else f"{key}={value}" for key, value in query)
    if len(url) > MAX_URL_LENGTH:
        raise LinkError(_TOO_LONG)
    return url


def display_host(url: str) -> str:
    """The site to show next to a link ("example.com"); never raises, so rendering can't fail.

    Punycode stays as it is: showing "xn--…" is safer than a look-alike unicode name.
    """
    try:
        host = urlsplit(url.strip().strip("<>")).hostname or ""
    except ValueError:
        host = ""
    host = _drop_www(host.removesuffix("."))
    if ":" in host:
        host = f"[{host}]"
    return host or _preview(url.strip(), 40)
