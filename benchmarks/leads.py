"""Lead scoring throughput: crmkit's rule engine side by side with a hand-written if-chain.

Run: ``python benchmarks/leads.py [--rows 100000] [--rounds 5] [--seed 7]``

Both contenders score the same leads with the same 20-rule B2B model (5 industry/size/budget
rules, 3 job-title rules, a region rule, 6 engagement rules with half-life decay, windows and
caps, 2 email-domain rules, 2 penalties, and category caps):

* ``crmkit``: ``crmkit.leads.scoring.score(lead, model, now)``, which builds a ``LeadScore``
  with every contribution and its reason (the model is data, prepared once when it is built);
* ``if-chain``: one hand-written function with the model's rules as literal ``if`` statements,
  doing the same decimal arithmetic (the same decay, rounding and caps) and returning only the
  total: the practical limit for computing these totals in Python.

The totals are checked to agree for every lead before anything is timed. Rounds interleave the
two contenders (alternating which goes first) and the best round of each is reported with the
ratio (lower is better; 1.00x is the limit itself). Nothing is asserted about time.
"""

from __future__ import annotations

import argparse
import random
import re
import time
import unicodedata
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext

from crmkit.kernel.money import Money
from crmkit.leads import Activity, ActivityKind, Lead
from crmkit.leads.scoring import (
    FREE_MAIL_DOMAINS,
    ActivityPenaltyRule,
    BudgetRule,
    CategoryCaps,
    CompanySizeRule,
    EmailDomainRule,
    EngagementRule,
    FitGrades,
    IndustryRule,
    JobTitleRule,
    RegionRule,
    ScoringModel,
    score,
)

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)

MODEL = ScoringModel(
    name="b2b",
    industries=[
        IndustryRule("core industry", ["Software", "SaaS"], 20),
        IndustryRule("industrial", ["Manufacturing", "製造業"], 15),
        IndustryRule("retail", ["Retail", "零售"], 8),
    ],
    company_sizes=[
        CompanySizeRule("mid-market", 50, 999, 10),
        CompanySizeRule("enterprise", 1000, None, 15),
    ],
    budgets=[BudgetRule("real budget", Money("1000000", "TWD"), 10)],
    job_titles=[
        JobTitleRule("decision maker", ["director", "vp", "總經理", "总经理"], 15),
        JobTitleRule("c-level", [], 20, patterns=[r"\bC[EFIOT]O\b"]),
        JobTitleRule("student", ["student", "intern"], -10),
    ],
    regions=[RegionRule("home market", ["TW", "HK"], 5)],
    engagement=[
        EngagementRule("opens", "email_opened", 1, half_life=14 * DAY, cap=5),
        EngagementRule("visits", "page_visited", 2, half_life=7 * DAY, cap=10),
        EngagementRule("downloads", "download", 5, half_life=30 * DAY, cap=15),
        EngagementRule("events", "event_attended", 10, half_life=60 * DAY),
        EngagementRule("replies", "email_replied", 8, window=90 * DAY),
        EngagementRule("meetings", "meeting", 15),
    ],
    email_domains=[
        EmailDomainRule.free_mail(-10),
        EmailDomainRule("competitor", ["rival.example"], -50),
    ],
    penalties=[
        ActivityPenaltyRule("unsubscribed", "unsubscribed", -30),
        ActivityPenaltyRule("bounced", "bounced", -20),
    ],
    caps=CategoryCaps(fit=60, engagement=40, negative=50),
    grades=FitGrades(a=40, b=25, c=10),
)
assert len(MODEL.rules) == 20

# ----- the hand-written if-chain ---------------------------------------------------------------

