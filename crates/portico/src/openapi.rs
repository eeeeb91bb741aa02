//! `portico import`, `portico export` and `portico serve --import`: OpenAPI documents in and out
//! through the management API, over HTTP to a running server or in-process at startup.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use bytes::Bytes;
use clap::Args;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use portico_controlplane::ControlPlane;
use portico_sigv4::{Credentials, OutgoingRequest, Payload, SigningParams};
use serde_json::Value;

/// The largest document read from disk (the management API accepts 16 MiB).
const MAX_DOCUMENT: u64 = portico_controlplane::MAX_BODY_BYTES as u64;

/// How long one management call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// the OpenAPI 2.0 or 3.0 document (JSON or YAML)
    file: PathBuf,
    /// overwrite this API instead of creating one
    #[arg(long)]
    api_id: Option<String>,
    /// deploy to this stage after importing
    #[arg(long)]
    stage: Option<String>,
    /// what to do with the document's base path: ignore, prepend or split
    #[arg(long)]
    basepath: Option<String>,
    /// refuse the document if it has warnings
    #[arg(long)]
    fail_on_warnings: bool,
    /// the management API [default: http://127.0.0.1:9080]
    #[arg(long, default_value = "http://127.0.0.1:9080")]
    endpoint_url: String,
}

#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    api_id: String,
    stage: String,
    /// oas30 or swagger
    #[arg(long, default_value = "oas30")]
    format: String,
    /// YAML instead of JSON
    #[arg(long)]
    yaml: bool,
    /// which extensions to include (integrations, authorizers, apigateway; empty for none)
    #[arg(long, default_value = "apigateway")]
    extensions: String,
    /// write here instead of standard output
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// the management API [default: http://127.0.0.1:9080]
    #[arg(long, default_value = "http://127.0.0.1:9080")]
    endpoint_url: String,
}

/// One management API answer.
pub(crate) struct Answer {
    status: u16,
    body: Bytes,
}

impl Answer {
    fn json(&self) -> anyhow::Result<Value> {
        serde_json::from_slice(&self.body).context("the management API answered with invalid JSON")
    }

    /// The body, or the AWS error it carries as an error.
    fn ok(self, what: &str) -> anyhow::Result<Answer> {
        if (200..300).contains(&self.status) {
            return Ok(self);
        }
        let message = serde_json::from_slice::<Value>(&self.body)
            .ok()
            .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_else(|| String::from_utf8_lossy(&self.body).into_owned());
        bail!("{what} failed ({}): {message}", self.status)
    }
}

/// Something that answers management calls.
pub(crate) trait Admin {
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Bytes,
        accept: Option<&str>,
    ) -> anyhow::Result<Answer>;
}

/// Who signs management calls: a locked management API takes only signed ones.
pub(crate) struct Signer {
    pub(crate) credentials: Credentials,
    pub(crate) region: String,
}

impl Signer {
    /// The headers that sign a call to `url` (service `apigateway`, as the AWS CLI signs).
    fn headers(
        &self,
        method: &Method,
        url: &str,
        headers: &[(&str, &str)],
        body: &Bytes,
    ) -> anyhow::Result<Vec<(&'static str, String)>> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        portico_sigv4::sign(
            &OutgoingRequest {
                method: method.as_str(),
                url,
                headers,
                payload: Payload::Bytes(body),
            },
            &SigningParams {
                credentials: &self.credentials,
                region: &self.region,
                service: "apigateway",
                time: now,
            },
        )
        .map_err(|e| anyhow::anyhow!("signing the management call: {e}"))
    }
}

/// The management API of this process; calls are signed when it is locked.
pub(crate) struct InProcess<'a> {
    pub(crate) control: &'a ControlPlane,
    pub(crate) signer: Option<Signer>,
}

/// The Host in-process calls are signed for (nothing resolves it; it only has to be signed).
const IN_PROCESS_HOST: &str = "portico.internal";

impl Admin for InProcess<'_> {
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Bytes,
        accept: Option<&str>,
    ) -> anyhow::Result<Answer> {
        let mut headers = vec![("Host", IN_PROCESS_HOST)];
        if let Some(a) = accept {
            headers.push(("Accept", a));
        }
        let signed = match &self.signer {
            Some(s) => s.headers(
                &method,
                &format!("http://{IN_PROCESS_HOST}{path}"),
                &headers[1..],
                &body,
            )?,
            None => Vec::new(),
        };
        let mut req = Request::builder().method(method).uri(path);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        for (k, v) in &signed {
            req = req.header(*k, v.as_str());
        }
        let resp = self.control.handle(req.body(Full::new(body))?).await;
        let status = resp.status().as_u16();
        let body = resp.into_body().collect().await?.to_bytes();
        Ok(Answer { status, body })
    }
}

