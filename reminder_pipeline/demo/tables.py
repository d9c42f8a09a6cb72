"""The demo's countries and names: who the generated customers are, where they live, how they are called.

Plain data, kept apart from the drawing logic so that a country or a name list is added here alone.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Country:
    """A country's share of the customers, its currency (a rough rate scales amounts), weighted locales and zones."""

    code: str
    share: float
    currency: str
    units_per_usd: float
    locales: tuple[tuple[str, float], ...]
    time_zones: tuple[tuple[str, float], ...]


COUNTRIES: tuple[Country, ...] = (
    Country(
        "US",
        0.30,
        "USD",
        1.0,
        (("en_US", 1.0),),
        (
            ("America/New_York", 0.45),
            ("America/Chicago", 0.27),
            ("America/Denver", 0.07),
            ("America/Phoenix", 0.03),
            ("America/Los_Angeles", 0.18),
        ),
    ),
    Country("GB", 0.11, "GBP", 0.79, (("en_GB", 1.0),), (("Europe/London", 1.0),)),
    Country("DE", 0.14, "EUR", 0.92, (("de_DE", 1.0),), (("Europe/Berlin", 1.0),)),
    Country("FR", 0.10, "EUR", 0.92, (("fr_FR", 1.0),), (("Europe/Paris", 1.0),)),
    Country("ES", 0.07, "EUR", 0.92, (("es_ES", 1.0),), (("Europe/Madrid", 0.9), ("Atlantic/Canary", 0.1))),
    Country(
        "MX",
        0.06,
        "MXN",
        17.0,
        (("es_MX", 1.0),),
        (("America/Mexico_City", 0.8), ("America/Monterrey", 0.1), ("America/Tijuana", 0.1)),
    ),
    Country(
        "CA",
        0.07,
        "CAD",
        1.36,
        (("en_CA", 0.7), ("fr_CA", 0.3)),
        (("America/Toronto", 0.75), ("America/Vancouver", 0.25)),
    ),
    Country("IN", 0.06, "INR", 83.0, (("en_IN", 1.0),), (("Asia/Kolkata", 1.0),)),
    Country("AU", 0.06, "AUD", 1.52, (("en_AU", 1.0),), (("Australia/Sydney", 0.7), ("Australia/Adelaide", 0.3))),
    Country("JP", 0.03, "JPY", 150.0, (("ja_JP", 1.0),), (("Asia/Tokyo", 1.0),)),
)
FRENCH_CANADIAN_ZONE = "America/Toronto"
"""fr_CA customers live in Quebec, which follows Toronto's time."""


@dataclass(frozen=True)
class NameList:
    """Given and family names as (display, ascii) pairs; the ascii form builds the email address."""

    given: tuple[tuple[str, str], ...]
    family: tuple[tuple[str, str], ...]
    family_first: bool = False


NAME_LISTS: dict[str, NameList] = {
    "en": NameList(
        given=tuple((n, n.lower()) for n in ("Olivia", "Liam", "Emma", "Noah", "Ava", "Oliver", "Sophia", "James")),
        family=tuple(
            (n, n.lower()) for n in ("Smith", "Brown", "Taylor", "Walker", "Harris", "Clarke", "Wright", "Baker")
        ),
    ),
    "de": NameList(
        given=(("Anna", "anna"), ("Lukas", "lukas"), ("Lea", "lea"), ("Jonas", "jonas"), ("Jürgen", "juergen")),
        family=(
            ("Müller", "mueller"),
            ("Schmidt", "schmidt"),
            ("Weber", "weber"),
            ("Schäfer", "schaefer"),
            ("Koch", "koch"),
        ),
    ),
    "fr": NameList(
        given=(("Camille", "camille"), ("Louis", "louis"), ("Léa", "lea"), ("Hugo", "hugo"), ("Chloé", "chloe")),
        family=(
            ("Martin", "martin"),
            ("Dubois", "dubois"),
            ("Lefèvre", "lefevre"),
            ("Girard", "girard"),
            ("Gagnon", "gagnon"),
        ),
    ),
    "es": NameList(
        given=(("Lucía", "lucia"), ("Mateo", "mateo"), ("Sofía", "sofia"), ("Diego", "diego"), ("Ximena", "ximena")),
        family=(
            ("García", "garcia"),
            ("López", "lopez"),
            ("Núñez", "nunez"),
            ("Torres", "torres"),
            ("Ramírez", "ramirez"),
        ),
    ),
    "in": NameList(
        given=tuple((n, n.lower()) for n in ("Aarav", "Priya", "Vivaan", "Ananya", "Arjun", "Isha")),
        family=tuple((n, n.lower()) for n in ("Sharma", "Patel", "Iyer", "Reddy", "Nair", "Mehta")),
    ),
    "ja": NameList(
        given=(("花子", "hanako"), ("太郎", "taro"), ("結衣", "yui"), ("蓮", "ren"), ("陽菜", "hina")),
        family=(("佐藤", "sato"), ("鈴木", "suzuki"), ("高橋", "takahashi"), ("田中", "tanaka"), ("渡辺", "watanabe")),
        family_first=True,
    ),
}
NAME_LIST_OF_LOCALE = {
    "en_US": "en",
    "en_GB": "en",
    "en_CA": "en",
    "en_AU": "en",
    "de_DE": "de",
    "fr_FR": "fr",
    "fr_CA": "fr",
    "es_ES": "es",
    "es_MX": "es",
    "en_IN": "in",
    "ja_JP": "ja",
}


SALES_REGIONS = {"US": "AMER", "CA": "AMER", "MX": "LATAM", "GB": "EMEA", "DE": "EMEA", "FR": "EMEA", "ES": "EMEA"}
SALES_REGIONS |= {"IN": "APAC", "AU": "APAC", "JP": "APAC"}
"""The sales organisation's regions, a coarser grouping than the country."""


EMAIL_DOMAINS = (
    "example.com",
    "example.org",
    "example.net",
    "mail.example.com",
    "post.example.org",
    "inbox.example.net",
)
"""Documentation domains only (RFC 2606): no generated address can reach a real person."""
