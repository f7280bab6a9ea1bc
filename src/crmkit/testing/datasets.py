"""Generated contact data with planted duplicates, for testing and measuring dedup.

:func:`generate_contacts` makes people at companies in Taiwan, mainland China and elsewhere,
with Latin and Chinese names, work and Gmail addresses, mobile numbers and addresses, then
plants duplicates the way people really type them twice: typos, case and full-width letters,
full-width digits, 台灣/台湾 and other traditional/simplified variants, "Co., Ltd." written as
"Ltd" or "有限公司", phones written locally (``0912-345-678``) or in E.164, emails in another
case or with Gmail's dots. Distinct people never share an email or a phone, and no two people
at one company share a name. The data is deterministic for a ``seed``.

:meth:`ContactDataset.evaluate` scores what a dedup run found against the planted truth.

Example:
    >>> from crmkit.customers.dedup import find_duplicates
    >>> data = generate_contacts(2_000, seed=7)
    >>> len(data.records), len(data.true_pairs()) > 100
    (2000, True)
    >>> quality = data.evaluate(find_duplicates(data.records))
    >>> quality.precision >= 0.95 and quality.recall >= 0.95
    True

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable
from typing import Any

import attrs

from crmkit.customers.dedup import DedupRecord, DedupResult
from crmkit.errors import ValidationError

__all__ = ["ContactDataset", "DedupQuality", "generate_contacts"]

_GIVEN = [
    "Amy",
    "Ben",
    "Chloe",
    "David",
    "Emma",
    "Frank",
    "Grace",
    "Henry",
    "Irene",
    "Jack",
    "Kevin",
    "Laura",
    "Michael",
    "Nina",
    "Oscar",
    "Peter",
    "Queenie",
    "Ray",
    "Sophie",
    "Tom",
    "Ursula",
    "Victor",
    "Wendy",
    "Xavier",
    "Yvonne",
    "Zoe",
    "Alice",
    "Brian",
    "Cindy",
    "Daniel",
    "Eric",
    "Fiona",
    "George",
    "Helen",
    "Ivan",
    "Joyce",
    "Kelly",
    "Leo",
    "Maggie",
    "Nathan",
    "Olivia",
    "Patrick",
    "Rachel",
    "Steven",
    "Tina",
    "Vincent",
    "William",
    "Yuki",
    "Angela",
    "Bruce",
    "Carmen",
    "Dennis",
    "Elaine",
    "Felix",
    "Gloria",
    "Howard",
    "Isaac",
    "Janet",
    "Kenneth",
    "Louis",
]
_SURNAMES = [
    "Chen",
    "Wang",
    "Huang",
    "Zhang",
    "Tsai",
    "Yang",
    "Hsu",
    "Cheng",
    "Hsieh",
    "Kuo",
    "Hung",
    "Tseng",
    "Chiu",
    "Liao",
    "Lai",
    "Chou",
    "Yeh",
    "Su",
    "Chuang",
    "Lu",
    "Chiang",
    "Ho",
    "Lo",
    "Kao",
    "Hsiao",
    "Pan",
    "Chien",
    "Jen",
    "Peng",
    "Fan",
    "Fang",
    "Shih",
    "Tu",
    "Wei",
    "Tang",
    "Yu",
    "Kang",
    "Ou",
    "Hu",
    "Teng",
]
_CJK_SURNAMES = "陳林黃張李王吳劉蔡楊許鄭謝郭洪曾邱廖賴周葉蘇莊呂江何蕭羅高潘簡鍾"
_CJK_GIVEN = "志明家豪俊傑建宏承恩冠宇怡君雅婷淑芬美玲佳穎欣怡宗翰柏翰詩涵雅雯國華曉東偉"
_ROMAN = dict(
    zip(
        _CJK_SURNAMES,
        [
            "chen",
            "lin",
            "huang",
            "chang",
            "li",
            "wang",
            "wu",
            "liu",
            "tsai",
            "yang",
            "hsu",
            "cheng",
            "hsieh",
            "kuo",
            "hung",
            "tseng",
            "chiu",
            "liao",
            "lai",
            "chou",
            "yeh",
            "su",
            "chuang",
            "lu",
            "chiang",
            "ho",
            "hsiao",
            "lo",
            "kao",
            "pan",
            "chien",
            "chung",
        ],
        strict=True,
    )
)
_WORDS = [
    "Formosa",
    "Pacific",
    "Jade",
    "Harbor",
    "Summit",
    "Orchid",
    "Golden",
    "Silver",
    "Evergreen",
    "Lotus",
    "Dragon",
    "Phoenix",
    "Crystal",
    "Oriental",
    "Sunrise",
    "Northern",
    "Southern",
    "Eastern",
    "Western",
    "Union",
    "Global",
    "Unity",
    "Prime",
    "Nova",
    "Apex",
    "Vertex",
    "Bright",
    "Clear",
    "Blue",
    "Green",
    "Red",
    "Swift",
    "Rapid",
    "Solid",
    "Smart",
    "Quantum",
    "Fusion",
    "Delta",
    "Omega",
    "Alpha",
    "Beta",
    "Gamma",
    "Sigma",
    "Cedar",
    "Maple",
    "Pine",
    "Bamboo",
    "Tea",
    "Rice",
    "Silk",
    "Steel",
    "Ocean",
    "River",
    "Mountain",
    "Valley",
    "Island",
    "Bay",
    "Coast",
    "Sky",
    "Star",
    "Moon",
    "Sun",
    "Cloud",
    "Rain",
    "Wind",
    "Fire",
    "Stone",
    "Iron",
    "Copper",
    "Gold",
    "Pearl",
    "Ruby",
    "Amber",
    "Ivory",
    "Coral",
    "Onyx",
    "Topaz",
    "Zenith",
    "Horizon",
    "Beacon",
    "Anchor",
    "Compass",
    "Atlas",
]
_TRADES = [
    "Trading",
    "Foods",
    "Electronics",
    "Logistics",
    "Textiles",
    "Machinery",
    "Software",
    "Tea",
    "Plastics",
    "Design",
]
_CJK_WORDS = "福華興發達昌隆泰豐盛源利信德和安永新宏富鼎輝鴻聯創嘉寶"
_CJK_TRADES = ("貿易", "食品", "電子", "物流", "紡織", "機械", "資訊", "茶業", "塑膠", "設計")
_CJK_PLACES = ("台灣", "臺灣", "台北", "新竹", "台中", "上海", "深圳", "廣州")
_LATIN_FORMS = ("Co., Ltd.", "Ltd", "Ltd.", "Inc.", "Corp.", "Limited", "")
_CJK_FORMS = ("有限公司", "股份有限公司", "有限公司", "公司")
_CITIES = (
    ("台北市", "信義區", "松仁路"),
    ("臺北市", "大安區", "敦化南路"),
    ("新竹市", "東區", "光復路"),
    ("台中市", "西屯區", "台灣大道"),
    ("上海市", "浦東新區", "世紀大道"),
    ("深圳市", "南山區", "科技園路"),
)
_LATIN_STREETS = ("Queen's Road", "Nathan Road", "Orchard Road", "High Street", "King Street")
_TO_SIMPLIFIED = str.maketrans(
    "陳劉楊許鄭謝賴周葉蘇莊呂蕭羅簡鍾傑華東偉臺灣區業電資訊貿機紡織設計興發達隆豐盛寶輝鴻聯創",
    "陈刘杨许郑谢赖周叶苏庄吕萧罗简钟杰华东伟台湾区业电资讯贸机纺织设计兴发达隆丰盛宝辉鸿联创",
)


@attrs.frozen(kw_only=True)
class DedupQuality:
    """How a dedup run did against the planted truth, counted in pairs.

    Example:
        >>> q = DedupQuality(true_positives=95, false_positives=5, false_negatives=0)
        >>> q.precision, q.recall
        (0.95, 1.0)

    .. versionadded:: 0.1.0
    """

    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        """The share of the pairs found that are planted duplicates (1.0 when none found)."""
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        """The share of the planted duplicate pairs that were found (1.0 when none planted)."""
        planted = self.true_positives + self.false_negatives
        return self.true_positives / planted if planted else 1.0


def _pairs(groups: Iterable[Iterable[str]]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for group in groups:
        found.update(itertools.combinations(sorted(group), 2))
    return found


@attrs.frozen(kw_only=True)
class ContactDataset:
    """Generated records and the planted truth: the groups of ids that are one person.

    Example:
        >>> data = generate_contacts(50, duplicate_rate=0.2, seed=1)
        >>> all(len(group) >= 2 for group in data.duplicates)
        True

    .. versionadded:: 0.1.0
    """

    records: tuple[DedupRecord, ...]
    duplicates: tuple[tuple[str, ...], ...]

    def true_pairs(self) -> set[tuple[str, str]]:
        """Every pair of ids (sorted) that are the same person."""
        return _pairs(self.duplicates)

    def evaluate(self, result: DedupResult) -> DedupQuality:
        """Compare a dedup result's clusters (as pairs) with the planted groups."""
        truth = self.true_pairs()
        found = _pairs(result.clusters())
        hits = len(truth & found)
        return DedupQuality(
            true_positives=hits,
            false_positives=len(found) - hits,
            false_negatives=len(truth) - hits,
        )

    def as_rows(self) -> list[dict[str, Any]]:
        """The records as flat dicts (one email, one phone), as a CSV import would read them."""
        return [
            {
                "id": r.id,
                "name": r.name,
                "company": r.company,
                "email": r.emails[0] if r.emails else None,
                "phone": r.phones[0] if r.phones else None,
                "address": r.address,
                "region": r.region,
            }
            for r in self.records
        ]


