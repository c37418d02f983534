"""Word lists and text builders for the generator: company and people names, subjects, dirty text.

The dirty lists are what real orgs hold and what a careless connector breaks on: accents, CJK,
emoji, right-to-left scripts, combining marks, quotes, backslashes, and text that looks like
JQL or SOQL.
"""

from __future__ import annotations

import random

COMPANY_WORDS = (
    "Northwind", "Contoso", "Fabrikam", "Tailspin", "Litware", "Adatum", "Proseware", "Wingtip",
    "Blue Yonder", "Coho", "Lucerne", "Margie", "Trey", "Alpine", "Humongous", "Wide World",
    "Graphic", "Fourth", "Southridge", "Woodgrove", "Bellows", "Datum", "Relecloud", "Munson",
    "Lamna", "Nod", "Boreal", "Cobalt", "Granite", "Harbor", "Ironwood", "Juniper", "Kestrel",
    "Lumen", "Meridian", "Nimbus", "Orchid", "Pinnacle", "Quarry", "Redwood", "Summit", "Tidal",
    "Umbra", "Vertex", "Willow", "Xenon", "Yarrow", "Zephyr", "Aurora", "Beacon", "Cedar",
    "Delta", "Ember", "Falcon", "Glacier", "Helix", "Indigo", "Jasper", "Keystone", "Lattice",
)  # fmt: skip
COMPANY_NOUNS = (
    "Logistics", "Health", "Bank", "Insurance", "Energy", "Foods", "Motors", "Pharma", "Media",
    "Retail", "Telecom", "Robotics", "Analytics", "Airlines", "Shipping", "Hotels", "Labs",
    "Software", "Capital", "Foundry", "Textiles", "Mining", "Chemicals", "Learning", "Games",
    "Security", "Biotech", "Outdoors", "Systems", "Networks", "Devices", "Studios", "Partners",
    "Holdings", "Brewing", "Agritech", "Cloud", "Payments", "Semiconductors", "Mobility",
)  # fmt: skip
LEGAL_FORMS = ("", " Inc.", " Ltd", " GmbH", " S.A.", " Group", " B.V.", " LLC", " plc", " AG")
TLDS_BY_REGION = {
    "AMER": (".com", ".com", ".io", ".com.br", ".ca"),
    "EMEA": (".com", ".de", ".co.uk", ".fr", ".nl", ".eu"),
    "APAC": (".com", ".co.jp", ".com.au", ".sg", ".in"),
}
# (name as the CRM holds it, ASCII slug for its web domain); the most telling first, since
# small data sets use only the first few.
UNICODE_COMPANIES = (
    ("Société Générale de Café", "sg-cafe"),
    ("株式会社さくら精機", "sakura-seiki"),
    ("شركة الأفق للتقنية", "alofoq-tech"),
    ("Zoë's Café 🚀 Labs", "zoes-cafe-labs"),
    ("Müller & Söhne GmbH", "mueller-soehne"),
    ("חברת אופק מערכות", "ofek-systems"),
    ("Ørsted Nordic A/S", "orsted-nordic"),
    ("Ελληνική Ναυτιλία Α.Ε.", "hellenic-shipping"),
    ("São Paulo Logística Ltda.", "sp-logistica"),
    ("Łódź Precision Sp. z o.o.", "lodz-precision"),
    ("北京云端科技有限公司", "yunduan-tech"),
    ("한빛 소프트", "hanbit-soft"),
    ("Café Crème Re\u0301seau", "cafe-creme-reseau"),  # a decomposed (NFD) accent
)
# Tier labels a CRM accumulates besides its picklist values, the most common first.
DIRTY_TIERS = ("Strat.", "", None, "Enterprize", "STANDARD", "Gold", "strategic ")

# (display name, ASCII form for e-mail addresses)
FIRST_NAMES = (
    ("Anna", "anna"), ("Ben", "ben"), ("Chen", "chen"), ("Diego", "diego"), ("Emma", "emma"),
    ("Farah", "farah"), ("Greta", "greta"), ("Hiro", "hiro"), ("Ines", "ines"), ("Jonas", "jonas"),
    ("Kofi", "kofi"), ("Lena", "lena"), ("Mateo", "mateo"), ("Nora", "nora"), ("Omar", "omar"),
    ("Priya", "priya"), ("Quinn", "quinn"), ("Rosa", "rosa"), ("Sven", "sven"), ("Tara", "tara"),
    ("José", "jose"), ("Zoë", "zoe"), ("Ngozi", "ngozi"), ("Søren", "soren"), ("Yuki", "yuki"),
    ("محمد", "mohammed"), ("李娜", "li.na"), ("Ólafur", "olafur"), ("Dvořák", "dvorak"),
)  # fmt: skip
LAST_NAMES = (
    ("Smith", "smith"), ("Müller", "mueller"), ("García", "garcia"), ("Tanaka", "tanaka"),
    ("Okafor", "okafor"), ("Kowalski", "kowalski"), ("Rossi", "rossi"), ("Dubois", "dubois"),
    ("Nguyen", "nguyen"), ("Patel", "patel"), ("Johansson", "johansson"), ("O'Brien", "obrien"),
    ("Silva", "silva"), ("Kim", "kim"), ("Novak", "novak"), ("Haddad", "haddad"), ("Cohen", "cohen"),
    ("Andersen", "andersen"), ("Fernández", "fernandez"), ("Yılmaz", "yilmaz"), ("Wong", "wong"),
)  # fmt: skip

