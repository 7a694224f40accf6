"""Name pools for generated companies: German-speaking staff with international and non-ASCII names."""

from __future__ import annotations

import re
import unicodedata

FIRST_NAMES: tuple[str, ...] = (
    "Anna",
    "Lukas",
    "Jürgen",
    "Björn",
    "Zoë",
    "Renée",
    "Łukasz",
    "Małgorzata",
    "Sören",
    "Jörg",
    "Émile",
    "Chloé",
    "Mehmet",
    "Ayşe",
    "José",
    "François",
    "Søren",
    "Maximilian",
    "Sophie",
    "Lea",
    "Paul",
    "Marie",
    "Felix",
    "Emma",
    "Jonas",
    "Mia",
    "Ben",
    "Hannah",
    "Noah",
    "Lina",
    "Elias",
    "Clara",
    "Leon",
    "Ida",
    "Finn",
    "Greta",
    "Karl",
    "Ingrid",
    "Dieter",
    "Ute",
    "Käthe",
    "Jürgen",
    "Gülşen",
    "Agnieszka",
    "Niklas",
    "Laura",
    "Moritz",
    "Johanna",
    "Tobias",
    "Amélie",
    "Håkon",
    "Zsófia",
    "Ömer",
    "Ana",
    "Tomás",
    "Eleni",
    "Priya",
)
LAST_NAMES: tuple[str, ...] = (
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Groß",
    "Weiß",
    "Krüger",
    "Köhler",
    "Lößner",
    "Nowak",
    "Kowalski",
    "Wójcik",
    "Dubois",
    "Lefèvre",
    "Öztürk",
    "Yılmaz",  # noqa: RUF001 (Turkish dotless i)
    "García",
    "Núñez",
    "Jensen",
    "Åberg",
    "Strauß",
    "Bäcker",
    "Hartmann",
    "Zimmermann",
    "Braun",
    "Krause",
    "Lange",
    "Schäfer",
    "Jäger",
    "Vogel",
    "Böhm",
    "Pfeiffer",
    "Scholz",
    "Ruiz",
    "Rossi",
    "Nguyen",
    "Papadopoulos",
    "Sánchez",
    "Horváth",
    "Dąbrowski",
    "Fuß",
    "Oßwald",
    "Dörfler",
    "Kühn",
)
# (first, last, ascii first, ascii last): names in scripts an e-mail local part cannot carry.
NON_LATIN_NAMES: tuple[tuple[str, str, str, str], ...] = (
    ("美咲", "佐藤", "misaki", "sato"),
    ("伟", "王", "wei", "wang"),
    ("Наталья", "Иванова", "natalya", "ivanova"),
    ("Дмитрий", "Смирнов", "dmitry", "smirnov"),
    ("지우", "김", "jiwoo", "kim"),
)

DEPARTMENTS: tuple[tuple[str, str, str | None], ...] = (
    # (name, abbreviation, parent name)
    ("Geschäftsführung", "GF", None),
    ("Engineering", "ENG", None),
    ("Platform", "PLT", "Engineering"),
    ("Product Engineering", "PE", "Engineering"),
    ("Qualitätssicherung", "QA", "Engineering"),
    ("Sales", "SAL", None),
    ("Sales DACH", "DACH", "Sales"),
    ("Marketing", "MKT", None),
    ("Finance", "FIN", None),
    ("People & Culture", "P&C", None),
    ("Customer Success", "CS", None),
)
TEAMS: dict[str, tuple[str, ...]] = {
    "Engineering": ("Architektur",),
    "Platform": ("Backend", "Infrastruktur & Betrieb"),
    "Product Engineering": ("Frontend", "Mobile", "Data"),
    "Qualitätssicherung": ("Testautomatisierung",),
    "Sales": ("Enterprise Sales",),
    "Sales DACH": ("Team Nord", "Team Süd"),
    "Marketing": ("Content", "Growth"),
    "Finance": ("Buchhaltung", "Payroll"),
    "People & Culture": ("Recruiting", "People Operations"),
    "Customer Success": ("Kundenservice", "Onboarding"),
}
POSITIONS: dict[str, tuple[str, ...]] = {
    "Geschäftsführung": ("Executive Assistant", "Chief of Staff"),
    "Engineering": ("Software Engineer", "Senior Software Engineer", "Staff Engineer"),
    "Platform": ("Site Reliability Engineer", "Backend Engineer", "Platform Engineer"),
    "Product Engineering": ("Frontend Engineer", "Mobile Developer", "Data Engineer", "Product Designer"),
    "Qualitätssicherung": ("QA Engineer", "Testmanagerin", "Test Automation Engineer"),
    "Sales": ("Account Executive", "Sales Development Representative"),
    "Sales DACH": ("Account Manager DACH", "Außendienstmitarbeiter"),
    "Marketing": ("Content Manager", "Performance Marketing Manager", "Brand Designer"),
    "Finance": ("Buchhalterin", "Controller", "Payroll Specialist"),
    "People & Culture": ("Recruiter", "HR Business Partner", "People Operations Specialist"),
    "Customer Success": ("Customer Success Manager", "Support Engineer", "Onboarding Specialist"),
}
WORKPLACES: tuple[str, ...] = ("München", "Berlin", "Hamburg", "Wien", "Zürich", "Köln")
LEGAL_ENTITIES: tuple[str, ...] = ("Sandbox GmbH", "Sandbox Österreich GmbH")

_TRANSLITERATION = str.maketrans(
    {
        "ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ł": "l", "Ł": "L", "ø": "o",
        "Ø": "O", "å": "a", "Å": "A", "æ": "ae", "ş": "s", "Ş": "S", "ç": "c", "ğ": "g", "đ": "d",
        "\u0131": "i",  # Turkish dotless i
    }
)  # fmt: skip


def email_local_part(name: str) -> str:
    """``"Jürgen Groß"``-style name part → ``"juergen"``-style ASCII for an e-mail address."""
    decomposed = unicodedata.normalize("NFKD", name.translate(_TRANSLITERATION))
    ascii_only = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_only).strip("-")
