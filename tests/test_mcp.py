"""``python app.py --mcp``: the named endpoints are MCP tools, callable by a real MCP client."""

import asyncio
import ast
import base64
import json
from pathlib import Path

from mcp import ClientSession
from mcp.client.streamable_http import streamablehttp_client

TOOLS = {"validate_dataset", "start_training", "run_status", "stop_run", "cancel_run", "list_runs", "predict",
         "push_to_hub"}
EXAMPLE = Path(__file__).resolve().parent.parent / "assets" / "banking77_sample.csv"
ALICE = {"Authorization": "Bearer mcp-alice-5f1c9e2a7b3d4c6e"}
BOB = {"Authorization": "Bearer mcp-bob-8a2d6f0b1e4c7a93"}


async def _session(url, work, headers=None):
    async with streamablehttp_client(f"{url}/gradio_api/mcp/", headers=headers) as (read, write, _):
        async with ClientSession(read, write) as session:
            await session.initialize()
            return await work(session)


def _text(result) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)


def test_endpoints_are_mcp_tools(live_app):
    async def work(session):
        tools = await session.list_tools()
        status = await session.call_tool("run_status", {"run_id": "../../etc/passwd"})
        return tools.tools, status

    tools, status = asyncio.run(_session(live_app["url"], work, ALICE))
    assert TOOLS <= {t.name for t in tools}
    for tool in tools:  # every input schema is a JSON Schema (gr.JSON's own {"type": {}} is not)
        assert all(not isinstance(p.get("type"), dict) for p in tool.inputSchema["properties"].values()), tool
    text = json.dumps([c.model_dump() for c in status.content])
    assert status.isError and "not a valid run id" in text


def test_mcp_clients_run_data_and_own_their_runs(live_app):
    data = "data:text/csv;base64," + base64.b64encode(EXAMPLE.read_bytes()).decode()

    async def alice(session):
        report = await session.call_tool("validate_dataset", {"file": data, "settings": {"task": "auto"}})
        assert not report.isError, _text(report)
        assert ast.literal_eval(_text(report))["label_column"] == "label"
        started = await session.call_tool("start_training", {"file": data, "settings": {"epochs": 1}})
        assert not started.isError, _text(started)
        return _text(started).strip()

    run_id = asyncio.run(_session(live_app["url"], alice, ALICE))

    async def bob(session):
        runs = await session.call_tool("list_runs", {})
        status = await session.call_tool("run_status", {"run_id": run_id})
        cancel = await session.call_tool("cancel_run", {"run_id": run_id})
        return _text(runs), status, cancel

    runs, status, cancel = asyncio.run(_session(live_app["url"], bob, BOB))
    assert run_id not in runs
    assert status.isError and "not found among your runs" in _text(status)
    assert cancel.isError and "not found among your runs" in _text(cancel)

    async def anonymous(session):  # Gradio gives every MCP connection one shared session: no key, no runs
        return await session.call_tool("list_runs", {})

    refused = asyncio.run(_session(live_app["url"], anonymous))
    assert refused.isError and "Authorization: Bearer" in _text(refused)

    async def alice_again(session):  # a new connection with the same key is the same owner
        runs = await session.call_tool("list_runs", {})
        cancel = await session.call_tool("cancel_run", {"run_id": run_id})
        return _text(runs), cancel

    runs, cancel = asyncio.run(_session(live_app["url"], alice_again, ALICE))
    assert run_id in runs and not cancel.isError, _text(cancel)
