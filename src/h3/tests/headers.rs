//! "Header validation (received headers)", through the connection: each kind of section is
//! validated with its rules and a violation closes with H3_MESSAGE_ERROR and the phrase.

use crate::error::ErrorCode;
use crate::frame::frame_type;
use crate::h3::Settings;
use crate::h3::test_support::*;

type Case = (&'static [(&'static str, &'static str)], &'static str);

const REQUESTS: &[Case] = &[
    (
        &[(":method", "GET"), (":authority", "a"), ("X-Foo", "1")],
        "Header 'X-Foo' contains invalid characters",
    ),
    (
        &[(":method", "GET"), (":authority", "a"), ("a b", "1")],
        "Header 'a b' contains invalid characters",
    ),
    (
        &[(":method", "GET"), (":authority", "a"), ("key:other", "1")],
        "Header 'key:other' contains a non-initial colon",
    ),
    (
        &[(":method", "GET"), (":authority", "a"), ("key", "a\rb")],
        "Header 'key' value has forbidden characters",
    ),
    (
        &[(":method", "GET"), (":authority", "a"), ("key", " v")],
        "Header 'key' value starts with whitespace",
    ),
    (
        &[(":method", "GET"), (":authority", "a"), ("key", "v\t")],
        "Header 'key' value ends with whitespace",
    ),
    (
        &[("x", "1"), (":method", "GET")],
        "Pseudo-header ':method' is not allowed after regular headers",
    ),
    (
        &[(":method", "GET"), (":status", "200")],
        "Pseudo-header ':status' is not valid",
    ),
    (
        &[(":method", "GET"), (":method", "GET")],
        "Pseudo-header ':method' is included twice",
    ),
    (
        &[(":path", "/")],
        "Pseudo-headers [':authority', ':method'] are missing",
    ),
    (
        &[(":method", "GET"), (":scheme", "https"), (":authority", "")],
        "Pseudo-header ':authority' cannot be empty",
    ),
    (
        &[
            (":method", "GET"),
            (":scheme", "http"),
            (":authority", "a"),
            (":path", ""),
        ],
        "Pseudo-header ':path' cannot be empty",
    ),
    (
        &[
            (":method", "GET"),
            (":authority", "a"),
            ("content-length", "x"),
        ],
        "content-length is not a non-negative integer",
    ),
    (
        &[
            (":method", "GET"),
            (":authority", "a"),
            ("connection", "close"),
        ],
        "Header 'connection' is connection-specific",
    ),
    (
        &[(":method", "GET"), (":authority", "a"), ("keep-alive", "1")],
        "Header 'keep-alive' is connection-specific",
    ),
    (
        &[
            (":method", "GET"),
            (":authority", "a"),
            ("proxy-connection", "1"),
        ],
        "Header 'proxy-connection' is connection-specific",
    ),
    (
        &[
            (":method", "GET"),
            (":authority", "a"),
            ("transfer-encoding", "chunked"),
        ],
        "Header 'transfer-encoding' is connection-specific",
    ),
    (
        &[
            (":method", "GET"),
            (":authority", "a"),
            ("upgrade", "websocket"),
        ],
        "Header 'upgrade' is connection-specific",
    ),
    (
        &[(":method", "GET"), (":authority", "a"), ("te", "gzip")],
        "Header 'te' value is not trailers",
    ),
];

const RESPONSES: &[Case] = &[
    (&[("x", "1")], "Pseudo-headers [':status'] are missing"),
    (
        &[(":status", "200"), (":path", "/")],
        "Pseudo-header ':path' is not valid",
    ),
    (
        &[(":status", "20")],
        "Pseudo-header ':status' has invalid value '20'",
    ),
    (
        &[(":status", "2xx")],
        "Pseudo-header ':status' has invalid value '2xx'",
    ),
    (
        &[(":status", "101")],
        "Pseudo-header ':status' cannot be 101",
    ),
    (
        &[(":status", "200"), ("te", "trailers")],
        "Header 'te' is connection-specific",
    ),
    (
        &[(":status", "200"), ("Content-Type", "x")],
        "Header 'Content-Type' contains invalid characters",
    ),
    (
        &[(":status", "200"), ("content-length", "-1")],
        "content-length is not a non-negative integer",
    ),
];

