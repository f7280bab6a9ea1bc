"""The story ``crmkit demo`` tells: one month of a small tea company, then its dashboard.

Formosa Tea's March 2026 on the embedded SQLite store, with a fixed clock (Asia/Taipei) and
sequential ids so every run prints the same: leads from a trade show and the website, scored
and assigned by round robin, qualified and converted into customers with a deal each; the
deals move through the pipeline; a quote with a volume price, the spring promotion and a
manager-approved discount is accepted and the deal won; the order is recorded, its points
earned and the customer moves up to Silver; a complaint is acknowledged within its SLA,
compensated with goodwill points and closed with a CSAT score; a maintenance visit is
scheduled. Then the quarter's dashboard is printed, and written as HTML when matplotlib (the
``report`` extra) is installed.

Every sentence goes through crmkit's message catalogs, so ``--locale zh_Hant_TW`` (or
``zh_Hans_CN``) tells it in that language, with that locale's money and dates.

Example:
    >>> import io, tempfile
    >>> from pathlib import Path
    >>> out = io.StringIO()
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     tell(Path(folder) / "demo.db", kept=False, locale="en", out=out, html=None)
    >>> "Deal won: Formosa Tea Co." in out.getvalue()
    True
    >>> out.getvalue().splitlines()[-1]
    'Run with --html FILE to write the dashboard as a page with charts.'

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time
from babel.numbers import format_decimal

import crmkit
from crmkit.errors import MissingDependencyError
from crmkit.i18n import translations
from crmkit.kernel.money import Money

if TYPE_CHECKING:
    from crmkit.app._crm import CRM
    from crmkit.customers import SegmentationRules
    from crmkit.pipeline import Pipeline

__all__ = ["tell"]

TAIPEI = ZoneInfo("Asia/Taipei")
START = datetime(2026, 3, 2, 9, 0, tzinfo=TAIPEI)  # Monday


def _twd(amount: str) -> Money:
    return Money(amount, "TWD")


def _pipeline() -> Pipeline:
    from crmkit.pipeline import Pipeline, Stage, Transition

    return Pipeline(
        key="sales",
        name="Sales",
        stages=[
            Stage("new", "New", 10),
            Stage("qualified", "Qualified", 30),
            Stage("proposal", "Proposal", 60),
            Stage("won", "Won", 100, kind="won"),
            Stage("lost", "Lost", 0, kind="lost"),
        ],
        transitions=[
            Transition("new", "qualified"),
            Transition("qualified", "proposal"),
            Transition("proposal", "won"),
            Transition("proposal", "lost"),
            Transition("qualified", "lost"),
        ],
    )


def _segmentation() -> SegmentationRules:
    """The segments the company follows: where customers came from, and its best members."""
    from crmkit.customers import SegmentationRules, SegmentRule

    return SegmentationRules(
        segments=[
            SegmentRule(name="tea_expo_2026", sources=["Taipei Tea Expo 2026"]),
            SegmentRule(name="web_shop", tags=["web_form"]),
            SegmentRule(name="silver_or_gold", tiers=["silver", "gold"]),
        ]
    )


def _setup(path: Path) -> tuple[CRM, Any]:
    """The CRM with every context's settings, its products, prices, promotion and program."""
    from crmkit.app.customer360 import CustomerSettings
    from crmkit.app.leads import LeadSettings
    from crmkit.app.loyalty import LoyaltySettings
    from crmkit.app.quotes import PricingSettings
    from crmkit.app.service import ServiceSettings
    from crmkit.kernel import ManualClock, SequentialIds
    from crmkit.kernel.calendar import BusinessCalendar
    from crmkit.leads.assignment import AssignmentRule, AssignmentRules
    from crmkit.leads.scoring import EngagementRule, IndustryRule, JobTitleRule, ScoringModel
    from crmkit.loyalty import (
        BaseRate,
        CategoryMultiplier,
        EarnRules,
        LoyaltyProgram,
        Tier,
        TierModel,
    )
    from crmkit.pricing import (
        ApprovalPolicy,
        DiscountRuleSet,
        PriceBook,
        PriceBookEntry,
        PriceTier,
        Product,
        Promotion,
        TaxPolicy,
    )
    from crmkit.serialization import from_json
    from crmkit.service import CompensationLimit, ComplaintPolicy
    from crmkit.service.sla import SlaPolicySet

    clock = ManualClock(START)
    sla = from_json(
        '{"default": "standard", "policies": ['
        '{"name": "standard", "first_response": "PT8H", "resolution": "PT40H"},'
        '{"name": "silver", "first_response": "PT4H", "resolution": "PT18H"}],'
        '"rules": [{"name": "silver members", "policy": "silver", "tiers": ["silver", "gold"]}]}',
        SlaPolicySet,
    )
    crm = crmkit.bootstrap(
        database=path,
        clock=clock,
        ids=SequentialIds(),
        leads=LeadSettings(
            timezone="Asia/Taipei",
            scoring_model=ScoringModel(
                name="tea wholesale",
                industries=[IndustryRule("tea and hospitality", ["Tea", "Hospitality"], 20)],
                job_titles=[JobTitleRule("decision maker", ["Owner", "Buyer"], 10)],
                engagement=[EngagementRule("pricing visits", "page_visited", 5)],
            ),
            assignment_rules=AssignmentRules(
                fallback_owner="u_lin",
                rules=[AssignmentRule.round_robin("sales team", ["u_amy", "u_ben"])],
            ),
        ),
        pricing=PricingSettings(
            tax=TaxPolicy(rates={"standard": 5}, prices_include_tax=True, name="Taiwan VAT"),
            cash=True,
            approvals=ApprovalPolicy.default(),
            rule_set_id="rs_spring",
        ),
        service=ServiceSettings(
            complaints=ComplaintPolicy(
                categories=["delivery", "product"],
                root_causes=["carrier_delay", "packing"],
                compensation_limits=[
                    CompensationLimit(role="agent", kind="goodwill_points", max_points=500)
                ],
            ),
            sla=sla,
            calendar=BusinessCalendar.office_hours(
                "Asia/Taipei", ("09:00", "18:00"), name="Taipei desk"
            ),
        ),
        loyalty=LoyaltySettings(program_id="tea_club"),
        customers=CustomerSettings(segmentation=_segmentation()),
    )
    crm.upsert_product(
        Product(sku="OOLONG-500", name="Oolong tea 500 g", category="tea", unit="box")
    )
    crm.upsert_product(Product(sku="TEAPOT", name="Yixing teapot", category="teaware"))
    crm.upsert_price_book(
        PriceBook(
            id="pb_twd",
            name="Standard TWD",
            currency="TWD",
            entries=[
                PriceBookEntry(
                    sku="OOLONG-500", unit_price=_twd("1200"), tiers=[PriceTier(50, _twd("1000"))]
                ),
                PriceBookEntry(sku="TEAPOT", unit_price=_twd("2800")),
            ],
        )
    )
    crm.save_discount_rule_set(
        DiscountRuleSet(
            id="rs_spring",
            name="Spring 2026",
            promotions=[
                Promotion(
                    id="spring",
                    name="Spring tea sale",
                    percent=5,
                    categories=["tea"],
                    created_at=START - timedelta(days=30),
                    valid_from=datetime(2026, 3, 1, tzinfo=TAIPEI),
                    valid_until=datetime(2026, 4, 1, tzinfo=TAIPEI),
                )
            ],
        )
    )
    crm.save_loyalty_program(
        LoyaltyProgram(
            id="tea_club",
            name="Tea Club",
            currency="TWD",
            time_zone="Asia/Taipei",
            point_value=Money("0.5", "TWD"),
            pending_period=timedelta(days=14),
            earn=EarnRules(
                base=BaseRate(points=1, per=Money("100", "TWD")),
                category_multipliers=[
                    CategoryMultiplier(id="tea_x2", categories=["tea"], multiplier=2)
                ],
            ),
            tiers=TierModel(
                metric="spend",
                period="calendar",
                tiers=[
                    Tier(id="member", name="Member", threshold=0),
                    Tier(id="silver", name="Silver", threshold=30_000),
                    Tier(id="gold", name="Gold", threshold=100_000),
                ],
            ),
        )
    )
    return crm, clock


