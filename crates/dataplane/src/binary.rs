//! Binary payloads: `binaryMediaTypes` and `contentHandling`, following AWS's content type
//! conversion tables ("Content type conversions in API Gateway").

use base64::Engine as _;
use bytes::Bytes;

/// An integration's or integration response's `contentHandling`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ContentHandling {
    #[default]
    Passthrough,
    ConvertToText,
    ConvertToBinary,
}

impl ContentHandling {
    pub fn parse(s: Option<&str>) -> ContentHandling {
        match s {
            Some("CONVERT_TO_TEXT") => ContentHandling::ConvertToText,
            Some("CONVERT_TO_BINARY") => ContentHandling::ConvertToBinary,
            _ => ContentHandling::Passthrough,
        }
    }
}

/// Whether a `Content-Type` or `Accept` value names one of the API's binary media types
/// (`image/png`, `image/*`, `*/*`). For `Accept`, any listed type counts.
pub fn is_binary(media_types: &[String], header: Option<&str>) -> bool {
    let Some(header) = header else { return false };
    if media_types.is_empty() {
        return false;
    }
    header.split(',').any(|item| {
        let mt = crate::mapping::media_type(item);
        let (ty, _) = mt.split_once('/').unwrap_or((mt.as_str(), ""));
        media_types.iter().any(|b| {
            let b = b.to_ascii_lowercase();
            b == mt || b == "*/*" || b.strip_suffix("/*").is_some_and(|prefix| prefix == ty)
        })
    })
}

fn encode(body: &[u8]) -> Bytes {
    Bytes::from(base64::engine::general_purpose::STANDARD.encode(body))
}

fn decode(body: &[u8]) -> Result<Bytes, String> {
    let text: Vec<u8> = body
        .iter()
        .copied()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map(Bytes::from)
        .map_err(|e| format!("payload is not valid base64: {e}"))
}

/// The integration request payload for a method request payload.
pub fn convert_request(
    body: &Bytes,
    binary: bool,
    handling: ContentHandling,
) -> Result<Bytes, String> {
    match (binary, handling) {
        (true, ContentHandling::ConvertToText) => Ok(encode(body)),
        (false, ContentHandling::ConvertToBinary) => decode(body),
        _ => Ok(body.clone()),
    }
}

/// The method response payload for an integration response payload.
/// `binary`: the integration response's content type is a binary media type;
/// `accept_binary`: the client's `Accept` is; `types_set`: the API has binary media types.
pub fn convert_response(
    body: &Bytes,
    binary: bool,
    accept_binary: bool,
    types_set: bool,
    handling: ContentHandling,
) -> Result<Bytes, String> {
    match handling {
        ContentHandling::ConvertToBinary if !binary => decode(body),
        ContentHandling::ConvertToText if binary => Ok(encode(body)),
        ContentHandling::Passthrough if types_set && !binary && accept_binary => decode(body),
        ContentHandling::Passthrough if types_set && binary && !accept_binary => Ok(encode(body)),
        _ => Ok(body.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_type_matching() {
        let types = vec![
            "image/*".to_string(),
            "application/octet-stream".to_string(),
        ];
        assert!(is_binary(&types, Some("image/png")));
        assert!(is_binary(
            &types,
            Some("text/html, application/octet-stream;q=0.9")
        ));
        assert!(!is_binary(&types, Some("application/json")));
        assert!(!is_binary(&[], Some("image/png")));
        assert!(is_binary(&["*/*".to_string()], Some("text/plain")));
    }

    #[test]
    fn conversion_tables() {
        let text = Bytes::from_static(b"aGk=");
        let raw = Bytes::from_static(b"hi");
        use ContentHandling::*;
        assert_eq!(convert_request(&raw, true, ConvertToText).unwrap(), text);
        assert_eq!(convert_request(&text, false, ConvertToBinary).unwrap(), raw);
        assert_eq!(convert_request(&raw, true, Passthrough).unwrap(), raw);
        // Text integration data, binary Accept, types set: decoded.
        assert_eq!(
            convert_response(&text, false, true, true, Passthrough).unwrap(),
            raw
        );
        // Binary data to a text Accept: encoded.
        assert_eq!(
            convert_response(&raw, true, false, true, Passthrough).unwrap(),
            text
        );
        // No binary media types: as it came.
        assert_eq!(
            convert_response(&raw, true, false, false, Passthrough).unwrap(),
            raw
        );
        assert!(convert_response(&raw, false, false, false, ConvertToBinary).is_err());
    }
}
