"""The a2a-sdk (Python, PyPI) server side of scripts/bench-a2a.

Usage: sdk_agent.py PORT

An agent equivalent to agentdeck's conformance agent on `tck-complete-task`:
each message makes a task that completes at once with the status message
"Hello from TCK". JSON-RPC at `/`, the SDK's in-memory task store (agentdeck
stores every task in SQLite), uvicorn with one worker, logs off.
"""

import sys

import uvicorn
from a2a.helpers.proto_helpers import new_task
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes
from a2a.server.tasks import InMemoryTaskStore, TaskUpdater
from a2a.types import AgentCapabilities, AgentCard, AgentInterface, AgentSkill, Part, Role, TaskState, Message
from starlette.applications import Starlette

PORT = int(sys.argv[1])


class CompleteExecutor(AgentExecutor):
    async def execute(self, ctx: RequestContext, q: EventQueue) -> None:
        if ctx.current_task is None:
            await q.enqueue_event(new_task(ctx.task_id, ctx.context_id, TaskState.TASK_STATE_SUBMITTED, history=[ctx.message]))
        updater = TaskUpdater(q, ctx.task_id, ctx.context_id)
        await updater.complete(updater.new_agent_message([Part(text="Hello from TCK")]))

    async def cancel(self, ctx: RequestContext, q: EventQueue) -> None:
        await TaskUpdater(q, ctx.task_id, ctx.context_id).cancel()


card = AgentCard(
    name="Bench",
    description="Completes at once",
    version="1.0.0",
    supported_interfaces=[AgentInterface(protocol_binding="JSONRPC", protocol_version="1.0", url=f"http://127.0.0.1:{PORT}/")],
    capabilities=AgentCapabilities(streaming=True),
    default_input_modes=["text/plain"],
    default_output_modes=["text/plain"],
    skills=[AgentSkill(id="complete", name="Complete", description="Completes", tags=["bench"])],
)
handler = DefaultRequestHandler(agent_executor=CompleteExecutor(), task_store=InMemoryTaskStore(), agent_card=card)
app = Starlette(routes=[*create_agent_card_routes(card), *create_jsonrpc_routes(handler, rpc_url="/")])
uvicorn.run(app, host="127.0.0.1", port=PORT, log_level="warning", access_log=False)
