"""A lead's life in crmkit: captured twice, followed up, scored, qualified, assigned, converted.

Run it with ``python examples/leads.py``; it keeps everything in a SQLite file, leads.db, in
the current directory (deleted first, so every run tells the same story).
"""

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from crmkit import ManualClock, bootstrap
from crmkit.adapters.memory import RecordingNotifier, StaticDirectory
from crmkit.app.dispatch import Dispatcher
from crmkit.app.leads import LeadSettings
from crmkit.app.triggers import LeadFollowUpTrigger
from crmkit.kernel import SequentialIds
from crmkit.leads import IntakeConsent
from crmkit.leads.assignment import AssignmentRule, AssignmentRules
from crmkit.leads.qualification import BANT
from crmkit.leads.scoring import (
    EmailDomainRule,
    EngagementRule,
    IndustryRule,
    JobTitleRule,
    ScoringModel,
)
from crmkit.notifications import Recipient, Subscription, TemplateRenderer
from crmkit.ports import Person
from crmkit.serialization import to_json

TAIPEI = ZoneInfo("Asia/Taipei")
clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=TAIPEI))  # Monday morning

# The rules are data: a host stores them as JSON and edits them in an admin screen.
model = ScoringModel(
    name="b2b inbound",
    industries=[IndustryRule("target industry", ["Tea", "Food & Beverage"], 20)],
    job_titles=[JobTitleRule("decision maker", ["Owner", "CEO", "Head of"], 10)],
    engagement=[
        EngagementRule("pricing visits", "page_visited", 5, half_life=timedelta(days=7), cap=15)
    ],
    email_domains=[EmailDomainRule.free_mail(-15)],
)
rules = AssignmentRules(
    fallback_owner="u_lead",
    rules=[AssignmentRule.round_robin("taiwan team", ["u_amy", "u_bob"], regions=["TW"])],
)
print("Scoring model as stored:", to_json(model)[:90], "...")

database = Path("leads.db")
for leftover in (database, Path("leads.db-wal"), Path("leads.db-shm")):
    leftover.unlink(missing_ok=True)
crm = bootstrap(
    database=database,
    clock=clock,
    ids=SequentialIds(),
    leads=LeadSettings(timezone="Asia/Taipei", scoring_model=model, assignment_rules=rules),
)

# 1. Capture: the web form, then (the same form again, then) a badge scan at a trade show.
web = crm.capture_lead(
    "web_form",
    name="Lin Mei-ling",
    email="Mei.Lin@FormosaTea.tw",
    company="Formosa Tea Co., Ltd.",
    industry="Tea",
    region="TW",
    campaign="spring promo",
    external_ref="form-1042",
    consent=IntakeConsent(marketing=True, source="web form checkbox", at=clock.now()),
)
lead = web.lead
print(f"Web form:    {web.reason}; owner {lead.owner} ({lead.assignment.reason})")
print(f"Follow up by {lead.follow_up_due_at:%a %d %b %H:%M} (24 business hours, Taipei)")
again = crm.capture_lead("web_form", email="mei.lin@formosatea.tw", external_ref="form-1042")
print(f"Same form:   {again.reason}")

# 2. Speed to lead: nobody called by Wednesday 15:00, so the owner is reminded, once.
people = StaticDirectory(
    [Person(id="u_amy", name="Amy Lee", email="amy@formosatea.tw", timezone="Asia/Taipei")]
)
notifier = RecordingNotifier()
dispatcher = Dispatcher(
    crm.store,
    notifier,
    [
        Subscription(
            name="remind-owner",
            event_type="notifications.LeadFollowUpOverdue",
            template="lead_follow_up_due",
            to=Recipient.user("owner"),
        )
    ],
    clock=clock,
    people=people,
    triggers=[LeadFollowUpTrigger(people=people)],
    default_timezone="Asia/Taipei",
)
clock.set(datetime(2026, 3, 4, 15, 0, tzinfo=TAIPEI))
dispatcher.run_once()
dispatcher.run_once()
for sent in notifier.sent:
    message = TemplateRenderer().render(sent)
    print(f"Reminder to {sent.recipient}: {message.subject}")
lead = crm.log_lead_activity(lead.id, "call", by="u_amy", detail="intro call")
print(f"Called:      first contact {lead.first_contacted_at:%a %H:%M}")

clock.set(datetime(2026, 3, 5, 14, 0, tzinfo=TAIPEI))
show = crm.capture_lead(
    "trade_show",
    name="Lin Mei-ling",
    company="FORMOSA TEA CO.",
    phone="0912 345 678",
    phone_region="TW",
    job_title="Owner",
    campaign="2023 trade show",
)
lead = show.lead
print(f"Trade show:  {show.reason}")
print(f"Touches:     {', '.join(f'{t.channel.value} ({t.campaign})' for t in lead.touches)}")

# 3. Score, with every rule's reason.
for days_ago in (3, 1, 0):
    crm.log_lead_activity(lead.id, "page_visited", at=clock.now() - timedelta(days=days_ago))
result = crm.score_lead(lead.id)
for c in result.contributions:
    print(f"  {c.category.value:<10} {c.points:>6}  {c.reason}")
print(f"Score:       {result.total} (fit grade {result.fit_grade.value})")

# 4. Qualify with BANT, each answer with its evidence.
crm.start_working_lead(lead.id, actor="u_amy")
for criterion, evidence in [
    ("budget", "NT$500k approved for Q2"),
    ("authority", "she owns the company"),
    ("need", "orders kept in a spreadsheet"),
    ("timeline", "before the autumn harvest"),
]:
    crm.answer_qualification(lead.id, criterion, evidence=evidence, by="u_amy")
lead = crm.qualify_lead(lead.id, framework=BANT)
print(f"Qualified:   {lead.status.value}, BANT complete")

# 5. Assign: the rules chose at capture; a manager may still reassign by hand.
lead = crm.assign_lead(lead.id, "u_bob", reason="covers Taichung", actor="u_manager")
print(f"Assigned:    {lead.owner} ({lead.assignment.rule}: {lead.assignment.reason})")

# 6. Convert, atomically and once.
done = crm.convert_lead(lead.id, tags=["wholesale"])
customer, contact = done.customer, done.contact
print(f"Converted:   customer {customer.name!r} (source {customer.source!r}, tags {customer.tags})")
print(f"Contact:     {contact.name}, {contact.emails[0]}, {contact.phones[0]}, {contact.role}")
consent = contact.consent_for("email")
print(f"Consent:     {consent.describe() if consent is not None else 'none recorded'}")
print(f"Again:       repeated={crm.convert_lead(lead.id).repeated}, nothing new created")
crm.store.close()
