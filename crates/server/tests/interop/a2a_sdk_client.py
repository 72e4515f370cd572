"""The Python a2a-sdk (PyPI, pinned by the test) as a client of agentdeck's A2A server.

Usage: a2a_sdk_client.py AGENT_URL [BINDING]

Resolves the agent's card from AGENT_URL, then runs send, get, list, cancel,
stream, subscribe and a multi-turn exchange against the conformance agent,
checking each answer. Prints one line per check; exits non-zero on the first
failure. BINDING picks the transport (JSONRPC, or HTTP+JSON once served).
"""

import asyncio
import sys
import uuid

from a2a.client import ClientConfig, create_client
from a2a.types import (
    CancelTaskRequest,
    GetTaskRequest,
    ListTasksRequest,
    Message,
    Part,
    Role,
    SendMessageConfiguration,
    SendMessageRequest,
    SubscribeToTaskRequest,
    TaskState,
)

URL = sys.argv[1]
BINDING = sys.argv[2] if len(sys.argv) > 2 else "JSONRPC"


def message(prefix, text="hello", task_id=None):
    msg = Message(role=Role.ROLE_USER, message_id=f"{prefix}-{uuid.uuid4().hex[:8]}", parts=[Part(text=text)])
    if task_id:
        msg.task_id = task_id
    return msg


def check(condition, what):
    if not condition:
        print(f"FAIL {what}", flush=True)
        sys.exit(1)
    print(f"ok   {what}", flush=True)


async def final_task(client, request):
    task = None
    async for event in client.send_message(request):
        if event.HasField("task"):
            task = event.task
    return task


async def main():
    plain = await create_client(URL, client_config=ClientConfig(streaming=False, supported_protocol_bindings=[BINDING]))
    streamer = await create_client(URL, client_config=ClientConfig(streaming=True, supported_protocol_bindings=[BINDING]))
    expected_transport = {"JSONRPC": "JsonRpcTransport", "HTTP+JSON": "RestTransport"}[BINDING]
    transports = {type(getattr(client, "_transport", None)).__name__ for client in (plain, streamer)}
    check(transports == {expected_transport}, f"the client talks {BINDING} ({transports})")

    task = await final_task(plain, SendMessageRequest(message=message("tck-complete-task")))
    check(task is not None and task.status.state == TaskState.TASK_STATE_COMPLETED, "send: blocking send completes")
    check(task.status.message.parts[0].text == "Hello from TCK", "send: status message text")

    got = await plain.get_task(GetTaskRequest(id=task.id, history_length=1))
    check(got.id == task.id and got.status.state == TaskState.TASK_STATE_COMPLETED, "get: the task by id")
    check(len(got.history) == 1, "get: historyLength limits the history")

    listed = await plain.list_tasks(ListTasksRequest(page_size=10))
    check(any(t.id == task.id for t in listed.tasks), "list: the task is listed")
    check(listed.next_page_token == "", "list: last page has an empty nextPageToken")

    reply = None
    async for event in plain.send_message(SendMessageRequest(message=message("tck-message-response"))):
        if event.HasField("message"):
            reply = event.message
    check(reply is not None and reply.parts[0].text == "Direct message response", "send: a direct message reply")

    slow = await final_task(
        plain,
        SendMessageRequest(message=message("tck-long-running"), configuration=SendMessageConfiguration(return_immediately=True)),
    )
    check(slow is not None and slow.status.state in (TaskState.TASK_STATE_SUBMITTED, TaskState.TASK_STATE_WORKING), "send: returnImmediately")
    canceled = await plain.cancel_task(CancelTaskRequest(id=slow.id))
    check(canceled.status.state == TaskState.TASK_STATE_CANCELED, "cancel: a running task ends canceled")

    kinds = []
    async for event in streamer.send_message(SendMessageRequest(message=message("tck-stream-001"))):
        kinds.append(event.WhichOneof("payload"))
    check(kinds == ["task", "status_update", "artifact_update", "status_update"], f"stream: task, status, artifact, status ({kinds})")

    parked = await final_task(plain, SendMessageRequest(message=message("tck-input-required")))
    check(parked.status.state == TaskState.TASK_STATE_INPUT_REQUIRED, "multi-turn: input required")
    done = await final_task(plain, SendMessageRequest(message=message("answer", "more input", task_id=parked.id)))
    check(done.id == parked.id and done.status.state == TaskState.TASK_STATE_COMPLETED, "multi-turn: follow-up completes")

    running = await final_task(
        plain,
        SendMessageRequest(message=message("tck-long-running"), configuration=SendMessageConfiguration(return_immediately=True)),
    )
    seen = []
    subscribed = asyncio.Event()

    async def watch():
        async for event in streamer.subscribe(SubscribeToTaskRequest(id=running.id)):
            kind = event.WhichOneof("payload")
            state = event.task.status.state if kind == "task" else event.status_update.status.state if kind == "status_update" else None
            seen.append((kind, state))
            subscribed.set()

    watcher = asyncio.create_task(watch())
    # Cancel once the subscription is live (its first event arrived), not after a guessed delay.
    await asyncio.wait_for(subscribed.wait(), timeout=10)
    await plain.cancel_task(CancelTaskRequest(id=running.id))
    await asyncio.wait_for(watcher, timeout=10)
    check(seen and seen[0][0] == "task", f"subscribe: the task comes first ({seen})")
    check(seen[-1] == ("status_update", TaskState.TASK_STATE_CANCELED), "subscribe: the cancel arrives and ends the stream")

    await plain.close()
    await streamer.close()
    print("all checks passed", flush=True)


asyncio.run(main())
