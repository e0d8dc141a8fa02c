"""runlog.verify(path, values=...): the whole check, and the check of every
checksum and structure without the values (runlog_verify_structure())."""
import os

import runlog

DATA = os.environ.get("RUNLOG_TEST_DATA") or os.path.join(os.path.dirname(__file__), "..", "data")


def test_without_values_an_intact_run_reads_the_same(wandb, tmp_path):
    run = wandb.init(project="p")
    for step in range(300):
        wandb.log({"loss": 1.0 / (step + 1), "note": f"step {step}", "epoch": step // 100})
    path = run.path
    wandb.finish()
    whole, quick = runlog.verify(path), runlog.verify(path, values=False)
    assert whole["intact"] and whole == quick
    assert runlog.open(path).verify(values=False) == whole


def test_without_values_a_malformed_value_block_is_not_seen():
    # Key note's string column claims 2^31 bytes behind a valid checksum.
    path = os.path.join(DATA, "hostile", "value_block_other_key.runlog")
    whole, quick = runlog.verify(path), runlog.verify(path, values=False)
    assert not whole["intact"] and [d["offset"] for d in whole["damage"]] == [307]
    assert quick["intact"] and quick["damage"] == []


def test_without_values_a_lying_block_size_is_seen():
    path = os.path.join(DATA, "hostile", "directory_raw_len_lies.runlog")
    whole, quick = runlog.verify(path), runlog.verify(path, values=False)
    assert quick["damage"] == whole["damage"] and len(quick["damage"]) == 1
