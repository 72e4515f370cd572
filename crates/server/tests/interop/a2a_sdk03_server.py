"""The Python a2a-sdk 0.3 (PyPI, pinned in requirements-0.3.txt) as a remote A2A 0.3 agent our client calls.

Usage: a2a_sdk03_server.py PORT

An echo agent: each message becomes a task that goes working, gets an
artifact `echo: <text>` and completes. Its card is a plain 0.3 card (no
supportedInterfaces): JSON-RPC at /, HTTP+JSON at /rest. It records the
path, A2A-Version header and JSON-RPC method of the last call at
GET /last-call, so a test can check that our client spoke 0.3.
"""

import json
import sys

import uvicorn
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.apps import A2ARESTFastAPIApplication, A2AStarletteApplication
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.tasks import InMemoryTaskStore, TaskUpdater
from a2a.types import AgentCapabilities, AgentCard, AgentInterface, AgentSkill, Part, TextPart
from a2a.utils import new_task
from starlette.responses import JSONResponse

PORT = int(sys.argv[1])
BASE = f"http://127.0.0.1:{PORT}"
LAST_CALL = {}


class EchoExecutor(AgentExecutor):
    async def execute(self, ctx: RequestContext, q: EventQueue) -> None:
        task = ctx.current_task
        if task is None:
            task = new_task(ctx.message)
            await q.enqueue_event(task)
        updater = TaskUpdater(q, task.id, task.context_id)
        await updater.start_work()
        await updater.add_artifact([Part(root=TextPart(text=f"echo: {ctx.get_user_input()}"))], name="reply")
        await updater.complete()

    async def cancel(self, ctx: RequestContext, q: EventQueue) -> None:
        await TaskUpdater(q, ctx.task_id, ctx.context_id).cancel()


card = AgentCard(
    name="Echo 0.3",
    description="Echoes text",
    version="1.0.0",
    url=f"{BASE}/",
    protocol_version="0.3.0",
    preferred_transport="JSONRPC",
    additional_interfaces=[
        AgentInterface(url=f"{BASE}/", transport="JSONRPC"),
        AgentInterface(url=f"{BASE}/rest", transport="HTTP+JSON"),
    ],
    capabilities=AgentCapabilities(streaming=True, push_notifications=False),
    default_input_modes=["text/plain"],
    default_output_modes=["text/plain"],
    skills=[AgentSkill(id="echo", name="Echo", description="Echo text", tags=["echo"])],
)
handler = DefaultRequestHandler(agent_executor=EchoExecutor(), task_store=InMemoryTaskStore())
app = A2ARESTFastAPIApplication(agent_card=card, http_handler=handler).build(rpc_url="/rest")
A2AStarletteApplication(agent_card=card, http_handler=handler).add_routes_to_app(app, rpc_url="/")


async def last_call(_request):
    return JSONResponse(LAST_CALL)


app.add_route("/last-call", last_call)


class RecordCalls:
    """Keeps the path, version header and JSON-RPC method of the last call (the body is passed on untouched)."""

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] in ("/last-call",) or scope["path"].endswith("agent-card.json"):
            return await self.inner(scope, receive, send)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        chunks = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        try:
            method = json.loads(body).get("method") if body else None
        except (ValueError, AttributeError):
            method = None
        LAST_CALL.clear()
        LAST_CALL.update({"path": scope["path"], "a2a-version": headers.get("a2a-version"), "method": method})
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.inner(scope, replay, send)


uvicorn.run(RecordCalls(app), host="127.0.0.1", port=PORT, log_level="warning")
