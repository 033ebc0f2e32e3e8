"""Every real dataset in ../shared/datasets is read with the right columns, with no hints."""

import pytest

from trainer.intake.data import load_dataset_file

EXPECTED_CLASSES = {"ag_news": 4, "banking77": 77, "climate_change_tweets": 4, "rotten_tomatoes": 2, "sms_spam": 2,
                    "sst2": 2, "trec": 6, "tweet_eval_emoji": 20, "uci_sentences_amazon": 2,
                    "uci_sentences_imdb": 2, "uci_sentences_yelp": 2}


@pytest.mark.parametrize("name", sorted(EXPECTED_CLASSES))
def test_every_shared_dataset_is_detected(shared, name):
    path = sorted((shared / name).glob("*.csv"))[0]
    intake = load_dataset_file(path, with_lengths=False)
    report = intake.report
    assert (report.text_column, report.label_column) == ("text", "label")
    assert len(intake.labels) == EXPECTED_CLASSES[name]
    assert report.split_sizes["train"] + report.split_sizes["validation"] == report.rows_used
    assert set(intake.validation["label"]) <= set(range(len(intake.labels)))


def test_report_has_token_lengths_and_suggestion(shared):
    intake = load_dataset_file(shared / "trec" / "train.csv")
    length = intake.report.length
    assert length["unit"] == "tokens"
    assert 8 <= length["p95"] <= length["max"]
    assert length["suggested_max_length"] % 8 == 0 and length["suggested_max_length"] <= 512


def test_validation_file_and_leakage(shared, tmp_path):
    train = shared / "rotten_tomatoes" / "train.csv"
    intake = load_dataset_file(train, validation_file=shared / "rotten_tomatoes" / "validation.csv", with_lengths=False)
    assert intake.report.split_sizes == {"train": 8530, "validation": 1066, "test": 0}
    assert "validation file" in intake.report.split_source
    leaked = tmp_path / "leak.csv"
    leaked.write_text("text,label\n" + "".join(f"sentence number {i},{'a' if i % 2 else 'b'}\n" for i in range(30)))
    report = load_dataset_file(leaked, validation_file=leaked, with_lengths=False).report
    assert report.leakage["count"] == 30
    assert any("appear in both train and validation (validation file 'leak.csv')" in w for w in report.warnings)
