//! The OpenAPI 3.1 document of `/api/v1`, generated from the handlers'
//! `#[utoipa::path]` annotations and the body types, served at
//! `/api/v1/openapi.json`, and the documentation page `/api/docs` drawn from
//! the same document on the server (no script, no external asset).

use askama::Template;
use axum::Router;
use axum::http::HeaderValue;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, RefOr};
use utoipa::{Modify, OpenApi};

use crate::web::{Chrome, Ctx, render};
use crate::{ApiError, AppState};

/// A string schema whose values are a vocabulary's keys.
fn keys(description: &str, keys: impl Iterator<Item = &'static str>) -> Schema {
    Schema::Object(
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .description(Some(description))
            .enum_values(Some(keys.collect::<Vec<_>>()))
            .build(),
    )
}

/// Defines `fn $name() -> Schema` listing the keys of vocabulary `$ty`, for
/// `#[schema(schema_with = …)]` on body fields.
macro_rules! vocabulary_schema {
    ($($name:ident => $ty:ty, $doc:literal;)+) => {$(
        #[doc = concat!("The schema of ", $doc, ".")]
        pub fn $name() -> Schema {
            keys($doc, <$ty>::ALL.iter().map(|v| v.key()))
        }
    )+};
}

vocabulary_schema! {
    category => yuanjiang_domain::Category, "a project category (类别)";
    delivery_mode => yuanjiang_domain::DeliveryMode, "a delivery mode (实施方式)";
    project_kind => yuanjiang_domain::ProjectKind, "a project kind (项目类型)";
    project_state => yuanjiang_domain::ProjectState, "a lifecycle state (项目状态)";
    fund_type => yuanjiang_domain::FundType, "a fund-chain step (资金环节)";
    approval_step => yuanjiang_domain::ApprovalStep, "an approval step (审批操作)";
    assignment_category => yuanjiang_domain::AssignmentCategory, "cadre or professional (人员类别)";
    assignment_mode => yuanjiang_domain::AssignmentMode, "how the person is posted (派驻方式)";
}

/// Adds the two ways to call the API: a bearer token, or the session
/// cookie with the `x-csrf-token` header for writes.
struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("API token (`yuanjiang token create`); 接口令牌"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::SESSION_COOKIE,
                "Session cookie from POST /login; writes also need the x-csrf-token header \
                 (GET /api/v1/me gives it). 会话 Cookie，写操作还需 x-csrf-token 头",
            ))),
        );
    }
}

/// The API's document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Yuanjiang (援疆通) API",
        description = "The data of paired assistance to Xinjiang (对口援疆): projects, funds, \
            people and results. Amounts are integer fen (1 yuan = 100 fen). Errors are \
            `{\"error\": {\"code\", \"field\", \"message\": {\"zh-CN\", \"en\"}}}`. Every \
            caller sees what the role's scope allows; out of scope answers 404 like absent. \
            Lists page with `limit` and `cursor` (the previous page's `next_cursor`), with no \
            cap on how far. Writes take `If-Match` with the `ETag` of the version read.",
        license(name = "Apache-2.0"),
    ),
    modifiers(&Security),
    security((), ("token" = []), ("session" = [])),
    paths(
        super::healthz,
        me,
        super::projects,
        super::project,
        super::parties,
        super::pairings,
        super::fund_stats,
        super::writes::create_project,
        super::writes::update_project,
        super::writes::change_state,
        super::writes::add_transaction,
        super::writes::get_transaction,
        super::writes::update_transaction,
        super::writes::put_indicator,
        super::writes::put_indicator_value,
        super::writes::take_step,
        super::writes::inbox,
        super::personnel::assignments,
        super::writes::create_assignment,
        super::writes::get_assignment,
        super::writes::update_assignment,
        super::audit::list,
        super::audit::verify,
        super::records::plans,
        super::records::batches,
        super::records::evaluations,
        super::records::evaluation,
        super::records::imports,
        super::export::export,
        super::attachments::upload,
        super::attachments::list,
        super::attachments::download,
    ),
    components(schemas(ErrorBody, ErrorDetail, Messages)),
    tags(
        (name = "registry", description = "Projects and their records (项目库)"),
        (name = "funds", description = "Fund transactions and statistics (资金)"),
        (name = "workflow", description = "Online approval (不见面审批)"),
        (name = "personnel", description = "Cadres and professionals (干部人才)"),
        (name = "reference", description = "Parties and pairings (结对关系)"),
        (name = "oversight", description = "The audit trail (审计)"),
        (name = "attachments", description = "Documents and photos on projects (附件)"),
        (name = "system", description = "Health and identity"),
    ),
)]
pub struct ApiDoc;

/// `GET /api/v1/me`: who the caller is (defined in `auth`, documented here).
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "system",
    responses((status = 200, description = "The caller's name, role, scope and, for a session, the CSRF token"))
)]
#[allow(dead_code)]
fn me() {}

/// The error every endpoint answers with.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ErrorBody {
    error: ErrorDetail,
}

/// What went wrong.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ErrorDetail {
    /// A stable code, e.g. `invalid_year`.
    code: String,
    /// The parameter or field at fault, when there is one.
    field: Option<String>,
    message: Messages,
}

/// A message in both languages.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct Messages {
    #[schema(rename = "zh-CN")]
    zh_cn: String,
    en: String,
}

/// The document, built once.
pub fn document() -> &'static Document {
    static DOC: std::sync::OnceLock<Document> = std::sync::OnceLock::new();
    DOC.get_or_init(ApiDoc::openapi)
}

/// The routes of the document and its page.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi_json))
        .route("/api/docs", get(docs_page))
}