def _history(crm: CRM, sales: Pipeline) -> int:
    """January's and February's deals, as a host would import them."""
    from crmkit.pipeline import Opportunity

    def at(month: int, day: int) -> datetime:
        return datetime(2026, month, day, 10, tzinfo=TAIPEI)

    earlier = [
        ("opp_h1", "Kaohsiung Tea House", "u_amy", "62000", at(1, 6), at(1, 27), "won"),
        ("opp_h2", "Taipei 101 Cafe", "u_ben", "38000", at(1, 12), at(2, 3), "won"),
        ("opp_h3", "Tainan Tea Garden", "u_amy", "45000", at(2, 2), at(2, 24), "won"),
        ("opp_h4", "Hsinchu Office Pantry", "u_ben", "30000", at(2, 9), at(2, 26), "lost"),
    ]
    deals = []
    for id, name, owner, amount, opened, closed, end in earlier:
        deal = Opportunity.open(
            id=id,
            customer_id=f"cus_{id}",
            name=name,
            pipeline=sales,
            now=opened,
            owner=owner,
            amount=_twd(amount),
        )
        deal.move("qualified", pipeline=sales, now=opened + timedelta(days=2), by=owner)
        deal.move("proposal", pipeline=sales, now=opened + timedelta(days=5), by=owner)
        reason = "price" if end == "lost" else None
        deal.move(end, pipeline=sales, now=closed, by=owner, reason=reason)
        deals.append(deal)
    with crm.store.unit_of_work() as uow:
        uow.opportunities.add_many(deals)
        uow.commit()
    return len(deals)


