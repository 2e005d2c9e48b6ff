from graphmodel.tree import assign_paths, folder_document


def test_paths_run_from_the_root_to_the_object() -> None:
    docs = [folder_document("", "environment", "regions", "region"),
            {"id": "region:R", "name": "R", "parent_id": "regions"},
            {"id": "az:R:nova", "name": "nova", "parent_id": "region:R"},
            {"id": "h1", "name": "h1", "parent_id": "az:R:nova"}]
    assert assign_paths(docs) == []
    assert docs[3]["id_path"] == ["regions", "region:R", "az:R:nova", "h1"]
    assert docs[3]["name_path"] == ["Regions", "R", "nova", "h1"]


def test_missing_parents_and_cycles_are_reported() -> None:
    docs = [{"id": "a", "name": "a", "parent_id": "nowhere"},
            {"id": "b", "name": "b", "parent_id": "c"}, {"id": "c", "name": "c", "parent_id": "b"}]
    assert sorted(assign_paths(docs)) == ["a", "b", "c"]


def test_known_parents_complete_a_partial_batch() -> None:
    known = {"h1": {"id": "h1", "name": "h1", "parent_id": "environment"}}
    docs = [{"id": "h1/eth0", "name": "eth0", "parent_id": "h1"}]
    assert assign_paths(docs, known) == []
    assert docs[0]["id_path"] == ["h1", "h1/eth0"]
