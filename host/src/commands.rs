//! The operator's commands of the `winfactor` binary: `orgs …`, `catalog …` and
//! `operator-token`. They work on the database directly (the service may be running) through
//! the same use cases as the operator API (`/admin/v1`).

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};
use sha2::{Digest, Sha256};
use winfactor::catalog::definition::CatalogFile;
use winfactor::config::Settings;
use winfactor::orgs::{Org, Plan, UnitSystem};
use winfactor::services::{self, orgs::OrgInput};
use winfactor::store::TemplateWrite;
use winfactor::{Config, Store};

/// `winfactor orgs …`
#[derive(Subcommand)]
pub enum OrgsCommand {
    /// Create an organisation; prints it as JSON.
    Create {
        /// URL slug (lowercase letters, digits, inner hyphens).
        #[arg(long)]
        slug: String,
        #[command(flatten)]
        profile: Profile,
        /// ISO 4217 code of every price.
        #[arg(long, default_value = "EUR")]
        currency: String,
        #[command(flatten)]
        settings: Settings,
    },
    /// List organisations: slug, id, plan, currency, state.
    List {
        #[command(flatten)]
        settings: Settings,
    },
    /// Change an organisation's profile or plan; prints it as JSON.
    Update {
        /// The organisation's slug.
        slug: String,
        #[command(flatten)]
        profile: Profile,
        #[command(flatten)]
        settings: Settings,
    },
    /// Disable an organisation: keys refused, public pages gone, deliveries paused.
    Disable {
        /// The organisation's slug.
        slug: String,
        #[command(flatten)]
        settings: Settings,
    },
    /// Enable a disabled organisation again (its paused deliveries go out).
    Enable {
        /// The organisation's slug.
        slug: String,
        #[command(flatten)]
        settings: Settings,
    },
}

/// Profile fields of `orgs create` and `orgs update` (update changes only those given).
#[derive(Args)]
pub struct Profile {
    /// Display name.
    #[arg(long)]
    name: Option<String>,
    /// Contact email.
    #[arg(long)]
    email: Option<String>,
    /// Contact phone.
    #[arg(long)]
    phone: Option<String>,
    /// Logo URL (`http(s)://…`).
    #[arg(long)]
    logo_url: Option<String>,
    /// Default locale, e.g. `nl` or `de-CH` (default `en`).
    #[arg(long)]
    locale: Option<String>,
    /// `metric` or `imperial` (default `metric`).
    #[arg(long, value_parser = parse_unit_system)]
    unit_system: Option<UnitSystem>,
    /// `free`, `pro` or `enterprise` (default `free`).
    #[arg(long, value_parser = parse_plan)]
    plan: Option<Plan>,
    /// Configurator wait for external prices, ms (default 10000).
    #[arg(long)]
    pricing_timeout_ms: Option<i64>,
}

impl Profile {
    fn into_input(self, slug: Option<String>, currency: Option<String>) -> OrgInput {
        OrgInput {
            slug,
            name: self.name,
            email: self.email,
            phone: self.phone,
            logo_url: self.logo_url,
            currency,
            locale: self.locale,
            unit_system: self.unit_system,
            plan: self.plan,
            pricing_timeout_ms: self.pricing_timeout_ms,
        }
    }
}

fn parse_plan(text: &str) -> Result<Plan, String> {
    Plan::parse(text).ok_or_else(|| "one of free, pro, enterprise".into())
}

fn parse_unit_system(text: &str) -> Result<UnitSystem, String> {
    UnitSystem::parse(text).ok_or_else(|| "metric or imperial".into())
}

/// `winfactor catalog …`
#[derive(Subcommand)]
pub enum CatalogCommand {
    /// Import a catalog file (or every `*.json` of a directory, in name order) into an
    /// organisation: all of it is validated first; each template is created or given a
    /// new version; templates the file does not name stay.
    Import {
        /// The organisation's slug.
        #[arg(long)]
        org: String,
        /// A catalog file or a directory of them.
        path: PathBuf,
        #[command(flatten)]
        settings: Settings,
    },
    /// Print an organisation's catalog as a file (import it elsewhere to move or restore).
    Export {
        /// The organisation's slug.
        #[arg(long)]
        org: String,
        /// Write here instead of to standard output.
        #[arg(long)]
        output: Option<PathBuf>,
        #[command(flatten)]
        settings: Settings,
    },
}

/// Runs an `orgs` command.
pub async fn orgs(
    command: OrgsCommand,
    load: impl Fn(Settings) -> Result<Config, winfactor::config::ConfigError>,
) -> anyhow::Result<()> {
    let settings = match &command {
        OrgsCommand::Create { settings, .. }
        | OrgsCommand::List { settings }
        | OrgsCommand::Update { settings, .. }
        | OrgsCommand::Disable { settings, .. }
        | OrgsCommand::Enable { settings, .. } => settings.clone(),
    };
    let store = Store::open(&load(settings)?.database_url).await?;
    let result = run_orgs(&store, command).await;
    store.close().await;
    result
}