async fn openapi_json() -> Result<Response, ApiError> {
    let body = document().to_json().map_err(|e| ApiError::internal(&e))?;
    Ok((
        [
            (CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (
                CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            ),
        ],
        body,
    )
        .into_response())
}

/// One operation as the page lists it.
struct OperationView {
    method: &'static str,
    path: String,
    anchor: String,
    summary: String,
    description: String,
    tag: String,
    parameters: Vec<ParameterView>,
    body: Option<String>,
    responses: Vec<(String, String)>,
}

struct ParameterView {
    name: String,
    location: &'static str,
    required: bool,
    description: String,
}

#[derive(Template)]
#[template(path = "api_docs.html")]
struct DocsPage {
    c: Chrome,
    version: String,
    description: String,
    operations: Vec<OperationView>,
}

fn location(p: &ParameterIn) -> &'static str {
    match p {
        ParameterIn::Path => "path",
        ParameterIn::Query => "query",
        ParameterIn::Header => "header",
        ParameterIn::Cookie => "cookie",
    }
}

fn operation_view(method: &'static str, path: &str, op: &Operation) -> OperationView {
    let parameters = op
        .parameters
        .iter()
        .flatten()
        .map(|p| ParameterView {
            name: p.name.clone(),
            location: location(&p.parameter_in),
            required: matches!(p.required, utoipa::openapi::Required::True),
            description: p.description.clone().unwrap_or_default(),
        })
        .collect();
    let body = op.request_body.as_ref().and_then(|b| {
        b.content.values().next().and_then(|c| match &c.schema {
            Some(RefOr::Ref(r)) => r.ref_location.rsplit('/').next().map(str::to_owned),
            Some(RefOr::T(_)) => Some("JSON".to_owned()),
            None => None,
        })
    });
    let responses = op
        .responses
        .responses
        .iter()
        .map(|(status, r)| {
            let text = match r {
                RefOr::T(r) => r.description.clone(),
                RefOr::Ref(r) => r.ref_location.clone(),
            };
            (status.clone(), text)
        })
        .collect();
    let mut description = op.description.clone().unwrap_or_default();
    let summary = op.summary.clone().unwrap_or_else(|| {
        // utoipa puts a one-paragraph doc comment in the description only.
        std::mem::take(&mut description)
    });
    OperationView {
        method,
        path: path.to_owned(),
        anchor: format!("{method}{}", path.replace(['/', '{', '}'], "-")),
        summary,
        description,
        tag: op.tags.iter().flatten().next().cloned().unwrap_or_default(),
        parameters,
        body,
        responses,
    }
}

/// The operations of the document, in its order.
fn operations(doc: &Document) -> Vec<OperationView> {
    let mut out = Vec::new();
    for (path, item) in &doc.paths.paths {
        let methods: [(&'static str, &Option<Operation>); 5] = [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("PATCH", &item.patch),
            ("DELETE", &item.delete),
        ];
        for (method, op) in methods {
            if let Some(op) = op {
                out.push(operation_view(method, path, op));
            }
        }
    }
    out
}

/// `GET /api/docs`: the API reference, readable without any script.
async fn docs_page(ctx: Ctx) -> Response {
    let doc = document();
    let result = render(&DocsPage {
        c: Chrome::new(
            &ctx,
            "/api/docs",
            ctx.lang.pick("接口文档", "API reference"),
        ),
        version: doc.info.version.clone(),
        description: doc.info.description.clone().unwrap_or_default(),
        operations: operations(doc),
    });
    ctx.respond(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_api_route_is_documented_and_the_document_is_3_1() {
        let doc = document();
        let json = doc.to_json().expect("json");
        assert!(json.contains("\"openapi\":\"3.1.0\""), "{}", &json[..80]);
        // Every `/api/v1` route the code registers is in the document.
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = vec![src.join("lib.rs"), src.join("auth.rs")];
        for entry in std::fs::read_dir(src.join("api")).expect("api dir") {
            files.push(entry.expect("entry").path());
        }
        let mut routes = 0;
        for file in files {
            let text = std::fs::read_to_string(&file).expect("read");
            for piece in text.split(".route(").skip(1) {
                let path = piece.trim_start().trim_start_matches('"');
                let Some(path) = path.split('"').next() else {
                    continue;
                };
                if !path.starts_with("/api/v1/") || path == "/api/v1/openapi.json" {
                    continue;
                }
                routes += 1;
                assert!(
                    doc.paths.paths.contains_key(path),
                    "{path} (in {}) is not in the OpenAPI document",
                    file.display()
                );
            }
        }
        assert!(routes >= 15, "found only {routes} routes");
        let ops = operations(doc);
        assert!(ops.len() >= 23, "{} operations", ops.len());
        assert!(
            ops.iter().all(|o| !o.summary.is_empty()),
            "an operation lacks a summary"
        );
    }

    #[test]
    fn registry_parameters_match_the_parser() {
        let doc = document();
        let op = doc.paths.paths["/api/v1/projects"]
            .get
            .as_ref()
            .expect("GET /projects");
        let mut names: Vec<&str> = op
            .parameters
            .iter()
            .flatten()
            .map(|p| p.name.as_str())
            .collect();
        names.sort_unstable();
        let mut expected: Vec<&str> = super::super::FILTER_PARAMS.to_vec();
        expected.extend(["limit", "cursor"]);
        expected.sort_unstable();
        assert_eq!(names, expected);
    }

    #[test]
    fn vocabulary_schemas_list_the_keys() {
        let Schema::Object(o) = category() else {
            panic!("not an object schema")
        };
        let values = o.enum_values.expect("enum");
        assert_eq!(values.len(), yuanjiang_domain::Category::ALL.len());
        assert!(values.contains(&serde_json::json!("education")));
    }
}