class _Person:
    __slots__ = ("address", "company", "email", "latin", "name", "phone")

    def __init__(
        self, name: str, latin: bool, company: str, email: str, phone: str, address: str
    ) -> None:
        self.name, self.latin, self.company = name, latin, company
        self.email, self.phone, self.address = email, phone, address


class _Generator:
    def __init__(self, seed: int, companies: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - test data, not secrets
        self.companies = [self._company(j) for j in range(companies)]
        self.taken: set[tuple[int, str]] = set()

    def _company(self, j: int) -> tuple[str, bool, str, str]:
        """(name, latin, mail domain, address) of company ``j``; names are unique by ``j``."""
        rng = self.rng
        n = len(_WORDS)
        if j % 3:
            words = [_WORDS[j % n], _WORDS[(j // n) % n]]
            if j >= n * n:
                words.insert(0, _WORDS[(j // (n * n)) % n])
            trade = _TRADES[j % len(_TRADES)]
            form = rng.choice(_LATIN_FORMS)
            name = " ".join([*words, trade, form]).strip()
            domain = "".join(words).lower() + ".example"
            street = rng.choice(_LATIN_STREETS)
            address = f"{rng.randint(1, 999)} {street}, Floor {rng.randint(1, 30)}"
            return name, True, domain, address
        m = len(_CJK_WORDS)
        k = j // 3
        core = _CJK_WORDS[k % m] + _CJK_WORDS[(k // m) % m]
        if k >= m * m:
            core += _CJK_WORDS[(k // (m * m)) % m] + str(k // (m * m * m) or "")
        place = _CJK_PLACES[k % len(_CJK_PLACES)]
        name = place + core + _CJK_TRADES[k % len(_CJK_TRADES)] + rng.choice(_CJK_FORMS)
        city, district, road = rng.choice(_CITIES)
        address = f"{city}{district}{road}{rng.randint(1, 400)}號{rng.randint(1, 30)}樓"
        return name, False, f"co{j}.example.com.tw", address

    def person(self, i: int) -> _Person:
        rng = self.rng
        index = rng.randrange(len(self.companies))
        company, latin_company, domain, company_address = self.companies[index]
        latin = rng.random() < (0.8 if latin_company else 0.3)
        for _ in range(20):
            if latin:
                given, surname = rng.choice(_GIVEN), rng.choice(_SURNAMES)
                name = f"{given} {surname}"
                local = f"{given}.{surname}{i}".lower()
            else:
                surname = rng.choice(_CJK_SURNAMES)
                name = surname + rng.choice(_CJK_GIVEN) + rng.choice(_CJK_GIVEN)
                local = f"{_ROMAN[surname]}{i}"
            if (index, name) not in self.taken:
                break
        self.taken.add((index, name))
        gmail = rng.random() < 0.3
        email = f"{local}@gmail.com" if gmail else f"{local}@{domain}"
        number = (i * 7919 + 12_345_678) % 100_000_000  # distinct for every person
        phone = f"+8869{number:08d}"
        if rng.random() < 0.5:
            address = company_address
        elif latin:
            address = f"{rng.randint(1, 999)} {rng.choice(_LATIN_STREETS)}, Flat {i % 97 + 1}"
        else:
            city, district, road = rng.choice(_CITIES)
            address = f"{city}{district}{road}{rng.randint(1, 400)}號{i % 19 + 1}樓"
        return _Person(name, latin, company, email, phone, address)

    # ----- how people write the same thing twice -------------------------------------------

    def typo(self, text: str) -> str:
        rng = self.rng
        if not text.isascii():
            simplified = text.translate(_TO_SIMPLIFIED)
            return simplified if simplified != text else text
        words = text.split()
        k = max(range(len(words)), key=lambda w: len(words[w]))
        word = words[k]
        if len(word) < 4:
            return text
        p = rng.randrange(1, len(word) - 1)
        kind = rng.randrange(3)
        if kind == 0:
            word = word[:p] + word[p + 1] + word[p] + word[p + 2 :]
        elif kind == 1:
            word = word[:p] + word[p + 1 :]
        else:
            word = word[:p] + rng.choice("aeiou") + word[p + 1 :]
        words[k] = word
        return " ".join(words)

    def restyle_name(self, name: str) -> str:
        rng = self.rng
        if not name.isascii():
            return name.translate(_TO_SIMPLIFIED)
        kind = rng.randrange(3)
        if kind == 0:
            return name.upper()
        if kind == 1:
            return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in name)
        given, _, surname = name.partition(" ")
        return f"{surname}, {given}"

    def restyle_email(self, email: str) -> str:
        local, _, domain = email.partition("@")
        if domain == "gmail.com" and self.rng.random() < 0.6:
            plain = local.replace(".", "")
            cut = self.rng.randrange(1, len(plain))
            return f"{plain[:cut]}.{plain[cut:]}@GMail.com"
        return email.upper() if self.rng.random() < 0.5 else local.title() + "@" + domain

    def restyle_phone(self, phone: str) -> tuple[str, str | None]:
        national = "0" + phone[4:]
        kind = self.rng.randrange(4)
        if kind == 0:
            return f"{national[:4]}-{national[4:7]}-{national[7:]}", "TW"
        if kind == 1:
            return "".join(chr(ord(c) + 0xFEE0) for c in national), "TW"
        if kind == 2:
            return f"+886 {phone[4:7]} {phone[7:10]} {phone[10:]}", None
        return f"00886{phone[4:]}", None

    def restyle_company(self, company: str) -> str:
        rng = self.rng
        if company.isascii():
            base = company
            for form in _LATIN_FORMS[:-1]:
                if base.endswith(" " + form):
                    base = base[: -len(form) - 1]
                    break
            kind = rng.randrange(3)
            if kind == 0:
                return f"{base} {rng.choice(_LATIN_FORMS[:-1])}"
            if kind == 1:
                return base.upper()
            return f"{base} 有限公司"
        simplified = company.translate(_TO_SIMPLIFIED)
        if simplified != company and rng.random() < 0.6:
            return simplified
        for form in ("股份有限公司", "有限公司", "公司"):
            if company.endswith(form):
                return company[: -len(form)] + rng.choice(("Co., Ltd.", "有限公司", "股份有限公司"))
        return company

    def restyle_address(self, address: str) -> str:
        swapped = address.replace("臺", "台") if "臺" in address else address.replace("台", "臺")
        if swapped != address and self.rng.random() < 0.5:
            return swapped
        return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in address)

    def copy(self, person: _Person, record_id: str) -> DedupRecord:
        """A duplicate of ``person``: one to three changes, never losing both email and phone."""
        rng = self.rng
        name, company = person.name, person.company
        address: str | None = person.address
        email: str | None = person.email
        phone: str | None = person.phone
        region: str | None = None
        lost_one = False
        for change in rng.sample(range(7), rng.randint(1, 3)):
            if change == 0:
                name = self.typo(name)
            elif change == 1:
                name = self.restyle_name(name)
            elif change == 2:
                if not lost_one and rng.random() < 0.25:
                    email, lost_one = None, True
                else:
                    email = self.restyle_email(person.email)
            elif change == 3:
                if not lost_one and rng.random() < 0.25:
                    phone, lost_one = None, True
                else:
                    phone, region = self.restyle_phone(person.phone)
            elif change == 4:
                company = self.restyle_company(company)
            elif change == 5:
                address = self.restyle_address(person.address)
            elif not lost_one:
                address, lost_one = None, True
        return DedupRecord(
            id=record_id,
            name=name,
            company=company,
            emails=() if email is None else (email,),
            phones=() if phone is None else (phone,),
            address=address,
            region=region,
        )


def generate_contacts(count: int, *, duplicate_rate: float = 0.1, seed: int = 0) -> ContactDataset:
    """Make ``count`` contact records of which about ``duplicate_rate`` are planted duplicates.

    A planted duplicate copies an earlier person (sometimes one that already has a copy, so some
    groups hold three records) and changes one to three things about how it is written.
    Record ids are ``row_0000001``... in a shuffled order, so duplicates are not neighbours.

    Example:
        >>> data = generate_contacts(10, duplicate_rate=0.3, seed=3)
        >>> len(data.records), sum(len(g) - 1 for g in data.duplicates)
        (10, 3)

    .. versionadded:: 0.1.0
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValidationError(f"must be a positive whole number, got {count!r}", path="count")
    if not isinstance(duplicate_rate, (int, float)) or not 0 <= duplicate_rate < 1:
        raise ValidationError(
            f"must be from 0 up to (not including) 1, got {duplicate_rate!r}",
            path="duplicate_rate",
        )
    planted = round(count * duplicate_rate)
    people_count = count - planted
    generator = _Generator(seed, max(20, people_count // 15))
    rng = generator.rng
    ids = [f"row_{n:07d}" for n in range(1, count + 1)]
    rng.shuffle(ids)
    people = [generator.person(i) for i in range(people_count)]
    records = [
        DedupRecord(
            id=ids[i],
            name=p.name,
            company=p.company,
            emails=(p.email,),
            phones=(p.phone,),
            address=p.address,
        )
        for i, p in enumerate(people)
    ]
    groups: dict[int, list[str]] = {}
    for n in range(planted):
        source = rng.randrange(people_count)
        record_id = ids[people_count + n]
        records.append(generator.copy(people[source], record_id))
        groups.setdefault(source, [ids[source]]).append(record_id)
    order = sorted(range(count), key=lambda k: records[k].id)
    return ContactDataset(
        records=tuple(records[k] for k in order),
        duplicates=tuple(tuple(sorted(g)) for g in groups.values()),
    )
