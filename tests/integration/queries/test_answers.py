"""Kept answers follow the inventory: reused while nothing changed, computed again after any write."""

from __future__ import annotations

from graphmodel.inventory import OBJECTS, InventoryWriter
from queries.answers import InventoryAnswers


def instance(number: int, **extra: object) -> dict:  # type: ignore[type-arg]
    return {"id": f"vm-{number}", "type": "instance", "name": f"vm-{number}", "parent_id": "environment", **extra}


def test_an_answer_is_reused_until_the_inventory_changes(mongo_db, env_name: str) -> None:  # type: ignore[no-untyped-def]
    writer = InventoryWriter(mongo_db, env_name)
    writer.write_objects([instance(n) for n in range(3)], scan_id="s1")
    answers = InventoryAnswers()
    computed: list[int] = []

    def names() -> list[str]:
        computed.append(1)
        return sorted(d["name"] for d in mongo_db[OBJECTS].find({"environment": env_name}))

    assert answers.answer(mongo_db, env_name, "names", names) == ["vm-0", "vm-1", "vm-2"]
    assert answers.answer(mongo_db, env_name, "names", names) == ["vm-0", "vm-1", "vm-2"]
    assert len(computed) == 1
    writer.write_objects([instance(n) for n in range(3)], scan_id="s2")  # nothing changed: still right
    assert answers.answer(mongo_db, env_name, "names", names) == ["vm-0", "vm-1", "vm-2"] and len(computed) == 1
    writer.write_objects([instance(1, name="renamed")], scan_id="s3")
    assert answers.answer(mongo_db, env_name, "names", names) == ["renamed", "vm-0", "vm-2"] and len(computed) == 2
    writer.delete_objects(["vm-0"])
    assert answers.answer(mongo_db, env_name, "names", names) == ["renamed", "vm-2"] and len(computed) == 3
    # another question, another environment: answered on their own
    assert answers.answer(mongo_db, env_name, "count", lambda: 2) == 2
    assert answers.answer(mongo_db, "other", "names", lambda: []) == []


def test_answers_expire_and_the_least_recently_used_go_first(mongo_db, env_name: str) -> None:  # type: ignore[no-untyped-def]
    now = [0.0]
    answers = InventoryAnswers(max_entries=2, ttl_s=10, clock=lambda: now[0])
    answers.answer(mongo_db, env_name, "a", lambda: "a1")
    answers.answer(mongo_db, env_name, "b", lambda: "b1")
    assert answers.answer(mongo_db, env_name, "a", lambda: "a2") == "a1"  # a is now the most recent
    answers.answer(mongo_db, env_name, "c", lambda: "c1")  # b goes
    assert answers.answer(mongo_db, env_name, "b", lambda: "b2") == "b2"
    now[0] = 11.0
    assert answers.answer(mongo_db, env_name, "b", lambda: "b3") == "b3"  # older than the TTL


def test_clients_asking_at_once_wait_for_one_computation(mongo_db, env_name: str) -> None:  # type: ignore[no-untyped-def]
    import threading
    import time

    answers = InventoryAnswers()
    computed: list[int] = []

    def slow() -> str:
        computed.append(1)
        time.sleep(0.3)
        return "answer"
    got: list[str] = []
    threads = [threading.Thread(target=lambda: got.append(answers.answer(mongo_db, env_name, "q", slow)))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert got == ["answer"] * 8 and len(computed) == 1


def test_a_purge_drops_what_was_kept_even_when_the_feed_comes_back_to_the_same_number(  # type: ignore[no-untyped-def]
        mongo_db, neo4j_driver, env_name: str) -> None:
    from ingest.purge import purge_environment

    InventoryWriter(mongo_db, env_name).write_objects([instance(n) for n in range(3)], scan_id="s1")
    answers = InventoryAnswers()

    def names() -> list[str]:
        return sorted(d["name"] for d in mongo_db[OBJECTS].find({"environment": env_name}))

    assert answers.answer(mongo_db, env_name, "names", names) == ["vm-0", "vm-1", "vm-2"]
    purge_environment(mongo_db, neo4j_driver, env_name)
    assert answers.answer(mongo_db, env_name, "names", names) == []
