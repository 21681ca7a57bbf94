"""A small triage agent on the Python SDK: it reads new CrowdStrike detections, asks ARX
to network-contain each affected host (a high-risk call a reviewer approves), and when
the reviewer says no, or nobody decides in time, files a Jira issue for a person to
follow up, as the product document shows.

Against the demo (`scripts/demo.sh`), with `pip install ./sdk/python`:

    export ARX_BASE_URL=http://127.0.0.1:3000
    export ARX_API_KEY=$(python3 -c 'import json; d=json.load(open("data/demo.json")); \
        print(next(a["api_key"] for a in d["agents"] if a["name"] == "triage-agent"))')
    python examples/triage_agent.py

Each containment waits in the console's approval queue (or Slack) until a reviewer
decides; `--no-wait` prints the approval ids instead and leaves the requests standing.
"""

from __future__ import annotations

import argparse
import asyncio

from agentvault import (
    ApprovalDeniedError,
    ApprovalExpiredError,
    ApprovalPendingError,
    ARXClient,
    PermissionDeniedError,
)


async def triage(limit: int, wait: bool) -> None:
    async with ARXClient() as arx:
        cs, jira = arx.crowdstrike(), arx.jira()
        found = await cs.get_detections(filter="status:'new'", limit=limit)
        ids = found.get("resources", [])
        if not ids:
            print("No new detections.")
            return
        details = await cs.get_detection_details(ids=ids)
        for d in details.get("resources", []):
            host = d["device"]
            worst = max(d.get("behaviors", []), key=lambda b: b.get("severity", 0), default={})
            why = (
                f"{worst.get('technique', 'suspicious activity')} on {host['hostname']}: "
                f"{worst.get('cmdline', '')}".strip()
            )
            print(f"{d['detection_id']}: {why}")
            try:
                await cs.contain_host(ids=[host["device_id"]], reasoning=why, wait=wait)
                print(f"  contained {host['hostname']}")
            except ApprovalPendingError as e:
                print(f"  waiting for a reviewer: approval {e.approval_id}")
            except (ApprovalDeniedError, ApprovalExpiredError) as e:
                outcome = "denied" if isinstance(e, ApprovalDeniedError) else "not decided in time"
                issue = await jira.create_issue(
                    project="SEC",
                    summary=f"Manual containment required: {host['hostname']}",
                    issue_type="Task",
                    description=f"{why}\n\nContainment was {outcome} (approval {e.approval_id}).",
                    priority="High",
                )
                print(f"  containment {outcome}; filed {issue.get('key', issue)}")
            except PermissionDeniedError as e:
                print(f"  policy denies containment (audit {e.audit_id}, risk {e.risk_score})")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--limit", type=int, default=5, help="detections to triage")
    p.add_argument("--no-wait", action="store_true", help="do not wait for reviewers")
    args = p.parse_args()
    asyncio.run(triage(args.limit, not args.no_wait))


if __name__ == "__main__":
    main()
