"""agentvault: the Python SDK of ARX, the governance gateway between AI agents and
security tools.

    from agentvault import ARXClient

    async with ARXClient() as arx:            # ARX_API_KEY, ARX_BASE_URL
        cs = arx.crowdstrike()
        detections = await cs.get_detections(filter="status:'new'", limit=50)

Every call goes to ``POST /v1/sdk/execute``, where ARX scores it, decides it by
policy, records it in the hash-chained audit trail, waits for a reviewer when policy
escalates it, and runs it with credentials the agent never sees.
"""

__version__ = "0.1.0"

from .catalog import ConnectorInfo, OperationInfo, PageSpec, ParamInfo  # noqa: E402
from .client import ARXClient, SyncARXClient  # noqa: E402
from .connector import (  # noqa: E402
    CallOptions,
    CrowdStrikeConnector,
    Executed,
    JiraConnector,
    SDKConnector,
    SplunkConnector,
    SyncCrowdStrikeConnector,
    SyncJiraConnector,
    SyncSDKConnector,
    SyncSplunkConnector,
    adf,
)
from .errors import (  # noqa: E402
    APIError,
    ApprovalCancelledError,
    ApprovalDeniedError,
    ApprovalExpiredError,
    ApprovalPendingError,
    ARXError,
    PermissionDeniedError,
)
from .session import SessionContext  # noqa: E402

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .verify import ChainVerification, verify_chain


def __getattr__(name: str) -> object:
    # The verifier is imported when first used: a client does not need it, and
    # `python -m agentvault.verify` must not find it imported already.
    if name in ("verify_chain", "ChainVerification"):
        from . import verify

        return getattr(verify, name)
    raise AttributeError(f"module 'agentvault' has no attribute {name!r}")

__all__ = [
    "__version__",
    "ARXClient",
    "SyncARXClient",
    "SDKConnector",
    "SyncSDKConnector",
    "CrowdStrikeConnector",
    "SyncCrowdStrikeConnector",
    "SplunkConnector",
    "SyncSplunkConnector",
    "JiraConnector",
    "SyncJiraConnector",
    "CallOptions",
    "Executed",
    "adf",
    "SessionContext",
    "ConnectorInfo",
    "OperationInfo",
    "PageSpec",
    "ParamInfo",
    "ARXError",
    "PermissionDeniedError",
    "ApprovalPendingError",
    "ApprovalDeniedError",
    "ApprovalExpiredError",
    "ApprovalCancelledError",
    "APIError",
    "verify_chain",
    "ChainVerification",
]
