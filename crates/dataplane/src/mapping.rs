//! Parameter mapping expressions and template sets, parsed at compile time.

use indexmap::IndexMap;

use crate::compile::CompileError;

/// A prefix of a mapping expression and the variant it builds.
type Rule<T> = (&'static str, fn(String) -> T);

/// Where a mapped value comes from (`method.request.path.id`, `'static'`, ...).
#[derive(Debug, Clone)]
pub enum ParamSource {
    Static(String),
    MethodPath(String),
    MethodQuery(String),
    MethodHeader(String),
    MethodMultiQuery(String),
    MethodMultiHeader(String),
    MethodBody,
    /// `method.request.body.JSONPath`: compiled once.
    MethodBodyPath(std::sync::Arc<portico_mapping::JsonPath>),
    Context(String),
    StageVariable(String),
    IntegrationHeader(String),
    IntegrationMultiHeader(String),
    IntegrationBody,
    /// `integration.response.body.JSONPath`.
    IntegrationBodyPath(std::sync::Arc<portico_mapping::JsonPath>),
}

impl ParamSource {
    pub fn parse(expr: &str) -> Option<ParamSource> {
        let e = expr.trim();
        if e.len() >= 2 && e.starts_with('\'') && e.ends_with('\'') {
            return Some(ParamSource::Static(e[1..e.len() - 1].to_string()));
        }
        let rules: [Rule<ParamSource>; 9] = [
            ("method.request.path.", ParamSource::MethodPath),
            ("method.request.querystring.", ParamSource::MethodQuery),
            ("method.request.header.", ParamSource::MethodHeader),
            (
                "method.request.multivaluequerystring.",
                ParamSource::MethodMultiQuery,
            ),
            (
                "method.request.multivalueheader.",
                ParamSource::MethodMultiHeader,
            ),
            ("context.", ParamSource::Context),
            ("stageVariables.", ParamSource::StageVariable),
            (
                "integration.response.header.",
                ParamSource::IntegrationHeader,
            ),
            (
                "integration.response.multivalueheader.",
                ParamSource::IntegrationMultiHeader,
            ),
        ];
        for (prefix, make) in rules {
            if let Some(name) = e.strip_prefix(prefix).filter(|n| !n.is_empty()) {
                return Some(make(name.to_string()));
            }
        }
        let body_path = |rest: &str| {
            portico_mapping::JsonPath::parse(&format!("${rest}"))
                .ok()
                .map(std::sync::Arc::new)
        };
        match e {
            "method.request.body" => Some(ParamSource::MethodBody),
            "integration.response.body" => Some(ParamSource::IntegrationBody),
            _ => {
                if let Some(rest) = e.strip_prefix("method.request.body.") {
                    return body_path(&format!(".{rest}")).map(ParamSource::MethodBodyPath);
                }
                if let Some(rest) = e.strip_prefix("integration.response.body.") {
                    return body_path(&format!(".{rest}")).map(ParamSource::IntegrationBodyPath);
                }
                None
            }
        }
    }
}

/// Where a mapped value goes on the integration request.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamTarget {
    Path(String),
    Query(String),
    Header(String),
    MultiQuery(String),
    MultiHeader(String),
}

impl ParamTarget {
    pub fn parse(expr: &str) -> Option<ParamTarget> {
        let rules: [Rule<ParamTarget>; 5] = [
            ("integration.request.path.", ParamTarget::Path),
            ("integration.request.querystring.", ParamTarget::Query),
            ("integration.request.header.", ParamTarget::Header),
            (
                "integration.request.multivaluequerystring.",
                ParamTarget::MultiQuery,
            ),
            (
                "integration.request.multivalueheader.",
                ParamTarget::MultiHeader,
            ),
        ];
        rules.iter().find_map(|(prefix, make)| {
            expr.strip_prefix(prefix)
                .filter(|n| !n.is_empty())
                .map(|n| make(n.to_string()))
        })
    }
}

/// A mapping template, parsed at compile time.
#[derive(Debug)]
pub enum Template {
    /// Text without `$` or `#`: nothing to evaluate, rendered as it is.
    Literal(bytes::Bytes),
    /// A Velocity template, and which variables it may read (so that a render builds only
    /// those).
    Vtl(portico_vtl::Template, Uses),
}

/// Which API Gateway variables a template mentions (over-approximated from its text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uses {
    pub input: bool,
    /// It may call `$input.params` (so a render needs the request's parameters).
    pub input_params: bool,
    pub context: bool,
    /// It may `#set` something inside `$context`.
    pub writes_context: bool,
    pub stage_variables: bool,
    /// The `$context` members the template names (`requestId`, `identity`, ...); `None` when
    /// it uses `$context` as a whole (prints it, calls a method on it, aliases it) — then a
    /// render builds every member. Override maps are built only when named here.
    pub context_members: Option<std::sync::Arc<[String]>>,
    /// The `$context.identity` fields it names; `None` when it may reach any of them.
    pub identity_fields: Option<std::sync::Arc<[String]>>,
}