/// A running server's management API over HTTP. Calls are signed, as the AWS CLI signs
/// them, when the environment has AWS credentials (`AWS_ACCESS_KEY_ID` /
/// `AWS_SECRET_ACCESS_KEY`, or the shared credentials file), for `AWS_REGION` /
/// `AWS_DEFAULT_REGION` (default `us-east-1`).
pub(crate) struct Remote {
    base: String,
    client: Client<HttpConnector, Full<Bytes>>,
    signer: Option<Signer>,
}

impl Remote {
    fn new(endpoint_url: &str) -> anyhow::Result<Remote> {
        let base = endpoint_url.trim_end_matches('/').to_string();
        if !base.starts_with("http://") {
            bail!("--endpoint-url must be an http:// URL (got {base})");
        }
        let client = Client::builder(TokioExecutor::new()).build_http();
        let region = ["AWS_REGION", "AWS_DEFAULT_REGION"]
            .iter()
            .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
            .unwrap_or_else(|| "us-east-1".into());
        let signer = portico_functions::remote::credentials().map(|credentials| Signer {
            credentials,
            region,
        });
        Ok(Remote {
            base,
            client,
            signer,
        })
    }
}

impl Admin for Remote {
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Bytes,
        accept: Option<&str>,
    ) -> anyhow::Result<Answer> {
        let url = format!("{}{path}", self.base);
        let mut headers = vec![("Content-Type", "application/json")];
        if let Some(a) = accept {
            headers.push(("Accept", a));
        }
        let signed = match &self.signer {
            Some(s) => s.headers(&method, &url, &headers, &body)?,
            None => Vec::new(),
        };
        let mut req = Request::builder().method(method).uri(&url);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        for (k, v) in &signed {
            req = req.header(*k, v.as_str());
        }
        let call = async {
            let resp = self
                .client
                .request(req.body(Full::new(body))?)
                .await
                .with_context(|| format!("calling {}", self.base))?;
            let status = resp.status().as_u16();
            let body = resp.into_body().collect().await?.to_bytes();
            anyhow::Ok(Answer { status, body })
        };
        tokio::time::timeout(CALL_TIMEOUT, call)
            .await
            .with_context(|| format!("{} did not answer within {CALL_TIMEOUT:?}", self.base))?
    }
}

fn read_document(file: &Path) -> anyhow::Result<Bytes> {
    let meta = std::fs::metadata(file).with_context(|| format!("reading {}", file.display()))?;
    if meta.len() > MAX_DOCUMENT {
        bail!(
            "{} is larger than the {MAX_DOCUMENT} bytes the management API accepts",
            file.display()
        );
    }
    Ok(Bytes::from(
        std::fs::read(file).with_context(|| format!("reading {}", file.display()))?,
    ))
}

fn query(basepath: Option<&str>, fail_on_warnings: bool) -> String {
    let mut q = String::new();
    if let Some(b) = basepath {
        q.push_str("&basepath=");
        q.push_str(&portico_sigv4::uri_encode_component(b));
    }
    if fail_on_warnings {
        q.push_str("&failonwarnings=true");
    }
    q
}

/// What an import did.
pub(crate) struct Imported {
    pub(crate) api_id: String,
    pub(crate) name: String,
    pub(crate) warnings: Vec<String>,
}

