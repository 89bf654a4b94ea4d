//! The `winfactor` command: `serve`, `migrate`, `orgs …`, `catalog import|export`,
//! `keys create|list|revoke`, `operator-token` and `plugin check|run`.

mod commands;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;
use winfactor::config::{self, Settings};
use winfactor::orgs::Scope;
use winfactor::{Config, Store};

#[derive(Parser)]
#[command(name = "winfactor", version, about = "WinFactor Deep API & Events service")]
struct Cli {
    /// Optional TOML file with the same settings (flags and environment win).
    #[arg(long, global = true, env = "WINFACTOR_CONFIG")]
    config: Option<PathBuf>,
    /// Log as JSON lines instead of text.
    #[arg(long, global = true, env = "WINFACTOR_LOG_JSON")]
    log_json: bool,
    /// Log level (`error`, `warn`, `info`, `debug`, `trace`) or a filter such as
    /// `info,winfactor::outbox=debug`; default `RUST_LOG`, else `info`.
    #[arg(long, global = true, env = "WINFACTOR_LOG_LEVEL")]
    log_level: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service (migrates the database first).
    Serve(Settings),
    /// Apply pending database migrations and exit.
    Migrate(Settings),
    /// Provision organisations (operators).
    #[command(subcommand)]
    Orgs(commands::OrgsCommand),
    /// Import or export an organisation's catalog file.
    #[command(subcommand)]
    Catalog(commands::CatalogCommand),
    /// Manage API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Print a new operator token for `/admin/v1` (and, on stderr, the hash to configure).
    OperatorToken,
    /// Check and run pricing plugins locally, as production would.
    #[command(subcommand)]
    Plugin(PluginCommand),
}

