//! Starts the API server: telemetry, configuration, then the application until SIGTERM.
//!
//! Two maintenance commands run against the configured database and exit:
//! - `server rotate-signing-key`: publish a new access-token signing key; it signs from
//!   `SIGNING_KEY_PUBLISH_SECS` on, and the old one stays published until its tokens expire.
//! - `server rotate-secret-key`: seal every stored secret again under `SECRET_KEY` (run with
//!   the old key as `SECRET_KEY_PREVIOUS`).

use anyhow::bail;
use server::config::Config;
use server::db::Db;
use server::startup::{Application, jwt_settings, sealer};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    server::telemetry::init(config.log_json);
    match std::env::args().nth(1).as_deref() {
        None | Some("serve") => serve(config).await,
        Some("rotate-signing-key") => {
            let db = Db::connect_with(&config.database_url, &config.database).await?;
            let kid =
                server::auth::jwt::rotate(&db, &sealer(&config)?, &jwt_settings(&config)).await?;
            println!(
                "new signing key {kid}: published now, signing in {} s",
                config.signing_key_publish.as_secs()
            );
            Ok(())
        }
        Some("rotate-secret-key") => {
            let db = Db::connect_with(&config.database_url, &config.database).await?;
            let n = server::secrets::reseal_all(&db, &sealer(&config)?).await?;
            println!("sealed {n} stored secrets again under SECRET_KEY");
            Ok(())
        }
        Some(other) => {
            bail!(
                "unknown command {other:?}: expected serve, rotate-signing-key or rotate-secret-key"
            )
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let app = Application::build(config.clone()).await?;
    tracing::info!(
        "listening on http://{}:{} (database: {})",
        config.host,
        app.port(),
        config
            .database_url
            .split(['?', '@'])
            .next_back()
            .unwrap_or_default()
    );
    app.run().await
}
