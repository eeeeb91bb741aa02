//! Why verification failed, with the message AWS gives for each case.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::digest;

use crate::time;

/// How API Gateway classifies the failure: the `x-amzn-ErrorType` family. Every kind is a 403.
/// Suggested gateway response: [`ErrorKind::MissingAuthenticationToken`] →
/// `MISSING_AUTHENTICATION_TOKEN`, the others → `INVALID_SIGNATURE` (a best guess: AWS does not
/// document which gateway response an IAM failure goes through).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// No signature at all.
    MissingAuthenticationToken,
    /// A signature that cannot be read: missing parts, bad syntax, bad date.
    IncompleteSignature,
    /// A readable signature that is wrong: expired, badly scoped, not matching.
    InvalidSignature,
    /// An access key the lookup does not know.
    UnrecognizedClient,
}

impl ErrorKind {
    /// The exception name AWS sends as `x-amzn-ErrorType`.
    pub fn error_type(self) -> &'static str {
        match self {
            ErrorKind::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            ErrorKind::IncompleteSignature => "IncompleteSignatureException",
            ErrorKind::InvalidSignature => "InvalidSignatureException",
            ErrorKind::UnrecognizedClient => "UnrecognizedClientException",
        }
    }
}

/// A required part the request does not carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    Credential,
    Signature,
    SignedHeaders,
    /// Neither `X-Amz-Date` nor `Date` (header form) / no `X-Amz-Date` (presigned form).
    Date,
}

/// What is wrong with a credential scope; each part that does not match is reported.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScopeMismatch {
    /// The region the client signed for, when it is not the expected one.
    pub region: Option<String>,
    /// The service the request should have been signed for, when it was signed for another.
    pub service: Option<String>,
    /// The terminator, when it is not `aws4_request`.
    pub terminator: Option<String>,
    /// `(scope date, date of the request time, request time)` when they disagree.
    pub date: Option<(String, String, String)>,
}

/// Why a request's signature was not accepted. [`VerifyError::message`] is AWS's wording;
/// [`VerifyError::kind`] says how to answer.
///
/// Where the messages come from. "Verified" means the exact text appears in AWS responses
/// quoted in public issues, answers or AWS's own knowledge-center articles:
///
/// * Verified from API Gateway itself: "Missing Authentication Token"; "The security token
///   included in the request is invalid."; the signature mismatch text with its "\n\nThe
///   Canonical String for this request should have been\n'…'\n\nThe String-to-Sign should have
///   been\n'…'\n" tail; the four "Authorization header requires …" sentences and the older
///   "'…' not a valid key=value pair (missing equal-sign) in Authorization header: '…'.".
/// * Verified from other services behind the same SigV4 front end (Lambda, Kinesis, DynamoDB,
///   Batch, STS): "Signature expired: … is now earlier than … (… - 5 min.)", "Signature not
///   yet current: … is still later than … (… + 5 min.)", "Credential should be scoped to
///   correct service: '…'. ", "'Host' or ':authority' must be a 'SignedHeader' in the AWS
///   Authorization.", and, as recorded from DynamoDB by the dynalite emulator: "Date must be
///   in ISO-8601 'basic format'. Got '…'. See `http://en.wikipedia.org/wiki/ISO_8601`",
///   "Unsupported AWS 'algorithm': '…' (only AWS4-HMAC-SHA256 for now). ", "Credential must
///   have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '…'",
///   "Credential should be scoped with a valid terminator: 'aws4_request', not '…'. ", "Date in
///   Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '…' !=
///   '…', from '…'." and "Found both 'X-Amz-Algorithm' as a query-string param and
///   'Authorization' as HTTP header.", and the order in which the checks run.
/// * Best guesses. Since about 2024 AWS no longer echoes the Authorization header: it answers
///   "Invalid key=value pair (missing equal-sign) in Authorization header (hashed with SHA-256
///   and encoded with Base64): '…'." and "… (Hashed with SHA-256 and encoded with Base64)
///   Authorization=…" (seen from API Gateway-fronted APIs and from Bedrock); which string is
///   hashed is not public, so this hashes the whole header in the first and its first word
///   (what the unhashed form printed) in the second. "Credential should be scoped to a valid
///   region. " (recent; older answers added "not '…'"). "AWS query-string parameters must
///   include '…'. Re-examine the query-string parameters." (from emulators, not seen from
///   AWS). The `X-Amz-Expires` texts are S3's. The presigned-URL expiry text is made up in the
///   style of the header form's: no AWS answer was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyError {
    /// Neither an `Authorization` header nor an `X-Amz-Algorithm` query parameter (or one that
    /// names another algorithm).
    MissingAuthenticationToken,
    /// Both an `Authorization` header and `X-Amz-Algorithm` in the query.
    BothAuthorizationForms,
    /// A part of the `Authorization` header after the algorithm has no `=`.
    MalformedAuthorization { header: String, pair: String },
    /// The `Authorization` header lacks parts; `algorithm` is its first word.
    IncompleteAuthorization {
        missing: Vec<Missing>,
        algorithm: String,
    },
    /// The presigned query lacks parameters.
    IncompleteQuery { missing: Vec<Missing> },
    /// The request time is not `YYYYMMDD'T'HHMMSS'Z'` (or, from `Date`, an HTTP date).
    InvalidDate { value: String },
    /// `X-Amz-Expires` is not a whole number of seconds.
    InvalidExpires { value: String },
    /// `X-Amz-Expires` is more than seven days.
    ExpiresTooLong { expires: u64 },
    /// Signed more than five minutes ago (times are epoch seconds).
    Expired { signed_at: i64, now: i64 },
    /// Signed more than five minutes in the future.
    NotYetCurrent { signed_at: i64, now: i64 },
    /// A presigned URL used after `X-Amz-Date + X-Amz-Expires`.
    PresignedExpired {
        signed_at: i64,
        expires: u64,
        now: i64,
    },
    /// `host` is not among the signed headers.
    HostNotSigned,
    /// The `Authorization` header names an algorithm other than `AWS4-HMAC-SHA256`.
    UnsupportedAlgorithm { algorithm: String },
    /// The credential is not `keyid/date/region/service/aws4_request`.
    MalformedCredential { credential: String },
    /// The credential's scope is not this region, service or day.
    CredentialScope(ScopeMismatch),
    /// The secret lookup does not know this access key id.
    UnknownAccessKey { access_key_id: String },
    /// The signature is not the one computed from the request; AWS shows the client what it
    /// computed, to help it find the difference.
    SignatureDoesNotMatch {
        canonical_request: String,
        string_to_sign: String,
    },
}

