//! Azure Resource Manager storage accounts: the ARM resource shape, with the security
//! settings that a PATCH changes kept in the simulator's state.

use serde_json::{Map, Value, json};

use super::{Ctx, Reply, ok};

fn account(ctx: &Ctx<'_>) -> Value {
    let (rg, name) = (ctx.param("resource_group"), ctx.param("account"));
    let key = format!("azure/storage/{rg}/{name}");
    let mut props: Map<String, Value> = match ctx.stored(&key) {
        Some(Value::Object(m)) => m,
        // A misconfigured account until something fixes it.
        _ => json!({
            "allowBlobPublicAccess": true,
            "minimumTlsVersion": "TLS1_0",
            "supportsHttpsTrafficOnly": false,
            "provisioningState": "Succeeded",
        })
        .as_object()
        .cloned()
        .unwrap_or_default(),
    };
    if ctx.op == "storage_accounts:update"
        && let Some(Value::Object(changes)) = ctx.body.get("properties")
    {
        props.extend(changes.clone());
        ctx.store(key, Value::Object(props.clone()));
    }
    json!({
        "id": format!("/subscriptions/sub/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts/{name}"),
        "name": name,
        "type": "Microsoft.Storage/storageAccounts",
        "location": "westeurope",
        "kind": "StorageV2",
        "properties": props,
    })
}

pub(super) fn respond(ctx: &Ctx<'_>) -> Reply {
    ok(account(ctx))
}
