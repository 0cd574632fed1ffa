//! The e-mail channel: SMTP through lettre, on when `SMTP_URL` is set. `smtp://` is plain
//! (or `?tls=required`), `smtps://` is TLS from the first byte; credentials go in the URL.

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::SmtpConfig;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("the mail server is not usable: {0}")]
    Setup(String),
    /// Worth trying again later: the server was unreachable or answered 4xx.
    #[error("the mail server did not take the message now: {0}")]
    Transient(String),
    /// The server refused the message for good (5xx: no such mailbox …).
    #[error("the mail server refused the message: {0}")]
    Refused(String),
}

#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    pub fn from_config(config: &SmtpConfig) -> Result<Mailer, MailError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(config.url.expose())
            .map_err(|e| MailError::Setup(e.to_string()))?
            .timeout(Some(std::time::Duration::from_secs(20)))
            .build();
        let from = config
            .from
            .parse()
            .map_err(|e: lettre::address::AddressError| MailError::Setup(e.to_string()))?;
        Ok(Mailer { transport, from })
    }

    /// Sends one plain-text message.
    pub async fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), MailError> {
        let to: Mailbox = to
            .parse()
            .map_err(|e: lettre::address::AddressError| MailError::Refused(e.to_string()))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_PLAIN)
                    // lettre picks the transfer encoding (base64 for Cyrillic).
                    .body(body.to_owned()),
            )
            .map_err(|e| MailError::Refused(e.to_string()))?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(MailError::Refused(e.to_string())),
            Err(e) => Err(MailError::Transient(e.to_string())),
        }
    }
}
