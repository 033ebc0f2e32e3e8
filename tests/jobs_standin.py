"""The Jobs part of the Hub stand-in (hub_standin.py): ``POST /api/jobs/{ns}``, ``GET /api/jobs/{ns}/{id}``,
``GET /api/jobs/{ns}/{id}/logs`` (server-sent events) and ``POST /api/jobs/{ns}/{id}/cancel``, as
``huggingface_hub``'s ``run_job``, ``inspect_job``, ``fetch_job_logs`` and ``cancel_job`` call them.

A job runs here as a subprocess of its command in the repository (``python`` is this Python: the image's), with
its environment and secrets as environment variables and ``HF_ENDPOINT`` pointing at the stand-in, as a job on
Hugging Face reaches the Hub. The image and flavor are recorded, not emulated.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from datetime import datetime, timezone
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

ROOT = Path(__file__).resolve().parent.parent
NO_JOBS = {"hf_standin_write_carol", "hf_standin_read_alice"}  # signed in without the "jobs" permission


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class Jobs:
    def __init__(self, hub):
        self.hub = hub
        self.jobs: dict[str, dict] = {}

    def routes(self) -> list[Route]:
        return [Route("/api/jobs/{ns}", self.run, methods=["POST"]),
                Route("/api/jobs/{ns}/{job_id}", self.inspect),
                Route("/api/jobs/{ns}/{job_id}/logs", self.logs),
                Route("/api/jobs/{ns}/{job_id}/cancel", self.cancel, methods=["POST"])]

    def _job(self, request: Request):
        """The caller's job, or an error response (another user's job is not found)."""
        who = self.hub.user(request)
        job = self.jobs.get(request.path_params["job_id"])
        if who is None:
            return None, JSONResponse({"error": "Invalid credentials"}, status_code=401)
        if job is None or job["owner"] != who[0] or job["ns"] != request.path_params["ns"]:
            return None, JSONResponse({"error": "Job not found"}, status_code=404)
        return job, None

    @staticmethod
    def info(job: dict) -> dict:
        spec = job["spec"]
        return {"id": job["id"], "createdAt": job["created"], "dockerImage": spec.get("dockerImage"),
                "owner": {"id": job["owner"], "name": job["owner"], "type": "user"}, "command": spec["command"],
                "arguments": spec.get("arguments", []), "environment": spec.get("environment", {}),
                "secrets": {name: None for name in spec.get("secrets", {})}, "flavor": spec.get("flavor"),
                "labels": spec.get("labels"), "status": {"stage": job["stage"], "message": job["message"]}}

    async def run(self, request: Request):
        who = self.hub.user(request)
        token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if who is None:
            return JSONResponse({"error": "Invalid credentials"}, status_code=401)
        if token in NO_JOBS or request.path_params["ns"] not in self.hub.namespaces(who[0]):
            return JSONResponse({"error": "This token does not have the 'jobs' permission"}, status_code=403)
        spec = await request.json()
        job = {"id": uuid.uuid4().hex[:24], "ns": request.path_params["ns"], "owner": who[0], "spec": spec,
               "stage": "RUNNING", "message": None, "logs": [], "created": _now(), "proc": None}
        self.jobs[job["id"]] = job
        self._start(job)
        return JSONResponse(self.info(job))

    def _start(self, job: dict) -> None:
        spec = job["spec"]
        command = [sys.executable if spec["command"][0] == "python" else spec["command"][0], *spec["command"][1:]]
        env = {k: v for k, v in os.environ.items() if k != "HF_TOKEN"}
        env.update({**spec.get("environment", {}), **spec.get("secrets", {}), "HF_ENDPOINT": self.hub.base,
                    "HF_HUB_OFFLINE": "0", "PYTHONUNBUFFERED": "1"})
        job["proc"] = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                       text=True)

        def read() -> None:
            for line in job["proc"].stdout:
                job["logs"].append({"timestamp": _now(), "data": line.rstrip("\n")})
            code = job["proc"].wait()
            if job["stage"] == "RUNNING":
                job["stage"], job["message"] = ("COMPLETED", None) if code == 0 else ("ERROR", f"exit code {code}")
        threading.Thread(target=read, daemon=True).start()

    async def inspect(self, request: Request):
        job, error = self._job(request)
        return error or JSONResponse(self.info(job))

    async def logs(self, request: Request):
        job, error = self._job(request)
        if error:
            return error
        body = "".join(f"data: {json.dumps(event)}\n\n" for event in list(job["logs"]))
        return Response(body, media_type="text/event-stream")

    async def cancel(self, request: Request):
        job, error = self._job(request)
        if error:
            return error
        if job["stage"] == "RUNNING":
            job["stage"] = "CANCELED"
            job["proc"].terminate()
        return JSONResponse({})
