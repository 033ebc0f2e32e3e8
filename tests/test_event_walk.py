"""Every registered event and endpoint, private ones included, called the raw way (queue/join by fn_index) with
path-like, oversized and wrongly typed values: none answers with a traceback or with a file's content from
outside the app's folders, and the app still serves afterwards."""

import json
from concurrent.futures import ThreadPoolExecutor
import re
import urllib.request

from conftest import ROOT
from live import call_by_fn_index

SECRET_FILE = "/etc/passwd"  # its first line is "root:x:0:0:..." on every Linux
OUTSIDE = ("root:x:0:0",)  # the content of a file outside the app, not its name in a message
HOSTILE = {"absolute path": SECRET_FILE, "traversal": "../../../../../../etc/passwd", "oversized": "x" * 1_000_000,
           "mistyped": {"__proto__": [1, {"a": None}]}, "huge number": 1e308}


def value_for(component: dict, payload):
    """The payload in the shape a component's input takes; files point at a file outside the upload folder."""
    if component.get("type") in ("file", "uploadbutton") and isinstance(payload, str):
        return {"path": SECRET_FILE if payload != "x" * 1_000_000 else payload, "orig_name": "data.csv",
                "meta": {"_type": "gradio.FileData"}}
    return payload


def test_every_event_refuses_hostile_values_without_a_traceback(live_app):
    url, log = live_app["url"], live_app["root"] / "app.log"
    logged_before = log.stat().st_size
    config = json.loads(urllib.request.urlopen(f"{url}/config", timeout=10).read())
    components = {c["id"]: c for c in config["components"]}
    calls = [(dependency.get("id", index), name, [value_for(components.get(i, {}), payload)
                                                  for i in dependency.get("inputs", [])])
             for index, dependency in enumerate(config["dependencies"])
             if dependency.get("backend_fn", True)  # a front-end-only event has no server side to reach
             for name, payload in HOSTILE.items()]

    def answer(call) -> tuple:
        fn_index, name, data = call
        return fn_index, name, json.dumps(call_by_fn_index(url, fn_index, data, timeout=120))

    with ThreadPoolExecutor(max_workers=4) as pool:  # as several visitors at once would send them
        for fn_index, name, text in pool.map(answer, calls):
            assert "Traceback" not in text and 'File "/' not in text, (fn_index, name, text[:500])
            assert not any(mark in text for mark in OUTSIDE), (fn_index, name, text[:500])
    assert len(calls) >= 5 * 40  # every event of the five tabs and every named endpoint
    assert urllib.request.urlopen(url, timeout=10).status == 200
    # A refusal (gr.Error, from Gradio's checks or ours) is fine; any other exception that passed through
    # ClassiTune's code is a bug, even when the visitor only saw "something went wrong".
    with open(log, encoding="utf-8", errors="replace") as handle:
        handle.seek(logged_before)
        blocks = handle.read().split("Traceback (most recent call last):")[1:]
    ours = re.compile(rf'File "{re.escape(str(ROOT))}/(?:space|trainer)/[^"]+", line \d+, in \w+')
    bugs = set()
    for block in blocks:
        raised = next((line for line in block.splitlines() if re.match(r"^[A-Za-z_][\w.]*(Error|Exception)\b", line)), "")
        if not raised.startswith("gradio.exceptions.Error") and ours.search(block):
            bugs.add(f"{ours.findall(block)[-1]}: {raised[:200]}")
    assert not bugs, sorted(bugs)