async fn run_orgs(store: &Store, command: OrgsCommand) -> anyhow::Result<()> {
    match command {
        OrgsCommand::Create { slug, profile, currency, .. } => {
            let input = profile.into_input(Some(slug), Some(currency));
            print_org(&services::orgs::create(store, input).await.map_err(explain)?)
        }
        OrgsCommand::List { .. } => {
            for org in store.list_orgs().await? {
                let state = if org.is_active() { "active" } else { "disabled" };
                let plan = org.plan.as_str();
                println!("{}\t{}\t{plan}\t{}\t{state}", org.slug, org.id, org.currency);
            }
            Ok(())
        }
        OrgsCommand::Update { slug, profile, .. } => {
            let input = profile.into_input(None, None);
            print_org(&services::orgs::update(store, &slug, input).await.map_err(explain)?)
        }
        OrgsCommand::Disable { slug, .. } => {
            services::orgs::set_disabled(store, &slug, true).await.map_err(explain)?;
            eprintln!("disabled {slug}");
            Ok(())
        }
        OrgsCommand::Enable { slug, .. } => {
            services::orgs::set_disabled(store, &slug, false).await.map_err(explain)?;
            eprintln!("enabled {slug}");
            Ok(())
        }
    }
}

fn print_org(org: &Org) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(org)?);
    Ok(())
}

/// Runs a `catalog` command.
pub async fn catalog(
    command: CatalogCommand,
    load: impl Fn(Settings) -> Result<Config, winfactor::config::ConfigError>,
) -> anyhow::Result<()> {
    let (org_slug, settings) = match &command {
        CatalogCommand::Import { org, settings, .. }
        | CatalogCommand::Export { org, settings, .. } => (org.clone(), settings.clone()),
    };
    let store = Store::open(&load(settings)?.database_url).await?;
    let result = async {
        let org = services::orgs::find(&store, &org_slug).await.map_err(explain)?;
        match command {
            CatalogCommand::Import { path, .. } => {
                let file = read_catalog(&path)?;
                let report =
                    services::catalogs::import(&store, &org, &file).await.map_err(explain)?;
                for (slug, write) in report.templates {
                    let what = match write {
                        TemplateWrite::Created => "created",
                        TemplateWrite::Replaced => "new version",
                        TemplateWrite::Unchanged => "unchanged",
                    };
                    eprintln!("{slug}: {what}");
                }
            }
            CatalogCommand::Export { output, .. } => {
                let text = services::catalogs::export(&store, &org).await?.to_text();
                match output {
                    Some(path) => std::fs::write(&path, text)
                        .with_context(|| format!("cannot write {}", path.display()))?,
                    None => print!("{text}"),
                }
            }
        }
        anyhow::Ok(())
    }
    .await;
    store.close().await;
    result
}

/// The catalog of a file, or of every `*.json` file of a directory (name order) together.
fn read_catalog(path: &Path) -> anyhow::Result<CatalogFile> {
    let files = if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|file| file.extension().is_some_and(|ext| ext == "json"))
            .collect();
        files.sort();
        files
    } else {
        vec![path.to_owned()]
    };
    let mut catalog = CatalogFile { templates: Vec::new() };
    for file in files {
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let parsed = services::catalogs::parse(&text)
            .map_err(|err| anyhow::anyhow!("{}: {}", file.display(), describe(&err)))?;
        catalog.templates.extend(parsed.templates);
    }
    Ok(catalog)
}

/// A use case's failure as the command line shows it: every invalid field on a line.
fn explain(err: services::Error) -> anyhow::Error {
    anyhow::anyhow!(describe(&err))
}

fn describe(err: &services::Error) -> String {
    match err {
        services::Error::Invalid(errors) => {
            let lines: Vec<String> = errors
                .iter()
                .map(|e| {
                    format!(
                        "  {}: {}",
                        if e.path.is_empty() { "(root)" } else { &e.path },
                        e.message
                    )
                })
                .collect();
            format!("not valid:\n{}", lines.join("\n"))
        }
        other => other.to_string(),
    }
}

/// `winfactor operator-token`: a fresh operator token and the hash to configure.
pub fn operator_token() {
    let token = format!("wfop_{}", winfactor::ids::random_alphanumeric(40));
    let hash = hex::encode(Sha256::digest(token.as_bytes()));
    println!("{token}");
    eprintln!("configure the service with WINFACTOR_OPERATOR_TOKEN_SHA256={hash}");
    eprintln!("(or operator_token_sha256 = \"{hash}\" in its settings file)");
}