#[derive(Subcommand)]
enum PluginCommand {
    /// The upload check, offline: a component implementing the pricing world, within the
    /// size cap, importing only what the host provides; compiled and linked.
    Check {
        /// The component (`target/wasm32-wasip2/release/NAME.wasm`).
        file: PathBuf,
    },
    /// Runs a component on a `pricing.calculated` event and shows the output, log and every
    /// figure against its production limit (exit code 1 if production would fail it).
    Run {
        /// The component.
        file: PathBuf,
        /// The event as JSON: the whole envelope or its `data`.
        #[arg(long)]
        input: PathBuf,
        /// The plugin's settings as JSON text.
        #[arg(long, default_value = "{}")]
        settings: String,
        /// Print a JSON report.
        #[arg(long)]
        json: bool,
    },
    /// Scaffolds a plugin project: the plugin, a unit test, a sample request, `build.sh`.
    New {
        /// The plugin's name (and directory).
        name: String,
        /// Its language.
        #[arg(long, value_enum)]
        lang: winfactor::plugins::authoring::Language,
        /// Where the kits are (default: `WINFACTOR_SDK`, else this build's `sdk/`).
        #[arg(long)]
        sdk: Option<PathBuf>,
    },
    /// Prints a realistic `pricing.calculated` request (a demo template's default
    /// configuration with its base pricing).
    SampleRequest {
        /// The demo template's slug (default: the first).
        #[arg(long)]
        template: Option<String>,
    },
    /// Uploads a component to a running service, waits for its compilation, shows the
    /// figures against the limits; exit code 1 if it is refused or fails to compile.
    Deploy {
        /// The component.
        file: PathBuf,
        /// The version's name.
        #[arg(long)]
        name: String,
        /// Its settings as JSON text.
        #[arg(long, default_value = "{}")]
        settings: String,
        /// Activate it once ready.
        #[arg(long)]
        activate: bool,
        /// The service's base URL.
        #[arg(long, env = "WINFACTOR_URL", default_value = "http://localhost:8080")]
        url: String,
        /// A read-write API key of the organisation.
        #[arg(long, env = "WINFACTOR_KEY", hide_env_values = true)]
        key: String,
    },
    /// The service's compile worker: reads a request line and a component on stdin,
    /// writes the compiled artifact to stdout (started by `serve`, not by hand).
    #[command(hide = true)]
    CompileWorker,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create a key and print it alone on stdout (it is shown only once).
    Create {
        /// Organisation slug.
        #[arg(long)]
        org: String,
        /// Only allow reads.
        #[arg(long)]
        read_only: bool,
        /// A label for the key.
        #[arg(long, default_value = "cli")]
        name: String,
        #[command(flatten)]
        settings: Settings,
    },
    /// List an organisation's keys.
    List {
        /// Organisation slug.
        #[arg(long)]
        org: String,
        #[command(flatten)]
        settings: Settings,
    },
    /// Revoke a key by id.
    Revoke {
        /// Organisation slug.
        #[arg(long)]
        org: String,
        /// Key id (`key_…`).
        id: String,
        #[command(flatten)]
        settings: Settings,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Plugin(PluginCommand::CompileWorker) = cli.command {
        // Before any runtime or logging: the worker limits its own memory, then compiles.
        return winfactor::plugins::compile_worker();
    }
    init_tracing(cli.log_json, cli.log_level.as_deref());
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    match runtime.block_on(execute(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn execute(cli: Cli) -> anyhow::Result<()> {
    let load = |settings: Settings| config::load(settings, cli.config.as_ref());
    match cli.command {
        Command::Serve(settings) => serve(load(settings)?).await,
        Command::Migrate(settings) => {
            let config = load(settings)?;
            Store::open(&config.database_url).await?.close().await;
            eprintln!("migrations applied to {}", config.database_url);
            Ok(())
        }
        Command::Orgs(command) => commands::orgs(command, load).await,
        Command::Catalog(command) => commands::catalog(command, load).await,
        Command::Keys(command) => keys(command, load).await,
        Command::OperatorToken => {
            commands::operator_token();
            Ok(())
        }
        Command::Plugin(command) => plugin(command).await,
    }
}

async fn plugin(command: PluginCommand) -> anyhow::Result<()> {
    use winfactor::plugins::{authoring, runner};
    match command {
        PluginCommand::CompileWorker => unreachable!("handled before the runtime starts"),
        PluginCommand::Check { file } => print!("{}", runner::check(&file)?),
        PluginCommand::New { name, lang, sdk } => print!(
            "{}",
            authoring::new_project(
                name.as_ref(),
                &name,
                lang,
                &authoring::sdk_dir(sdk),
                &authoring::sample_request(&winfactor::demo::catalog(), None)?
            )?
        ),
        PluginCommand::SampleRequest { template } => println!(
            "{:#}",
            authoring::sample_request(&winfactor::demo::catalog(), template.as_deref())?
        ),
        PluginCommand::Deploy { file, name, settings, activate, url, key } => {
            authoring::deploy(
                &authoring::Service { url, key },
                &file,
                &name,
                &settings,
                activate,
                &authoring::sample_request(&winfactor::demo::catalog(), None)?,
            )
            .await?
        }
        PluginCommand::Run { file, input, settings, json } => {
            let text = std::fs::read_to_string(&input)
                .with_context(|| format!("cannot read {}", input.display()))?;
            let event: serde_json::Value =
                serde_json::from_str(&text).with_context(|| format!("{}", input.display()))?;
            let run = runner::run(&file, &event, &settings, json).await?;
            print!("{}", run.output);
            if !run.passed {
                anyhow::bail!("the run would fail in production");
            }
        }
    }
    Ok(())
}

async fn serve(mut config: Config) -> anyhow::Result<()> {
    // Uploads compile in worker processes of this binary, under the compile limits.
    config.plugin_compiler =
        Some(winfactor::plugins::CompilerCommand::current_exe().context("locating this binary")?);
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    winfactor::run(config, listener, shutdown_signal()).await
}

async fn keys(
    command: KeysCommand,
    load: impl Fn(Settings) -> Result<Config, config::ConfigError>,
) -> anyhow::Result<()> {
    let (org_slug, settings) = match &command {
        KeysCommand::Create { org, settings, .. }
        | KeysCommand::List { org, settings }
        | KeysCommand::Revoke { org, settings, .. } => (org.clone(), settings.clone()),
    };
    let store = Store::open(&load(settings)?.database_url).await?;
    let org = store
        .org_by_slug(&org_slug)
        .await?
        .with_context(|| format!("no organisation with slug `{org_slug}`"))?;
    match command {
        KeysCommand::Create { read_only, name, .. } => {
            let scope = if read_only { Scope::Read } else { Scope::ReadWrite };
            println!("{}", store.create_api_key(&org.id, &name, scope).await?.secret);
        }
        KeysCommand::List { .. } => {
            for key in store.list_api_keys(&org.id).await? {
                let state = if key.revoked_at.is_some() { "revoked" } else { "active" };
                println!(
                    "{}\t{}…\t{}\t{}\t{}",
                    key.id,
                    key.prefix,
                    key.scope.as_str(),
                    state,
                    key.name
                );
            }
        }
        KeysCommand::Revoke { id, .. } => {
            anyhow::ensure!(
                store.revoke_api_key(&org.id, &id).await?,
                "no active key `{id}` in `{org_slug}`"
            );
            eprintln!("revoked {id}");
        }
    }
    store.close().await;
    Ok(())
}

fn init_tracing(json: bool, level: Option<&str>) {
    let filter = match level {
        Some(level) => EnvFilter::new(level),
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("a SIGTERM handler");
    tokio::select! {
        _ = interrupt => {}
        _ = terminate.recv() => {}
    }
    tracing::info!("shutting down; letting in-flight requests finish");
}
