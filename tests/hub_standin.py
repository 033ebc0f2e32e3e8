"""A local stand-in for the Hugging Face Hub, speaking its HTTP protocol for the calls ClassiTune uses.

The real ``huggingface_hub`` client (and ``transformers`` on top of it) runs unmodified against it:
whoami-v2, repo creation and deletion, preupload, the LFS batch API with basic PUT uploads, NDJSON commits, repo
info, the repo tree, ``resolve`` downloads, the README metadata check, and the Jobs API (jobs.py: run, inspect,
logs as server-sent events, cancel), whose jobs run here as local subprocesses. Tokens: ``TOKENS`` maps a token
to (user, role); ``jobs_standin.NO_JOBS`` tokens lack the jobs permission. Private repos are visible to their owner only.
State is in memory; every upload is checked against its sha256.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time

import uvicorn

from jobs_standin import Jobs
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

TOKENS = {"hf_standin_write_alice": ("alice", "write"), "hf_standin_read_alice": ("alice", "read"),
          "hf_standin_write_bob": ("bob", "write"), "hf_standin_write_carol": ("carol", "write")}
ORGS = {"alice": ["acme"]}


class Hub:
    def __init__(self):
        self.repos: dict[str, dict] = {}  # "type:ns/name" -> {"private", "owner", "files", "commits"}
        self.lfs: dict[str, bytes] = {}
        self.base = ""
        self.seen_tokens: list[str] = []  # the bearer token of every request, "" for none (what tests audit)
        self.jobs = Jobs(self)

    # -- helpers -----------------------------------------------------------------------------------

    def user(self, request: Request):
        auth = request.headers.get("authorization", "")
        return TOKENS.get(auth.removeprefix("Bearer ").strip())

    def repo(self, request: Request, kind: str, repo_id: str, write: bool = False):
        """The repo, or an error response (404 hides private repos from others, as the Hub does)."""
        repo = self.repos.get(f"{kind}:{repo_id}")
        who = self.user(request)
        if repo is None or (repo["private"] and (who is None or who[0] != repo["owner"])):
            return None, JSONResponse({"error": "Repository not found"}, status_code=404,
                                      headers={"X-Error-Code": "RepoNotFound"})
        if write and (who is None or who[1] != "write" or repo_id.split("/")[0] not in self.namespaces(who[0])):
            return None, JSONResponse({"error": "You don't have the rights to write to this repo"}, status_code=403)
        return repo, None

    @staticmethod
    def namespaces(user: str) -> set[str]:
        return {user, *ORGS.get(user, [])}

    # -- endpoints ---------------------------------------------------------------------------------

    async def whoami(self, request: Request):
        who = self.user(request)
        if who is None:
            return JSONResponse({"error": "Invalid credentials in Authorization header"}, status_code=401)
        return JSONResponse({"type": "user", "name": who[0], "fullname": who[0].title(),
                             "orgs": [{"name": org} for org in ORGS.get(who[0], [])],
                             "auth": {"type": "access_token", "accessToken": {"displayName": "test", "role": who[1]}}})

    async def create_repo(self, request: Request):
        who = self.user(request)
        if who is None:
            return JSONResponse({"error": "Invalid credentials"}, status_code=401)
        body = await request.json()
        namespace = body.get("organization") or who[0]
        name = body["name"]
        kind = body.get("type") or "model"
        if len(name) > 96 or not all(c.isalnum() or c in "-_." for c in name):
            return JSONResponse({"error": "Invalid repo name"}, status_code=400)
        if who[1] != "write" or namespace not in self.namespaces(who[0]):
            return JSONResponse({"error": "You don't have the rights to create a repo here"}, status_code=403)
        repo_id = f"{namespace}/{name}"
        prefix = "" if kind == "model" else f"{kind}s/"
        url = f"{self.base}/{prefix}{repo_id}"
        if f"{kind}:{repo_id}" in self.repos:
            return JSONResponse({"error": "You already created this repo", "url": url}, status_code=409)
        self.repos[f"{kind}:{repo_id}"] = {"private": body.get("visibility") == "private", "owner": who[0],
                                           "files": {}, "commits": [], "sdk": body.get("sdk")}
        return JSONResponse({"url": url, "name": repo_id})

    async def validate_yaml(self, request: Request):
        """The Hub checks a README's metadata before upload; this checks that it parses and is a mapping."""
        import yaml

        content = (await request.json())["content"]
        errors = []
        if content.startswith("---"):
            try:
                metadata = yaml.safe_load(content.split("---")[1])
                if not isinstance(metadata, dict):
                    errors.append({"message": "metadata must be a mapping"})
            except yaml.YAMLError as exc:
                errors.append({"message": f"invalid YAML: {exc}"})
        return JSONResponse({"errors": errors, "warnings": []}, status_code=400 if errors else 200)

    async def preupload(self, request: Request):
        p = request.path_params
        repo, error = self.repo(request, p["kind"][:-1], f"{p['ns']}/{p['name']}", write=True)
        if error:
            return error
        files = (await request.json())["files"]
        return JSONResponse({"files": [{"path": f["path"], "uploadMode": "lfs" if f["size"] > 100_000 else "regular",
                                        "shouldIgnore": False, "oid": None} for f in files]})

    async def lfs_batch(self, request: Request):
        body = await request.json()
        objects = []
        for obj in body["objects"]:
            entry = {"oid": obj["oid"], "size": obj["size"], "authenticated": True}
            if obj["oid"] not in self.lfs:  # objects already stored come back without actions: nothing to upload
                entry["actions"] = {"upload": {"href": f"{self.base}/lfs-upload/{obj['oid']}"},
                                    "verify": {"href": f"{self.base}/lfs-verify"}}
            objects.append(entry)
        return JSONResponse({"transfer": "basic", "objects": objects})

    async def lfs_upload(self, request: Request):
        data = await request.body()
        oid = request.path_params["oid"]
        if hashlib.sha256(data).hexdigest() != oid:
            return JSONResponse({"error": "sha256 mismatch"}, status_code=400)
        self.lfs[oid] = data
        return Response(status_code=200)

    async def lfs_verify(self, request: Request):
        body = await request.json()
        ok = body["oid"] in self.lfs and len(self.lfs[body["oid"]]) == body["size"]
        return JSONResponse({"ok": ok}, status_code=200 if ok else 422)

    async def commit(self, request: Request):
        p = request.path_params
        kind, repo_id = p["kind"][:-1], f"{p['ns']}/{p['name']}"
        repo, error = self.repo(request, kind, repo_id, write=True)
        if error:
            return error
        summary = ""
        files = dict(repo["files"])
        for line in (await request.body()).decode().splitlines():
            if not line.strip():
                continue
            entry = json.loads(line)
            value = entry["value"]
            if entry["key"] == "header":
                summary = value.get("summary", "")
            elif entry["key"] == "file":
                files[value["path"]] = base64.b64decode(value["content"])
            elif entry["key"] == "lfsFile":
                if value["oid"] not in self.lfs:
                    return JSONResponse({"error": f"LFS object {value['oid']} was never uploaded"}, status_code=422)
                files[value["path"]] = self.lfs[value["oid"]]
            elif entry["key"] == "deletedFile":
                files.pop(value["path"], None)
        oid = hashlib.sha1(f"{repo_id}{time.time()}{len(repo['commits'])}".encode()).hexdigest()
        repo["files"] = files
        repo["commits"].append({"oid": oid, "summary": summary})
        prefix = "" if kind == "model" else f"{kind}s/"
        return JSONResponse({"commitUrl": f"{self.base}/{prefix}{repo_id}/commit/{oid}", "commitOid": oid})

    async def delete_repo(self, request: Request):
        body = await request.json()
        kind = body.get("type") or "model"
        repo_id = f"{body.get('organization') or self.user(request)[0]}/{body['name']}"
        repo, error = self.repo(request, kind, repo_id, write=True)
        if error:
            return error
        del self.repos[f"{kind}:{repo_id}"]
        return JSONResponse({})

    async def repo_info(self, request: Request):
        p = request.path_params
        repo_id = f"{p['ns']}/{p['name']}"
        repo, error = self.repo(request, p["kind"][:-1], repo_id)
        if error:
            return error
        head = repo["commits"][-1]["oid"] if repo["commits"] else "0" * 40
        return JSONResponse({"id": repo_id, "modelId": repo_id, "sha": head, "private": repo["private"],
                             "siblings": [{"rfilename": name} for name in sorted(repo["files"])]})

    async def tree(self, request: Request):
        """``list_repo_tree`` / ``list_repo_files`` (recursive listing, one page): what ``delete_patterns`` reads."""
        p = request.path_params
        repo, error = self.repo(request, p["kind"][:-1], f"{p['ns']}/{p['name']}")
        if error:
            return error
        return JSONResponse([{"type": "file", "path": name, "size": len(data), "oid": hashlib.sha1(data).hexdigest()}
                             for name, data in sorted(repo["files"].items())])

    async def resolve(self, request: Request):
        p = request.path_params
        kind = {"spaces": "space", "datasets": "dataset"}.get(p.get("prefix"), "model")
        repo, error = self.repo(request, kind, f"{p['ns']}/{p['name']}")
        if error:
            return error
        data = repo["files"].get(p["path"])
        if data is None:
            return JSONResponse({"error": "Entry not found"}, status_code=404, headers={"X-Error-Code": "EntryNotFound"})
        head = repo["commits"][-1]["oid"]
        etag = hashlib.sha256(data).hexdigest()
        headers = {"X-Repo-Commit": head, "ETag": f'"{etag}"', "Content-Type": "application/octet-stream",
                   "Accept-Ranges": "bytes"}
        wanted = byte_range(request.headers.get("range"), len(data))
        if wanted is not None and request.method == "GET":  # fsspec (hf://) reads a Parquet footer by range
            start, end = wanted
            headers.update({"Content-Range": f"bytes {start}-{end}/{len(data)}", "Content-Length": str(end - start + 1)})
            return Response(data[start:end + 1], status_code=206, headers=headers)
        headers["Content-Length"] = str(len(data))
        return Response(b"" if request.method == "HEAD" else data, headers=headers)


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) byte of an HTTP ``Range: bytes=a-b`` (also ``a-`` and ``-n``), as the Hub's CDN serves them."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, _, last = header[len("bytes="):].partition("-")
    if not first:
        return max(0, size - int(last)), size - 1
    return int(first), min(size - 1, int(last)) if last else size - 1


