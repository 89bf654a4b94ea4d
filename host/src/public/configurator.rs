//! The configurator page (`GET /configurator/{orgSlug}`, `?template=<slug>` to open one
//! product): plain HTML, CSS and JavaScript served by the host, no build step and no
//! external assets. It drives the public session API and shows the live price over
//! Server-Sent Events. Also `GET /` (a link to the demo) and the public catalog it reads
//! (`GET /public/v1/orgs/{orgSlug}/templates`).

use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{Html, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::quotes::{STYLE, escape};
use crate::catalog::Template;
use crate::demo::DEMO_ORG_SLUG;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Path};
use crate::http::{AppState, image_response};

const PAGE: &str = include_str!("assets/configurator.html");
const SCRIPT: &str = include_str!("assets/configurator.js");
const I18N: &str = include_str!("assets/i18n.js");

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(public_templates))
        .routes(routes!(public_logo))
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

/// The organisation's logo, as uploaded through `PUT /api/v1/organization/logo`.
#[utoipa::path(get, path = "/public/v1/orgs/{orgSlug}/logo", tag = "public", params(("orgSlug" = String, Path)),
    security(()), responses((status = 200, description = "The image", content((
            crate::http::FileBytes = "image/png"), (crate::http::FileBytes = "image/jpeg"))),
        (status = 404, body = crate::http::error::ErrorBody)))]
async fn public_logo(
    State(state): State<AppState>,
    Path(org_slug): Path<String>,
) -> ApiResult<Response> {
    let org = super::active_org(&state, &org_slug).await?;
    let logo = state.store.org_logo(&org.id).await?.ok_or(ApiError::NotFound("logo"))?;
    Ok(image_response(logo, "public, max-age=300"))
}

async fn configurator_page(
    State(state): State<AppState>,
    Path(org_slug): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Html<String>> {
    let org = super::active_org(&state, &org_slug).await?;
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    let (lang, locale) = page_language(accept, &org.locale);
    let logo = match state.store.org_logo(&org.id).await? {
        Some(_) => format!(
            r#"<img src="/public/v1/orgs/{}/logo" alt="{}">"#,
            escape(&org.slug),
            escape(&org.name)
        ),
        None => String::new(),
    };
    Ok(Html(
        PAGE.replace("{{STYLE}}", STYLE)
            .replace("{{I18N}}", I18N)
            .replace("{{SCRIPT}}", SCRIPT)
            .replace("{{LOGO}}", &logo)
            .replace("{{ORG_NAME}}", &escape(&org.name))
            .replace("{{ORG_SLUG}}", &escape(&org.slug))
            .replace("{{LANG}}", lang)
            .replace("{{LOCALE}}", &escape(&locale))
            .replace("{{UNITS}}", org.unit_system.as_str())
            .replace("{{CURRENCY}}", &escape(&org.currency)),
    ))
}

/// The languages the page's text is written in (`assets/i18n.js`).
const PAGE_LANGUAGES: [&str; 3] = ["en", "de", "nl"];

/// The page's language and the locale its numbers are written in: the first language of
/// `Accept-Language` the page speaks (with that entry's tag, `de-AT`, as the locale), else
/// the organisation's locale, else English.
fn page_language(accept: Option<&str>, org_locale: &str) -> (&'static str, String) {
    let supported = |tag: &str| {
        let language = tag.split(['-', '_']).next().unwrap_or_default().trim().to_ascii_lowercase();
        PAGE_LANGUAGES.into_iter().find(|known| *known == language)
    };
    let wanted = accept.into_iter().flat_map(|header| header.split(','));
    for entry in wanted {
        let tag = entry.split(';').next().unwrap_or_default().trim();
        let valid = !tag.is_empty() && tag.len() <= 35;
        let valid = valid && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if let Some(language) = supported(tag).filter(|_| valid) {
            return (language, tag.to_owned());
        }
    }
    match supported(org_locale) {
        Some(language) => (language, org_locale.to_owned()),
        None => ("en", org_locale.to_owned()),
    }
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

#[cfg(test)]
mod tests {
    use super::page_language;

    #[test]
    fn the_page_speaks_the_first_language_it_knows() {
        assert_eq!(page_language(Some("fr-FR,de-AT;q=0.8,en;q=0.5"), "nl"), ("de", "de-AT".into()));
        assert_eq!(page_language(Some("fr"), "nl-BE"), ("nl", "nl-BE".into()));
        assert_eq!(page_language(None, "pl"), ("en", "pl".into()));
        assert_eq!(page_language(Some("<script>"), "en"), ("en", "en".into()));
    }
}
