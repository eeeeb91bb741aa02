//! REST API resource matching, as API Gateway does it.
//!
//! A deployment's resource tree becomes a segment trie. Matching prefers, at each segment, a
//! static child, then a `{param}` child, then a greedy `{name+}` child, and backtracks when the
//! preferred branch finds nothing acceptable deeper down. Segments are percent-decoded before
//! they are compared or captured.
//!
//! Architecture invariant: pure. No IO, no async, no allocation per request beyond the
//! captured parameters.

use std::borrow::Cow;

/// One path segment of a resource template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Static(String),
    Param(String),
    Greedy(String),
}

impl Segment {
    /// Classifies a `pathPart`: `{id}`, `{proxy+}` or a literal.
    pub fn parse(part: &str) -> Segment {
        if let Some(inner) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            if let Some(name) = inner.strip_suffix('+') {
                return Segment::Greedy(name.to_string());
            }
            return Segment::Param(inner.to_string());
        }
        Segment::Static(part.to_string())
    }
}

#[derive(Debug)]
struct Node<T> {
    value: Option<T>,
    statics: Vec<(String, Node<T>)>,
    param: Option<(String, Box<Node<T>>)>,
    greedy: Option<(String, T)>,
}

impl<T> Default for Node<T> {
    fn default() -> Self {
        Node {
            value: None,
            statics: Vec::new(),
            param: None,
            greedy: None,
        }
    }
}

/// A compiled resource tree.
#[derive(Debug)]
pub struct Router<T> {
    root: Node<T>,
}

impl<T> Default for Router<T> {
    fn default() -> Self {
        Router {
            root: Node::default(),
        }
    }
}

/// A successful match: the resource's value and the captured path parameters, in order.
#[derive(Debug, PartialEq)]
pub struct Match<'r, T> {
    pub value: &'r T,
    pub params: Vec<(String, String)>,
}

/// Why a template could not be inserted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsertError {
    Duplicate(String),
    GreedyNotLast(String),
    ConflictingParam(String),
}

impl<T> Router<T> {
    pub fn new() -> Router<T> {
        Router::default()
    }

    /// Adds a resource at `template` (`/pets/{id}`, `/{proxy+}`, `/`).
    pub fn insert(&mut self, template: &str, value: T) -> Result<(), InsertError> {
        let parts: Vec<&str> = template.split('/').filter(|s| !s.is_empty()).collect();
        let mut node = &mut self.root;
        for (i, part) in parts.iter().enumerate() {
            match Segment::parse(part) {
                Segment::Static(s) => {
                    let pos = match node.statics.iter().position(|(k, _)| *k == s) {
                        Some(p) => p,
                        None => {
                            node.statics.push((s, Node::default()));
                            node.statics.len() - 1
                        }
                    };
                    node = &mut node.statics[pos].1;
                }
                Segment::Param(name) => {
                    match &node.param {
                        Some((existing, _)) if *existing != name => {
                            return Err(InsertError::ConflictingParam(template.to_string()));
                        }
                        Some(_) => {}
                        None => node.param = Some((name, Box::default())),
                    }
                    node = match node.param.as_mut() {
                        Some((_, child)) => child,
                        None => return Err(InsertError::ConflictingParam(template.to_string())),
                    };
                }
                Segment::Greedy(name) => {
                    if i + 1 != parts.len() {
                        return Err(InsertError::GreedyNotLast(template.to_string()));
                    }
                    if node.greedy.is_some() {
                        return Err(InsertError::Duplicate(template.to_string()));
                    }
                    node.greedy = Some((name, value));
                    return Ok(());
                }
            }
        }
        if node.value.is_some() {
            return Err(InsertError::Duplicate(template.to_string()));
        }
        node.value = Some(value);
        Ok(())
    }

    /// Finds the most specific resource for `path` (without the stage) whose value `accept`s
    /// the request (e.g. has the HTTP method or `ANY`).
    pub fn find(&self, path: &str, accept: impl Fn(&T) -> bool) -> Option<Match<'_, T>> {
        let segments: Vec<(usize, Cow<'_, str>)> = split_path(path)
            .map(|(at, s)| (at, decode_segment(s)))
            .collect();
        let mut params = Vec::new();
        let value = find_in(&self.root, path, &segments, &accept, &mut params)?;
        Some(Match { value, params })
    }
}

