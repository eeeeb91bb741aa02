//! Matches a request to an operation of the generated table.

use hyper::{Method, Uri};
use portico_model::{OPERATIONS, Operation};

#[derive(Debug)]
enum Part {
    Literal(&'static str),
    Param(&'static str),
    Greedy(&'static str),
}

#[derive(Debug)]
struct Route {
    op: &'static Operation,
    parts: Vec<Part>,
}

/// The operation table, split into segments once at startup.
#[derive(Debug)]
pub(crate) struct Routes {
    routes: Vec<Route>,
}

impl Routes {
    pub(crate) fn new() -> Routes {
        let routes = OPERATIONS
            .iter()
            .map(|op| Route {
                op,
                parts: op
                    .uri
                    .split('/')
                    .filter(|s| !s.is_empty())
                    .map(
                        |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                            Some(name) => match name.strip_suffix('+') {
                                Some(g) => Part::Greedy(g),
                                None => Part::Param(name),
                            },
                            None => Part::Literal(s),
                        },
                    )
                    .collect(),
            })
            .collect();
        Routes { routes }
    }

    /// The operation for `method` + `uri`, with its decoded URI parameters. An operation that
    /// names a query (`?mode=import`) wins over one that does not when the query matches.
    pub(crate) fn resolve(
        &self,
        method: &Method,
        uri: &Uri,
    ) -> Option<(&'static Operation, Vec<(&'static str, String)>)> {
        let segments: Vec<&str> = uri.path().split('/').filter(|s| !s.is_empty()).collect();
        let query = crate::call::parse_query(uri.query().unwrap_or(""));
        let mut best: Option<(&'static Operation, Vec<(&'static str, String)>)> = None;
        for r in &self.routes {
            if r.op.method != method.as_str() {
                continue;
            }
            let Some(params) = match_parts(&r.parts, &segments) else {
                continue;
            };
            match r.op.query {
                Some((k, v)) => {
                    if query.iter().any(|(qk, qv)| qk == k && qv == v) {
                        return Some((r.op, params));
                    }
                }
                None => {
                    if best.is_none() {
                        best = Some((r.op, params));
                    }
                }
            }
        }
        best
    }
}

fn match_parts(parts: &[Part], segments: &[&str]) -> Option<Vec<(&'static str, String)>> {
    let mut params = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        match part {
            Part::Literal(l) => {
                if segments.get(i) != Some(l) {
                    return None;
                }
            }
            Part::Param(name) => {
                params.push((*name, decode(segments.get(i)?)));
            }
            Part::Greedy(name) => {
                if i >= segments.len() {
                    return None;
                }
                params.push((*name, decode(&segments[i..].join("/"))));
                return Some(params);
            }
        }
    }
    (parts.len() == segments.len()).then_some(params)
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use portico_model::OperationName as Op;

    fn resolve(m: &str, u: &str) -> Option<(Op, Vec<(&'static str, String)>)> {
        let routes = Routes::new();
        routes
            .resolve(&m.parse().unwrap(), &u.parse().unwrap())
            .map(|(o, p)| (o.name, p))
    }

    #[test]
    fn resolves_operations_and_params() {
        assert_eq!(resolve("POST", "/restapis").unwrap().0, Op::CreateRestApi);
        assert_eq!(
            resolve("POST", "/restapis?mode=import").unwrap().0,
            Op::ImportRestApi
        );
        let (op, p) = resolve(
            "PUT",
            "/restapis/abc/resources/r1/methods/GET/responses/200",
        )
        .unwrap();
        assert_eq!(op, Op::PutMethodResponse);
        assert_eq!(p[3], ("status_code", "200".to_string()));
        assert_eq!(
            resolve("POST", "/restapis/a/resources/b").unwrap().0,
            Op::CreateResource
        );
        assert!(resolve("GET", "/nothing/here").is_none());
    }
}
