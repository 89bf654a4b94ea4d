//! Outgoing mail. Every mail is recorded in the mail outbox (listable through the API);
//! when `smtp_url` is configured it is also sent over SMTP (lettre), attachments included.

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::SecretUrl;
use crate::store::OutboxMail;

/// Sends mail over SMTP when configured.
#[derive(Clone)]
pub struct Mailer {
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("smtp", &self.transport.is_some())
            .field("from", &self.from)
            .finish()
    }
}

/// A file to attach.
pub struct MailAttachment {
    /// File name shown to the recipient.
    pub filename: String,
    /// MIME type.
    pub content_type: &'static str,
    /// The bytes.
    pub bytes: Vec<u8>,
}

impl Mailer {
    /// A mailer for `smtp_url` (`smtp://user:pass@host:port`, `?tls=required` for STARTTLS,
    /// `smtps://` for implicit TLS), or outbox-only without one.
    pub fn new(smtp_url: Option<&SecretUrl>, from: &str) -> anyhow::Result<Self> {
        let transport = smtp_url
            .map(|url| {
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose()).map(|b| b.build())
            })
            .transpose()
            .map_err(|err| anyhow::anyhow!("invalid smtp_url: {err}"))?;
        let from =
            from.parse().map_err(|err| anyhow::anyhow!("invalid mail_from `{from}`: {err}"))?;
        Ok(Self { transport, from })
    }

    /// Sends over SMTP if configured (the caller records the mail in the outbox either way).
    pub async fn send(
        &self,
        mail: &OutboxMail,
        attachment: Option<MailAttachment>,
    ) -> Result<(), String> {
        let Some(transport) = &self.transport else { return Ok(()) };
        let mut builder = Message::builder().from(self.from.clone()).subject(&mail.subject);
        for recipient in &mail.recipients {
            builder = builder
                .to(recipient.parse().map_err(|err| format!("recipient {recipient}: {err}"))?);
        }
        let text = SinglePart::plain(mail.body.clone());
        let message = match attachment {
            Some(file) => {
                let content_type =
                    ContentType::parse(file.content_type).map_err(|err| err.to_string())?;
                let part = Attachment::new(file.filename).body(file.bytes, content_type);
                builder.multipart(MultiPart::mixed().singlepart(text).singlepart(part))
            }
            None => builder.singlepart(text),
        }
        .map_err(|err| err.to_string())?;
        transport.send(message).await.map(|_| ()).map_err(|err| err.to_string())
    }
}
