"""rthdr.review.store on both engines: what goes in comes out, the queue's orders, claims and their
lapse, the rules of answering, counts, retention, and the images."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from rthdr.review.store import NewItem, ReviewError, ReviewStore
from tests.helpers.reviews import backdate, digit


def test_an_item_comes_back_as_it_went_in(store: ReviewStore) -> None:
    before = datetime.now(UTC)
    sent = NewItem(
        "recognize", "audit", "90210", [0.9, 0.8, 0.3, 0.99, 0.95], "abc123", b"png", None, "90216"
    )
    item = store.get(store.add(sent))

    assert item is not None
    assert (item.source, item.reason, item.reading) == ("recognize", "audit", "90210")
    assert item.confidences == [0.9, 0.8, 0.3, 0.99, 0.95] and item.model_version == "abc123"
    assert (item.suggested, item.status, item.has_image) == ("90216", "pending", True)
    assert item.claimed_by is item.claimed_at is item.answer is item.answered_at is None
    assert before - timedelta(seconds=1) <= item.created_at <= datetime.now(UTC)  # aware, in UTC
    assert store.get(item.id + 1000) is None


def test_nothing_read_is_an_item_too(store: ReviewStore) -> None:
    item = store.get(store.add(digit("", image=None)))
    assert item is not None and item.reading == "" and item.confidences == [] and not item.has_image


@pytest.mark.parametrize(
    "fields",
    [
        {"source": "email"},
        {"reason": "bored"},
        {"confidences": [0.5, 0.5]},
        {"confidences": [1.5]},
        {"suggested": "1" * 65},  # PostgreSQL would refuse it as a 500; this is a clear 422
    ],
)
def test_malformed_items_are_refused(store: ReviewStore, fields: dict[str, object]) -> None:
    with pytest.raises(ReviewError) as refused:
        store.add(digit(**fields))
    assert refused.value.code == "invalid_item"
    assert store.counts()["pending"] == 0


def test_pending_is_oldest_first_or_least_sure_first(store: ReviewStore) -> None:
    ids = [store.add(digit(confidence=c)) for c in (0.6, 0.2, 0.4)]
    nothing_read = store.add(digit("", image=None))  # nothing read: the least sure of all
    number = store.add(digit("123", confidences=[0.9, 0.1, 0.9]))  # its weakest digit counts

    assert [i.id for i in store.pending()] == [*ids, nothing_read, number]
    assert [i.id for i in store.pending(order="confidence")] == [nothing_read, number, ids[1], ids[2], ids[0]]
    assert [i.id for i in store.pending(limit=2)] == ids[:2]
    with pytest.raises(ReviewError, match="order"):
        store.pending(order="random")


def test_claimed_and_done_items_leave_the_pending_list(store: ReviewStore) -> None:
    first, second, third = (store.add(digit()) for _ in range(3))
    store.claim(first, "ann")
    store.claim(second, "ann")
    store.answer(second, "1", None, "ann")
    assert [i.id for i in store.pending()] == [third]


def test_one_claim_at_a_time(store: ReviewStore) -> None:
    item_id = store.add(digit())
    claimed = store.claim(item_id, "ann")
    assert claimed is not None and claimed.status == "claimed" and claimed.claimed_by == "ann"
    assert store.claim(item_id, "bob") is None
    again = store.claim(item_id, "ann")  # her own claim, renewed
    assert again is not None and again.claimed_at is not None and claimed.claimed_at is not None
    assert again.claimed_at >= claimed.claimed_at


def test_claiming_what_is_gone_or_answered_says_so(store: ReviewStore) -> None:
    item_id = store.add(digit())
    with pytest.raises(ReviewError) as missing:
        store.claim(item_id + 1, "ann")
    assert missing.value.code == "not_found"
    store.claim(item_id, "ann")
    store.answer(item_id, "1", None, "ann")
    with pytest.raises(ReviewError) as answered:
        store.claim(item_id, "bob")
    assert answered.value.code == "already_done"


def test_a_claim_lapses_after_its_hold(store: ReviewStore) -> None:
    item_id = store.add(digit())
    assert store.claim(item_id, "ann", hold_s=0.3) is not None
    assert store.claim(item_id, "bob") is None
    time.sleep(0.5)
    lapsed = store.get(item_id)
    assert lapsed is not None and lapsed.status == "pending" and lapsed.claimed_by == "ann"
    assert store.counts()["pending"] == 1 and [i.id for i in store.pending()] == [item_id]

    taken = store.claim(item_id, "bob")
    assert taken is not None and taken.claimed_by == "bob"
    with pytest.raises(ReviewError) as late:
        store.answer(item_id, "1", None, "ann")  # bob holds it now
    assert late.value.code == "not_claimed"


def test_a_lapsed_claim_nobody_took_can_still_be_answered(store: ReviewStore) -> None:
    item_id = store.add(digit())
    store.claim(item_id, "ann", hold_s=0.2)
    time.sleep(0.3)
    assert store.answer(item_id, "1", None, "ann").status == "done"


def test_claim_next_hands_out_each_item_once_in_order(store: ReviewStore) -> None:
    sure, unsure = store.add(digit(confidence=0.6)), store.add(digit(confidence=0.1))
    first = store.claim_next("ann", order="confidence")
    assert first is not None and first.id == unsure
    assert store.claim_next("ann") == store.get(unsure)  # a reloaded page: her item again
    second = store.claim_next("bob")
    assert second is not None and second.id == sure
    assert store.claim_next("cat") is None


def test_answer_rules(store: ReviewStore) -> None:
    item_id = store.add(digit())
    cases = [
        (lambda: store.answer(item_id, "1", None, "ann"), "not_claimed"),  # not claimed yet
        (lambda: store.answer(item_id + 99, "1", None, "ann"), "not_found"),
    ]
    for attempt, code in cases:
        with pytest.raises(ReviewError) as refused:
            attempt()
        assert refused.value.code == code
    store.claim(item_id, "ann")
    for answer, reason, reviewer, code in [
        ("1", None, "bob", "not_claimed"),  # someone else's claim
        (None, None, "ann", "reason_required"),
        (None, "  ", "ann", "reason_required"),
        ("", None, "ann", "invalid_answer"),
    ]:
        with pytest.raises(ReviewError) as refused:
            store.answer(item_id, answer, reason, reviewer)
        assert refused.value.code == code
    done = store.answer(item_id, " 1 ", None, "ann")
    assert (done.status, done.answer, done.answered_by) == ("done", "1", "ann")
    assert done.answered_at is not None
    with pytest.raises(ReviewError) as twice:
        store.answer(item_id, "2", None, "ann")
    assert twice.value.code == "already_done"
    assert store.get(item_id) == done  # the refused second answer changed nothing


def test_counts_and_what_counts_as_a_correction(store: ReviewStore) -> None:
    assert store.counts() == {"pending": 0, "claimed": 0, "done": 0, "corrected": 0}
    assert store.oldest_pending_age_s() is None
    answers = {"1": ("1", None), "7": ("7", None), "unreadable": (None, "unreadable")}
    ids = {key: store.add(digit("7")) for key in answers}
    store.add(digit())  # left pending
    held = store.add(digit())
    for key, (answer, reason) in answers.items():
        store.claim(ids[key], "ann")
        store.answer(ids[key], answer, reason, "ann")
    store.claim(held, "bob")

    assert store.counts() == {"pending": 1, "claimed": 1, "done": 3, "corrected": 1}
    assert [i.id for i in store.corrected()] == [ids["1"]]  # the confirmed 7 and the unreadable are not


def test_corrected_reads_page_by_page(store: ReviewStore, monkeypatch: pytest.MonkeyPatch) -> None:
    import rthdr.review.store as store_module

    monkeypatch.setattr(store_module, "PAGE", 2)
    ids = []
    for _ in range(5):
        item = store.claim(store.add(digit("7")), "ann")
        assert item is not None
        ids.append(store.answer(item.id, "1", None, "ann").id)
    assert [i.id for i in store.corrected()] == ids


def test_oldest_pending_age(store: ReviewStore) -> None:
    old = store.add(digit())
    store.add(digit())
    backdate(store, old, days=1)
    age = store.oldest_pending_age_s()
    assert age is not None and 86400 <= age < 86400 + 60
    store.claim(old, "ann")
    age = store.oldest_pending_age_s()
    assert age is not None and age < 60  # a claimed item is not waiting


def test_purge_removes_what_is_older_than_the_retention(store: ReviewStore) -> None:
    old_done, old_pending, recent = (store.add(digit()) for _ in range(3))
    store.claim(old_done, "ann")
    store.answer(old_done, "1", None, "ann")
    backdate(store, old_done, days=40)
    backdate(store, old_pending, days=31)

    assert store.purge(older_than_days=30) == 2
    assert store.get(old_done) is None and store.get(old_pending) is None and store.get(recent) is not None
    assert store.purge(older_than_days=30) == 0
    with pytest.raises(ReviewError):
        store.purge(-1)


def test_images_from_bytes_or_from_a_batch_jobs_path(store: ReviewStore, tmp_path: Path) -> None:
    scan = tmp_path / "scan-0001.png"
    scan.write_bytes(b"\x89PNG the scan")
    sent = store.add(digit(image=b"\x89PNG as sent"))
    batch = store.add(digit(source="batch", image=None, image_path=str(scan)))
    gone = store.add(digit(source="batch", image=None, image_path=str(tmp_path / "moved.png")))
    none = store.add(digit(image=None))

    assert store.image(sent) == b"\x89PNG as sent"
    assert store.image(batch) == b"\x89PNG the scan"
    assert store.image(gone) is None and store.image(none) is None and store.image(none + 1) is None
    has_image = {i.id: (i.has_image, i.image_path) for i in store.pending()}
    assert has_image == {
        sent: (True, None),
        batch: (True, str(scan)),
        gone: (True, str(tmp_path / "moved.png")),
        none: (False, None),
    }


def test_reviewers_and_holds_are_checked(store: ReviewStore) -> None:
    item_id = store.add(digit())
    for reviewer, hold_s in (("", 600.0), ("x" * 129, 600.0), ("ann", 0.0)):
        with pytest.raises(ReviewError) as refused:
            store.claim(item_id, reviewer, hold_s)
        assert refused.value.code == "invalid_request"
