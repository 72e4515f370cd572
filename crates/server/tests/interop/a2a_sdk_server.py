"""The Python a2a-sdk (PyPI, pinned by the test) as a remote A2A agent our client calls.

Usage: a2a_sdk_server.py PORT

An echo agent (a2a.md §5): each message becomes a task that goes working,
gets an artifact `echo: <text>` and completes. It also records the
`Authorization` and `traceparent` headers of the last request at
GET /last-headers, so a test can check what our client sent.
"""

import sys

import uvicorn
from a2a.helpers.proto_helpers import new_task
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes, create_rest_routes
from a2a.server.tasks import InMemoryTaskStore, TaskUpdater
from a2a.types import AgentCapabilities, AgentCard, AgentInterface, AgentSkill, Part, TaskState
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

PORT = int(sys.argv[1])
BASE = f"http://127.0.0.1:{PORT}"
LAST_HEADERS = {}


class EchoExecutor(AgentExecutor):
    async def execute(self, ctx: RequestContext, q: EventQueue) -> None:
        if ctx.current_task is None:
            await q.enqueue_event(new_task(ctx.task_id, ctx.context_id, TaskState.TASK_STATE_SUBMITTED, history=[ctx.message]))
        updater = TaskUpdater(q, ctx.task_id, ctx.context_id)
        await updater.start_work()
        await updater.add_artifact([Part(text=f"echo: {ctx.get_user_input()}")], name="reply")
        await updater.complete()

    async def cancel(self, ctx: RequestContext, q: EventQueue) -> None:
        await TaskUpdater(q, ctx.task_id, ctx.context_id).cancel()


card = AgentCard(
    name="Echo",
    description="Echoes text",
    version="1.0.0",
    supported_interfaces=[
        AgentInterface(protocol_binding="JSONRPC", protocol_version="1.0", url=f"{BASE}/"),
        AgentInterface(protocol_binding="HTTP+JSON", protocol_version="1.0", url=f"{BASE}/a2a/rest"),
    ],
    capabilities=AgentCapabilities(streaming=True, push_notifications=False),
    default_input_modes=["text/plain"],
    default_output_modes=["text/plain"],
    skills=[AgentSkill(id="echo", name="Echo", description="Echo text", tags=["echo"])],
)
handler = DefaultRequestHandler(agent_executor=EchoExecutor(), task_store=InMemoryTaskStore(), agent_card=card)


async def last_headers(_request):
    return JSONResponse(LAST_HEADERS)


app = Starlette(
    routes=[
        Route("/last-headers", last_headers),
        *create_agent_card_routes(card, cache_control="public, max-age=300"),
        *create_jsonrpc_routes(handler, rpc_url="/"),
        *create_rest_routes(handler, path_prefix="/a2a/rest"),
    ]
)


class RecordHeaders:
    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"] != "/last-headers" and scope["method"] == "POST":
            headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
            LAST_HEADERS.clear()
            LAST_HEADERS.update({k: headers.get(k) for k in ("authorization", "traceparent", "a2a-version")})
        await self.inner(scope, receive, send)


uvicorn.run(RecordHeaders(app), host="127.0.0.1", port=PORT, log_level="warning")