impl VerifyError {
    pub fn kind(&self) -> ErrorKind {
        use VerifyError::*;
        match self {
            MissingAuthenticationToken => ErrorKind::MissingAuthenticationToken,
            MalformedAuthorization { .. }
            | IncompleteAuthorization { .. }
            | IncompleteQuery { .. }
            | InvalidDate { .. }
            | InvalidExpires { .. }
            | ExpiresTooLong { .. }
            | UnsupportedAlgorithm { .. }
            | MalformedCredential { .. } => ErrorKind::IncompleteSignature,
            BothAuthorizationForms
            | Expired { .. }
            | NotYetCurrent { .. }
            | PresignedExpired { .. }
            | HostNotSigned
            | CredentialScope(_)
            | SignatureDoesNotMatch { .. } => ErrorKind::InvalidSignature,
            UnknownAccessKey { .. } => ErrorKind::UnrecognizedClient,
        }
    }

    /// The message AWS answers with (the `message` of the JSON body).
    pub fn message(&self) -> String {
        self.to_string()
    }
}

fn hashed(s: &str) -> String {
    STANDARD.encode(digest::digest(&digest::SHA256, s.as_bytes()))
}

const MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use VerifyError::*;
        let amz = |t: i64| time::format_amz_date(t.clamp(0, time::MAX_TIME));
        match self {
            MissingAuthenticationToken => f.write_str("Missing Authentication Token"),
            BothAuthorizationForms => f.write_str(
                "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.",
            ),
            MalformedAuthorization { header, .. } => write!(
                f,
                "Invalid key=value pair (missing equal-sign) in Authorization header (hashed with SHA-256 and encoded with Base64): '{}'.",
                hashed(header)
            ),
            IncompleteAuthorization { missing, algorithm } => {
                for part in missing {
                    f.write_str(match part {
                        Missing::Credential => "Authorization header requires 'Credential' parameter. ",
                        Missing::Signature => "Authorization header requires 'Signature' parameter. ",
                        Missing::SignedHeaders => {
                            "Authorization header requires 'SignedHeaders' parameter. "
                        }
                        Missing::Date => {
                            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
                        }
                    })?;
                }
                write!(
                    f,
                    "(Hashed with SHA-256 and encoded with Base64) Authorization={}",
                    hashed(algorithm)
                )
            }
            IncompleteQuery { missing } => {
                for part in missing {
                    let name = match part {
                        Missing::Credential => "X-Amz-Credential",
                        Missing::Signature => "X-Amz-Signature",
                        Missing::SignedHeaders => "X-Amz-SignedHeaders",
                        Missing::Date => "X-Amz-Date",
                    };
                    write!(f, "AWS query-string parameters must include '{name}'. ")?;
                }
                f.write_str("Re-examine the query-string parameters.")
            }
            InvalidDate { value } => write!(
                f,
                "Date must be in ISO-8601 'basic format'. Got '{value}'. See http://en.wikipedia.org/wiki/ISO_8601"
            ),
            InvalidExpires { .. } => f.write_str("X-Amz-Expires should be a number"),
            ExpiresTooLong { .. } => {
                f.write_str("X-Amz-Expires must be less than a week (in seconds) that is 604800")
            }
            Expired { signed_at, now } => write!(
                f,
                "Signature expired: {} is now earlier than {} ({} - 5 min.)",
                amz(*signed_at),
                amz(now.saturating_sub(300)),
                amz(*now)
            ),
            NotYetCurrent { signed_at, now } => write!(
                f,
                "Signature not yet current: {} is still later than {} ({} + 5 min.)",
                amz(*signed_at),
                amz(now.saturating_add(300)),
                amz(*now)
            ),
            PresignedExpired {
                signed_at,
                expires,
                now,
            } => write!(
                f,
                "Signature expired: {} is now earlier than {} ({} - {expires} sec.)",
                amz(*signed_at),
                amz(now.saturating_sub_unsigned(*expires)),
                amz(*now)
            ),
            HostNotSigned => f.write_str(
                "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
            ),
            UnsupportedAlgorithm { algorithm } => write!(
                f,
                "Unsupported AWS 'algorithm': '{algorithm}' (only AWS4-HMAC-SHA256 for now). "
            ),
            MalformedCredential { credential } => write!(
                f,
                "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{credential}'"
            ),
            CredentialScope(m) => {
                if m.region.is_some() {
                    f.write_str("Credential should be scoped to a valid region. ")?;
                }
                if let Some(service) = &m.service {
                    write!(f, "Credential should be scoped to correct service: '{service}'. ")?;
                }
                if let Some(terminator) = &m.terminator {
                    write!(
                        f,
                        "Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'. "
                    )?;
                }
                if let Some((scope, expected, timestamp)) = &m.date {
                    write!(
                        f,
                        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{scope}' != '{expected}', from '{timestamp}'."
                    )?;
                }
                Ok(())
            }
            UnknownAccessKey { .. } => {
                f.write_str("The security token included in the request is invalid.")
            }
            SignatureDoesNotMatch {
                canonical_request,
                string_to_sign,
            } => write!(
                f,
                "{MISMATCH}\n\nThe Canonical String for this request should have been\n'{canonical_request}'\n\nThe String-to-Sign should have been\n'{string_to_sign}'\n"
            ),
        }
    }
}

