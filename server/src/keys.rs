//! The master key: from `ARX_MASTER_KEY`, else a key file in the data dir, created on
//! first start with mode 0600; a key file others may read is refused.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};

use arx_core::vault::MasterKey;

use crate::config::Config;

pub fn load_master_key(cfg: &Config) -> Result<MasterKey, String> {
    if let Some(k) = &cfg.master_key {
        return MasterKey::parse(k.expose()).map_err(|e| format!("ARX_MASTER_KEY: {e}"));
    }
    let path = cfg.data_dir.join("master.key");
    if path.exists() {
        let mode = std::fs::metadata(&path)
            .map(|m| m.permissions().mode() & 0o777)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        // The key decrypts every stored credential: a copy readable by other local
        // users is a leak waiting to happen, so refuse rather than warn.
        if mode & 0o077 != 0 {
            return Err(format!(
                "the master key file {p} has mode {mode:o}, readable by others; run `chmod 600 {p}` and start again",
                p = path.display()
            ));
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        return MasterKey::parse(&text).map_err(|e| format!("{}: {e}", path.display()));
    }
    let key = MasterKey::generate();
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    f.write_all(key.to_hex().as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    tracing::info!(path = %path.display(), "created a new master key file; back it up, credentials cannot be decrypted without it");
    Ok(key)
}