def _move(crm: CRM, sales: Pipeline, id: str, stage: str, **more: Any) -> None:
    with crm.store.unit_of_work() as uow:
        deal = uow.opportunities.get(id)
        deal.move(stage, pipeline=sales, now=crm.clock.now(), **more)
        uow.opportunities.save(deal)
        uow.commit()


def tell(path: Path, *, kept: bool, locale: str, out: TextIO, html: Path | None) -> None:
    """Tell the story on a new SQLite file at ``path``; write the dashboard's HTML to ``html``.

    Without ``html`` the page goes beside a ``kept`` database (``<path>.html``); beside a
    temporary one it is not written (the story says how to ask for it).
    """
    from crmkit.analytics import Periods
    from crmkit.app.dashboard import build_dashboard
    from crmkit.loyalty import EarnLine, EarnOrder
    from crmkit.pipeline import Opportunity
    from crmkit.pricing import ManualDiscount
    from crmkit.service.maintenance import Equipment, ServicePlan

    _ = translations(locale).gettext

    def say(line: str = "") -> None:
        print(line, file=out)

    def when(at: datetime) -> str:
        return format_datetime(at, "short", tzinfo=TAIPEI, locale=locale)

    def money(value: Money) -> str:
        return value.format(locale, cash=True)

    crm, clock = _setup(path)
    sales = _pipeline()
    try:
        say(
            _("crmkit {version} demo on SQLite file {path}").format(
                version=crmkit.__version__, path=path
            )
        )
        kept_text = _("kept") if kept else _("deleted afterwards")
        say(
            _("({kept}; locale {locale}; clock starts at {start} Asia/Taipei)").format(
                kept=kept_text, locale=locale, start=when(START)
            )
        )
        say()
        say(
            _("Imported {count} deals from January and February.").format(
                count=_history(crm, sales)
            )
        )

        # 1. Leads from the trade show and the website, scored and assigned.
        say()
        say(_("1. Leads, {at}").format(at=when(clock.now())))
        captured = [
            crm.capture_lead(
                "web_form",
                name="Lin Mei-ling",
                email="mei@formosatea.example",
                company="Formosa Tea Co.",
                industry="Tea",
                job_title="Owner",
                region="TW",
                campaign="spring promo",
                external_ref="form-1042",
            ).lead,
            crm.capture_lead(
                "trade_show",
                name="Chen Jia-hao",
                email="jiahao@jadegarden.example",
                company="Jade Garden Teahouse",
                industry="Tea",
                job_title="Buyer",
                region="TW",
                campaign="Taipei Tea Expo 2026",
            ).lead,
            crm.capture_lead(
                "trade_show",
                name="Wang Shu-fen",
                email="shufen@sunmoonlake.example",
                company="Sun Moon Lake Hotel",
                industry="Hospitality",
                job_title="Purchasing manager",
                region="TW",
                campaign="Taipei Tea Expo 2026",
            ).lead,
        ]
        crm.log_lead_activity(captured[0].id, "page_visited", detail="/pricing")
        crm.log_lead_activity(captured[0].id, "page_visited", detail="/wholesale")
        channel = {"web_form": _("the website"), "trade_show": _("the trade show")}
        for lead in captured:
            score = crm.score_lead(lead.id)
            say(
                _(
                    "  {company} from {channel} ({campaign}): score {score}, grade {grade}, "
                    "assigned to {owner}"
                ).format(
                    company=lead.company,
                    channel=channel[lead.source_channel.value],
                    campaign=lead.campaign,
                    score=format_decimal(score.total, locale=locale),
                    grade=score.fit_grade.value,
                    owner=lead.owner,
                )
            )

        # 2. Qualified and converted, each with a deal in the pipeline.
        clock.advance(timedelta(hours=2))
        amounts = {
            captured[0].id: _twd("50000"),
            captured[1].id: _twd("40000"),
            captured[2].id: _twd("80000"),
        }

        def open_deal(uow: Any, lead: Any, customer: Any, contact: Any) -> str:
            deal = Opportunity.open(
                id=f"opp_{lead.id.removeprefix('lead_')}",
                customer_id=customer.id,
                name=customer.name,
                pipeline=sales,
                now=clock.now(),
                owner=lead.owner,
                amount=amounts[lead.id],
                expected_close_date=date(2026, 4, 15),
            )
            uow.opportunities.add(deal)
            return str(deal.id)

        say()
        say(_("2. Converted, {at}").format(at=when(clock.now())))
        customers = []
        for lead in captured:
            crm.log_lead_activity(lead.id, "call", by=lead.owner, detail="intro call")
            crm.start_working_lead(lead.id, actor=lead.owner)
            crm.qualify_lead(lead.id, actor=lead.owner)
            done = crm.convert_lead(lead.id, create_opportunity=open_deal, actor=lead.owner)
            customers.append(done.customer)
            _move(crm, sales, str(done.result.opportunity_id), "qualified", by=lead.owner)
            say(
                _("  {customer} [{id}] with deal {deal} of {amount} (owner {owner})").format(
                    customer=done.customer.name,
                    id=done.customer.id,
                    deal=done.result.opportunity_id,
                    amount=money(amounts[lead.id]),
                    owner=lead.owner,
                )
            )
        tea, jade, _hotel = customers
        deal_of = {
            customer.id: f"opp_{lead.id.removeprefix('lead_')}"
            for customer, lead in zip(customers, captured, strict=True)
        }

        # 3. The quote: volume price, spring promotion, approved discount; the deal is won.
        clock.advance(timedelta(hours=3))
        for customer in customers:
            _move(crm, sales, deal_of[customer.id], "proposal", by=customer.owner)
        quote = crm.create_quote(tea.id, "TWD", owner="u_amy")
        crm.add_quote_line(quote.id, "OOLONG-500", 60)
        crm.add_quote_line(quote.id, "TEAPOT", 2)
        crm.set_quote_discount(quote.id, ManualDiscount(percent=8), actor="u_amy")
        priced = crm.price_quote(quote.id, actor="u_amy")
        required = crm.get_quote(quote.id).required_approvals
        crm.submit_quote(quote.id, actor="u_amy")
        for role in required:
            crm.approve_quote(quote.id, role, actor="u_lin", comment="first order")
        crm.send_quote(quote.id, actor="u_amy")
        say()
        say(
            _("3. Quote {id} for {customer}, {at}").format(
                id=quote.id, customer=tea.name, at=when(clock.now())
            )
        )
        say(
            _("  60 boxes of oolong at the volume price {price} (list {list}), two teapots").format(
                price=money(_twd("1000")), list=money(_twd("1200"))
            )
        )
        say(
            _(
                "  Spring promotion {promotion} on tea, and {discount} off the quote approved "
                "by {approver}"
            ).format(
                promotion=format_percent(Decimal("-0.05"), locale),
                discount=format_percent(Decimal("0.08"), locale),
                approver="u_lin",
            )
        )
        say(
            _("  Total {total} (tax included); {discount} below the price book").format(
                total=money(priced.total),
                discount=format_percent(priced.effective_discount_percent / 100, locale),
            )
        )
        clock.advance(timedelta(days=1))
        accepted = crm.accept_quote(quote.id, actor="portal")
        final = accepted.priced
        assert final is not None  # an accepted quote is priced
        with crm.store.unit_of_work() as uow:
            deal = uow.opportunities.get(deal_of[tea.id])
            deal.change_amount(final.total, now=clock.now(), by="u_amy")
            uow.opportunities.save(deal)
            uow.commit()
        _move(crm, sales, deal_of[tea.id], "won", by="u_amy")
        say(
            _("  Deal won: {customer}, {amount}, {at}").format(
                customer=tea.name, amount=money(final.total), at=when(clock.now())
            )
        )

        _move(crm, sales, deal_of[jade.id], "lost", by="u_ben", reason="price")
        say(_("  Deal lost: {customer} chose a cheaper supplier").format(customer=jade.name))

        # 4. The order, points and a tier upgrade.
        crm.enroll_member(tea.id)
        categories = {"OOLONG-500": "tea", "TEAPOT": "teaware"}
        crm.record_order(
            tea.id,
            "quotes",
            accepted.id,
            clock.now(),
            final.total,
            lines=[
                {"sku": line.sku, "name": line.sku, "quantity": line.quantity, "amount": line.total}
                for line in final.lines
            ],
            channel="sales",
        )
        earned = crm.earn_for_order(
            tea.id,
            EarnOrder(
                id=accepted.id,
                lines=[
                    EarnLine(amount=line.total, category=categories[line.sku])
                    for line in final.lines
                ],
            ),
        )
        member = crm.get_membership(tea.id)
        say()
        say(
            _("4. Order {id} recorded; {points} points earned (pending for 14 days)").format(
                id=accepted.id, points=format_decimal(earned.points, locale=locale)
            )
        )
        say(
            _("  {customer} moved up from Member to {tier}").format(
                customer=tea.name, tier=member.tier.capitalize() if member.tier else "-"
            )
        )

        # 5. A complaint within its SLA, goodwill points, CSAT.
        clock.set(datetime(2026, 3, 6, 16, 0, tzinfo=TAIPEI))
        case = crm.file_complaint(
            tea.id,
            "One teapot arrived cracked",
            category="product",
            channel="email",
            order_ref=accepted.id,
            owner="u_amy",
        )
        clock.set(datetime(2026, 3, 9, 9, 30, tzinfo=TAIPEI))
        crm.acknowledge_complaint(case.id, actor="u_amy")
        crm.reply_to_complaint(case.id, "Sorry! A new teapot is on its way.", by="u_amy")
        crm.start_complaint_work(case.id, actor="u_amy")
        clock.set(datetime(2026, 3, 10, 12, 0, tzinfo=TAIPEI))
        crm.resolve_complaint(
            case.id, "A new teapot was delivered", root_cause="packing", actor="u_amy"
        )
        crm.grant_compensation(
            case.id,
            "goodwill-teapot",
            "goodwill_points",
            approver_role="agent",
            points=300,
            actor="u_amy",
        )
        crm.record_csat(case.id, 5, comment="quick and kind")
        sla = crm.complaint_sla(case.id)
        crm.close_complaint(case.id, actor="u_amy")
        say()
        say(
            _("5. Complaint {ref} ({tier} SLA), filed {at}").format(
                ref=case.reference, tier=sla.policy, at=when(case.filed_at)
            )
        )
        say(
            _("  First reply after {elapsed} of business time (target {target}): {state}").format(
                elapsed=_hours(sla.first_response.elapsed, locale),
                target=_hours(sla.first_response.duration, locale),
                state=_state(_, sla.first_response.state.value),
            )
        )
        say(_("  300 goodwill points granted, CSAT 5 of 5, case closed"))

        # 6. A maintenance visit.
        contract = crm.sign_maintenance_contract(
            tea.id,
            [
                Equipment(
                    serial="RST-0007",
                    model="Tea roaster TR-20",
                    site="Formosa Tea, Taipei",
                    installed_on=date(2025, 10, 1),
                )
            ],
            ServicePlan(name="quarterly", rule="FREQ=MONTHLY;INTERVAL=3"),
            starts_on=date(2025, 10, 1),
            ends_on=date(2026, 9, 30),
        )
        [visit, *_later] = crm.upcoming_services(clock.now().date(), date(2026, 9, 30))
        job = crm.open_work_order(
            visit.serials[0], "maintenance", "Quarterly roaster service", contract_id=contract.id
        )
        start = datetime.combine(visit.scheduled_on, datetime.min.time(), tzinfo=TAIPEI)
        start += timedelta(hours=10)
        crm.dispatch_work_order(job.id, "u_tech", start=start, end=start + timedelta(hours=2))
        say()
        say(
            _(
                "6. Maintenance visit for roaster {serial} on {day}, {start}-{end}, by {tech}"
            ).format(
                serial=visit.serials[0],
                day=format_date(visit.scheduled_on, "medium", locale=locale),
                start=format_time(start, "short", tzinfo=TAIPEI, locale=locale),
                end=format_time(start + timedelta(hours=2), "short", tzinfo=TAIPEI, locale=locale),
                tech="u_tech",
            )
        )

        # 7. The dashboard of the quarter.
        clock.set(datetime(2026, 3, 31, 18, 0, tzinfo=TAIPEI))
        quarter = Periods.ending(date(2026, 3, 31), 3, time_zone="Asia/Taipei")
        targets = {"2026-01": "80000", "2026-02": "80000", "2026-03": "100000"}
        dashboard = build_dashboard(
            crm,
            quarter,
            currency="TWD",
            locale=locale,
            targets={key: _twd(amount) for key, amount in targets.items()},
            title=_("Formosa Tea: first quarter"),
        )
        say()
        say(_("7. The dashboard, {at}").format(at=when(clock.now())))
        say()
        out.write(dashboard.to_text(width=100))
        page = html if html is not None or not kept else path.with_suffix(".html")
        if page is None:
            say(_("Run with --html FILE to write the dashboard as a page with charts."))
            return
        try:
            page.write_text(dashboard.to_html(), encoding="utf-8")
        except MissingDependencyError:
            say(_('The HTML dashboard needs matplotlib: pip install "crmkit[report]"'))
        else:
            say(_("Dashboard written as HTML to {path}").format(path=page))
    finally:
        crm.store.close()  # type: ignore[attr-defined]


def format_percent(value: Any, locale: str) -> str:
    from babel.numbers import format_percent as babel_percent

    return str(babel_percent(value, "#,##0.##%", locale=locale))


def _hours(value: timedelta | None, locale: str) -> str:
    from babel.units import format_unit

    if value is None:
        return "-"
    hours = value.total_seconds() / 3600
    return str(format_unit(hours, "duration-hour", length="short", format="#,##0.#", locale=locale))


def _state(_: Callable[[str], str], state: str) -> str:
    names = {"met": _("met"), "breached": _("breached"), "running": _("running")}
    return names.get(state, state)
