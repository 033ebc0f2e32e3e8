"""``python app.py --mcp``: the named endpoints are MCP tools, callable by a real MCP client."""

import asyncio
import json

from mcp import ClientSession
from mcp.client.streamable_http import streamablehttp_client

TOOLS = {"validate_dataset", "start_training", "run_status", "stop_run", "cancel_run", "list_runs", "predict",
         "push_to_hub"}


async def _session(url, work):
    async with streamablehttp_client(f"{url}/gradio_api/mcp/") as (read, write, _):
        async with ClientSession(read, write) as session:
            await session.initialize()
            return await work(session)


def test_endpoints_are_mcp_tools(live_app):
    async def work(session):
        tools = await session.list_tools()
        status = await session.call_tool("run_status", {"run_id": "../../etc/passwd"})
        return {t.name for t in tools.tools}, status

    names, status = asyncio.run(_session(live_app["url"], work))
    assert TOOLS <= names
    text = json.dumps([c.model_dump() for c in status.content])
    assert status.isError and "not a valid run id" in text