impl std::error::Error for VerifyError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_messages_read_like_aws() {
        let t = time::parse_amz_date("20240101T000000Z").unwrap();
        let now = time::parse_amz_date("20240101T000600Z").unwrap();
        assert_eq!(
            VerifyError::Expired { signed_at: t, now }.message(),
            "Signature expired: 20240101T000000Z is now earlier than 20240101T000100Z (20240101T000600Z - 5 min.)"
        );
        assert_eq!(
            VerifyError::NotYetCurrent {
                signed_at: now,
                now: t
            }
            .message(),
            "Signature not yet current: 20240101T000600Z is still later than 20240101T000500Z (20240101T000000Z + 5 min.)"
        );
    }

    #[test]
    fn scope_messages_concatenate_in_aws_order() {
        let m = ScopeMismatch {
            region: Some("c".into()),
            service: Some("execute-api".into()),
            terminator: Some("e".into()),
            date: Some(("b".into(), "20130609".into(), "20130609T095204Z".into())),
        };
        assert_eq!(
            VerifyError::CredentialScope(m).message(),
            "Credential should be scoped to a valid region. Credential should be scoped to correct service: 'execute-api'. Credential should be scoped with a valid terminator: 'aws4_request', not 'e'. Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: 'b' != '20130609', from '20130609T095204Z'."
        );
    }

    #[test]
    fn incomplete_messages_list_every_missing_part() {
        let e = VerifyError::IncompleteAuthorization {
            missing: vec![
                Missing::Credential,
                Missing::Signature,
                Missing::SignedHeaders,
                Missing::Date,
            ],
            algorithm: "Bearer".into(),
        };
        assert_eq!(
            e.message(),
            format!(
                "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. (Hashed with SHA-256 and encoded with Base64) Authorization={}",
                hashed("Bearer")
            )
        );
        assert_eq!(e.kind().error_type(), "IncompleteSignatureException");
        let e = VerifyError::IncompleteQuery {
            missing: vec![Missing::Signature, Missing::Date],
        };
        assert_eq!(
            e.message(),
            "AWS query-string parameters must include 'X-Amz-Signature'. AWS query-string parameters must include 'X-Amz-Date'. Re-examine the query-string parameters."
        );
    }
}