/// The non-empty segments of a request path, with where each starts. A trailing slash does
/// not make an extra segment; nor do repeated slashes.
fn split_path(path: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut at = 0;
    path.split('/').filter_map(move |s| {
        let start = at;
        at += s.len() + 1;
        (!s.is_empty()).then_some((start, s))
    })
}

fn find_in<'r, T>(
    node: &'r Node<T>,
    path: &str,
    rest: &[(usize, Cow<'_, str>)],
    accept: &impl Fn(&T) -> bool,
    params: &mut Vec<(String, String)>,
) -> Option<&'r T> {
    let Some(((_, head), tail)) = rest.split_first() else {
        return node.value.as_ref().filter(|v| accept(v));
    };
    if let Some((_, child)) = node
        .statics
        .iter()
        .find(|(k, _)| k.as_str() == head.as_ref())
        && let Some(v) = find_in(child, path, tail, accept, params)
    {
        return Some(v);
    }
    if let Some((name, child)) = &node.param {
        params.push((name.clone(), head.to_string()));
        if let Some(v) = find_in(child, path, tail, accept, params) {
            return Some(v);
        }
        params.pop();
    }
    if let Some((name, value)) = &node.greedy
        && accept(value)
    {
        // The rest of the path as sent, inner `//` included (AWS keeps them), trailing `/`
        // dropped, then decoded.
        let raw = path[rest[0].0..].trim_end_matches('/');
        params.push((name.clone(), percent_decode(raw)));
        return Some(value);
    }
    None
}

fn decode_segment(s: &str) -> Cow<'_, str> {
    if s.contains('%') {
        Cow::Owned(percent_decode(s))
    } else {
        Cow::Borrowed(s)
    }
}

/// Decodes `%XX` escapes; invalid escapes and invalid UTF-8 are kept as they came.
pub fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router() -> Router<&'static str> {
        let mut r = Router::new();
        for p in [
            "/",
            "/pets",
            "/pets/{id}",
            "/pets/mine",
            "/pets/{id}/toys",
            "/{proxy+}",
            "/a/{x+}",
        ] {
            r.insert(p, p).unwrap();
        }
        r
    }

    fn find(r: &Router<&'static str>, path: &str) -> Option<(&'static str, Vec<(String, String)>)> {
        r.find(path, |_| true).map(|m| (*m.value, m.params))
    }

    #[test]
    fn static_beats_param_beats_greedy() {
        let r = router();
        assert_eq!(find(&r, "/").unwrap().0, "/");
        assert_eq!(find(&r, "/pets/mine").unwrap().0, "/pets/mine");
        let (v, p) = find(&r, "/pets/42").unwrap();
        assert_eq!((v, p), ("/pets/{id}", vec![("id".into(), "42".into())]));
        let (v, p) = find(&r, "/other/deep/path").unwrap();
        assert_eq!(
            (v, p),
            (
                "/{proxy+}",
                vec![("proxy".into(), "other/deep/path".into())]
            )
        );
    }

    #[test]
    fn backtracks_to_greedy_when_specific_branch_dead_ends() {
        let r = router();
        let (v, p) = find(&r, "/pets/42/unknown").unwrap();
        assert_eq!(v, "/{proxy+}");
        assert_eq!(p, vec![("proxy".into(), "pets/42/unknown".into())]);
    }

    #[test]
    fn accept_filters_candidates() {
        let r = router();
        let m = r.find("/pets/42", |v| *v != "/pets/{id}").unwrap();
        assert_eq!(*m.value, "/{proxy+}");
    }

    #[test]
    fn decodes_segments_and_ignores_trailing_slash() {
        let r = router();
        let (v, p) = find(&r, "/pets/a%20b/").unwrap();
        assert_eq!((v, p), ("/pets/{id}", vec![("id".into(), "a b".into())]));
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("x%2Fy"), "x/y");
    }

    #[test]
    fn greedy_must_be_last_and_no_duplicates() {
        let mut r: Router<u8> = Router::new();
        assert_eq!(
            r.insert("/{p+}/x", 1),
            Err(InsertError::GreedyNotLast("/{p+}/x".into()))
        );
        r.insert("/a", 1).unwrap();
        assert!(matches!(r.insert("/a", 2), Err(InsertError::Duplicate(_))));
        assert!(r.find("/nothing", |_| true).is_none());
    }
}
