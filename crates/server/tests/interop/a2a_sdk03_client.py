"""The Python a2a-sdk 0.3 (PyPI, pinned in requirements-0.3.txt) as a client of agentdeck's A2A server.

Usage: a2a_sdk03_client.py AGENT_URL BINDING

A 0.3 client sends no A2A-Version header, so everything here is served as
A2A 0.3. Resolves the agent's card (agent-card.json and the 0.2 name
agent.json), then runs send, get, a direct reply, cancel, stream, push
config set/get, multi-turn and resubscribe against the conformance agent,
checking each answer. Prints one line per check; exits non-zero on the
first failure. BINDING is JSONRPC or HTTP+JSON.
"""

import asyncio
import sys
import uuid

import httpx
from a2a.client import A2ACardResolver, ClientConfig, ClientFactory
from a2a.types import (
    GetTaskPushNotificationConfigParams,
    Message,
    MessageSendConfiguration,
    Part,
    PushNotificationConfig,
    Role,
    Task,
    TaskIdParams,
    TaskPushNotificationConfig,
    TaskQueryParams,
    TaskState,
    TextPart,
)

URL = sys.argv[1]
BINDING = sys.argv[2]


def message(prefix, text="hello", task_id=None):
    return Message(
        role=Role.user,
        message_id=f"{prefix}-{uuid.uuid4().hex[:8]}",
        parts=[Part(root=TextPart(text=text))],
        task_id=task_id,
    )


def check(condition, what):
    if not condition:
        print(f"FAIL {what}", flush=True)
        sys.exit(1)
    print(f"ok   {what}", flush=True)


async def final_task(client, msg, configuration=None):
    task = None
    async for event in client.send_message(msg, configuration=configuration):
        if isinstance(event, tuple):
            task = event[0]
    return task


async def main():
    async with httpx.AsyncClient(timeout=30) as http:
        card = await A2ACardResolver(http, URL).get_agent_card()
        check(card.protocol_version == "0.3.0" and card.url == URL, f"card: 0.3 members ({card.protocol_version}, {card.url})")
        transports = {card.preferred_transport, *(i.transport for i in card.additional_interfaces or [])}
        check(transports == {"JSONRPC", "HTTP+JSON"}, f"card: both bindings offered ({transports})")
        legacy = await A2ACardResolver(http, URL, agent_card_path="/.well-known/agent.json").get_agent_card()
        check(legacy.name == card.name and legacy.url == URL, "card: also at agent.json")

        plain = ClientFactory(ClientConfig(streaming=False, httpx_client=http, supported_transports=[BINDING])).create(card)
        streamer = ClientFactory(ClientConfig(streaming=True, httpx_client=http, supported_transports=[BINDING])).create(card)
        expected_transport = {"JSONRPC": "JsonRpcTransport", "HTTP+JSON": "RestTransport"}[BINDING]
        names = {type(client._transport).__name__ for client in (plain, streamer)}
        check(names == {expected_transport}, f"the client talks {BINDING} ({names})")

        task = await final_task(plain, message("tck-complete-task"))
        check(isinstance(task, Task) and task.status.state == TaskState.completed, "send: blocking send completes")
        check(task.status.message.parts[0].root.text == "Hello from TCK", "send: status message text")

        got = await plain.get_task(TaskQueryParams(id=task.id, history_length=1))
        check(got.id == task.id and got.status.state == TaskState.completed, "get: the task by id")
        check(len(got.history or []) == 1, "get: historyLength limits the history")

        reply = None
        async for event in plain.send_message(message("tck-message-response")):
            if isinstance(event, Message):
                reply = event
        check(reply is not None and reply.parts[0].root.text == "Direct message response", "send: a direct message reply")

        slow = await final_task(plain, message("tck-long-running"), MessageSendConfiguration(blocking=False))
        check(slow is not None and slow.status.state in (TaskState.submitted, TaskState.working), "send: blocking=false returns at once")
        canceled = await plain.cancel_task(TaskIdParams(id=slow.id))
        check(canceled.status.state == TaskState.canceled, "cancel: a running task ends canceled")

        kinds = []
        finals = []
        async for task_now, update in streamer.send_message(message("tck-stream-001")):
            kinds.append(update.kind if update else "task")
            if update is not None and update.kind == "status-update":
                finals.append(update.final)
        check(kinds == ["task", "status-update", "artifact-update", "status-update"], f"stream: task, status, artifact, status ({kinds})")
        check(finals == [False, True], f"stream: only the last status update is final ({finals})")

        parked = await final_task(plain, message("tck-input-required"))
        check(parked.status.state == TaskState.input_required, "multi-turn: input required")
        config = PushNotificationConfig(id="hook-1", url="http://127.0.0.1:9/hook", token="receiver-token")
        saved = await plain.set_task_callback(TaskPushNotificationConfig(task_id=parked.id, push_notification_config=config))
        check(saved.task_id == parked.id and saved.push_notification_config.id == "hook-1", "push config: set")
        read = await plain.get_task_callback(GetTaskPushNotificationConfigParams(id=parked.id, push_notification_config_id="hook-1"))
        check(read.push_notification_config.url == config.url, "push config: get")
        check(not read.push_notification_config.token, "push config: the token is not read back")
        done = await final_task(plain, message("answer", "more input", task_id=parked.id))
        check(done.id == parked.id and done.status.state == TaskState.completed, "multi-turn: follow-up completes")

        running = await final_task(plain, message("tck-long-running"), MessageSendConfiguration(blocking=False))
        seen = []
        subscribed = asyncio.Event()

        async def watch():
            async for task_now, update in streamer.resubscribe(TaskIdParams(id=running.id)):
                seen.append((update.kind, update.status.state if update.kind == "status-update" else None) if update else ("task", task_now.status.state))
                subscribed.set()

        watcher = asyncio.create_task(watch())
        # Cancel once the subscription is live (its first event arrived), not after a guessed delay.
        await asyncio.wait_for(subscribed.wait(), timeout=10)
        await plain.cancel_task(TaskIdParams(id=running.id))
        await asyncio.wait_for(watcher, timeout=10)
        check(seen and seen[0][0] == "task", f"resubscribe: the task comes first ({seen})")
        check(seen[-1] == ("status-update", TaskState.canceled), f"resubscribe: the cancel arrives and ends the stream ({seen})")

    print("all checks passed", flush=True)


asyncio.run(main())