impl Uses {
    /// Whether a render must build the `$context` member `top` (the part of a dotted name
    /// before its first dot).
    pub fn needs_context_member(&self, top: &str) -> bool {
        self.context_members
            .as_ref()
            .is_none_or(|names| names.iter().any(|n| n == top))
    }

    /// Whether a render must build `$context.identity.<field>`: the template names it, or
    /// names `identity` without a field (so it may reach any).
    pub fn needs_identity_field(&self, field: &str) -> bool {
        self.identity_fields
            .as_ref()
            .is_none_or(|names| names.iter().any(|n| n == field))
    }

    /// Whether it may read or write `$context.requestOverride` / `responseOverride`.
    pub fn names_overrides(&self) -> bool {
        self.needs_context_member("requestOverride")
            || self.needs_context_member("responseOverride")
    }

    /// Whether `$context` can be a read-only view of the members it names: the template
    /// writes nothing into `$context`, never uses it whole, and names neither the override
    /// maps nor `class` (which a map answers itself).
    pub fn reads_context_only(&self) -> bool {
        !self.writes_context
            && self.context_members.as_ref().is_some_and(|names| {
                !names
                    .iter()
                    .any(|n| matches!(n.as_str(), "requestOverride" | "responseOverride" | "class"))
            })
    }
}

/// Whether a `#set` may assign into `$context` (`#set($context.x = …)`, `#{set}( ${context…`).
fn writes_context(text: &str) -> bool {
    text.match_indices("set").any(|(at, _)| {
        let before = &text[..at];
        let rest = &text[at + "set".len()..];
        let rest = if before.ends_with("#{") {
            match rest.strip_prefix('}') {
                Some(r) => r,
                None => return false,
            }
        } else if before.ends_with('#') {
            rest
        } else {
            return false;
        };
        let Some(target) = rest.trim_start().strip_prefix('(') else {
            return false;
        };
        let target = target.trim_start();
        let target = target.strip_prefix('$').unwrap_or(target);
        let target = target.strip_prefix('!').unwrap_or(target);
        let target = target.strip_prefix('{').unwrap_or(target);
        target.starts_with("context")
    })
}

/// `identity` of `identity.sourceIp`.
fn top_member(name: &str) -> &str {
    name.split_once('.').map_or(name, |(top, _)| top)
}

fn dedup(mut names: Vec<String>, name: String) -> Vec<String> {
    if !names.contains(&name) {
        names.push(name);
    }
    names
}

/// The `$context.identity` fields among the names [`context_members`] found, or `None` when
/// the template may reach any of them.
fn identity_fields(names: &[String]) -> Option<Vec<String>> {
    if names.iter().any(|n| n == "identity") {
        return None;
    }
    Some(
        names
            .iter()
            .filter_map(|n| n.strip_prefix("identity."))
            .map(str::to_string)
            .collect(),
    )
}

/// `<field>` of a text starting `.<field>` not followed by `(` (a property, not a method).
fn identity_field(rest: &str) -> Option<&str> {
    let after = rest.strip_prefix('.')?;
    let len = after
        .bytes()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
        .count();
    let field = &after[..len];
    (!field.is_empty() && !after[len..].starts_with('(')).then_some(field)
}

/// The members of `$context` a template names, or `None` when it may reach any of them.
/// Every occurrence of `context` must be `context.<member>` not followed by `(`: anything else
/// (`$context` printed, `$context.get(...)`, `#set($c = $context)`, the word in a string)
/// falls back to all members, which is always correct.
fn context_members(text: &str) -> Option<Vec<String>> {
    let mut names: Vec<String> = Vec::new();
    for (at, _) in text.match_indices("context") {
        let after = text[at + "context".len()..].strip_prefix('.')?;
        let member: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if member.is_empty() || after[member.len()..].starts_with('(') {
            return None;
        }
        // `identity.<field>`: the field is recorded too (`identity.sourceIp`), so that a
        // render builds only the identity fields named; `identity` alone means all of them.
        let name = match identity_field(&after[member.len()..]) {
            Some(field) if member == "identity" => format!("identity.{field}"),
            _ => member,
        };
        if !names.contains(&name) {
            names.push(name);
        }
    }
    Some(names)
}

impl Template {
    /// Parses `text` (surrounding whitespace trimmed, as API Gateway does).
    pub fn parse(text: &str) -> Result<Template, CompileError> {
        let text = text.trim();
        if !text.contains('$') && !text.contains('#') {
            return Ok(Template::Literal(bytes::Bytes::copy_from_slice(
                text.as_bytes(),
            )));
        }
        let named = context_members(text);
        let uses = Uses {
            input: text.contains("input"),
            input_params: text.contains("params"),
            context: text.contains("context"),
            writes_context: writes_context(text),
            stage_variables: text.contains("stageVariables"),
            context_members: named.as_ref().map(|names| {
                let tops = names.iter().map(|n| top_member(n).to_string());
                std::sync::Arc::from(tops.fold(Vec::new(), dedup))
            }),
            identity_fields: named
                .as_deref()
                .and_then(identity_fields)
                .map(std::sync::Arc::from),
        };
        portico_vtl::Template::parse(text)
            .map(|t| Template::Vtl(t, uses))
            .map_err(|e| CompileError(format!("invalid mapping template: {e}")))
    }
}

