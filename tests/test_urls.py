import pytest

from monitor.feeds.urls import canonical_url, is_tracking_parameter


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://Example.COM/Path/Page", "https://example.com/Path/Page"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("http://example.com:443/a", "http://example.com:443/a"),
        ("https://example.com/a#comments", "https://example.com/a"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com/a?", "https://example.com/a"),
        ("https://example.com/a?utm_source=rss", "https://example.com/a"),
        ("https://www.lemonde.fr/a.html?xtor=RSS-3208", "https://www.lemonde.fr/a.html"),
        ("https://example.com/a?UTM_Medium=x&UTM_CAMPAIGN=y", "https://example.com/a"),
        (
            "https://example.com/a?id=3&utm_source=rss&page=2&fbclid=abc",
            "https://example.com/a?id=3&page=2",
        ),
        ("https://example.com/a?z=1&a=2", "https://example.com/a?z=1&a=2"),
        (
            "https://example.com/a?gclid=1&mc_cid=2&mc_eid=3&igshid=4&yclid=5&_ga=6&ref_src=7",
            "https://example.com/a",
        ),
        (
            "https://example.com/a?q=caf%C3%A9+au+lait&utm_term=x",
            "https://example.com/a?q=caf%C3%A9+au+lait",
        ),
        ("https://example.com/a?flag&utm_source", "https://example.com/a?flag"),
        ("https://example.com/a?&&id=1&&", "https://example.com/a?id=1"),
        ("https://example.com/a?utm%5Fsource=x", "https://example.com/a"),
        ("https://example.com/a?reference=1&ref=2", "https://example.com/a?reference=1&ref=2"),
        ("https://User:Pw@Example.com/a", "https://User:Pw@example.com/a"),
        ("http://[2001:DB8::1]:80/a", "http://[2001:db8::1]/a"),
        ("  https://example.com/a  \n", "https://example.com/a"),
        ("https://bücher.Example/a", "https://bücher.example/a"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "   ",
        "not a url",
        "/relative/path?utm_source=x",
        "http://[::1",
        "http://example.com:notaport/",
        "http://example.com:99999999/",
        "mailto:someone@example.com",
        "http://",
        "\x00\x01",
        "https://exa\uff03mple.com/",
    ],
)
def test_garbage_comes_back_stripped(garbage: str) -> None:
    assert canonical_url(f" {garbage} ") == garbage.strip()


def test_canonical_url_is_idempotent() -> None:
    once = canonical_url("HTTP://Example.com:80?b=1&utm_id=2&a=3#x")
    assert canonical_url(once) == once == "http://example.com/?b=1&a=3"


@pytest.mark.parametrize(
    ("name", "tracking"),
    [
        ("utm_source", True),
        ("Utm_Content", True),
        ("fbclid", True),
        ("FBCLID", True),
        ("id", False),
        ("utm", False),
        ("page", False),
    ],
)
def test_is_tracking_parameter(name: str, tracking: bool) -> None:
    assert is_tracking_parameter(name) is tracking
