from crmkit import Money, bootstrap

crm = bootstrap()  # in memory; bootstrap(database="crm.db") keeps it in a SQLite file

acme = crm.register_customer("Formosa Tea Co.", tags=["tea", "vip"], source="2023 trade show")
amy = crm.add_contact(
    acme.id, "Amy Chen", emails=["amy@formosatea.tw"], phones=["0912-345-678"], region="TW"
)
crm.log_interaction(acme.id, "call", "Wants a quote for 200 gift boxes", contact_id=amy.id)

print("VIP customers:", [c.name for c in crm.find_customers(tag="vip").items])
for contact in crm.contacts_of(acme.id):
    print("Contact:", contact.name, contact.phones[0], contact.emails[0])
for interaction in crm.timeline(acme.id):
    print("Timeline:", interaction.kind.value, "-", interaction.summary)
price = Money("1234.5", "TWD")
print("Price:", price.format("zh_Hant_TW"), "- in cash:", price.format("zh_Hant_TW", cash=True))