const PUSH_PROMISES: &[Case] = &[
    (
        &[(":method", "GET"), (":authority", "a")],
        "Pseudo-headers [':path', ':scheme'] are missing",
    ),
    (
        &[
            (":method", "GET"),
            (":scheme", "https"),
            (":authority", "a"),
            (":path", "/"),
            (":protocol", "x"),
        ],
        "Pseudo-header ':protocol' is not valid",
    ),
    (
        &[
            (":method", "GET"),
            (":scheme", "https"),
            (":authority", "a"),
            (":path", "/"),
            ("upgrade", "x"),
        ],
        "Header 'upgrade' is connection-specific",
    ),
];

const TRAILERS: &[Case] = &[
    (
        &[(":status", "200")],
        "Pseudo-header ':status' is not valid",
    ),
    (&[("te", "trailers")], "Header 'te' is connection-specific"),
    (
        &[("x", "a\nb")],
        "Header 'x' value has forbidden characters",
    ),
];

#[test]
fn requests_are_validated() {
    for mode in MODES {
        for (list, phrase) in REQUESTS {
            let mut s = server_with(Settings::default());
            recv(&mut s, 0, &headers_frame(list), false, mode);
            assert_closed(&s, ErrorCode::MessageError, phrase);
        }
    }
}

#[test]
fn responses_are_validated_on_request_and_push_streams() {
    for mode in MODES {
        for (list, phrase) in RESPONSES {
            let mut c = client_with(Settings::default());
            c.send_headers(0, &pairs(GET), true).unwrap();
            recv(&mut c, 0, &headers_frame(list), false, mode);
            assert_closed(&c, ErrorCode::MessageError, phrase);

            let mut c = client_with(Settings::default());
            recv(
                &mut c,
                3,
                &cat(&[&v(1), &v(0), &headers_frame(list)]),
                false,
                mode,
            );
            assert_closed(&c, ErrorCode::MessageError, phrase);
        }
    }
}

#[test]
fn push_promises_are_validated() {
    for mode in MODES {
        for (list, phrase) in PUSH_PROMISES {
            let mut c = client_with(Settings::default());
            c.send_headers(0, &pairs(GET), true).unwrap();
            let pp = frame(frame_type::PUSH_PROMISE, &cat(&[&v(0), &section(list)]));
            recv(&mut c, 0, &cat(&[&headers_frame(OK), &pp]), false, mode);
            assert_closed(&c, ErrorCode::MessageError, phrase);
        }
    }
}

#[test]
fn trailers_are_validated_both_ways() {
    for mode in MODES {
        for (list, phrase) in TRAILERS {
            let mut s = server_with(Settings::default());
            recv(
                &mut s,
                0,
                &cat(&[&headers_frame(GET), &headers_frame(list)]),
                false,
                mode,
            );
            assert_closed(&s, ErrorCode::MessageError, phrase);

            let mut c = client_with(Settings::default());
            c.send_headers(0, &pairs(GET), true).unwrap();
            recv(
                &mut c,
                0,
                &cat(&[&headers_frame(OK), &headers_frame(list)]),
                false,
                mode,
            );
            assert_closed(&c, ErrorCode::MessageError, phrase);
        }
    }
}

#[test]
fn valid_requests_pass() {
    let ok: &[&[(&str, &str)]] = &[
        GET,
        &[(":method", "CONNECT"), (":authority", "a:443")],
        &[
            (":method", "CONNECT"),
            (":protocol", "webtransport"),
            (":scheme", "https"),
            (":authority", "a"),
            (":path", "/wt"),
        ],
        &[
            (":method", "GET"),
            (":scheme", "https"),
            (":authority", "a"),
            (":path", "/"),
            ("te", "trailers"),
            ("content-length", "0"),
        ],
    ];
    for list in ok {
        let mut s = server_with(Settings::default());
        let events = recv(&mut s, 0, &headers_frame(list), false, Mode::Chunks);
        assert_open(&s);
        assert_eq!(events.len(), 1);
    }
}

#[test]
fn content_length_on_an_interim_response_is_ignored() {
    let mut c = client_with(Settings::default());
    c.send_headers(0, &pairs(GET), true).unwrap();
    let bytes = cat(&[
        &headers_frame(&[(":status", "100"), ("content-length", "50")]),
        &headers_frame(OK),
        &frame(0, b"abc"),
    ]);
    recv(&mut c, 0, &bytes, true, Mode::Chunks);
    assert_open(&c);
}