_DECAY = Context(prec=20, rounding=ROUND_HALF_EVEN)
_SUMS = Context(prec=28, rounding=ROUND_HALF_EVEN)
_CENTS = Decimal("0.01")
_M_LN2 = -_DECAY.ln(Decimal(2))
_RATE14 = _DECAY.divide(_M_LN2, Decimal(14 * 86_400 * 10**6))
_RATE7 = _DECAY.divide(_M_LN2, Decimal(7 * 86_400 * 10**6))
_RATE30 = _DECAY.divide(_M_LN2, Decimal(30 * 86_400 * 10**6))
_RATE60 = _DECAY.divide(_M_LN2, Decimal(60 * 86_400 * 10**6))
_WINDOW90 = 90 * 86_400 * 10**6
_CLEVEL = re.compile(r"(?:\bC[EFIOT]O\b)", re.IGNORECASE)
_FREE = frozenset(FREE_MAIL_DOMAINS)
_D = {n: Decimal(n) for n in ("0", "1", "2", "5", "8", "10", "15", "20", "30", "40", "50", "60")}
_OPEN, _VISIT, _DOWNLOAD, _EVENT = (
    ActivityKind.EMAIL_OPENED,
    ActivityKind.PAGE_VISITED,
    ActivityKind.DOWNLOAD,
    ActivityKind.EVENT_ATTENDED,
)
_REPLIED, _MEETING, _UNSUB, _BOUNCED = (
    ActivityKind.EMAIL_REPLIED,
    ActivityKind.MEETING,
    ActivityKind.UNSUBSCRIBED,
    ActivityKind.BOUNCED,
)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().strip()


def hand_total(lead: Lead, now: datetime) -> Decimal:
    """The same total as ``score(lead, MODEL, now).total``, written out by hand."""
    d = _D
    fit = d["0"]
    if lead.industry is not None:
        k = _fold(lead.industry)
        if k in ("software", "saas"):
            fit += d["20"]
        if k in ("manufacturing", "製造業"):
            fit += d["15"]
        if k in ("retail", "零售"):
            fit += d["8"]
    size = lead.company_size
    if size is not None:
        if 50 <= size <= 999:
            fit += d["10"]
        if size >= 1000:
            fit += d["15"]
    budget = lead.budget
    if budget is not None and budget.currency == "TWD" and budget.amount >= 1_000_000:
        fit += d["10"]
    if lead.job_title is not None:
        title = _fold(lead.job_title)
        if "director" in title or "vp" in title or "總經理" in title or "总经理" in title:
            fit += d["15"]
        if _CLEVEL.search(lead.job_title):
            fit += d["20"]
        if "student" in title or "intern" in title:
            fit -= d["10"]
    if lead.region is not None and _fold(lead.region) in ("tw", "hk"):
        fit += d["5"]
    if fit > d["60"]:
        fit = d["60"]

    opens = visits = downloads = events = replies = meetings = Decimal(0)
    n_opens = n_visits = n_downloads = n_events = n_replies = n_meetings = 0
    unsubscribed = bounced = False
    exp, mul = _DECAY.exp, _DECAY.multiply
    for a in lead.activities:
        if a.at > now:
            continue
        age = now - a.at
        us = (age.days * 86_400 + age.seconds) * 1_000_000 + age.microseconds
        kind = a.kind
        if kind is _OPEN:
            opens += mul(d["1"], exp(mul(us, _RATE14)))
            n_opens += 1
        elif kind is _VISIT:
            visits += mul(d["2"], exp(mul(us, _RATE7)))
            n_visits += 1
        elif kind is _DOWNLOAD:
            downloads += mul(d["5"], exp(mul(us, _RATE30)))
            n_downloads += 1
        elif kind is _EVENT:
            events += mul(d["10"], exp(mul(us, _RATE60)))
            n_events += 1
        elif kind is _REPLIED:
            if us <= _WINDOW90:
                replies += d["8"]
                n_replies += 1
        elif kind is _MEETING:
            meetings += d["15"]
            n_meetings += 1
        elif kind is _UNSUB:
            unsubscribed = True
        elif kind is _BOUNCED:
            bounced = True
    engagement = Decimal(0)
    if n_opens:
        engagement += min(opens.quantize(_CENTS, context=_DECAY), d["5"])
    if n_visits:
        engagement += min(visits.quantize(_CENTS, context=_DECAY), d["10"])
    if n_downloads:
        engagement += min(downloads.quantize(_CENTS, context=_DECAY), d["15"])
    if n_events:
        engagement += events.quantize(_CENTS, context=_DECAY)
    if n_replies:
        engagement += replies
    if n_meetings:
        engagement += meetings
    if engagement > d["40"]:
        engagement = d["40"]

    negative = d["0"]
    if lead.email is not None:
        domain = _fold(lead.email.rpartition("@")[2])
        labels = domain.split(".")
        suffixes = [".".join(labels[i:]) for i in range(len(labels))]
        if any(s in _FREE for s in suffixes):
            negative -= d["10"]
        if "rival.example" in suffixes:
            negative -= d["50"]
    if unsubscribed:
        negative -= d["30"]
    if bounced:
        negative -= d["20"]
    if negative < -d["50"]:
        negative = -d["50"]
    return fit + engagement + negative


