"""The message bus: one handler per command, events dispatched after commit, failures recorded."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from crmkit import (
    CRM,
    CRMError,
    DefinitionError,
    ManualClock,
    MessageBus,
    ValidationError,
    bootstrap,
)
from crmkit.adapters.memory import MemoryStore
from crmkit.app import HandlerFailure
from crmkit.customers import Customer
from crmkit.customers.events import (
    ContactAdded,
    CustomerRegistered,
    CustomerTagged,
)
from crmkit.kernel import Query, SequentialIds
from crmkit.kernel.events import DomainEvent
from crmkit.ports import UnitOfWork

START = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Taipei"))


@pytest.fixture
def crm() -> CRM:
    return bootstrap(clock=ManualClock(START), ids=SequentialIds())


def new_customer(uow: UnitOfWork, id: str = "cus_x") -> Customer:
    customer = Customer.register(id=id, name="Acme", kind="company", now=START)
    uow.customers.add(customer)
    return customer


class BoomError(Exception):
    pass


class TestCommands:
    def test_returns_the_handlers_result(self) -> None:
        bus = MessageBus(MemoryStore())
        bus.register(int, lambda command, uow: command * 2)
        assert bus.handle(21) == 42

    def test_the_handler_gets_a_unit_of_work(self) -> None:
        store = MemoryStore()
        bus = MessageBus(store)

        def handler(command: str, uow: UnitOfWork) -> tuple[DomainEvent, ...]:
            new_customer(uow, command)
            return uow.commit()

        bus.register(str, handler)
        events = bus.handle("cus_1")
        assert [e.event_type for e in events] == ["customers.CustomerRegistered"]
        with store.unit_of_work() as uow:
            assert uow.customers.get("cus_1").name == "Acme"

    def test_subclass_commands_use_the_base_handler(self) -> None:
        class Special(int):
            pass

        bus = MessageBus(MemoryStore())
        bus.register(int, lambda command, uow: type(command).__name__)
        assert bus.handle(Special(1)) == "Special"

    def test_unknown_command_is_a_validation_error_naming_the_command(self) -> None:
        bus = MessageBus(MemoryStore())
        bus.register(int, lambda command, uow: command)
        with pytest.raises(ValidationError, match="no handler is registered for str") as caught:
            bus.handle("hi")
        assert caught.value.errors[0].path == "command"
        assert "int" in str(caught.value)

    def test_a_command_has_one_handler(self) -> None:
        bus = MessageBus(MemoryStore())
        bus.register(int, lambda command, uow: command)
        with pytest.raises(DefinitionError, match="int already has a handler"):
            bus.register(int, lambda command, uow: command)

    @pytest.mark.parametrize(
        ("args", "path"),
        [(("int", print), "command_type"), ((int, "print"), "handler")],
    )
    def test_register_checks_its_arguments(self, args: tuple[object, object], path: str) -> None:
        with pytest.raises(ValidationError) as caught:
            MessageBus(MemoryStore()).register(*args)  # type: ignore[arg-type]
        assert caught.value.errors[0].path == path

    @pytest.mark.parametrize(
        ("args", "path"),
        [((str, print), "event_type"), ((DomainEvent, None), "handler")],
    )
    def test_subscribe_checks_its_arguments(self, args: tuple[object, object], path: str) -> None:
        with pytest.raises(ValidationError) as caught:
            MessageBus(MemoryStore()).subscribe(*args)  # type: ignore[arg-type]
        assert caught.value.errors[0].path == path

    def test_the_handlers_exception_propagates_unchanged_and_rolls_back(self) -> None:
        store = MemoryStore()
        bus = MessageBus(store)
        error = BoomError("handler failed")
        seen: list[DomainEvent] = []
        bus.subscribe(DomainEvent, seen.append)

        def handler(command: str, uow: UnitOfWork) -> None:
            new_customer(uow)
            raise error

        bus.register(str, handler)
        with pytest.raises(BoomError) as caught:
            bus.handle("go")
        assert caught.value is error
        assert seen == []
        assert store.outbox.pending() == []
        with store.unit_of_work() as uow:
            assert uow.customers.query(Query()).items == ()

    def test_a_handler_that_does_not_commit_stores_nothing(self) -> None:
        store = MemoryStore()
        bus = MessageBus(store)
        seen: list[DomainEvent] = []
        bus.subscribe(DomainEvent, seen.append)
        bus.register(str, lambda command, uow: new_customer(uow))
        bus.handle("go")
        assert seen == []
        assert store.outbox.pending() == []

    def test_handlers_can_use_the_unit_of_work_as_a_context_manager(self) -> None:
        store = MemoryStore()
        bus = MessageBus(store)

        def handler(command: str, uow: UnitOfWork) -> None:
            with uow:
                new_customer(uow)
                uow.commit()

        bus.register(str, handler)
        bus.handle("go")
        assert len(store.outbox.pending()) == 1


class TestEvents:
    def test_events_reach_handlers_after_commit(self, crm: CRM) -> None:
        stored_when_seen: list[str] = []

        def on_registered(event: CustomerRegistered) -> None:
            # a fresh unit of work already sees the customer: the commit happened first
            stored_when_seen.append(crm.get_customer(event.aggregate_id).name)

        crm.bus.subscribe(CustomerRegistered, on_registered)
        crm.register_customer("Acme")
        assert stored_when_seen == ["Acme"]

    def test_handlers_match_subclasses_in_subscription_order(self, crm: CRM) -> None:
        seen: list[str] = []
        crm.bus.subscribe(DomainEvent, lambda e: seen.append(f"any:{e.event_type}"))
        crm.bus.subscribe(CustomerRegistered, lambda e: seen.append("registered"))
        crm.bus.subscribe(ContactAdded, lambda e: seen.append("contact"))
        acme = crm.register_customer("Acme")
        crm.add_contact(acme.id, "Amy")
        assert seen == [
            "any:customers.CustomerRegistered",
            "registered",
            "any:customers.ContactAdded",
            "contact",
        ]

    def test_no_events_on_a_failed_command(self, crm: CRM) -> None:
        seen: list[DomainEvent] = []
        crm.bus.subscribe(DomainEvent, seen.append)
        with pytest.raises(CRMError):
            crm.add_contact("cus_404", "Amy")
        with pytest.raises(CRMError):
            crm.register_customer("")
        assert seen == []
        assert crm.store.outbox.pending() == []

    def test_a_failing_event_handler_is_recorded_and_logged(
        self, crm: CRM, caplog: pytest.LogCaptureFixture
    ) -> None:
        later: list[str] = []
        error = BoomError("mail server down")

        def send_welcome(event: CustomerRegistered) -> None:
            raise error

        crm.bus.subscribe(CustomerRegistered, send_welcome)
        crm.bus.subscribe(CustomerRegistered, lambda e: later.append(e.name))
        with caplog.at_level(logging.ERROR, logger="crmkit"):
            acme = crm.register_customer("Acme")
        assert crm.get_customer(acme.id).name == "Acme"  # the command succeeded
        assert later == ["Acme"]  # the next handler still ran
        (failure,) = crm.bus.failures
        assert isinstance(failure, HandlerFailure)
        assert failure.error is error
        assert failure.event.aggregate_id == acme.id
        assert failure.handler_name.endswith("send_welcome")
        (record,) = [r for r in caplog.records if r.name == "crmkit"]
        assert record.levelno == logging.ERROR
        assert "send_welcome" in record.getMessage()
        assert "customers.CustomerRegistered" in record.getMessage()
        assert record.exc_info is not None
        assert record.exc_info[1] is error

    def test_event_handlers_commands_are_dispatched_too(self, crm: CRM) -> None:
        seen: list[str] = []

        def tag_new(event: CustomerRegistered) -> None:
            seen.append("registered")
            crm.tag_customer(event.aggregate_id, add=["new"])
            seen.append("tagged")  # its events wait until this handler is done

        crm.bus.subscribe(CustomerRegistered, tag_new)
        crm.bus.subscribe(CustomerTagged, lambda e: seen.append(f"on tagged {e.added}"))
        acme = crm.register_customer("Acme")
        assert seen == ["registered", "tagged", "on tagged ('new',)"]
        assert crm.get_customer(acme.id).tags == ("new",)
        assert crm.bus.failures == []

    def test_a_failing_command_in_an_event_handler_is_recorded(self, crm: CRM) -> None:
        def follow_up(event: CustomerRegistered) -> None:
            crm.log_interaction("cus_404", "note", "no such customer")

        crm.bus.subscribe(CustomerRegistered, follow_up)
        acme = crm.register_customer("Acme")
        assert crm.get_customer(acme.id).name == "Acme"
        (failure,) = crm.bus.failures
        assert type(failure.error).__name__ == "NotFoundError"

    def test_the_queue_is_empty_after_each_command(self, crm: CRM) -> None:
        seen: list[str] = []
        crm.bus.subscribe(DomainEvent, lambda e: seen.append(e.aggregate_id))
        a = crm.register_customer("A")
        b = crm.register_customer("B")
        assert seen == [a.id, b.id]