COMPONENTS = (
    "API gateway", "SSO login", "billing export", "mobile app", "webhooks", "search index",
    "reporting dashboard", "data import", "audit log", "user provisioning", "payment run",
    "notification service", "CSV export", "SAML integration", "order sync",
)  # fmt: skip
SUBJECTS_BY_CATEGORY = {
    "outage": (
        "Production down: {component} returns 502",
        "{component} unavailable for all users",
        "URGENT: {component} outage since this morning",
        "Intermittent timeouts on {component}",
    ),
    "defect": (
        "{component} shows wrong totals after upgrade",
        "Bug: {component} drops records",
        "{component} fails with error 500 on large files",
        "Regression in {component} since last release",
    ),
    "contract": (
        "Renewal quote for next year",
        "Question about invoice {number}",
        "Request to add seats to our contract",
        "Pricing change on renewal",
    ),
    "privacy": (
        "GDPR data deletion request",
        "DPA signature needed",
        "Data subject access request for {number}",
        "Security questionnaire for vendor review",
    ),
    "question": (
        "How do I configure {component}?",
        "Where can I find the {component} settings?",
        "Best practice for {component}",
        "Training request for {component}",
    ),
}
UNCATEGORISED_SUBJECTS = ("Follow-up on our call", "Hello", "Re: your message", "Fwd: issue")

UNICODE_SUBJECTS = (
    "Café menu export fails: accents like é, ü, ñ are garbled",
    "請求書のダウンロードができません (invoice download fails)",
    "数据同步失败：订单 4471 缺失",
    "🚨 Production down 🔥 since 09:00 🙏",
    "لا يمكن تسجيل الدخول إلى لوحة التحكم",
    "הדוח החודשי לא נטען",
    "Zoë's SSO login loops ↻ after password reset",
    "Ошибка при экспорте отчёта",
    "로그인 오류가 계속 발생합니다",
    "Mixed direction: order #123 شحنة متأخرة ✈️",
    "Combining marks: e\u0301 vs é",
    "Zero-width\u200bspace and\u00a0no-break space",
)
# Text that an unescaped query or template would misread.
INJECTION_SUBJECTS = (
    '" OR 1=1 --',
    'Customer says "it\'s broken" \\ see C:\\Users\\admin\\logs',
    'project = ENG AND status = "Done" ORDER BY updated',
    "SELECT Id FROM Account WHERE Name = 'x' OR Name != ''",
    "'; DROP TABLE tickets; --",
    'updated >= "2024/01/01 00:00" OR project in (OPS)',
    "Trailing backslash \\",
    "{{ticket.requester.name}} placeholder left in subject",
    "<script>alert('x')</script> in the portal",
    "%s %d %(name)s format strings",
)
_LONG_SUBJECT_LINE = (
    "ERROR 500 at /api/v2/orders?page={n}&per_page=100 request_id=9f3c-{n:04d} "
    "upstream timed out after 30000 ms; "
)


def company_name(rng: random.Random) -> tuple[str, str]:
    """A company name and the slug its web domain is built from."""
    word = rng.choice(COMPANY_WORDS)
    noun = rng.choice(COMPANY_NOUNS)
    slug = f"{word}-{noun}".lower().replace(" ", "")
    return f"{word} {noun}{rng.choice(LEGAL_FORMS)}", slug


def person(rng: random.Random) -> tuple[str, str]:
    """A person's display name and the ASCII local part of their e-mail address."""
    first, first_ascii = rng.choice(FIRST_NAMES)
    last, last_ascii = rng.choice(LAST_NAMES)
    return f"{first} {last}", f"{first_ascii}.{last_ascii}"


def subject(rng: random.Random, category: str | None) -> str:
    """An ordinary subject for a ticket of the given category (None: uncategorised)."""
    if category is None:
        return rng.choice(UNCATEGORISED_SUBJECTS)
    template = rng.choice(SUBJECTS_BY_CATEGORY[category])
    return template.format(component=rng.choice(COMPONENTS), number=rng.randint(10_000, 99_999))


def long_subject(rng: random.Random) -> str:
    """A subject of a few kilobytes: a pasted log, as customers do."""
    lines = rng.randint(20, 60)
    return "Pasted log: " + "".join(_LONG_SUBJECT_LINE.format(n=n) for n in range(lines))


def description(subject_text: str, requester_name: str, company: str | None) -> str:
    """A short first comment for a ticket."""
    where = f" at {company}" if company else ""
    return f"{subject_text}\n\nReported by {requester_name}{where}. Please advise.\n"
