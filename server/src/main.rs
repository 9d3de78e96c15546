//! Starts the API server: telemetry, configuration, then the application until SIGTERM.

use server::config::Config;
use server::startup::Application;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    server::telemetry::init(config.log_json);
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
