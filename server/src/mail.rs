//! Outgoing email: SMTP when `SMTP_HOST` is set, else `.eml` files in `MAIL_OUTBOX`, where a
//! developer (and the tests) can open them.
//!
//! Sending never blocks or fails a request: [`Mailer::send`] hands the message to a spawned
//! task, which logs the outcome. Messages carry tokens (reset links), so neither the body
//! nor the recipient's address is ever logged; only what kind of message it was.

use std::sync::Arc;

use anyhow::Context;
use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

use crate::config::{Config, Smtp};

/// One email to one recipient, plain text.
pub struct Email {
    pub to: String,
    pub subject: String,
    pub body: String,
    /// What the message is, for the log: `password reset`, `password changed`...
    pub kind: &'static str,
}

/// Sends email in the background. Cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    transport: Arc<Transport>,
}

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Outbox(AsyncFileTransport<Tokio1Executor>),
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let transport = match *self.transport {
            Transport::Smtp(_) => "smtp",
            Transport::Outbox(_) => "outbox",
        };
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .field("transport", &transport)
            .finish()
    }
}

impl Mailer {
    /// SMTP if configured, else the outbox folder (created if missing).
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        let from: Mailbox = config.mail_from.parse().with_context(|| {
            format!("MAIL_FROM is not an email address: {:?}", config.mail_from)
        })?;
        let transport = match &config.smtp {
            Some(smtp) => Transport::Smtp(smtp_transport(smtp)?),
            None => {
                std::fs::create_dir_all(&config.mail_outbox).with_context(|| {
                    format!("cannot create MAIL_OUTBOX {}", config.mail_outbox.display())
                })?;
                Transport::Outbox(AsyncFileTransport::new(&config.mail_outbox))
            }
        };
        Ok(Self {
            from,
            transport: Arc::new(transport),
        })
    }

    /// Queues `email` and returns at once. Failures are logged, without the message.
    pub fn send(&self, email: Email) {
        let kind = email.kind;
        let message = match self.build(email) {
            Ok(message) => message,
            Err(e) => {
                tracing::warn!(kind, error = %e, "email not sent: cannot build the message");
                return;
            }
        };
        let transport = Arc::clone(&self.transport);
        tokio::spawn(async move {
            let sent = match &*transport {
                Transport::Smtp(t) => t.send(message).await.map(drop).map_err(|e| e.to_string()),
                Transport::Outbox(t) => t.send(message).await.map(drop).map_err(|e| e.to_string()),
            };
            match sent {
                Ok(()) => tracing::info!(kind, "email sent"),
                Err(error) => tracing::warn!(kind, %error, "email not sent"),
            }
        });
    }

    fn build(&self, email: Email) -> anyhow::Result<Message> {
        let to: Mailbox = email
            .to
            .parse()
            .context("the recipient is not a valid address")?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(email.body)
            .context("the message cannot be encoded")
    }
}

fn smtp_transport(smtp: &Smtp) -> anyhow::Result<AsyncSmtpTransport<Tokio1Executor>> {
    let builder = match smtp.tls.as_str() {
        "tls" => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host),
        "none" => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
            &smtp.host,
        )),
        _ => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host),
    }
    .with_context(|| format!("SMTP_HOST {:?} is not usable", smtp.host))?;
    let mut builder = builder.port(smtp.port);
    if let Some(username) = &smtp.username {
        let password = smtp
            .password
            .as_ref()
            .map(|p| p.expose_secret().to_owned())
            .unwrap_or_default();
        builder = builder.credentials(Credentials::new(username.clone(), password));
    }
    Ok(builder.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(outbox: &std::path::Path) -> Config {
        let outbox = outbox.display().to_string();
        Config::from_lookup(|key| match key {
            "MAIL_OUTBOX" => Some(outbox.clone()),
            "SECRET_KEY" => Some("07".repeat(32)),
            _ => None,
        })
        .unwrap()
    }

    #[tokio::test]
    async fn without_smtp_mail_lands_in_the_outbox_folder_it_creates() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = dir.path().join("new").join("outbox");
        let mailer = Mailer::new(&config(&outbox)).unwrap();
        mailer.send(Email {
            to: "susan@example.com".into(),
            subject: "Hello".into(),
            body: "Visit http://localhost:8080/reset?token=abc".into(),
            kind: "test",
        });
        for _ in 0..100 {
            if let Some(entry) = std::fs::read_dir(&outbox).unwrap().next() {
                let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
                assert!(text.contains("To: susan@example.com"), "{text}");
                assert!(text.contains("Subject: Hello"), "{text}");
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("no .eml file in the outbox");
    }

    #[tokio::test]
    async fn a_bad_recipient_is_logged_not_raised() {
        let dir = tempfile::tempdir().unwrap();
        let mailer = Mailer::new(&config(dir.path())).unwrap();
        mailer.send(Email {
            to: "not an address".into(),
            subject: "x".into(),
            body: "x".into(),
            kind: "test",
        });
    }

    #[test]
    fn smtp_settings_build_a_transport_without_connecting() {
        let smtp = Smtp {
            host: "smtp.example.com".into(),
            port: 2525,
            tls: "starttls".into(),
            username: Some("u".into()),
            password: Some("p".to_owned().into()),
        };
        assert!(smtp_transport(&smtp).is_ok());
    }
}
