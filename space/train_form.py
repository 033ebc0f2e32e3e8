"""The Train tab's settings form, built from the settings' declarations (trainer/config.py).

One component per setting of the groups "main" (always in view), "advanced" and "lora" (under Advanced);
the "data" group's settings are the Data tab's. Values are read back by name into a ``TrainConfig``, so a
new setting appears here without an edit.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import gradio as gr

from trainer.bodies.catalog import CATALOG, REFERENCE
from trainer.config import TrainConfig, default_of
from trainer.errors import UserError

MODELS = [("auto: measure the candidates on your data, best within the time budget", "auto"),
          ("all-MiniLM-L6-v2 (embedded, offline, fastest)", "default")] + [
    (f"{b.id} · {b.purpose} · {b.params_m}M · {b.license}", b.id) for b in CATALOG if b.id != REFERENCE]
ELEM_IDS = {"method": "train-method"}  # ids the page's tests and styles know; else the name with dashes
PER_ROW = 4


@dataclass
class SettingsForm:
    components: dict[str, gr.components.Component]  # setting name -> its component, in declaration order

    @property
    def inputs(self) -> list:
        return list(self.components.values())

    def config(self, values: list | tuple, data: dict | None = None) -> TrainConfig:
        """The ``TrainConfig`` of the form's values (in ``inputs`` order) and the Data tab's settings."""
        read = {name: _read(name, value) for name, value in zip(self.components, values)}
        read.update({k: v for k, v in (data or {}).items() if v not in (None, "", [])})
        read["model"] = read.get("model") or "auto"
        return TrainConfig.from_dict(read)


def _read(name: str, value):
    """A text box left empty reads as auto; a typed number is checked here so the message names the box."""
    field_ = TrainConfig.__dataclass_fields__[name]
    if not isinstance(value, str) or field_.type.startswith(("str", "list")):
        return value
    text = value.strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        example = "32" if field_.type.startswith("int") else "2e-5"
        raise UserError(f"{field_.metadata['label']}: {text[:40]!r} is not a number. Type one (like {example}) or "
                        f"leave it empty for auto.") from None
    return number or None


def _component(f, gpu_count: int) -> gr.components.Component:
    meta, default = f.metadata, default_of(f)
    common = dict(label=meta["label"], elem_id=ELEM_IDS.get(f.name, f.name.replace("_", "-")))
    if f.name == "model":
        return gr.Dropdown(MODELS, value=default, allow_custom_value=True, scale=2, min_width=320,
                           **{**common, "label": "Model (or type a Hub id: needs the Hub)"})
    if f.name == "gpus":
        return gr.Number(value=1, precision=0, minimum=1, maximum=max(1, gpu_count), visible=gpu_count >= 2,
                         info=f"{meta['help']}; this machine has {gpu_count}", **common)
    if meta["choices"]:
        return gr.Radio(list(meta["choices"]), value=default, info=meta["help"], **common)
    if f.type == "bool":
        return gr.Checkbox(value=default, info=meta["help"], **common)
    if meta["auto"] or f.type.startswith("list"):
        # A text box, not a number field: empty reads "auto" (a number field shows 0), and 2e-5 types as is.
        value = ", ".join(default) if isinstance(default, list) else None
        return gr.Textbox(value=value, placeholder=f"auto: {meta['auto']}" if meta["auto"] else None,
                          info=meta["help"], **common)
    return gr.Number(value=default, precision=0 if f.type.startswith("int") else None, info=meta["help"], **common)


def _rows(settings: list, gpu_count: int, components: dict) -> None:
    for start in range(0, len(settings), PER_ROW):
        with gr.Row():
            for f in settings[start:start + PER_ROW]:
                components[f.name] = _component(f, gpu_count)


def build(gpu_count: int) -> SettingsForm:
    """The main settings in view, the rest under "Advanced" (LoRA's in a row of their own)."""
    by_group = {group: [f for f in fields(TrainConfig) if f.metadata["group"] == group]
                for group in ("main", "advanced", "lora")}
    components: dict = {}
    _rows(by_group["main"], gpu_count, components)
    with gr.Accordion("Advanced", open=False):
        _rows(by_group["advanced"], gpu_count, components)
        _rows(by_group["lora"], gpu_count, components)
    order = [f.name for f in fields(TrainConfig) if f.name in components]
    return SettingsForm({name: components[name] for name in order})