/// Templates keyed by content type (lower case), in definition order.
#[derive(Debug, Default)]
pub struct TemplateSet {
    pub by_type: IndexMap<String, Template>,
}

impl TemplateSet {
    pub fn compile(
        templates: Option<&IndexMap<String, String>>,
    ) -> Result<TemplateSet, CompileError> {
        let mut by_type = IndexMap::new();
        for (ct, text) in templates.into_iter().flatten() {
            by_type.insert(ct.to_ascii_lowercase(), Template::parse(text)?);
        }
        Ok(TemplateSet { by_type })
    }

    pub fn is_empty(&self) -> bool {
        self.by_type.is_empty()
    }

    /// The template for a request's content type (media type only, lower case).
    pub fn for_request(&self, content_type: &str) -> Option<(&str, &Template)> {
        self.by_type
            .get_key_value(content_type)
            .map(|(k, v)| (k.as_str(), v))
    }

    /// The template for a response: the first type the client accepts, else
    /// `application/json`, else the first defined.
    pub fn for_response(&self, accept: Option<&str>) -> Option<(&str, &Template)> {
        if let Some(accept) = accept {
            for want in accept.split(',').map(media_type) {
                if let Some((k, v)) = self.by_type.get_key_value(want.as_str()) {
                    return Some((k.as_str(), v));
                }
            }
        }
        self.by_type
            .get_key_value("application/json")
            .or_else(|| self.by_type.first())
            .map(|(k, v)| (k.as_str(), v))
    }
}

/// The media type of a `Content-Type`/`Accept` item: lower case, parameters dropped.
pub fn media_type(value: &str) -> String {
    value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sources_and_targets() {
        assert!(matches!(ParamSource::parse("'abc'"), Some(ParamSource::Static(s)) if s == "abc"));
        assert!(matches!(
            ParamSource::parse("method.request.path.id"),
            Some(ParamSource::MethodPath(s)) if s == "id"
        ));
        assert!(matches!(
            ParamSource::parse("stageVariables.x"),
            Some(ParamSource::StageVariable(s)) if s == "x"
        ));
        assert!(matches!(
            ParamSource::parse("integration.response.body.a.b"),
            Some(ParamSource::IntegrationBodyPath(_))
        ));
        assert!(ParamSource::parse("nonsense").is_none());
        assert_eq!(
            ParamTarget::parse("integration.request.header.X-Id"),
            Some(ParamTarget::Header("X-Id".into()))
        );
        assert_eq!(ParamTarget::parse("integration.request.body"), None);
    }

    #[test]
    fn response_template_selection() {
        let mut m = IndexMap::new();
        m.insert("text/plain".to_string(), "t".to_string());
        m.insert("application/json".to_string(), "j".to_string());
        let set = TemplateSet::compile(Some(&m)).unwrap();
        assert_eq!(
            set.for_response(Some("text/plain")).unwrap().0,
            "text/plain"
        );
        assert_eq!(
            set.for_response(Some("image/png")).unwrap().0,
            "application/json"
        );
        assert_eq!(set.for_response(None).unwrap().0, "application/json");
        assert_eq!(
            media_type("Application/JSON; charset=utf-8"),
            "application/json"
        );
    }
}

#[cfg(test)]
mod context_member_tests {
    use super::{context_members, writes_context};

    #[test]
    fn finds_writes_into_context() {
        for write in [
            "#set($context.requestOverride.header.x = 'a')",
            "#{set}( $!{context.x} = 1)",
            "#set ($context.x = 1)",
        ] {
            assert!(writes_context(write), "{write}");
        }
        for read in [
            "#set($x = $context.requestId)",
            "$context.set",
            "#setting($context.x)",
            "set($context.x = 1)",
        ] {
            assert!(!writes_context(read), "{read}");
        }
    }

    #[test]
    fn names_the_members_or_falls_back_to_all() {
        assert_eq!(
            context_members(
                "$context.requestId ${context.identity.sourceIp} $context.identity.userAgent"
            ),
            Some(vec![
                "requestId".to_string(),
                "identity.sourceIp".into(),
                "identity.userAgent".into()
            ])
        );
        assert_eq!(
            context_members("$context.identity.keySet() $context.identity.sourceIp"),
            Some(vec!["identity".to_string(), "identity.sourceIp".into()])
        );
        assert_eq!(
            context_members("#set($context.responseOverride.status = 400)"),
            Some(vec!["responseOverride".to_string()])
        );
        assert_eq!(context_members("no variables"), Some(vec![]));
        for whole in [
            "$context",
            "${context}",
            "$context.keySet()",
            "$context.get('stage')",
            "#set($c = $context)$c.stage",
            "$input.params('context')",
        ] {
            assert_eq!(context_members(whole), None, "{whole}");
        }
    }
}
