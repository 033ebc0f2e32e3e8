"""A tiny random BERT classifier (a few hundred kilobytes, built in a second) for tests that need a model's
shape, not its accuracy: the Hub stand-in's repos, Predict's plumbing, the quick tier."""

from __future__ import annotations

from pathlib import Path


def tiny_classifier(folder: Path, labels: tuple[str, ...] = ("neg", "pos")) -> Path:
    """Save a 2-layer, 32-wide BERT sequence classifier with a small word-piece vocabulary under ``folder``."""
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    words = "the a is was film good bad great dull movie card not my has arrived".split()
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words, *"abcdefghijklmnopqrstuvwxyz"]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tokenizer = BertTokenizerFast(vocab_file=str(folder / "vocab.txt"), model_max_length=64)
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=64, num_labels=len(labels),
                        id2label=dict(enumerate(labels)), label2id={n: i for i, n in enumerate(labels)})
    BertForSequenceClassification(config).save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder
