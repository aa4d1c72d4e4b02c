//! Validation of received field sections (RFC 9114 §4.2-4.3, RFC 9110 §5.5), as pure
//! functions. Every violation is a [`ProtocolError`] with H3_MESSAGE_ERROR and aioquic's
//! phrase, header names printed as plain text (`Header 'X-Foo' contains invalid
//! characters`).

use std::fmt::Write as _;

use crate::error::{ErrorCode, ProtocolError};
use crate::field::HeaderField;

/// Fields that only make sense on an HTTP/1.1 connection: a message carrying one is
/// malformed (RFC 9114 §4.2). `te` is allowed in requests and push promises with the
/// value `trailers`.
const CONNECTION_SPECIFIC: [&[u8]; 6] = [
    b"connection",
    b"keep-alive",
    b"proxy-connection",
    b"te",
    b"transfer-encoding",
    b"upgrade",
];

const REQUEST_PSEUDO: [&[u8]; 5] = [
    b":method",
    b":scheme",
    b":authority",
    b":path",
    b":protocol",
];
const PUSH_PROMISE_PSEUDO: [&[u8]; 4] = [b":method", b":scheme", b":authority", b":path"];
const RESPONSE_PSEUDO: [&[u8]; 1] = [b":status"];

/// What validation learned about a message, for the connection's later checks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MessageInfo {
    /// The value of `content-length`, if present (the last one wins).
    pub content_length: Option<u64>,
    /// The `:status` value of a response.
    pub status: Option<u16>,
}

