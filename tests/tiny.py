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


def tiny_mean_pooling_mpnet(folder: Path) -> Path:
    """A 2-layer, 32-wide MPNet encoder saved as a sentence-transformer trained for mean pooling: a body that is
    not a BERT (no stock layer computes its mean) but whose meaning is in the mean of its token vectors."""
    import json

    from transformers import MPNetConfig, MPNetModel, MPNetTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    words = "the a is was film good bad great dull movie card not my has arrived".split()
    vocab = ["<s>", "<pad>", "</s>", "<unk>", "[UNK]", "<mask>", *words, *"abcdefghijklmnopqrstuvwxyz"]
    tokenizer = MPNetTokenizerFast(vocab={word: i for i, word in enumerate(vocab)}, model_max_length=64)
    config = MPNetConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                         intermediate_size=64, max_position_embeddings=66, pad_token_id=1)
    MPNetModel(config, add_pooling_layer=False).save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    modules = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
               {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]
    (folder / "modules.json").write_text(json.dumps(modules))
    (folder / "1_Pooling").mkdir(exist_ok=True)
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(
        {"word_embedding_dimension": 32, "pooling_mode_mean_tokens": True, "pooling_mode_cls_token": False}))
    return folder
