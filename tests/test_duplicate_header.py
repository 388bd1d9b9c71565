"""A CSV with two columns of one name keeps its header through a campaign round."""

import pandas as pd

from skbait.campaign import merge_answers, query_batch


def test_merging_answers_keeps_a_repeated_column_name(tmp_path):
    data = tmp_path / "pool.csv"
    rows = [f"{i}.5,{i}.25,{i % 2 if i < 6 else ''}" for i in range(30)]
    data.write_text("x,x,label\n" + "\n".join(rows) + "\n")
    body = data.read_text().splitlines()[1:]
    batch = tmp_path / "batch.csv"
    query_batch(data, batch, target="label", batch_size=3, device="cpu")
    answers = pd.read_csv(batch)
    answers["label"] = [0, 1, 0]
    answers.to_csv(batch, index=False)
    merge_answers(data, batch)
    lines = data.read_text().splitlines()
    assert lines[0] == "x,x,label"  # pandas reads the names as x, x.1
    # The answered rows got their labels; every other cell is as it was.
    labeled = [line for line in lines[1:] if not line.endswith(",")]
    assert len(labeled) == 6 + 3
    assert [line.rsplit(",", 1)[0] for line in lines[1:]] == [b.rsplit(",", 1)[0] for b in body]