/// Imports `body`: overwrites `api_id` when given, else creates an API.
pub(crate) async fn import(
    admin: &impl Admin,
    body: Bytes,
    api_id: Option<&str>,
    basepath: Option<&str>,
    fail_on_warnings: bool,
) -> anyhow::Result<Imported> {
    let q = query(basepath, fail_on_warnings);
    let answer = match api_id {
        Some(id) => admin
            .call(
                Method::PUT,
                &format!(
                    "/restapis/{}?mode=overwrite{q}",
                    portico_sigv4::uri_encode_component(id)
                ),
                body,
                None,
            )
            .await?
            .ok("PutRestApi")?,
        None => admin
            .call(
                Method::POST,
                &format!("/restapis?mode=import{q}"),
                body,
                None,
            )
            .await?
            .ok("ImportRestApi")?,
    };
    let api = answer.json()?;
    Ok(Imported {
        api_id: api["id"].as_str().unwrap_or_default().to_string(),
        name: api["name"].as_str().unwrap_or_default().to_string(),
        warnings: api["warnings"]
            .as_array()
            .map(|w| {
                w.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
    })
}

/// Deploys the API's current definitions to `stage` (creating the stage if needed).
pub(crate) async fn deploy(admin: &impl Admin, api_id: &str, stage: &str) -> anyhow::Result<()> {
    let body = serde_json::json!({ "stageName": stage }).to_string();
    admin
        .call(
            Method::POST,
            &format!(
                "/restapis/{}/deployments",
                portico_sigv4::uri_encode_component(api_id)
            ),
            Bytes::from(body),
            None,
        )
        .await?
        .ok("CreateDeployment")?;
    Ok(())
}

/// The id of the API named `name`, if there is exactly one.
async fn find_by_name(admin: &impl Admin, name: &str) -> anyhow::Result<Option<String>> {
    let mut position: Option<String> = None;
    let mut found = Vec::new();
    loop {
        let path = match &position {
            Some(p) => format!(
                "/restapis?limit=500&position={}",
                portico_sigv4::uri_encode_component(p)
            ),
            None => "/restapis?limit=500".to_string(),
        };
        let page = admin
            .call(Method::GET, &path, Bytes::new(), None)
            .await?
            .ok("GetRestApis")?
            .json()?;
        for api in page["item"].as_array().into_iter().flatten() {
            if api["name"].as_str() == Some(name)
                && let Some(id) = api["id"].as_str()
            {
                found.push(id.to_string());
            }
        }
        match page["position"].as_str() {
            Some(p) => position = Some(p.to_string()),
            None => break,
        }
    }
    Ok((found.len() == 1).then(|| found.remove(0)))
}

/// `serve --import FILE --stage NAME`: the document becomes an API (the one of the same name
/// is overwritten, so restarting does not pile up copies) deployed to the stage.
pub(crate) async fn import_at_startup(
    control: &ControlPlane,
    signer: Option<Signer>,
    file: &Path,
    stage: &str,
) -> anyhow::Result<Imported> {
    let admin = InProcess { control, signer };
    let body = read_document(file)?;
    let title = portico_openapi::parse(&body)
        .ok()
        .and_then(|v| v["info"]["title"].as_str().map(str::to_string));
    let existing = match &title {
        Some(t) => find_by_name(&admin, t).await?,
        None => None,
    };
    let imported = import(&admin, body, existing.as_deref(), None, false)
        .await
        .with_context(|| format!("importing {}", file.display()))?;
    deploy(&admin, &imported.api_id, stage).await?;
    Ok(imported)
}

fn client_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// `portico import`.
pub(crate) fn run_import(args: ImportArgs) -> anyhow::Result<()> {
    let body = read_document(&args.file)?;
    client_runtime()?.block_on(async {
        let admin = Remote::new(&args.endpoint_url)?;
        let imported = import(
            &admin,
            body,
            args.api_id.as_deref(),
            args.basepath.as_deref(),
            args.fail_on_warnings,
        )
        .await?;
        for w in &imported.warnings {
            eprintln!("warning: {w}");
        }
        if let Some(stage) = &args.stage {
            deploy(&admin, &imported.api_id, stage).await?;
            eprintln!(
                "imported {} as {} ({}) and deployed it to stage {stage}",
                args.file.display(),
                imported.api_id,
                imported.name
            );
        } else {
            eprintln!(
                "imported {} as {} ({})",
                args.file.display(),
                imported.api_id,
                imported.name
            );
        }
        println!("{}", imported.api_id);
        Ok(())
    })
}

/// `portico export`.
pub(crate) fn run_export(args: ExportArgs) -> anyhow::Result<()> {
    if !["oas30", "swagger"].contains(&args.format.as_str()) {
        bail!("--format must be oas30 or swagger (got {})", args.format);
    }
    client_runtime()?.block_on(async {
        let admin = Remote::new(&args.endpoint_url)?;
        let path = format!(
            "/restapis/{}/stages/{}/exports/{}?extensions={}",
            portico_sigv4::uri_encode_component(&args.api_id),
            portico_sigv4::uri_encode_component(&args.stage),
            args.format,
            portico_sigv4::uri_encode_component(&args.extensions)
        );
        let accept = if args.yaml {
            "application/yaml"
        } else {
            "application/json"
        };
        let answer = admin
            .call(Method::GET, &path, Bytes::new(), Some(accept))
            .await?
            .ok("GetExport")?;
        match &args.output {
            Some(file) => std::fs::write(file, &answer.body)
                .with_context(|| format!("writing {}", file.display()))?,
            None => {
                use std::io::Write as _;
                let mut out = std::io::stdout().lock();
                out.write_all(&answer.body)?;
                if !answer.body.ends_with(b"\n") {
                    out.write_all(b"\n")?;
                }
            }
        }
        Ok(())
    })
}
