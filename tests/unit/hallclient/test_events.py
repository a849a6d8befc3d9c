"""The core's EventBus: delivery by exact event type; bound methods weakly, functions strongly."""

from __future__ import annotations

import datetime as dt
import gc
import threading
import weakref

from hallclient.events import (
    CaseDecided,
    EventBus,
    QueueChanged,
    RatingRecorded,
    SyncStatus,
    TicketCalled,
)
from hallclient.wire import Decision, TicketState

STATUS = SyncStatus(online=True, pending_ops=0, last_sync=None, last_error="")


class Window:
    """Stands in for a Qt window subscribing its bound methods."""

    def __init__(self) -> None:
        self.seen: list[object] = []

    def on_event(self, event: object) -> None:
        self.seen.append(event)


def _subscriber_count(bus: EventBus, event_type: type) -> int:
    return len(bus._subs.get(event_type, []))


def test_publish_reaches_subscribers_of_that_type_only() -> None:
    bus = EventBus()
    queue: list[object] = []
    ratings: list[object] = []
    bus.subscribe(QueueChanged, queue.append)
    bus.subscribe(RatingRecorded, ratings.append)

    bus.publish(QueueChanged())
    bus.publish(RatingRecorded("DEMO-20261124-01-0001"))
    bus.publish(STATUS)  # nobody listens: no error

    assert queue == [QueueChanged()]
    assert ratings == [RatingRecorded("DEMO-20261124-01-0001")]


def test_publish_without_any_subscriber_is_a_no_op() -> None:
    EventBus().publish(QueueChanged())


def test_every_subscriber_gets_the_same_event_object_in_subscription_order() -> None:
    bus = EventBus()
    order: list[tuple[str, object]] = []
    bus.subscribe(TicketCalled, lambda e: order.append(("first", e)))
    bus.subscribe(TicketCalled, lambda e: order.append(("second", e)))
    event = TicketCalled("A001", 1, TicketState.CALLED)
    bus.publish(event)
    assert [name for name, _ in order] == ["first", "second"]
    assert all(e is event for _, e in order)


def test_event_payloads_are_delivered_intact() -> None:
    bus = EventBus()
    got: list[CaseDecided] = []
    bus.subscribe(CaseDecided, got.append)
    when = dt.datetime(2026, 11, 24, 9, 30)
    bus.publish(CaseDecided("DEMO-20261124-01-0001", Decision.ACCEPT, "A001", when, "个体工商户设立登记"))
    (event,) = got
    assert event.case_no == "DEMO-20261124-01-0001"
    assert event.decision is Decision.ACCEPT
    assert event.decided_at == when and event.item_name == "个体工商户设立登记"


def test_delivery_is_by_exact_type_not_by_subclass() -> None:
    class SpecialQueueChanged(QueueChanged):
        pass

    bus = EventBus()
    base: list[object] = []
    bus.subscribe(QueueChanged, base.append)
    bus.publish(SpecialQueueChanged())  # type: ignore[arg-type]
    assert base == []


def test_a_bound_method_is_delivered_while_its_owner_lives() -> None:
    bus = EventBus()
    window = Window()
    bus.subscribe(QueueChanged, window.on_event)
    bus.publish(QueueChanged())
    bus.publish(QueueChanged())
    assert window.seen == [QueueChanged(), QueueChanged()]


def test_the_bus_does_not_keep_a_window_alive() -> None:
    bus = EventBus()
    window = Window()
    bus.subscribe(QueueChanged, window.on_event)
    alive = weakref.ref(window)
    del window
    gc.collect()
    assert alive() is None


def test_a_collected_owners_subscription_is_dropped_on_the_next_publish() -> None:
    bus = EventBus()
    closed, still_open = Window(), Window()
    bus.subscribe(QueueChanged, closed.on_event)
    bus.subscribe(QueueChanged, still_open.on_event)
    assert _subscriber_count(bus, QueueChanged) == 2

    del closed
    gc.collect()
    bus.publish(QueueChanged())

    assert still_open.seen == [QueueChanged()]
    assert _subscriber_count(bus, QueueChanged) == 1
    bus.publish(QueueChanged())
    assert still_open.seen == [QueueChanged(), QueueChanged()]


def test_dead_subscriptions_of_other_types_are_kept_until_that_type_is_published() -> None:
    bus = EventBus()
    window = Window()
    bus.subscribe(RatingRecorded, window.on_event)
    del window
    gc.collect()
    bus.publish(QueueChanged())
    assert _subscriber_count(bus, RatingRecorded) == 1  # not swept yet, but harmless
    bus.publish(RatingRecorded("X"))
    assert _subscriber_count(bus, RatingRecorded) == 0


def test_plain_functions_and_lambdas_are_held_strongly() -> None:
    bus = EventBus()
    got: list[object] = []

    def handler(event: QueueChanged) -> None:
        got.append(event)

    bus.subscribe(QueueChanged, handler)
    bus.subscribe(QueueChanged, lambda e: got.append("lambda"))
    del handler
    gc.collect()
    bus.publish(QueueChanged())
    assert got == [QueueChanged(), "lambda"]


def test_a_callable_object_is_held_strongly() -> None:
    calls: list[object] = []

    class Handler:
        def __call__(self, event: object) -> None:
            calls.append(event)

    bus = EventBus()
    handler = Handler()
    alive = weakref.ref(handler)
    bus.subscribe(QueueChanged, handler)
    del handler
    gc.collect()
    assert alive() is not None
    bus.publish(QueueChanged())
    assert calls == [QueueChanged()]


def test_subscribing_the_same_method_twice_delivers_twice() -> None:
    bus = EventBus()
    window = Window()
    bus.subscribe(QueueChanged, window.on_event)
    bus.subscribe(QueueChanged, window.on_event)
    bus.publish(QueueChanged())
    assert len(window.seen) == 2


def test_a_subscriber_may_subscribe_during_delivery_without_receiving_the_current_event() -> None:
    bus = EventBus()
    late: list[object] = []

    def first(event: QueueChanged) -> None:
        bus.subscribe(QueueChanged, late.append)

    bus.subscribe(QueueChanged, first)
    bus.publish(QueueChanged())
    assert late == []
    bus.publish(QueueChanged())
    assert late == [QueueChanged()]


def test_a_subscriber_may_publish_another_event_from_its_handler() -> None:
    bus = EventBus()
    got: list[object] = []
    bus.subscribe(TicketCalled, lambda e: bus.publish(QueueChanged()))
    bus.subscribe(QueueChanged, got.append)
    bus.publish(TicketCalled("A001", 1, TicketState.CALLED))
    assert got == [QueueChanged()]


def test_publish_from_many_threads_delivers_every_event() -> None:
    bus = EventBus()
    got: list[object] = []
    lock = threading.Lock()

    def handler(event: SyncStatus) -> None:
        with lock:
            got.append(event)

    bus.subscribe(SyncStatus, handler)

    def worker(n: int) -> None:
        for i in range(200):
            bus.publish(SyncStatus(online=True, pending_ops=n * 1000 + i, last_sync=None, last_error=""))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(e.pending_ops for e in got) == sorted(n * 1000 + i for n in range(4) for i in range(200))  # type: ignore[attr-defined]