# ----- data ------------------------------------------------------------------------------------

_INDUSTRIES = (
    None,
    "Software",
    "SaaS",
    "Manufacturing",
    "製造業",
    "Retail",
    "Finance",
    "Education",
)
_TITLES = (
    None,
    "CEO",
    "CTO",
    "IT Director",
    "VP Sales",
    "採購經理",
    "总经理",
    "Intern",
    "Engineer",
)
_REGIONS = (None, "TW", "HK", "CN", "US", "tw")
_DOMAINS = ("acme.example", "gmail.com", "qq.com", "rival.example", "sales.rival.example", "co.tw")
_KINDS = tuple(ActivityKind)
_KIND_WEIGHTS = (30, 30, 10, 5, 3, 3, 3, 1, 1)


def make_leads(n: int, seed: int) -> list[Lead]:
    rng = random.Random(seed)
    leads = []
    for i in range(n):
        captured = NOW - timedelta(days=rng.randint(0, 365))
        kinds = rng.choices(_KINDS, weights=_KIND_WEIGHTS, k=rng.randint(0, 8))
        activities = tuple(
            Activity(kind=kind, at=NOW - timedelta(minutes=rng.randint(0, 200 * 24 * 60)))
            for kind in kinds
        )
        leads.append(
            Lead(
                id=f"lead_{i:07d}",
                source_channel="web_form",
                email=f"p{i}@{rng.choice(_DOMAINS)}",
                industry=rng.choice(_INDUSTRIES),
                company_size=rng.choice((None, rng.randint(1, 20_000))),
                budget=rng.choice((None, Money(rng.randint(0, 5_000_000), "TWD"))),
                job_title=rng.choice(_TITLES),
                region=rng.choice(_REGIONS),
                captured_at=captured,
                updated_at=NOW,
                status_changed_at=captured,
                activities=activities,
            )
        )
    return leads


# ----- timing ----------------------------------------------------------------------------------


def run_engine(leads: list[Lead]) -> Decimal:
    total = Decimal(0)
    for lead in leads:
        total += score(lead, MODEL, NOW).total
    return total


def run_hand(leads: list[Lead]) -> Decimal:
    total = Decimal(0)
    with localcontext(_SUMS):
        for lead in leads:
            total += hand_total(lead, NOW)
    return total


def timed(fn: Callable[[list[Lead]], Decimal], leads: list[Lead]) -> float:
    start = time.perf_counter()
    fn(leads)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="leads to score (100000)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (5)")
    parser.add_argument("--seed", type=int, default=7, help="random seed for the leads (7)")
    args = parser.parse_args()

    built = time.perf_counter()
    leads = make_leads(args.rows, args.seed)
    built = time.perf_counter() - built
    activities = sum(len(lead.activities) for lead in leads)
    print(
        f"{args.rows} leads, {activities} activities, a {len(MODEL.rules)}-rule model "
        f"(built in {built:.1f} s)"
    )

    with localcontext(_SUMS):
        mismatched = [
            lead.id for lead in leads if score(lead, MODEL, NOW).total != hand_total(lead, NOW)
        ]
    if mismatched:
        raise SystemExit(f"totals disagree for {len(mismatched)} leads, e.g. {mismatched[:5]}")
    print("totals agree for every lead")

    best = {"crmkit": float("inf"), "if-chain": float("inf")}
    contenders = [("crmkit", run_engine), ("if-chain", run_hand)]
    for round_no in range(args.rounds):
        order = contenders if round_no % 2 == 0 else contenders[::-1]
        for name, fn in order:
            best[name] = min(best[name], timed(fn, leads))

    limit = best["if-chain"]
    print(f"{'contender':<10} {'best s':>8} {'leads/s':>10} {'us/lead':>8} {'ratio':>7}")
    for name, seconds in best.items():
        print(
            f"{name:<10} {seconds:>8.3f} {args.rows / seconds:>10,.0f} "
            f"{seconds / args.rows * 1e6:>8.2f} {seconds / limit:>6.2f}x"
        )


if __name__ == "__main__":
    main()