def build(hub: Hub):
    app = _routes(hub)

    async def audit(scope, receive, send):
        """Record which token each request carried, so a test can prove whose token the app sent."""
        if scope["type"] == "http":
            auth = dict(scope["headers"]).get(b"authorization", b"").decode()
            hub.seen_tokens.append(auth.removeprefix("Bearer ").strip())
        await app(scope, receive, send)
    return audit


def _routes(hub: Hub) -> Starlette:
    return Starlette(routes=[
        Route("/api/whoami-v2", hub.whoami),
        Route("/api/repos/create", hub.create_repo, methods=["POST"]),
        Route("/api/repos/delete", hub.delete_repo, methods=["DELETE"]),
        *hub.jobs.routes(),
        Route("/api/validate-yaml", hub.validate_yaml, methods=["POST"]),
        Route("/api/{kind:str}/{ns}/{name}/preupload/{rev}", hub.preupload, methods=["POST"]),
        Route("/api/{kind:str}/{ns}/{name}/commit/{rev}", hub.commit, methods=["POST"]),
        Route("/api/{kind:str}/{ns}/{name}/revision/{rev:path}", hub.repo_info),
        Route("/api/{kind:str}/{ns}/{name}/tree/{rev:path}", hub.tree),
        Route("/api/{kind:str}/{ns}/{name}", hub.repo_info),
        Route("/{ns}/{name}.git/info/lfs/objects/batch", hub.lfs_batch, methods=["POST"]),
        Route("/{prefix}/{ns}/{name}.git/info/lfs/objects/batch", hub.lfs_batch, methods=["POST"]),
        Route("/lfs-upload/{oid}", hub.lfs_upload, methods=["PUT"]),
        Route("/lfs-verify", hub.lfs_verify, methods=["POST"]),
        Route("/{ns}/{name}/resolve/{rev}/{path:path}", hub.resolve, methods=["GET", "HEAD"]),
        Route("/{prefix}/{ns}/{name}/resolve/{rev}/{path:path}", hub.resolve, methods=["GET", "HEAD"]),
    ])


class StandinServer:
    """Runs the stand-in on a free local port in a background thread."""

    def __init__(self, port: int):
        self.hub = Hub()
        self.hub.base = self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(build(self.hub), host="127.0.0.1", port=port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        while not self.server.started:
            time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=10)
