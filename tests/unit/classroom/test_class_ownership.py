"""Which labs are the class's (pure part)."""


def test_a_learners_lab_name_held_by_a_lab_that_is_not_the_classs_is_foreign():
    from labkit.classroom.ownership import foreign_names

    # the class never made alice's lab: whatever bears her lab names is somebody else's
    assert foreign_names("alice", False, {"alice"}, set()) == ["alice"]
    assert foreign_names("alice", False, {"alicebr", "bob"}, set()) == ["alicebr"]
    # the class made it: it is the class's, unless a name shows on the host's side
    assert foreign_names("alice", True, {"alice", "alicebr"}, set()) == []
    assert foreign_names("alice", True, {"alice", "alicebr"}, {"alicebr"}) == ["alicebr"]
    assert foreign_names("alice", False, set(), set()) == []

