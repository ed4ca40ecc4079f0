from textstats import parse_pairs


def test_single_pair():
    assert parse_pairs("a=1") == {"a": 1}


def test_spaces_after_commas():
    assert parse_pairs("a=1, b=2") == {"a": 1, "b": 2}
