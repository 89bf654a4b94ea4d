//! A real SMTP server for the suites: Python's aiosmtpd driven by `smtp_server.py` beside
//! this file (tests/run.sh installs aiosmtpd), recording every message it accepts, slow or
//! failing on request.

use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How the server behaves.
#[derive(Debug, Clone, Default)]
pub struct SmtpOptions {
    /// Wait this long after a message's data is in before answering (the message already
    /// counts as received).
    pub delay: Duration,
    /// Answer the first this many messages `451 try again later`.
    pub fail_first: usize,
    /// Recipients answered `550 no such user`.
    pub refuse: Vec<String>,
}

/// One accepted message.
#[derive(Debug, Clone)]
pub struct Mail {
    /// Envelope sender.
    pub from: String,
    /// Envelope recipients.
    pub to: Vec<String>,
    /// The message as transmitted (headers and body).
    pub data: String,
}

impl Mail {
    /// A header's value ("" if absent).
    pub fn header(&self, name: &str) -> &str {
        let prefix = format!("{}:", name.to_ascii_lowercase());
        self.data
            .lines()
            .take_while(|line| !line.is_empty())
            .find(|line| line.to_ascii_lowercase().starts_with(&prefix))
            .map_or("", |line| line[prefix.len()..].trim())
    }

    /// The message with quoted-printable soft line breaks undone (to search its text).
    pub fn text(&self) -> String {
        self.data.replace("=\r\n", "").replace("=\n", "")
    }
}

/// A running server; killed when dropped.
pub struct SmtpServer {
    /// Its port on 127.0.0.1.
    pub port: u16,
    child: Child,
    mails: Arc<Mutex<Vec<Mail>>>,
}

impl SmtpServer {
    /// Starts a server that accepts everything at once.
    pub fn start() -> Self {
        Self::start_with(SmtpOptions::default())
    }

    /// Starts a server behaving as `options` say; returns once it listens.
    pub fn start_with(options: SmtpOptions) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/support/smtp_server.py");
        let mut command = Command::new("python3");
        command
            .arg(script)
            .arg(port.to_string())
            .args(["--delay", &options.delay.as_secs_f64().to_string()])
            .args(["--fail-first", &options.fail_first.to_string()]);
        if !options.refuse.is_empty() {
            command.arg("--refuse").args(&options.refuse);
        }
        let mut child = command
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs smtp_server.py (tests/run.sh installs aiosmtpd)");
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        match lines.next() {
            Some(Ok(line)) if line == "ready" => {}
            other => panic!("the SMTP server did not start: {other:?}"),
        }
        let mails = Arc::new(Mutex::new(Vec::new()));
        let recorded = mails.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let value: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
                let to = value["to"].as_array().unwrap().iter();
                recorded.lock().unwrap().push(Mail {
                    from: value["from"].as_str().unwrap().to_owned(),
                    to: to.map(|v| v.as_str().unwrap().to_owned()).collect(),
                    data: value["data"].as_str().unwrap().to_owned(),
                });
            }
        });
        Self { port, child, mails }
    }

    /// `smtp://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The messages accepted so far.
    pub fn received(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }

    /// Waits until `count` messages were accepted (panics after `within`).
    pub async fn wait_for(&self, count: usize, within: Duration) -> Vec<Mail> {
        let deadline = Instant::now() + within;
        loop {
            let mails = self.received();
            if mails.len() >= count {
                return mails;
            }
            assert!(Instant::now() < deadline, "{} of {count} mails arrived", mails.len());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops the server: connections are refused from now on.
    pub fn stop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}
