//! First start without `--demo`: an empty database gets an org and a local admin whose
//! password is printed once on standard output (never logged), so someone can sign in.

use arx_core::audit::Actor;
use arx_core::engine::new_secret_token;
use arx_core::model::Role;
use arx_core::{CoreError, Engine};

/// The admin created on first start, if this was the first start.
pub struct Bootstrap {
    pub org: String,
    pub email: String,
    pub password: String,
}

pub async fn first_start(engine: &Engine) -> Result<Option<Bootstrap>, CoreError> {
    if !engine.system().orgs().await?.is_empty() {
        return Ok(None);
    }
    let slug = std::env::var("ARX_BOOTSTRAP_ORG").unwrap_or_else(|_| "default".into());
    let email =
        std::env::var("ARX_BOOTSTRAP_ADMIN_EMAIL").unwrap_or_else(|_| "admin@arx.local".into());
    let org = engine.system().create_org(&slug, &slug).await?;
    let password: String = new_secret_token("").chars().take(20).collect();
    engine
        .system()
        .create_local_user(
            org.id,
            &email,
            "Administrator",
            Role::Admin,
            &password,
            Actor::system(),
        )
        .await?;
    Ok(Some(Bootstrap {
        org: org.slug,
        email,
        password,
    }))
}
