"""The demo Space for a pushed model: a minimal Gradio app that serves it (a SetFit-format baseline loads with
SetFit; multi-label models show the label set at their tuned thresholds)."""

from __future__ import annotations

from trainer.errors import UserError
from trainer.hub.client import check_namespace, hub_api, hub_error
from trainer.hub.publish import PublishOptions

DEMO_APP = '''import gradio as gr
{loader}

gr.Interface(classify, gr.Textbox(label="Text", lines=3), gr.Label(label="Prediction", num_top_classes=5),
             title="{title}", description="Text classifier [{model}](https://huggingface.co/{model}), "
             "trained with ClassiTune.").launch()
'''

PIPELINE_LOADER = '''from transformers import pipeline

classifier = pipeline("text-classification", model="{model}", top_k=None)
thresholds = getattr(classifier.model.config, "label_thresholds", None)  # multi-label: tuned per label


def classify(text):
    if not text.strip():
        return {{}}
    scores = {{r["label"]: r["score"] for r in classifier(text, truncation=True)[0]}}
    if thresholds:  # multi-label: the predicted label set, every label at or over its threshold
        return {{k: v for k, v in scores.items() if v >= thresholds[k]}} or {{"(no label)": 0.0}}
    return scores
'''

SETFIT_LOADER = '''import json

from huggingface_hub import file_exists, hf_hub_download
from setfit import SetFitModel

model = SetFitModel.from_pretrained("{model}")
thresholds = (json.loads(open(hf_hub_download("{model}", "label_thresholds.json")).read())
              if file_exists("{model}", "label_thresholds.json") else None)  # multi-label: tuned per label


def classify(text):
    if not text.strip():
        return {{}}
    scores = dict(zip(model.labels, map(float, model.predict_proba([text])[0])))
    if thresholds:  # multi-label: the predicted label set, every label at or over its threshold
        return {{k: v for k, v in scores.items() if v >= thresholds[k]}} or {{"(no label)": 0.0}}
    return scores
'''


def demo_space_files(model_repo: str, setfit: bool = False) -> dict[str, str]:
    """A minimal Gradio Space that serves the pushed model (a SetFit-format baseline loads with SetFit)."""
    title = model_repo.split("/")[-1]
    readme = (f"---\ntitle: {title[:30]}\nemoji: 🏷️\ncolorFrom: indigo\ncolorTo: green\nsdk: gradio\n"
              f"sdk_version: 6.31.0\npython_version: \"3.11\"\napp_file: app.py\nmodels:\n  - {model_repo}\n---\n\n"
              f"# {title}\n\nTry [{model_repo}](https://huggingface.co/{model_repo}): type a text, get its label.\n")
    loader = (SETFIT_LOADER if setfit else PIPELINE_LOADER).format(model=model_repo)
    requirements = "transformers==5.23.0\ntorch==2.13.0\n" + (
        "setfit==1.2.0\nsentence-transformers==6.2.0\nscikit-learn==1.9.1\n" if setfit else "")  # the head's pickle
    return {"app.py": DEMO_APP.format(loader=loader, model=model_repo, title=title),
            "requirements.txt": requirements, "README.md": readme}


def create_demo_space(model_repo: str, token: str | None, space_id: str | None = None,
                      endpoint: str | None = None, private: bool = False) -> dict:
    """Push the demo Space for an already pushed model; return its URL."""
    from huggingface_hub import CommitOperationAdd

    space_id = space_id or f"{model_repo}-demo"
    PublishOptions(repo_id=space_id).validate()
    api = hub_api(token, endpoint)
    try:
        check_namespace(api, space_id)
        setfit = api.file_exists(model_repo, "config_setfit.json")  # a quick baseline published in SetFit format
        url = api.create_repo(space_id, repo_type="space", space_sdk="gradio", private=private, exist_ok=True)
        files = demo_space_files(model_repo, setfit)
        operations = [CommitOperationAdd(name, content.encode()) for name, content in files.items()]
        api.create_commit(space_id, operations, commit_message="Demo app from ClassiTune", repo_type="space")
    except UserError:
        raise
    except Exception as exc:
        raise hub_error(exc, space_id) from None
    return {"url": str(url), "space_id": space_id}
