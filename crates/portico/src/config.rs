//! Configuration: a TOML file (`--config`), overridden by flags.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use portico_dataplane::authorization::AccessKey;
use portico_functions::{FunctionConfig, LambdaConfig};
use serde::Deserialize;

/// Flags of `portico serve`. Each overrides the config file's value of the same name.
#[derive(Debug, Args, Default)]
pub(crate) struct ServeArgs {
    /// execute-api traffic listener [default: 0.0.0.0:8080]
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// management API listener [default: 127.0.0.1:9080]
    #[arg(long)]
    admin_listen: Option<SocketAddr>,
    /// where the embedded store lives [default: ./.portico]
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// the region Portico answers as [default: us-east-1]
    #[arg(long)]
    region: Option<String>,
    /// the account id in ARNs and messages [default: 000000000000]
    #[arg(long)]
    account_id: Option<String>,
    /// invoke URLs are {api-id}.execute-api.{base-domain} [default: localhost]
    #[arg(long)]
    base_domain: Option<String>,
    /// a TOML file with any of these settings
    #[arg(long)]
    config: Option<PathBuf>,
    /// error, warn, info, debug or trace (or a tracing filter) [default: info]
    #[arg(long)]
    log_level: Option<String>,
    /// runtime worker threads [default: number of cores]
    #[arg(long)]
    workers: Option<usize>,
    /// the account's throttle rate, requests per second [default: 10000, as AWS]
    #[arg(long)]
    account_rate_limit: Option<f64>,
    /// the account's throttle burst [default: 5000, as AWS]
    #[arg(long)]
    account_burst_limit: Option<u32>,
    /// an OpenAPI document to import (or re-import, by its title) and deploy at startup
    #[arg(long)]
    import: Option<PathBuf>,
    /// the stage `--import` deploys to [default: dev]
    #[arg(long, requires = "import")]
    stage: Option<String>,
}

/// The config file's shape. Unknown keys are an error, so typos don't pass silently.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    admin_listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    region: Option<String>,
    account_id: Option<String>,
    base_domain: Option<String>,
    log_level: Option<String>,
    workers: Option<usize>,
    account_rate_limit: Option<f64>,
    account_burst_limit: Option<u32>,
    import: Option<PathBuf>,
    stage: Option<String>,
    /// `[functions.NAME]`: functions Portico runs locally.
    #[serde(default)]
    functions: BTreeMap<String, FunctionConfig>,
    /// `[lambda]`: where functions that are not local are invoked.
    lambda: Option<LambdaConfig>,
    /// `[[access_keys]]`: who may sign `AWS_IAM` requests and management calls.
    #[serde(default)]
    access_keys: Vec<AccessKeyConfig>,
    /// `[cognito]`: where user pools' keys are fetched.
    cognito: Option<CognitoConfig>,
}

/// One `[[access_keys]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccessKeyConfig {
    id: String,
    secret: String,
    /// `$context.identity.userArn` [default: `arn:aws:iam::{account}:user/{id}`].
    user_arn: Option<String>,
    /// `$context.identity.accountId` [default: the user ARN's account, else the server's].
    account_id: Option<String>,
}

/// `[cognito]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CognitoConfig {
    /// A user pool's issuer is `{endpoint}/{poolId}` (a local Cognito emulator) instead of
    /// `https://cognito-idp.{region}.amazonaws.com/{poolId}`.
    endpoint: Option<String>,
    /// The least seconds between two fetches of one pool's JWKS [default: 10].
    jwks_refetch_interval: Option<u64>,
}

/// The resolved configuration of a running server.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) listen: SocketAddr,
    pub(crate) admin_listen: SocketAddr,
    pub(crate) data_dir: PathBuf,
    pub(crate) region: String,
    pub(crate) account_id: String,
    pub(crate) base_domain: String,
    pub(crate) log_level: String,
    pub(crate) workers: usize,
    /// AWS raises an account's limits on request; here they are configuration.
    pub(crate) account_rate_limit: f64,
    pub(crate) account_burst_limit: u32,
    /// `--import FILE --stage NAME`.
    pub(crate) import: Option<(PathBuf, String)>,
    /// `[functions.NAME]`, each checked.
    pub(crate) functions: BTreeMap<String, FunctionConfig>,
    /// `[lambda]`: the endpoint (and signing region) for functions that are not local.
    pub(crate) lambda: Option<LambdaConfig>,
    /// `[[access_keys]]`, checked, account and user ARN filled in. Any key locks the
    /// management API.
    pub(crate) access_keys: Vec<AccessKey>,
    /// `[cognito] endpoint`, without a trailing slash.
    pub(crate) cognito_endpoint: Option<String>,
    /// `[cognito] jwks_refetch_interval`.
    pub(crate) jwks_refetch_interval: std::time::Duration,
}

