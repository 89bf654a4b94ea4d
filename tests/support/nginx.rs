//! A real nginx (Debian's package) in front of several service processes, configured with
//! the block `docs/deployment.md` gives operators, its ports substituted. Every answer
//! carries `X-Upstream` (the replica that served it), so tests can see where requests
//! landed; nginx's round-robin alternates strictly between equal servers, which
//! [`Nginx::next_to`] relies on (and tests check through that header).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running nginx.
pub struct Nginx {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    child: Child,
    _dir: tempfile::TempDir,
}

/// The nginx binary: on `PATH`, else where Debian installs it.
fn binary() -> PathBuf {
    let on_path = Command::new("sh").args(["-c", "command -v nginx"]).output();
    match on_path {
        Ok(found) if found.status.success() => {
            PathBuf::from(String::from_utf8_lossy(&found.stdout).trim())
        }
        _ => PathBuf::from("/usr/sbin/nginx"),
    }
}

/// The `nginx` block of `docs/deployment.md`.
fn documented_config() -> String {
    let doc = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/deployment.md");
    let text = std::fs::read_to_string(doc).expect("docs/deployment.md");
    let start = text.find("```nginx\n").expect("an nginx block in docs/deployment.md") + 9;
    let end = start + text[start..].find("```").expect("the block ends");
    text[start..end].to_owned()
}

impl Nginx {
    /// Starts nginx on `127.0.0.1:port`, round-robin over `upstreams` (`127.0.0.1:PORT`
    /// each), with the documented configuration.
    pub async fn start(port: u16, upstreams: &[String]) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let documented = documented_config();
        let servers: String = upstreams
            .iter()
            .map(|address| format!("    server {address} max_fails=1 fail_timeout=5s;\n"))
            .collect();
        let mut lines: Vec<String> = Vec::new();
        for line in documented.lines() {
            if line.trim_start().starts_with("server 127.0.0.1:") {
                continue;
            }
            lines
                .push(line.replace("listen 127.0.0.1:8080;", &format!("listen 127.0.0.1:{port};")));
            if line.starts_with("upstream winfactor {") {
                lines.push(servers.trim_end().to_owned());
            }
            if line.trim() == "location / {" {
                lines.push("        add_header X-Upstream $upstream_addr always;".to_owned());
            }
        }
        let root = dir.path().display();
        let config = format!(
            "worker_processes 1;\ndaemon off;\npid {root}/nginx.pid;\nerror_log {root}/error.log warn;\n\
             events {{ worker_connections 4096; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {root}/body;\n  proxy_temp_path {root}/proxy;\n  \
             fastcgi_temp_path {root}/fastcgi;\n  uwsgi_temp_path {root}/uwsgi;\n  scgi_temp_path {root}/scgi;\n\
             {}\n}}\n",
            lines.join("\n")
        );
        // nginx started as root runs its worker as `nobody`, which must reach the temp paths.
        let open = std::os::unix::fs::PermissionsExt::from_mode(0o755);
        std::fs::set_permissions(dir.path(), open).expect("a readable directory");
        let path = dir.path().join("nginx.conf");
        std::fs::write(&path, config).expect("the nginx configuration");
        let child = Command::new(binary())
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("nginx starts (tests/run.sh installs Debian's package)");
        // Owned at once, so a panic below stops it too.
        let nginx = Self { url: format!("http://127.0.0.1:{port}"), child, _dir: dir };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return nginx;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("nginx did not listen on {port}");
    }

    /// Makes the next request through nginx land on `upstream` (`127.0.0.1:PORT`): asks
    /// `/healthz` until one is served by the *other* replica (round-robin then sends the
    /// next to `upstream`). For two upstreams.
    pub async fn next_to(&self, client: &reqwest::Client, upstream: &str) {
        for _ in 0..10 {
            let answer = client.get(format!("{}/healthz", self.url)).send().await.expect("nginx");
            if upstream_of(&answer) != upstream {
                return;
            }
        }
        panic!("nginx never served /healthz from another replica than {upstream}");
    }
}

/// The replica that served `response` (`X-Upstream`), empty if none.
pub fn upstream_of(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("x-upstream")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
