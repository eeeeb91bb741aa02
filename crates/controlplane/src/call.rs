//! One management call: the operation, its URI parameters, query and body.

use bytes::Bytes;
use http_body_util::Full;
use hyper::Response;
use portico_model::Operation;
use serde::de::DeserializeOwned;

use crate::ApiError;

/// The parsed request an operation handler works from.
#[derive(Debug)]
pub struct Call {
    pub op: portico_model::OperationName,
    params: Vec<(&'static str, String)>,
    query: Vec<(String, String)>,
    pub body: Bytes,
    /// The `Accept` header (GetExport answers JSON or YAML by it).
    pub accept: Option<String>,
}

impl Call {
    pub(crate) fn new(
        op: &Operation,
        params: Vec<(&'static str, String)>,
        query: Option<&str>,
        body: Bytes,
    ) -> Call {
        let query = query.map(parse_query).unwrap_or_default();
        Call {
            op: op.name,
            params,
            query,
            body,
            accept: None,
        }
    }

    /// A URI parameter by its template name (`restapi_id`).
    pub fn param(&self, name: &str) -> &str {
        self.params
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    /// A query parameter, the first if repeated.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The JSON body as the operation's input shape; an empty body is `{}`.
    pub fn input<T: DeserializeOwned + Default>(&self) -> Result<T, ApiError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(T::default());
        }
        serde_json::from_slice(&self.body).map_err(|e| {
            ApiError::new(
                400,
                "SerializationException",
                format!("Invalid request body: {e}"),
            )
        })
    }

    /// Like [`Call::input`], with `null` values of the named string maps read as `""` (AWS
    /// stores a null template and shows it back as null).
    pub fn input_null_templates<T: DeserializeOwned + Default>(
        &self,
        maps: &[&str],
    ) -> Result<T, ApiError> {
        let mut raw = self.raw_json();
        if !raw.is_object() {
            return self.input();
        }
        for field in maps {
            if let Some(m) = raw
                .get_mut(*field)
                .and_then(serde_json::Value::as_object_mut)
            {
                for v in m.values_mut() {
                    if v.is_null() {
                        *v = serde_json::Value::String(String::new());
                    }
                }
            }
        }
        serde_json::from_value(raw).map_err(|e| {
            ApiError::new(
                400,
                "SerializationException",
                format!("Invalid request body: {e}"),
            )
        })
    }

    /// The raw JSON body, for checks the typed shape would hide (wrong value types).
    pub fn raw_json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// Splits and percent-decodes a query string (`+` is a space, as AWS clients encode it).
pub(crate) fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

pub(crate) fn ok(status: u16, body: Option<serde_json::Value>) -> Response<Full<Bytes>> {
    let bytes = match &body {
        Some(v) => Bytes::from(v.to_string()),
        None => Bytes::new(),
    };
    let mut resp = Response::new(Full::new(bytes));
    *resp.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::OK);
    if body.is_some() {
        resp.headers_mut().insert(
            "content-type",
            hyper::header::HeaderValue::from_static("application/json"),
        );
    }
    resp
}

pub(crate) fn raw(status: u16, raw: crate::RawBody) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(raw.bytes));
    *resp.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::OK);
    let headers = resp.headers_mut();
    if let Ok(v) = hyper::header::HeaderValue::from_str(&raw.content_type) {
        headers.insert(hyper::header::CONTENT_TYPE, v);
    }
    for (name, value) in raw.headers {
        if let Ok(v) = hyper::header::HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    resp
}

pub(crate) fn with_request_id(mut resp: Response<Full<Bytes>>, id: &str) -> Response<Full<Bytes>> {
    if let Ok(v) = hyper::header::HeaderValue::from_str(id) {
        resp.headers_mut().insert("x-amzn-requestid", v);
    }
    resp
}
