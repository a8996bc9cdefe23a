//! The bootstrap credential files: `<data_dir>/initial-credentials.json`, mode 0600.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use tessera_app::BootstrapCredentials;

/// File name of the full bootstrap record.
pub const INITIAL_CREDENTIALS: &str = "initial-credentials.json";
/// File name of the service key's credentials, ready for the official Voximplant clients.
pub const SERVICE_KEY_CREDENTIALS: &str = "credentials.json";

/// The service key as the official clients load it.
#[must_use]
pub fn service_key_json(creds: &BootstrapCredentials) -> Value {
    json!({
        "account_email": creds.account.email,
        "account_id": creds.account.id,
        "key_id": creds.service_key.key_id.to_string(),
        "private_key": creds.service_key.private_key.expose(),
    })
}

/// The JSON written to `initial-credentials.json` (and printed by `tessera bootstrap`).
#[must_use]
pub fn to_json(creds: &BootstrapCredentials) -> Value {
    json!({
        "account_id": creds.account.id,
        "account_name": creds.account.name,
        "account_email": creds.account.email,
        "owner": {
            "user_id": creds.owner.id,
            "login": creds.owner.login.as_str(),
            "email": creds.owner.email,
            "password": creds.owner_password.expose(),
        },
        "access_key": {
            "id": creds.access_key.id.to_string(),
            "secret": creds.access_key.secret.expose(),
            "token": creds.access_key.token.expose(),
        },
        "service_key": service_key_json(creds),
    })
}

/// Writes `value` to `path`, readable and writable by the owner only (mode 0600, also when the
/// file existed before).
///
/// # Errors
/// IO errors.
pub fn write_private(path: &Path, value: &Value) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        tessera_store::db::create_private_dir(dir)?;
    }
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.set_permissions(fs::Permissions::from_mode(0o600))?;
    let mut text = serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
    text.push('\n');
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

/// Writes the bootstrap files into `data_dir` (`initial-credentials.json` and
/// `credentials.json`); returns the path of `initial-credentials.json`.
///
/// # Errors
/// IO errors.
pub fn write_files(data_dir: &Path, creds: &BootstrapCredentials) -> std::io::Result<PathBuf> {
    let path = data_dir.join(INITIAL_CREDENTIALS);
    write_private(&path, &to_json(creds))?;
    write_private(
        &data_dir.join(SERVICE_KEY_CREDENTIALS),
        &service_key_json(creds),
    )?;
    Ok(fs::canonicalize(&path).unwrap_or(path))
}
