//! The configurator page (`GET /configurator/{orgSlug}`, `?template=<slug>` to open one
//! product): plain HTML, CSS and JavaScript served by the host, no build step and no
//! external assets. It drives the public session API and shows the live price over
//! Server-Sent Events. Also `GET /` (a link to the demo) and the public catalog it reads
//! (`GET /public/v1/orgs/{orgSlug}/templates`).

use axum::extract::State;
use axum::response::Html;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::quotes::{STYLE, escape};
use crate::catalog::Template;
use crate::demo::DEMO_ORG_SLUG;
use crate::http::AppState;
use crate::http::error::ApiResult;
use crate::http::extract::{Json, Path};

const PAGE: &str = include_str!("assets/configurator.html");
const SCRIPT: &str = include_str!("assets/configurator.js");

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(public_templates))
        .route("/configurator/{org_slug}", axum::routing::get(configurator_page))
        .route("/", axum::routing::get(index_page))
}

/// The organisation's templates for its configurator (without pricing rules).
#[utoipa::path(get, path = "/public/v1/orgs/{orgSlug}/templates", tag = "public", params(("orgSlug" = String, Path)),
    security(()), responses((status = 200, body = Vec<Template>), (status = 404, body = crate::http::error::ErrorBody)))]
async fn public_templates(
    State(state): State<AppState>,
    Path(org_slug): Path<String>,
) -> ApiResult<Json<Vec<Template>>> {
    let org = super::active_org(&state, &org_slug).await?;
    let mut templates = state.store.list_templates(&org.id).await?;
    for template in &mut templates {
        template.pricing_rules.clear(); // prices are the org's business; empty rules are omitted
    }
    Ok(Json(templates))
}

async fn configurator_page(
    State(state): State<AppState>,
    Path(org_slug): Path<String>,
) -> ApiResult<Html<String>> {
    let org = super::active_org(&state, &org_slug).await?;
    Ok(Html(
        PAGE.replace("{{STYLE}}", STYLE)
            .replace("{{SCRIPT}}", SCRIPT)
            .replace("{{ORG_NAME}}", &escape(&org.name))
            .replace("{{ORG_SLUG}}", &escape(&org.slug))
            .replace("{{LOCALE}}", &escape(&org.locale))
            .replace("{{CURRENCY}}", &escape(&org.currency)),
    ))
}

async fn index_page(State(state): State<AppState>) -> ApiResult<Html<String>> {
    let demo = state.store.org_by_slug(DEMO_ORG_SLUG).await?;
    let link = demo.map_or_else(String::new, |org| {
        format!(
            r#"<p><a href="/configurator/{}">Open the {} configurator</a></p>"#,
            org.slug,
            escape(&org.name)
        )
    });
    Ok(Html(format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>WinFactor</title><style>{STYLE}</style></head>
<body><main><h1>WinFactor</h1><p>Deep API &amp; Events: live pricing, REST API v1, signed webhooks.</p>{link}
<p><a href="/openapi.yaml">OpenAPI document</a></p></main></body></html>"#
    )))
}