/// A name or value shown as plain text inside single quotes: printable ASCII as is,
/// anything else as `\xNN`.
pub fn quoted(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('\'');
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\'' => out.push_str("\\'"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push('\'');
    out
}

fn message_error(reason: String) -> ProtocolError {
    ProtocolError::new(ErrorCode::MessageError, reason)
}

/// Parses a `content-length` value: one or more ASCII digits fitting in a u64.
pub fn parse_content_length(value: &[u8]) -> Option<u64> {
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    value.iter().try_fold(0u64, |acc, &d| {
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

/// True when the first `:status` of `headers` is a 1xx (interim) response.
pub fn is_interim_response(headers: &[HeaderField]) -> bool {
    headers
        .iter()
        .find(|f| f.name.as_ref() == b":status")
        .is_some_and(|f| f.value.first() == Some(&b'1'))
}

/// What a byte may be in a field name: [`NAME_OK`], [`NAME_COLON`] (only first) or
/// [`NAME_BAD`] (<= 0x20, upper case, >= 0x7f).
const NAME_OK: u8 = 0;
const NAME_COLON: u8 = 1;
const NAME_BAD: u8 = 2;
const NAME_BYTE: [u8; 256] = {
    let mut table = [NAME_BAD; 256];
    let mut c = 0x21;
    while c < 0x7f {
        table[c] = if c == b':' as usize {
            NAME_COLON
        } else if c >= b'A' as usize && c <= b'Z' as usize {
            NAME_BAD
        } else {
            NAME_OK
        };
        c += 1;
    }
    table
};

/// Bytes a field value may not hold: NUL, CR and LF.
const VALUE_FORBIDDEN: [bool; 256] = {
    let mut table = [false; 256];
    table[0] = true;
    table[b'\r' as usize] = true;
    table[b'\n' as usize] = true;
    table
};

/// Checks a field name: no bytes <= 0x20, no upper case, none >= 0x7f; a colon only first.
pub fn validate_name(name: &[u8]) -> Result<(), ProtocolError> {
    // The usual case in one pass without branches per byte; the error path says which
    // rule broke.
    let Some((&first, rest)) = name.split_first() else {
        return Ok(());
    };
    let classes = rest
        .iter()
        .fold(NAME_BYTE[usize::from(first)] & NAME_BAD, |acc, &c| {
            acc | NAME_BYTE[usize::from(c)]
        });
    if classes == NAME_OK {
        return Ok(());
    }
    // The first offending byte decides the message.
    for (i, &c) in name.iter().enumerate() {
        match NAME_BYTE[usize::from(c)] {
            NAME_BAD => {
                return Err(message_error(format!(
                    "Header {} contains invalid characters",
                    quoted(name)
                )));
            }
            NAME_COLON if i != 0 => {
                return Err(message_error(format!(
                    "Header {} contains a non-initial colon",
                    quoted(name)
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Checks a field value: no NUL, CR or LF; no leading or trailing SP / HTAB.
pub fn validate_value(name: &[u8], value: &[u8]) -> Result<(), ProtocolError> {
    if value
        .iter()
        .fold(false, |bad, &c| bad | VALUE_FORBIDDEN[usize::from(c)])
    {
        return Err(message_error(format!(
            "Header {} value has forbidden characters",
            quoted(name)
        )));
    }
    let is_ws = |c: &u8| *c == b' ' || *c == b'\t';
    if value.first().is_some_and(is_ws) {
        return Err(message_error(format!(
            "Header {} value starts with whitespace",
            quoted(name)
        )));
    }
    if value.len() > 1 && value.last().is_some_and(is_ws) {
        return Err(message_error(format!(
            "Header {} value ends with whitespace",
            quoted(name)
        )));
    }
    Ok(())
}

struct Rules<'a> {
    allowed: &'a [&'a [u8]],
    required: &'a [&'a [u8]],
    allow_te: bool,
}

fn validate(headers: &[HeaderField], rules: &Rules<'_>) -> Result<MessageInfo, ProtocolError> {
    let mut info = MessageInfo::default();
    let mut after_pseudo = false;
    // One bit per allowed pseudo-header seen.
    let mut seen: u32 = 0;
    let mut authority: Option<&[u8]> = None;
    let mut path: Option<&[u8]> = None;
    let mut scheme: Option<&[u8]> = None;

    for field in headers {
        let (name, value) = (field.name.as_ref(), field.value.as_ref());
        let is_pseudo = name.first() == Some(&b':');
        // An allowed pseudo-header's name is known to be well formed.
        let allowed = if is_pseudo {
            rules.allowed.iter().position(|p| *p == name)
        } else {
            None
        };
        if allowed.is_none() {
            validate_name(name)?;
        }
        validate_value(name, value)?;

        if is_pseudo {
            if after_pseudo {
                return Err(message_error(format!(
                    "Pseudo-header {} is not allowed after regular headers",
                    quoted(name)
                )));
            }
            let Some(index) = allowed else {
                return Err(message_error(format!(
                    "Pseudo-header {} is not valid",
                    quoted(name)
                )));
            };
            if seen & (1 << index) != 0 {
                return Err(message_error(format!(
                    "Pseudo-header {} is included twice",
                    quoted(name)
                )));
            }
            seen |= 1 << index;
            match name {
                b":authority" => authority = Some(value),
                b":path" => path = Some(value),
                b":scheme" => scheme = Some(value),
                _ => {}
            }
        } else {
            after_pseudo = true;
            if name == b"content-length" {
                let length = parse_content_length(value).ok_or_else(|| {
                    message_error("content-length is not a non-negative integer".into())
                })?;
                info.content_length = Some(length);
            } else if name == b"te" && rules.allow_te {
                if !value.eq_ignore_ascii_case(b"trailers") {
                    return Err(message_error(format!(
                        "Header {} value is not trailers",
                        quoted(name)
                    )));
                }
            } else if CONNECTION_SPECIFIC.contains(&name) {
                return Err(message_error(format!(
                    "Header {} is connection-specific",
                    quoted(name)
                )));
            }
        }
    }

    let mut missing: Vec<&[u8]> = rules
        .required
        .iter()
        .copied()
        .filter(|r| {
            let index = rules
                .allowed
                .iter()
                .position(|p| p == r)
                .expect("required is allowed");
            seen & (1 << index) == 0
        })
        .collect();
    if !missing.is_empty() {
        missing.sort_unstable();
        let list: Vec<String> = missing.iter().map(|m| quoted(m)).collect();
        return Err(message_error(format!(
            "Pseudo-headers [{}] are missing",
            list.join(", ")
        )));
    }

    if matches!(scheme, Some(b"http") | Some(b"https")) {
        if authority.is_none_or(<[u8]>::is_empty) {
            return Err(message_error(
                "Pseudo-header ':authority' cannot be empty".into(),
            ));
        }
        if path.is_none_or(<[u8]>::is_empty) {
            return Err(message_error(
                "Pseudo-header ':path' cannot be empty".into(),
            ));
        }
    }
    Ok(info)
}

/// Validates a request's field section (received by a server).
pub fn validate_request(headers: &[HeaderField]) -> Result<MessageInfo, ProtocolError> {
    validate(
        headers,
        &Rules {
            allowed: &REQUEST_PSEUDO,
            required: &[b":method", b":authority"],
            allow_te: true,
        },
    )
}

/// Validates a promised request's field section (PUSH_PROMISE, received by a client).
pub fn validate_push_promise(headers: &[HeaderField]) -> Result<MessageInfo, ProtocolError> {
    validate(
        headers,
        &Rules {
            allowed: &PUSH_PROMISE_PSEUDO,
            required: &PUSH_PROMISE_PSEUDO,
            allow_te: true,
        },
    )
}

/// Validates a response's field section (interim or final, received by a client).
pub fn validate_response(headers: &[HeaderField]) -> Result<MessageInfo, ProtocolError> {
    let mut info = validate(
        headers,
        &Rules {
            allowed: &RESPONSE_PSEUDO,
            required: &RESPONSE_PSEUDO,
            allow_te: false,
        },
    )?;
    let status = headers
        .iter()
        .find(|f| f.name.as_ref() == b":status")
        .map(|f| f.value.as_ref())
        .expect(":status is required");
    if status.len() != 3 || !status.iter().all(u8::is_ascii_digit) {
        return Err(message_error(format!(
            "Pseudo-header ':status' has invalid value {}",
            quoted(status)
        )));
    }
    if status == b"101" {
        return Err(message_error(
            "Pseudo-header ':status' cannot be 101".into(),
        ));
    }
    info.status = Some(
        status
            .iter()
            .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0')),
    );
    Ok(info)
}

/// Validates a trailer section: no pseudo-headers.
pub fn validate_trailers(headers: &[HeaderField]) -> Result<MessageInfo, ProtocolError> {
    validate(
        headers,
        &Rules {
            allowed: &[],
            required: &[],
            allow_te: false,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&[u8], &[u8])]) -> Vec<HeaderField> {
        pairs.iter().map(|(n, v)| HeaderField::new(n, v)).collect()
    }

    type Validator = fn(&[HeaderField]) -> Result<MessageInfo, ProtocolError>;

    const REQ: &[(&[u8], &[u8])] = &[
        (b":method", b"GET"),
        (b":scheme", b"https"),
        (b":authority", b"localhost"),
        (b":path", b"/"),
    ];

    fn with(
        base: &[(&'static [u8], &'static [u8])],
        extra: &[(&'static [u8], &'static [u8])],
    ) -> Vec<HeaderField> {
        let mut all = base.to_vec();
        all.extend_from_slice(extra);
        fields(&all)
    }

    #[test]
    fn valid_sections_pass() {
        let ok: &[(Validator, Vec<HeaderField>)] = &[
            (validate_request, fields(REQ)),
            (
                validate_request,
                with(REQ, &[(b"te", b"trailers"), (b"content-length", b"0")]),
            ),
            (validate_request, with(REQ, &[(b"te", b"Trailers")])),
            (
                validate_request,
                fields(&[(b":method", b"CONNECT"), (b":authority", b"h:443")]),
            ),
            (
                validate_request,
                fields(&[
                    (b":method", b"CONNECT"),
                    (b":protocol", b"websocket"),
                    (b":scheme", b"https"),
                    (b":authority", b"a"),
                    (b":path", b"/"),
                ]),
            ),
            (
                validate_request,
                fields(&[
                    (b":method", b"GET"),
                    (b":scheme", b"ftp"),
                    (b":authority", b"x"),
                ]),
            ),
            (validate_push_promise, fields(REQ)),
            (validate_push_promise, with(REQ, &[(b"te", b"trailers")])),
            (
                validate_response,
                fields(&[(b":status", b"200"), (b"content-length", b"12")]),
            ),
            (
                validate_response,
                fields(&[(b":status", b"103"), (b"link", b"</a>")]),
            ),
            (
                validate_trailers,
                fields(&[(b"x-checksum", b"abc"), (b"x-empty", b"")]),
            ),
            (validate_trailers, fields(&[])),
            (validate_trailers, fields(&[(b"x", b"a b\tc")])),
        ];
        for (i, (validator, headers)) in ok.iter().enumerate() {
            if let Err(e) = validator(headers) {
                panic!("case {i}: unexpected {e}");
            }
        }
    }

    #[test]
    fn every_violation_has_its_phrase() {
        let cases: &[(Validator, Vec<HeaderField>, &str)] = &[
            (
                validate_trailers,
                fields(&[(b"X-Foo", b"a")]),
                "Header 'X-Foo' contains invalid characters",
            ),
            (
                validate_trailers,
                fields(&[(b"invalid name ", b"a")]),
                "Header 'invalid name ' contains invalid characters",
            ),
            (
                validate_trailers,
                fields(&[(b"a\x00b", b"a")]),
                "Header 'a\\x00b' contains invalid characters",
            ),
            (
                validate_trailers,
                fields(&[(b"caf\xc3\xa9", b"a")]),
                "Header 'caf\\xc3\\xa9' contains invalid characters",
            ),
            (
                validate_trailers,
                fields(&[(b"del\x7f", b"a")]),
                "Header 'del\\x7f' contains invalid characters",
            ),
            (
                validate_trailers,
                fields(&[(b"key:other", b"a")]),
                "Header 'key:other' contains a non-initial colon",
            ),
            (
                validate_trailers,
                fields(&[(b"key", b"a\nb")]),
                "Header 'key' value has forbidden characters",
            ),
            (
                validate_trailers,
                fields(&[(b"key", b"a\rb")]),
                "Header 'key' value has forbidden characters",
            ),
            (
                validate_trailers,
                fields(&[(b"key", b"a\x00b")]),
                "Header 'key' value has forbidden characters",
            ),
            (
                validate_trailers,
                fields(&[(b"key", b" value")]),
                "Header 'key' value starts with whitespace",
            ),
            (
                validate_trailers,
                fields(&[(b"key", b"\tvalue")]),
                "Header 'key' value starts with whitespace",
            ),
            (
                validate_trailers,
                fields(&[(b"key", b"value ")]),
                "Header 'key' value ends with whitespace",
            ),
            (
                validate_trailers,
                fields(&[(b"key", b"value\t")]),
                "Header 'key' value ends with whitespace",
            ),
            (
                validate_trailers,
                fields(&[(b":status", b"200")]),
                "Pseudo-header ':status' is not valid",
            ),
            (
                validate_request,
                fields(&[(b"regular", b"h"), (b":method", b"GET")]),
                "Pseudo-header ':method' is not allowed after regular headers",
            ),
            (
                validate_request,
                fields(&[(b":method", b"GET"), (b":method", b"POST")]),
                "Pseudo-header ':method' is included twice",
            ),
            (
                validate_request,
                fields(&[(b":status", b"200")]),
                "Pseudo-header ':status' is not valid",
            ),
            (
                validate_request,
                fields(&[(b":invalid", b"x")]),
                "Pseudo-header ':invalid' is not valid",
            ),
            (
                validate_request,
                fields(&[(b":method", b"GET")]),
                "Pseudo-headers [':authority'] are missing",
            ),
            (
                validate_request,
                fields(&[(b"x", b"y")]),
                "Pseudo-headers [':authority', ':method'] are missing",
            ),
            (
                validate_request,
                fields(&[
                    (b":method", b"GET"),
                    (b":scheme", b"http"),
                    (b":authority", b""),
                ]),
                "Pseudo-header ':authority' cannot be empty",
            ),
            (
                validate_request,
                fields(&[
                    (b":method", b"GET"),
                    (b":scheme", b"https"),
                    (b":authority", b"a"),
                    (b":path", b""),
                ]),
                "Pseudo-header ':path' cannot be empty",
            ),
            (
                validate_request,
                fields(&[
                    (b":method", b"GET"),
                    (b":scheme", b"https"),
                    (b":authority", b"a"),
                ]),
                "Pseudo-header ':path' cannot be empty",
            ),
            (
                validate_request,
                with(REQ, &[(b"content-length", b"-1")]),
                "content-length is not a non-negative integer",
            ),
            (
                validate_request,
                with(REQ, &[(b"content-length", b"abc")]),
                "content-length is not a non-negative integer",
            ),
            (
                validate_request,
                with(REQ, &[(b"content-length", b"")]),
                "content-length is not a non-negative integer",
            ),
            (
                validate_request,
                with(REQ, &[(b"content-length", b"99999999999999999999999")]),
                "content-length is not a non-negative integer",
            ),
            (
                validate_request,
                with(REQ, &[(b"te", b"gzip")]),
                "Header 'te' value is not trailers",
            ),
            (
                validate_request,
                with(REQ, &[(b"connection", b"close")]),
                "Header 'connection' is connection-specific",
            ),
            (
                validate_request,
                with(REQ, &[(b"keep-alive", b"1")]),
                "Header 'keep-alive' is connection-specific",
            ),
            (
                validate_request,
                with(REQ, &[(b"proxy-connection", b"1")]),
                "Header 'proxy-connection' is connection-specific",
            ),
            (
                validate_request,
                with(REQ, &[(b"transfer-encoding", b"chunked")]),
                "Header 'transfer-encoding' is connection-specific",
            ),
            (
                validate_request,
                with(REQ, &[(b"upgrade", b"h2c")]),
                "Header 'upgrade' is connection-specific",
            ),
            (
                validate_push_promise,
                fields(&[(b":method", b"GET"), (b":protocol", b"ws")]),
                "Pseudo-header ':protocol' is not valid",
            ),
            (
                validate_push_promise,
                fields(&[(b":method", b"GET")]),
                "Pseudo-headers [':authority', ':path', ':scheme'] are missing",
            ),
            (
                validate_push_promise,
                with(REQ, &[(b"te", b"x")]),
                "Header 'te' value is not trailers",
            ),
            (
                validate_push_promise,
                with(REQ, &[(b"upgrade", b"x")]),
                "Header 'upgrade' is connection-specific",
            ),
            (
                validate_response,
                fields(&[]),
                "Pseudo-headers [':status'] are missing",
            ),
            (
                validate_response,
                fields(&[(b":status", b"200"), (b":status", b"200")]),
                "Pseudo-header ':status' is included twice",
            ),
            (
                validate_response,
                fields(&[(b":method", b"GET")]),
                "Pseudo-header ':method' is not valid",
            ),
            (
                validate_response,
                fields(&[(b":status", b"20")]),
                "Pseudo-header ':status' has invalid value '20'",
            ),
            (
                validate_response,
                fields(&[(b":status", b"2000")]),
                "Pseudo-header ':status' has invalid value '2000'",
            ),
            (
                validate_response,
                fields(&[(b":status", b"abc")]),
                "Pseudo-header ':status' has invalid value 'abc'",
            ),
            (
                validate_response,
                fields(&[(b":status", b"101")]),
                "Pseudo-header ':status' cannot be 101",
            ),
            (
                validate_response,
                fields(&[(b":status", b"200"), (b"te", b"trailers")]),
                "Header 'te' is connection-specific",
            ),
            (
                validate_response,
                fields(&[(b":status", b"200"), (b"content-length", b"+1")]),
                "content-length is not a non-negative integer",
            ),
            (
                validate_trailers,
                fields(&[(b"te", b"trailers")]),
                "Header 'te' is connection-specific",
            ),
            (
                validate_trailers,
                fields(&[(b"transfer-encoding", b"chunked")]),
                "Header 'transfer-encoding' is connection-specific",
            ),
        ];
        for (i, (validator, headers, phrase)) in cases.iter().enumerate() {
            let err = validator(headers).expect_err(phrase);
            assert_eq!(err.code, ErrorCode::MessageError, "case {i}");
            assert_eq!(err.reason, *phrase, "case {i}");
        }
    }

    #[test]
    fn info_reports_content_length_and_status() {
        let info = validate_response(&fields(&[(b":status", b"304"), (b"content-length", b"10")]))
            .unwrap();
        assert_eq!(
            info,
            MessageInfo {
                content_length: Some(10),
                status: Some(304)
            }
        );
        let info = validate_request(&with(
            REQ,
            &[(b"content-length", b"1"), (b"content-length", b"2")],
        ))
        .unwrap();
        assert_eq!(info.content_length, Some(2));
        assert_eq!(validate_request(&fields(REQ)).unwrap().content_length, None);
    }

    /// The table-driven checks agree with the rules read byte by byte, message included,
    /// over every name and value of two bytes and names of three with a colon or an
    /// upper-case letter placed anywhere.
    #[test]
    fn tables_agree_with_the_rules() {
        fn name_rule(name: &[u8]) -> Result<(), &'static str> {
            for (i, &c) in name.iter().enumerate() {
                if c <= 0x20 || c.is_ascii_uppercase() || c >= 0x7f {
                    return Err("contains invalid characters");
                }
                if c == b':' && i != 0 {
                    return Err("contains a non-initial colon");
                }
            }
            Ok(())
        }
        let check_name = |name: &[u8]| {
            let got = validate_name(name).map_err(|e| e.reason);
            match name_rule(name) {
                Ok(()) => assert!(got.is_ok(), "{name:?}"),
                Err(phrase) => assert!(got.unwrap_err().ends_with(phrase), "{name:?}"),
            }
        };
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                check_name(&[a, b]);
                let value = [a, b];
                let forbidden = value.iter().any(|&c| c == 0 || c == b'\r' || c == b'\n');
                let spaced = [a, b].iter().any(|&c| c == b' ' || c == b'\t');
                assert_eq!(
                    validate_value(b"x", &value).is_ok(),
                    !forbidden && !spaced,
                    "{value:?}"
                );
            }
        }
        for odd in [b':', b'A', b'Z', b' ', 0x7f, 0x80] {
            for at in 0..3 {
                let mut name = *b"abc";
                name[at] = odd;
                check_name(&name);
                let mut both = *b"abcd";
                both[at] = b':';
                both[3] = odd;
                check_name(&both);
            }
        }
        assert!(validate_name(b"").is_ok());
    }

    #[test]
    fn content_length_parsing() {
        assert_eq!(parse_content_length(b"0"), Some(0));
        assert_eq!(parse_content_length(b"0012"), Some(12));
        assert_eq!(
            parse_content_length(b"18446744073709551615"),
            Some(u64::MAX)
        );
        assert_eq!(parse_content_length(b"18446744073709551616"), None);
        assert_eq!(parse_content_length(b"1 2"), None);
        assert_eq!(parse_content_length(b""), None);
    }

    #[test]
    fn interim_detection() {
        assert!(is_interim_response(&fields(&[(b":status", b"100")])));
        assert!(is_interim_response(&fields(&[(b":status", b"103")])));
        assert!(!is_interim_response(&fields(&[(b":status", b"200")])));
        assert!(!is_interim_response(&fields(&[(b"x", b"1")])));
    }

    #[test]
    fn quoting_is_plain_text() {
        assert_eq!(quoted(b"X-Foo"), "'X-Foo'");
        assert_eq!(quoted(b"a'b\\c\xff"), "'a\\'b\\\\c\\xff'");
    }
}