impl ServeArgs {
    /// No flags: everything from `path` (or the defaults).
    pub(crate) fn from_file(path: PathBuf) -> ServeArgs {
        ServeArgs {
            config: Some(path),
            ..Default::default()
        }
    }
}

impl Config {
    pub(crate) fn load(args: ServeArgs) -> anyhow::Result<Config> {
        let file = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading config file {}", path.display()))?;
                toml::from_str::<FileConfig>(&text)
                    .with_context(|| format!("parsing config file {}", path.display()))?
            }
            None => FileConfig::default(),
        };
        let workers = args.workers.or(file.workers).unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        });
        if workers == 0 {
            anyhow::bail!("--workers must be at least 1");
        }
        let account_id = args
            .account_id
            .or(file.account_id)
            .unwrap_or_else(|| "000000000000".into());
        if !is_account_id(&account_id) {
            anyhow::bail!("--account-id must be 12 digits, got {account_id:?}");
        }
        for (name, function) in &file.functions {
            function
                .check(name)
                .map_err(|problem| anyhow::anyhow!("[functions.{name}]: {problem}"))?;
        }
        let access_keys = access_keys(file.access_keys, &account_id)?;
        let admin_listen = args
            .admin_listen
            .or(file.admin_listen)
            .unwrap_or_else(|| ([127, 0, 0, 1], 9080).into());
        if access_keys.is_empty() && !admin_listen.ip().is_loopback() {
            anyhow::bail!(
                "refusing to serve the management API on {admin_listen} without authentication: \
                 anyone who can reach it could change every API. Configure [[access_keys]] in the \
                 config file (management calls must then be signed with one of them, as AWS's are) \
                 or listen on a loopback address"
            );
        }
        let cognito = file.cognito.unwrap_or(CognitoConfig {
            endpoint: None,
            jwks_refetch_interval: None,
        });
        let cognito_endpoint = match cognito.endpoint {
            Some(e) if e.starts_with("http://") || e.starts_with("https://") => {
                Some(e.trim_end_matches('/').to_string())
            }
            Some(e) => {
                anyhow::bail!("[cognito] endpoint must be an http:// or https:// URL, got {e:?}")
            }
            None => None,
        };
        Ok(Config {
            listen: args
                .listen
                .or(file.listen)
                .unwrap_or_else(|| ([0, 0, 0, 0], 8080).into()),
            admin_listen,
            data_dir: args
                .data_dir
                .or(file.data_dir)
                .unwrap_or_else(|| PathBuf::from("./.portico")),
            region: args
                .region
                .or(file.region)
                .unwrap_or_else(|| "us-east-1".into()),
            account_id,
            base_domain: args
                .base_domain
                .or(file.base_domain)
                .unwrap_or_else(|| "localhost".into()),
            log_level: args
                .log_level
                .or(file.log_level)
                .unwrap_or_else(|| "info".into()),
            workers,
            account_rate_limit: args
                .account_rate_limit
                .or(file.account_rate_limit)
                .unwrap_or(10_000.0),
            account_burst_limit: args
                .account_burst_limit
                .or(file.account_burst_limit)
                .unwrap_or(5_000),
            import: args.import.or(file.import).map(|f| {
                let stage = args.stage.or(file.stage).unwrap_or_else(|| "dev".into());
                (f, stage)
            }),
            functions: file.functions,
            lambda: file.lambda,
            access_keys,
            cognito_endpoint,
            jwks_refetch_interval: std::time::Duration::from_secs(
                cognito.jwks_refetch_interval.unwrap_or(10),
            ),
        })
    }
}

