//! Outgoing mail. A quote mail is queued in the mail outbox by the transaction that records
//! the quote as sent and handed to the SMTP server (lettre) only after that commit: the
//! request makes the first attempt, and [`outbox`]'s worker retries what did not go out
//! (a refusal, a timeout, a process killed in between). Delivery is at least once: a mail
//! the server took just before the process died goes again, with the same `Message-ID`.
//! Without `smtp_url` the outbox is the only delivery (listable through the API).

pub mod outbox;

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::outbox::RetrySchedule;
use crate::store::OutboxMail;
use crate::urls::SecretUrl;

pub use outbox::start_worker;

/// Default longest SMTP attempt.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Default delays before each retry of a mail: 1 min, 5 min, 15 min, 1 h, 6 h.
pub fn default_retries() -> RetrySchedule {
    RetrySchedule([60, 300, 900, 3600, 21_600].map(Duration::from_secs).to_vec())
}

/// Sends mail over SMTP when configured.
#[derive(Clone)]
pub struct Mailer {
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
    timeout: Duration,
    retries: RetrySchedule,
    /// Where customers' quote pages live, for the view link in attached quote PDFs.
    public_url: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("smtp", &self.transport.is_some())
            .field("from", &self.from)
            .field("timeout", &self.timeout)
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

/// Why a mail did not go out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    /// The server refused it for good (an SMTP 5xx, a bad address): retrying cannot help.
    pub permanent: bool,
    /// What happened.
    pub message: String,
}

impl SendError {
    fn permanent(message: impl ToString) -> Self {
        Self { permanent: true, message: message.to_string() }
    }
}

impl Mailer {
    /// A mailer for `smtp_url` (`smtp://user:pass@host:port`, `?tls=required` for STARTTLS,
    /// `smtps://` for implicit TLS), or outbox-only without one. `timeout` bounds each
    /// attempt; `retries` spaces the attempts after a failed one.
    pub fn new(
        smtp_url: Option<&SecretUrl>,
        from: &str,
        timeout: Duration,
        retries: RetrySchedule,
    ) -> anyhow::Result<Self> {
        let transport = smtp_url
            .map(|url| {
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                    .map(|builder| builder.timeout(Some(timeout)).build())
            })
            .transpose()
            .map_err(|err| anyhow::anyhow!("invalid smtp_url: {err}"))?;
        let from =
            from.parse().map_err(|err| anyhow::anyhow!("invalid mail_from `{from}`: {err}"))?;
        Ok(Self { transport, from, timeout, retries, public_url: String::new() })
    }

    /// The same mailer, linking attached quote PDFs to customers' pages under `public_url`
    /// (without it the PDFs carry no view link).
    pub fn with_public_url(mut self, public_url: &str) -> Self {
        public_url.clone_into(&mut self.public_url);
        self
    }

    /// Where customers' quote pages live (empty when not set).
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// Whether mail goes out over SMTP (else the outbox is its only delivery).
    pub fn smtp(&self) -> bool {
        self.transport.is_some()
    }

    /// When a mail claimed at `now` (epoch ms) stops being reserved for its attempt: twice
    /// the timeout plus 5 s. Past it, another attempt (this process's worker after a
    /// restart, or another replica's) takes the mail over.
    pub fn lease_end(&self, now: i64) -> i64 {
        let lease = self.timeout * 2 + Duration::from_secs(5);
        now.saturating_add(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX))
    }

    /// The delays between attempts.
    pub fn retries(&self) -> &RetrySchedule {
        &self.retries
    }

    /// Before anything is recorded: connects, greets and says goodbye, so a server that
    /// is down, refuses the connection or rejects the credentials fails the request while
    /// nothing has changed yet.
    pub async fn check_server(&self) -> Result<(), String> {
        let Some(transport) = &self.transport else { return Ok(()) };
        match tokio::time::timeout(self.timeout, transport.test_connection()).await {
            Ok(Ok(true)) => Ok(()),
            Ok(Ok(false)) => Err("the mail server did not answer".into()),
            Ok(Err(err)) => Err(err.to_string()),
            Err(_) => Err(format!("the mail server did not answer within {:?}", self.timeout)),
        }
    }

    /// Sends mail `id` over SMTP (a no-op without a server), within the timeout. The
    /// `Message-ID` is derived from `id`, so a repeated delivery is recognisable.
    pub async fn send(
        &self,
        id: &str,
        mail: &OutboxMail,
        attachment: Option<MailAttachment>,
    ) -> Result<(), SendError> {
        let Some(transport) = &self.transport else { return Ok(()) };
        let message = self.message(id, mail, attachment)?;
        match tokio::time::timeout(self.timeout, transport.send(message)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(err)) => {
                Err(SendError { permanent: err.is_permanent(), message: err.to_string() })
            }
            Err(_) => Err(SendError {
                permanent: false,
                message: format!("no answer within {:?}", self.timeout),
            }),
        }
    }

    fn message(
        &self,
        id: &str,
        mail: &OutboxMail,
        attachment: Option<MailAttachment>,
    ) -> Result<Message, SendError> {
        let message_id = format!("<{id}@{}>", self.from.email.domain());
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(&mail.subject)
            .message_id(Some(message_id));
        for recipient in &mail.recipients {
            let to = recipient
                .parse()
                .map_err(|err| SendError::permanent(format!("recipient {recipient}: {err}")))?;
            builder = builder.to(to);
        }
        let text = SinglePart::plain(mail.body.clone());
        match attachment {
            Some(file) => {
                let content_type =
                    ContentType::parse(file.content_type).map_err(SendError::permanent)?;
                let part = Attachment::new(file.filename).body(file.bytes, content_type);
                builder.multipart(MultiPart::mixed().singlepart(text).singlepart(part))
            }
            None => builder.singlepart(text),
        }
        .map_err(SendError::permanent)
    }
}
