"""Bench: sync 10,000 users and 200 groups into scim2-server on 127.0.0.1, then sync again.

    .venv/bin/python bench/scim_target.py [--users 10000] [--groups 200] [--concurrency 4]

Prints wall time per pass, requests per kind and the writes of the second, unchanged pass
(target: 0). The server runs in a thread of this process (ThreadingWSGIServer), so both sides
share the CPU; numbers are for comparison between versions, not absolute capacity.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

from pydantic import SecretStr

from personio_operator.scim.applier import apply_plan
from personio_operator.scim.client import ScimClient
from personio_operator.scim.models import DesiredGroup, DesiredState, DesiredUser, group_external_id
from personio_operator.scim.planner import plan_target
from personio_testkit.scim_app import ScimTestServer

TOKEN = "bench-token"


def company(user_count: int, group_count: int) -> DesiredState:
    """A tree of people (each manager has up to 8 reports) spread over ``group_count`` departments."""
    users = []
    for index in range(1, user_count + 1):
        manager = (index - 2) // 8 + 1 if index > 1 else None
        users.append(
            DesiredUser(
                external_id=f"personio:{index}",
                user_name=f"person{index}@bench.example",
                given_name=f"Given{index}",
                family_name=f"Family{index}",
                email=f"person{index}@bench.example",
                title=f"Role {index % 17}",
                user_type="Internal" if index % 10 else "External",
                preferred_language="de",
                employee_number=str(index),
                department=f"Department {index % group_count}",
                manager_external_id=f"personio:{manager}" if manager else None,
            )
        )
    members: dict[int, set[str]] = {group: set() for group in range(group_count)}
    for user in users:
        members[int(user.employee_number or 0) % group_count].add(user.external_id)
    groups = [
        DesiredGroup(
            external_id=group_external_id("department", str(group)),
            display_name=f"Department {group}",
            member_external_ids=frozenset(member_ids),
        )
        for group, member_ids in members.items()
    ]
    return DesiredState(users=users, groups=groups)


async def sync_pass(server: ScimTestServer, desired: DesiredState, concurrency: int) -> dict[str, Any]:
    started = time.perf_counter()
    async with ScimClient(server.url, SecretStr(TOKEN), max_concurrency=concurrency, timeout=60) as client:
        await client.discover()
        state = await client.read_state()
        read_done = time.perf_counter()
        plan = plan_target(desired, state)
        plan_done = time.perf_counter()
        results = await apply_plan(client, plan, state=state, concurrency=concurrency * 2)
    finished = time.perf_counter()
    return {
        "wall_seconds": round(finished - started, 2),
        "read_seconds": round(read_done - started, 2),
        "plan_seconds": round(plan_done - read_done, 2),
        "apply_seconds": round(finished - plan_done, 2),
        "users": plan.counts()[0].model_dump(),
        "groups": plan.counts()[1].model_dump(),
        "manager_links": len(plan.manager_links),
        "failed_objects": sum(1 for result in results if not result.ok),
        "requests": client.stats.as_dict(),
    }


async def main(user_count: int, group_count: int, concurrency: int) -> dict[str, Any]:
    desired = company(user_count, group_count)
    with ScimTestServer(token=TOKEN) as server:
        first = await sync_pass(server, desired, concurrency)
        writes_after_first = server.writes()
        second = await sync_pass(server, desired, concurrency)
        stored_users, stored_groups = len(server.users()), len(server.groups())
        server_writes_second = server.writes() - writes_after_first
    return {
        "users": user_count,
        "groups": group_count,
        "concurrency": concurrency,
        "first_pass": first,
        "second_pass": second,
        "second_pass_writes_seen_by_server": server_writes_second,
        "stored": {"users": stored_users, "groups": stored_groups},
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4)
    arguments = parser.parse_args()
    report = asyncio.run(main(arguments.users, arguments.groups, arguments.concurrency))
    print(json.dumps(report, indent=2))