/// Checks `[[access_keys]]` and fills in each key's account and user ARN.
fn access_keys(keys: Vec<AccessKeyConfig>, server_account: &str) -> anyhow::Result<Vec<AccessKey>> {
    let mut out: Vec<AccessKey> = Vec::with_capacity(keys.len());
    for k in keys {
        let id = k.id;
        // The id travels in the credential scope `id/date/region/service/aws4_request`.
        if id.is_empty() || id.len() > 128 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            anyhow::bail!("[[access_keys]] id must be 1-128 letters and digits, got {id:?}");
        }
        if k.secret.is_empty() {
            anyhow::bail!("[[access_keys]] {id}: the secret is empty");
        }
        if out.iter().any(|o| o.id == id) {
            anyhow::bail!("[[access_keys]] {id} is configured twice");
        }
        let arn_account = match &k.user_arn {
            Some(arn) => {
                let parts: Vec<&str> = arn.splitn(6, ':').collect();
                if parts.len() != 6 || parts[0] != "arn" || parts[5].is_empty() {
                    anyhow::bail!("[[access_keys]] {id}: user_arn {arn:?} is not an ARN");
                }
                Some(parts[4].to_string()).filter(|a| is_account_id(a))
            }
            None => None,
        };
        let account = match k.account_id {
            Some(a) if is_account_id(&a) => a,
            Some(a) => {
                anyhow::bail!("[[access_keys]] {id}: account_id must be 12 digits, got {a:?}")
            }
            None => arn_account.unwrap_or_else(|| server_account.to_string()),
        };
        let user_arn = k
            .user_arn
            .unwrap_or_else(|| format!("arn:aws:iam::{account}:user/{id}"));
        out.push(AccessKey {
            id,
            secret: k.secret,
            user_arn: Some(user_arn),
            account_id: Some(account),
        });
    }
    Ok(out)
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_file_and_defaults_apply() {
        let dir = tempfile_dir();
        let path = dir.join("portico.toml");
        std::fs::write(
            &path,
            "region = \"eu-west-1\"\nworkers = 3\nbase_domain = \"example.test\"\n",
        )
        .unwrap();
        let args = ServeArgs {
            config: Some(path),
            workers: Some(1),
            ..Default::default()
        };
        let cfg = Config::load(args).unwrap();
        assert_eq!(cfg.region, "eu-west-1");
        assert_eq!(cfg.workers, 1);
        assert_eq!(cfg.base_domain, "example.test");
        assert_eq!(cfg.listen.to_string(), "0.0.0.0:8080");
        assert_eq!(cfg.admin_listen.to_string(), "127.0.0.1:9080");
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let dir = tempfile_dir();
        let path = dir.join("bad.toml");
        std::fs::write(&path, "lisen = \"1.2.3.4:5\"\n").unwrap();
        let err = Config::load(ServeArgs {
            config: Some(path),
            ..Default::default()
        })
        .unwrap_err();
        assert!(format!("{err:#}").contains("unknown field"), "{err:#}");
    }

    #[test]
    fn functions_and_the_lambda_endpoint_are_read() {
        let dir = tempfile_dir();
        let path = dir.join("functions.toml");
        std::fs::write(
            &path,
            r#"
[lambda]
endpoint = "http://127.0.0.1:4566"

[functions.echo]
command = ["python3", "-m", "awslambdaric", "app.handler"]
cwd = "functions"
timeout = 10
concurrency = 2
env = { GREETING = "hi" }

[functions.tiny]
command = ["./bootstrap"]
"#,
        )
        .unwrap();
        let cfg = Config::load(ServeArgs::from_file(path)).unwrap();
        assert_eq!(
            cfg.lambda.as_ref().map(|l| l.endpoint.as_str()),
            Some("http://127.0.0.1:4566")
        );
        let echo = &cfg.functions["echo"];
        assert_eq!(echo.command[0], "python3");
        assert_eq!(echo.cwd.as_deref(), Some(std::path::Path::new("functions")));
        assert_eq!((echo.timeout, echo.concurrency, echo.memory), (10, 2, 128));
        assert_eq!(echo.env["GREETING"], "hi");
        let tiny = &cfg.functions["tiny"];
        assert_eq!((tiny.timeout, tiny.concurrency), (3, 1));

        for (text, expected) in [
            (
                "[functions.f]\ncommand = [\"x\"]\ntimout = 3\n",
                "unknown field",
            ),
            (
                "[functions.f]\ncommand = [\"x\"]\ntimeout = 0\n",
                "[functions.f]: timeout",
            ),
            (
                "[functions.\"a b\"]\ncommand = [\"x\"]\n",
                "not a function name",
            ),
            (
                "[lambda]\nendpoint = \"x\"\nbogus = \"y\"\n",
                "unknown field",
            ),
        ] {
            let path = dir.join("bad-functions.toml");
            std::fs::write(&path, text).unwrap();
            let err = Config::load(ServeArgs::from_file(path)).unwrap_err();
            assert!(format!("{err:#}").contains(expected), "{text}: {err:#}");
        }
    }

    #[test]
    fn access_keys_and_cognito_are_read_and_checked() {
        let dir = tempfile_dir();
        let path = dir.join("keys.toml");
        std::fs::write(
            &path,
            r#"
admin_listen = "0.0.0.0:9080"

[[access_keys]]
id = "AKIDALICE"
secret = "alice-secret"
user_arn = "arn:aws:iam::111122223333:user/alice"

[[access_keys]]
id = "AKIDBOB"
secret = "bob-secret"

[cognito]
endpoint = "http://127.0.0.1:9229/"
jwks_refetch_interval = 1
"#,
        )
        .unwrap();
        let cfg = Config::load(ServeArgs::from_file(path)).unwrap();
        let alice = &cfg.access_keys[0];
        assert_eq!(alice.account_id.as_deref(), Some("111122223333"));
        assert_eq!(
            alice.user_arn.as_deref(),
            Some("arn:aws:iam::111122223333:user/alice")
        );
        let bob = &cfg.access_keys[1];
        assert_eq!(bob.account_id.as_deref(), Some("000000000000"));
        assert_eq!(
            bob.user_arn.as_deref(),
            Some("arn:aws:iam::000000000000:user/AKIDBOB")
        );
        assert_eq!(
            cfg.cognito_endpoint.as_deref(),
            Some("http://127.0.0.1:9229")
        );
        assert_eq!(cfg.jwks_refetch_interval.as_secs(), 1);

        let key = "[[access_keys]]\nid = \"AKID\"\nsecret = \"s\"\n";
        for (text, expected) in [
            (
                "[[access_keys]]\nid = \"a/b\"\nsecret = \"s\"\n",
                "letters and digits",
            ),
            (
                "[[access_keys]]\nid = \"AKID\"\nsecret = \"\"\n",
                "the secret is empty",
            ),
            (&format!("{key}{key}"), "configured twice"),
            (&format!("{key}account_id = \"12\"\n"), "12 digits"),
            (&format!("{key}user_arn = \"alice\"\n"), "not an ARN"),
            (&format!("{key}region = \"x\"\n"), "unknown field"),
            (
                "[cognito]\nendpoint = \"localhost:9229\"\n",
                "http:// or https://",
            ),
            ("[cognito]\nissuer = \"x\"\n", "unknown field"),
        ] {
            let path = dir.join("bad-keys.toml");
            std::fs::write(&path, text).unwrap();
            let err = Config::load(ServeArgs::from_file(path)).unwrap_err();
            assert!(format!("{err:#}").contains(expected), "{text}: {err:#}");
        }
    }

    #[test]
    fn an_exposed_admin_listener_needs_access_keys() {
        let open = |listen: &str| {
            Config::load(ServeArgs {
                admin_listen: Some(listen.parse().unwrap()),
                ..Default::default()
            })
        };
        let err = open("0.0.0.0:0").unwrap_err();
        assert!(format!("{err:#}").contains("[[access_keys]]"), "{err:#}");
        assert!(open("192.168.1.10:9080").is_err());
        assert!(open("127.0.0.1:0").is_ok());
        assert!(open("[::1]:9080").is_ok());
    }

    fn tempfile_dir() -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("portico-cfg-{}", portico_model::ids::short_id(8)));
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}
