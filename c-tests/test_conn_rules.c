/* The receive-side rules of docs/BEHAVIOUR.md (#control-stream, #unidirectional-streams,
 * #request-and-push-streams, #header-validation, #datagrams-and-webtransport,
 * #goaway-and-graceful-shutdown, #stream-aborts-and-push-cancellation,
 * #being-a-good-citizen, #priorities), table-driven: each rule creates a client or a
 * server h3q_conn over a fake transport, feeds the peer's bytes step by step (one byte per
 * event, whole chunks with FIN apart, and whole chunks carrying FIN), and checks that the
 * last step (only) returns H3Q_ERR_PROTOCOL, that the transport was closed exactly once
 * with the rule's code and reason, that h3q_conn_close_code() gives that code and
 * h3q_conn_last_error() names the error, that nothing is delivered afterwards, and that
 * the QUIC termination which follows is reported once, as our close. Rules with code 0
 * must not close: they check the events delivered instead. Either kind may list the HTTP
 * events it expects (all but DATA_RECEIVED, in order) with their fields. Rules that must
 * not close may also list the transport's set_stream_priority calls (every one, or the
 * last ones) and what h3q_conn_get_priority() then gives for a stream; in every rule,
 * h3q never names a stream of its own (control, QPACK) nor an urgency above 7 there. */
#include "h3q.h"

#include "check.h"
#include "expect_events.h"
#include "fake_transport.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum step_kind { END = 0, DATA, HDRS, PPRM, RESET, STOPS, DGRAM, EVT };

typedef struct step {
    int kind;
    uint64_t sid;
    const char *text; /* hex (DATA, DGRAM) or header text (HDRS, PPRM), see fake_section */
    int fin;
    uint64_t arg; /* push id (PPRM), error code (RESET, STOPS), QUIC event type (EVT) */
} step;

#define MAX_STEPS 7

/* The set_stream_priority calls a rule expects (see fake_transport.h): not checked, exactly
 * these, or ending with these. */
enum { TOLD_UNCHECKED = 0, TOLD_EXACTLY, TOLD_ENDING };
typedef struct told_list {
    int how;
    size_t n;
    const fake_priority *items;
} told_list;
#define P(sid, u, i) {(sid), (u), (i)}
#define TOLD(...)                                                                         \
    {TOLD_EXACTLY, sizeof((const fake_priority[]){__VA_ARGS__}) / sizeof(fake_priority),    \
     (const fake_priority[]){__VA_ARGS__}}
#define TOLD_LAST(...)                                                                    \
    {TOLD_ENDING, sizeof((const fake_priority[]){__VA_ARGS__}) / sizeof(fake_priority),     \
     (const fake_priority[]){__VA_ARGS__}}
#define TOLD_NOTHING {TOLD_EXACTLY, 0, NULL}

/* h3q_conn_get_priority(sid) after the steps: H3Q_OK with {urgency, incremental}, or
 * H3Q_DONE with nothing written. */
typedef struct get_check {
    bool check;
    uint64_t sid;
    h3q_result rc;
    uint8_t urgency;
    bool incremental;
} get_check;
#define GET_PRIO(sid, u, i) {true, (sid), H3Q_OK, (u), (i)}
#define GET_PRIO_DONE(sid) {true, (sid), H3Q_DONE, 0, false}
#define NO_GET {false, 0, H3Q_OK, 0, false}

typedef struct rule {
    const char *name;
    bool client;       /* the connection under test is the client */
    uint64_t dgram;    /* the peer's max_datagram_frame_size */
    step steps[MAX_STEPS];
    uint64_t code;      /* the close code; 0: the rule must not close */
    const char *reason; /* the close reason */
    /* must not close: the HTTP events other than DATA_RECEIVED (expect_events.h); closes:
     * the events before the close, when listed */
    expect_list events;
    /* rules that must not close: */
    const char *data;   /* all DATA_RECEIVED bytes, concatenated (NULL: not checked) */
    uint64_t reset_code; /* a reset we must send on reset_sid (0: no reset at all) */
    uint64_t reset_sid;
    const char *decoder_hex; /* what we send on our QPACK decoder stream (NULL: nothing) */
} rule;

/* Steps. */
#define D(sid, hex) {DATA, (sid), (hex), 0, 0}
#define DF(sid, hex) {DATA, (sid), (hex), 1, 0}
#define FIN(sid) {DATA, (sid), "", 1, 0}
#define H(sid, text) {HDRS, (sid), (text), 0, 0}
#define HF(sid, text) {HDRS, (sid), (text), 1, 0}
#define PP(sid, push_id, text) {PPRM, (sid), (text), 0, (push_id)}
#define RST(sid) {RESET, (sid), NULL, 0, 0x10c}
#define STOP(sid) {STOPS, (sid), NULL, 0, 0x10c}
#define DG(hex) {DGRAM, 0, (hex), 0, 0}
#define EV(type) {EVT, 0, NULL, 0, (type)}

/* The peer's control stream with an empty SETTINGS: a client's (2), a server's (3). */
#define CCTL D(2, "00 04 00")
#define SCTL D(3, "00 04 00")
/* GET https://a/ with static references only, on stream 0. */
#define REQ D(0, "01 08 00 00 d1 d7 c1 50 01 61")
#define RSP200 D(0, "01 03 00 00 d9")
#define RSP103 D(0, "01 03 00 00 d8")
#define GET_TEXT ":method=GET\n:scheme=https\n:authority=a\n:path=/"

/* A rule that closes with `code` and `reason` (after the events `ev`). */
#define CLOSE(code, reason) (code), (reason), N_EVENTS(0), NULL, 0, 0, NULL
#define CLOSE_AFTER(code, reason, ev) (code), (reason), ev, NULL, 0, 0, NULL

/* PRIORITY_UPDATE frames (RFC 9218 §7.1): type 0xf0700 names a request stream, 0xf0701 a
 * push id; the payload is that id, then the Priority Field Value. */
#define PU_REQ "80 0f 07 00"
#define PU_PUSH "80 0f 07 01"
/* "u=1, i" and "u=6, i" */
#define U1_I "75 3d 31 2c 20 69"
#define U6_I "75 3d 36 2c 20 69"

/* Codes. */
#define STREAM_CREATION 0x103
#define CLOSED_CRITICAL 0x104
#define FRAME_UNEXPECTED 0x105
#define FRAME_ERROR 0x106
#define EXCESSIVE_LOAD 0x107
#define ID_ERROR 0x108
#define SETTINGS_ERROR 0x109
#define MISSING_SETTINGS 0x10a
#define MESSAGE_ERROR 0x10e
#define QPACK_DECOMPRESSION 0x200
#define QPACK_ENCODER_STREAM 0x201
#define QPACK_DECODER_STREAM 0x202
#define DATAGRAM_ERROR 0x33

static const rule rules[] = {
    /* ---- the peer's control stream ---- */
    {"control: first frame GOAWAY", false, 0, {D(2, "00 07 01 00")}, CLOSE(MISSING_SETTINGS, "")},
    {"control: first frame unknown type 0x21", false, 0, {D(2, "00 21 00")},
     CLOSE(MISSING_SETTINGS, "")},
    {"control: first frame DATA", true, 0, {D(3, "00 00 01 61")}, CLOSE(MISSING_SETTINGS, "")},
    {"control: second SETTINGS", false, 0, {CCTL, D(2, "04 00")}, CLOSE(FRAME_UNEXPECTED,
     "SETTINGS have already been received")},
    {"control: DATA", false, 0, {CCTL, D(2, "00 01 78")}, CLOSE(FRAME_UNEXPECTED,
     "Invalid frame type on control stream")},
    {"control: DATA announcing 1 MB, decided from its header", false, 0,
     {CCTL, D(2, "00 80 10 00 00")}, CLOSE(FRAME_UNEXPECTED, "Invalid frame type on control stream")},
    {"control: HEADERS", false, 0, {CCTL, D(2, "01 03 00 00 d9")}, CLOSE(FRAME_UNEXPECTED,
     "Invalid frame type on control stream")},
    {"control: PUSH_PROMISE", true, 0, {SCTL, D(3, "05 04 00 00 00 d9")}, CLOSE(FRAME_UNEXPECTED,
     "Invalid frame type on control stream")},
    {"control: HTTP/2 type 0x2", false, 0, {CCTL, D(2, "02 00")}, CLOSE(FRAME_UNEXPECTED,
     "Invalid frame type on control stream")},
    {"control: HTTP/2 type 0x6", false, 0, {CCTL, D(2, "06 00")}, CLOSE(FRAME_UNEXPECTED,
     "Invalid frame type on control stream")},
    {"control: HTTP/2 type 0x8", true, 0, {SCTL, D(3, "08 00")}, CLOSE(FRAME_UNEXPECTED,
     "Invalid frame type on control stream")},
    {"control: HTTP/2 type 0x9", false, 0, {CCTL, D(2, "09 01 00")}, CLOSE(FRAME_UNEXPECTED,
     "Invalid frame type on control stream")},
    {"control: MAX_PUSH_ID to a client", true, 0, {SCTL, D(3, "0d 01 05")}, CLOSE(FRAME_UNEXPECTED,
     "Servers must not send MAX_PUSH_ID")},
    {"settings: reserved id 0x0", false, 0, {D(2, "00 04 02 00 00")}, CLOSE(SETTINGS_ERROR,
     "Setting identifier 0x0 is reserved")},
    {"settings: reserved id 0x2", false, 0, {D(2, "00 04 02 02 00")}, CLOSE(SETTINGS_ERROR,
     "Setting identifier 0x2 is reserved")},
    {"settings: reserved id 0x5", true, 0, {D(3, "00 04 04 01 00 05 01")}, CLOSE(SETTINGS_ERROR,
     "Setting identifier 0x5 is reserved")},
    {"settings: repeated id", false, 0, {D(2, "00 04 04 01 00 01 00")}, CLOSE(SETTINGS_ERROR,
     "Setting identifier 0x1 is included twice")},
    {"settings: truncated (id without value)", false, 0, {D(2, "00 04 01 01")}, CLOSE(FRAME_ERROR,
     "Could not parse SETTINGS frame")},
    {"settings: truncated (value varint cut)", false, 0, {D(2, "00 04 02 01 40")},
     CLOSE(FRAME_ERROR, "Could not parse SETTINGS frame")},
    {"settings: ENABLE_CONNECT_PROTOCOL=2", false, 0, {D(2, "00 04 02 08 02")},
     CLOSE(SETTINGS_ERROR, "ENABLE_CONNECT_PROTOCOL setting must be 0 or 1")},
    {"settings: H3_DATAGRAM=2", false, 1200, {D(2, "00 04 02 33 02")}, CLOSE(SETTINGS_ERROR,
     "H3_DATAGRAM setting must be 0 or 1")},
    {"settings: ENABLE_WEBTRANSPORT=2", false, 1200, {D(2, "00 04 07 33 01 ab 60 37 42 02")},
     CLOSE(SETTINGS_ERROR, "ENABLE_WEBTRANSPORT setting must be 0 or 1")},
    {"settings: H3_DATAGRAM=1 without max_datagram_frame_size", false, 0,
     {D(2, "00 04 02 33 01")}, CLOSE(SETTINGS_ERROR,
     "H3_DATAGRAM requires max_datagram_frame_size transport parameter")},
    {"settings: ENABLE_WEBTRANSPORT=1 without H3_DATAGRAM", false, 1200,
     {D(2, "00 04 05 ab 60 37 42 01")}, CLOSE(SETTINGS_ERROR,
     "ENABLE_WEBTRANSPORT requires H3_DATAGRAM")},
    {"settings: ENABLE_WEBTRANSPORT=1 with H3_DATAGRAM=0", true, 1200,
     {D(3, "00 04 07 33 00 ab 60 37 42 01")}, CLOSE(SETTINGS_ERROR,
     "ENABLE_WEBTRANSPORT requires H3_DATAGRAM")},
    {"max_push_id: empty", false, 0, {CCTL, D(2, "0d 00")}, CLOSE(FRAME_ERROR,
     "Could not parse MAX_PUSH_ID frame")},
    {"max_push_id: trailing data", false, 0, {CCTL, D(2, "0d 02 05 00")}, CLOSE(FRAME_ERROR,
     "MAX_PUSH_ID frame has trailing data")},
    {"max_push_id: reduced", false, 0, {CCTL, D(2, "0d 01 05"), D(2, "0d 01 05"),
     D(2, "0d 01 04")}, CLOSE(ID_ERROR, "MAX_PUSH_ID reduced the maximum push ID")},
    {"control: FIN", false, 0, {CCTL, FIN(2)}, CLOSE(CLOSED_CRITICAL,
     "Closing control stream is not allowed")},
    {"control: FIN before any frame", true, 0, {D(3, "00"), FIN(3)}, CLOSE(CLOSED_CRITICAL,
     "Closing control stream is not allowed")},
    {"critical: reset of the peer's control stream", false, 0, {CCTL, RST(2)},
     CLOSE(CLOSED_CRITICAL, "Resetting a critical stream is not allowed")},
    {"critical: reset of the peer's encoder stream", false, 0, {D(6, "02"), RST(6)},
     CLOSE(CLOSED_CRITICAL, "Resetting a critical stream is not allowed")},
    {"critical: reset of the peer's decoder stream", true, 0, {D(11, "03"), RST(11)},
     CLOSE(CLOSED_CRITICAL, "Resetting a critical stream is not allowed")},
    {"critical: STOP_SENDING on our control stream", false, 0, {STOP(3)}, CLOSE(CLOSED_CRITICAL,
     "Stopping a critical stream is not allowed")},
    {"critical: STOP_SENDING on our encoder stream", true, 0, {STOP(6)}, CLOSE(CLOSED_CRITICAL,
     "Stopping a critical stream is not allowed")},
    {"critical: STOP_SENDING on our decoder stream", false, 0, {STOP(11)}, CLOSE(CLOSED_CRITICAL,
     "Stopping a critical stream is not allowed")},

    /* ---- unidirectional streams ---- */
    {"uni: second control stream", false, 0, {CCTL, D(14, "00")}, CLOSE(STREAM_CREATION,
     "Only one control stream is allowed")},
    {"uni: second encoder stream", false, 0, {D(6, "02"), D(14, "02")}, CLOSE(STREAM_CREATION,
     "Only one QPACK encoder stream is allowed")},
    {"uni: second decoder stream", true, 0, {D(7, "03"), D(11, "03")}, CLOSE(STREAM_CREATION,
     "Only one QPACK decoder stream is allowed")},
    {"uni: push stream opened by a client", false, 0, {D(2, "01 00")}, CLOSE(STREAM_CREATION,
     "Clients must not open push streams")},
    {"uni: push id above MAX_PUSH_ID (8)", true, 0, {D(15, "01 09")}, CLOSE(ID_ERROR,
     "Push ID exceeds the maximum push ID")},
    {"uni: push id above MAX_PUSH_ID, 8-byte varint", true, 0,
     {D(15, "01 c0 00 00 00 00 00 01 00")}, CLOSE(ID_ERROR, "Push ID exceeds the maximum push ID")},
    {"qpack: encoder stream capacity above our maximum", false, 0, {D(6, "02 3f e9 26")},
     CLOSE(QPACK_ENCODER_STREAM, "")},
    {"qpack: encoder stream insert with a bad name reference", true, 0,
     {D(7, "02"), D(7, "80 01 61")}, CLOSE(QPACK_ENCODER_STREAM, "")},
    {"qpack: decoder stream acknowledges an unknown section", false, 0, {D(10, "03 80")},
     CLOSE(QPACK_DECODER_STREAM, "")},

    /* ---- request and push streams ---- */
    {"request: PUSH_PROMISE received by a server", false, 0, {REQ, D(0, "05 03 00 00 00")},
     CLOSE(FRAME_UNEXPECTED, "Clients must not send PUSH_PROMISE")},
    {"request: CANCEL_PUSH", false, 0, {REQ, D(0, "03 01 00")}, CLOSE(FRAME_UNEXPECTED,
     "Invalid frame type on request stream")},
    {"request: SETTINGS", false, 0, {REQ, D(0, "04 00")}, CLOSE(FRAME_UNEXPECTED,
     "Invalid frame type on request stream")},
    {"request: GOAWAY", true, 0, {RSP200, D(0, "07 01 00")}, CLOSE(FRAME_UNEXPECTED,
     "Invalid frame type on request stream")},
    {"request: MAX_PUSH_ID", false, 0, {REQ, D(0, "0d 01 00")}, CLOSE(FRAME_UNEXPECTED,
     "Invalid frame type on request stream")},
    {"request: HTTP/2 type 0x2", false, 0, {D(0, "02 00")}, CLOSE(FRAME_UNEXPECTED,
     "Invalid frame type on request stream")},
    {"request: HTTP/2 type 0x6", false, 0, {REQ, D(0, "06 00")}, CLOSE(FRAME_UNEXPECTED,
     "Invalid frame type on request stream")},
    {"request: HTTP/2 type 0x8", true, 0, {D(0, "08 00")}, CLOSE(FRAME_UNEXPECTED,
     "Invalid frame type on request stream")},
    {"request: HTTP/2 type 0x9", false, 0, {REQ, D(4, "09 00")}, CLOSE(FRAME_UNEXPECTED,
     "Invalid frame type on request stream")},
    {"push: PUSH_PROMISE on a push stream", true, 0, {SCTL, D(15, "01 00"),
     D(15, "05 04 00 00 00 d9")}, CLOSE(FRAME_UNEXPECTED, "Invalid frame type on push stream")},
    {"push: CANCEL_PUSH on a push stream", true, 0, {D(15, "01 02"), D(15, "03 01 02")},
     CLOSE(FRAME_UNEXPECTED, "Invalid frame type on push stream")},
    {"push: SETTINGS on a push stream", true, 0, {D(15, "01 02 04 00")}, CLOSE(FRAME_UNEXPECTED,
     "Invalid frame type on push stream")},
    {"request: DATA before HEADERS", false, 0, {D(0, "00 01 78")}, CLOSE(FRAME_UNEXPECTED,
     "DATA frame is not allowed in this state")},
    {"request: DATA announcing 1 MB before HEADERS, from its header", false, 0,
     {D(0, "00 80 10 00 00")}, CLOSE(FRAME_UNEXPECTED, "DATA frame is not allowed in this state")},
    {"response: DATA after only a 1xx", true, 0, {RSP103, D(0, "00 01 78")},
     CLOSE(FRAME_UNEXPECTED, "DATA frame is not allowed in this state")},
    {"request: DATA after trailers", false, 0, {REQ, H(0, "x-t=1"), D(0, "00 01 78")},
     CLOSE(FRAME_UNEXPECTED, "DATA frame is not allowed in this state")},
    {"response: 1xx after the final response (trailers with :status)", true, 0,
     {RSP200, RSP103}, CLOSE(MESSAGE_ERROR, "Pseudo-header ':status' is not valid")},
    {"control: SETTINGS larger than max_buffered_frame_size", false, 0,
     {D(2, "00 04 80 01 00 01")}, CLOSE(EXCESSIVE_LOAD, "Frame of type 0x4 exceeds 65536 bytes")},
    {"request: PUSH_PROMISE larger than max_buffered_frame_size", true, 0,
     {D(0, "05 80 10 00 00")}, CLOSE(EXCESSIVE_LOAD, "Frame of type 0x5 exceeds 65536 bytes")},
    {"request: HEADERS after trailers", false, 0, {REQ, H(0, "x-t=1"), H(0, "x-t=2")},
     CLOSE(FRAME_UNEXPECTED, "HEADERS frame is not allowed in this state")},
    {"request: undecodable section (static index 99)", false, 0,
     {D(0, "01 04 00 00 ff 24")}, CLOSE(QPACK_DECOMPRESSION, "")},
    {"request: undecodable section (dynamic reference, Required Insert Count 0)", false, 0,
     {D(0, "01 03 00 00 80")}, CLOSE(QPACK_DECOMPRESSION, "")},
    {"request: section cut inside a field line", true, 0, {D(0, "01 03 00 00 50")},
     CLOSE(QPACK_DECOMPRESSION, "")},
    {"request: DATA frame cut by FIN", false, 0, {REQ, DF(0, "00 05 61")}, CLOSE(FRAME_ERROR,
     "Frame is truncated by the end of the stream")},
    {"request: HEADERS frame cut by FIN", false, 0, {DF(0, "01 08 00 00 d1 d7")}, CLOSE(FRAME_ERROR,
     "Frame is truncated by the end of the stream")},
    {"request: frame header cut by FIN", true, 0, {RSP200, DF(0, "00")}, CLOSE(FRAME_ERROR,
     "Frame is truncated by the end of the stream")},
    {"push_promise: no push id", true, 0, {D(0, "05 00")}, CLOSE(FRAME_ERROR,
     "Could not parse PUSH_PROMISE frame")},
    {"push_promise: push id above MAX_PUSH_ID (8)", true, 0, {D(0, "05 03 09 00 00")},
     CLOSE(ID_ERROR, "Push ID exceeds the maximum push ID")},
    {"response: 1xx ending the stream (FIN apart)", true, 0, {RSP103, FIN(0)}, CLOSE(MESSAGE_ERROR,
     "Interim response cannot end the stream")},
    {"response: 1xx ending the stream (FIN on the frame)", true, 0,
     {HF(0, ":status=100")}, CLOSE(MESSAGE_ERROR, "Interim response cannot end the stream")},
    {"request: content-length larger than the body", false, 0,
     {H(0, GET_TEXT "\ncontent-length=5"), DF(0, "00 01 78")}, CLOSE(MESSAGE_ERROR,
     "content-length does not match data size")},
    {"response: content-length smaller than the body", true, 0,
     {H(0, ":status=200\ncontent-length=1"), D(0, "00 01 78"), DF(0, "00 01 79")},
     CLOSE(MESSAGE_ERROR, "content-length does not match data size")},
    {"response: content-length without body, FIN on HEADERS", true, 0,
     {HF(0, ":status=200\ncontent-length=3")}, CLOSE(MESSAGE_ERROR,
     "content-length does not match data size")},
    {"request: HEADERS announcing more than max_buffered_frame_size", false, 0,
     {D(0, "01 80 10 00 00")}, CLOSE(EXCESSIVE_LOAD, "Frame of type 0x1 exceeds 65536 bytes")},

    /* ---- header validation ---- */
    {"headers: upper-case name", false, 0, {H(0, GET_TEXT "\nX-Foo=1")}, CLOSE(MESSAGE_ERROR,
     "Header 'X-Foo' contains invalid characters")},
    {"headers: space in name", false, 0, {H(0, GET_TEXT "\nx%20y=1")}, CLOSE(MESSAGE_ERROR,
     "Header 'x y' contains invalid characters")},
    {"headers: byte 0x7f in name", true, 0, {H(0, ":status=200\nx%7f=1")}, CLOSE(MESSAGE_ERROR,
     "Header 'x\\x7f' contains invalid characters")},
    {"headers: non-initial colon", false, 0, {H(0, GET_TEXT "\nx:foo=1")}, CLOSE(MESSAGE_ERROR,
     "Header 'x:foo' contains a non-initial colon")},
    {"headers: CR in value", false, 0, {H(0, GET_TEXT "\nx-foo=a%0db")}, CLOSE(MESSAGE_ERROR,
     "Header 'x-foo' value has forbidden characters")},
    {"headers: NUL in value", true, 0, {H(0, ":status=200\nx-foo=a%00b")}, CLOSE(MESSAGE_ERROR,
     "Header 'x-foo' value has forbidden characters")},
    {"headers: LF in value", false, 0, {H(0, GET_TEXT "\nx-foo=%0a")}, CLOSE(MESSAGE_ERROR,
     "Header 'x-foo' value has forbidden characters")},
    {"headers: leading space in value", false, 0, {H(0, GET_TEXT "\nx-foo= a")},
     CLOSE(MESSAGE_ERROR, "Header 'x-foo' value starts with whitespace")},
    {"headers: trailing tab in value", false, 0, {H(0, GET_TEXT "\nx-foo=a%09")},
     CLOSE(MESSAGE_ERROR, "Header 'x-foo' value ends with whitespace")},
    {"headers: pseudo-header after a regular header", false, 0,
     {H(0, ":method=GET\n:scheme=https\n:authority=a\nx=1\n:path=/")}, CLOSE(MESSAGE_ERROR,
     "Pseudo-header ':path' is not allowed after regular headers")},
    {"headers: unknown pseudo-header in a request", false, 0, {H(0, GET_TEXT "\n:foo=1")},
     CLOSE(MESSAGE_ERROR, "Pseudo-header ':foo' is not valid")},
    {"headers: :status in a request", false, 0, {H(0, ":status=200\n" GET_TEXT)},
     CLOSE(MESSAGE_ERROR, "Pseudo-header ':status' is not valid")},
    {"headers: :method in a response", true, 0, {H(0, ":status=200\n:method=GET")},
     CLOSE(MESSAGE_ERROR, "Pseudo-header ':method' is not valid")},
    {"headers: duplicate :method", false, 0, {H(0, ":method=GET\n" GET_TEXT)}, CLOSE(MESSAGE_ERROR,
     "Pseudo-header ':method' is included twice")},
    {"headers: missing :method and :authority", false, 0, {H(0, ":scheme=https\n:path=/")},
     CLOSE(MESSAGE_ERROR, "Pseudo-headers [':authority', ':method'] are missing")},
    {"headers: missing :status", true, 0, {H(0, "x=1")}, CLOSE(MESSAGE_ERROR,
     "Pseudo-headers [':status'] are missing")},
    {"headers: empty :authority with https", false, 0,
     {H(0, ":method=GET\n:scheme=https\n:authority=\n:path=/")}, CLOSE(MESSAGE_ERROR,
     "Pseudo-header ':authority' cannot be empty")},
    {"headers: empty :path with https", false, 0,
     {H(0, ":method=GET\n:scheme=https\n:authority=a\n:path=")}, CLOSE(MESSAGE_ERROR,
     "Pseudo-header ':path' cannot be empty")},
    {"headers: :status of two digits", true, 0, {H(0, ":status=20")}, CLOSE(MESSAGE_ERROR,
     "Pseudo-header ':status' has invalid value '20'")},
    {"headers: :status not digits", true, 0, {H(0, ":status=2x0")}, CLOSE(MESSAGE_ERROR,
     "Pseudo-header ':status' has invalid value '2x0'")},
    {"headers: :status 101", true, 0, {H(0, ":status=101")}, CLOSE(MESSAGE_ERROR,
     "Pseudo-header ':status' cannot be 101")},
    {"headers: connection", false, 0, {H(0, GET_TEXT "\nconnection=close")}, CLOSE(MESSAGE_ERROR,
     "Header 'connection' is connection-specific")},
    {"headers: transfer-encoding", true, 0, {H(0, ":status=200\ntransfer-encoding=chunked")},
     CLOSE(MESSAGE_ERROR, "Header 'transfer-encoding' is connection-specific")},
    {"headers: keep-alive", false, 0, {H(0, GET_TEXT "\nkeep-alive=1")}, CLOSE(MESSAGE_ERROR,
     "Header 'keep-alive' is connection-specific")},
    {"headers: upgrade", false, 0, {H(0, GET_TEXT "\nupgrade=h2c")}, CLOSE(MESSAGE_ERROR,
     "Header 'upgrade' is connection-specific")},
    {"headers: proxy-connection", false, 0, {H(0, GET_TEXT "\nproxy-connection=x")},
     CLOSE(MESSAGE_ERROR, "Header 'proxy-connection' is connection-specific")},
    {"headers: te other than trailers in a request", false, 0, {H(0, GET_TEXT "\nte=gzip")},
     CLOSE(MESSAGE_ERROR, "Header 'te' value is not trailers")},
    {"headers: te in a response", true, 0, {H(0, ":status=200\nte=trailers")}, CLOSE(MESSAGE_ERROR,
     "Header 'te' is connection-specific")},
    {"headers: content-length not a number", false, 0,
     {H(0, GET_TEXT "\ncontent-length=-1")}, CLOSE(MESSAGE_ERROR,
     "content-length is not a non-negative integer")},
    {"headers: pseudo-header in trailers", false, 0, {REQ, H(0, ":path=/")}, CLOSE(MESSAGE_ERROR,
     "Pseudo-header ':path' is not valid")},
    {"headers: push promise without :scheme/:authority/:path", true, 0,
     {PP(0, 0, ":method=GET")}, CLOSE(MESSAGE_ERROR,
     "Pseudo-headers [':authority', ':path', ':scheme'] are missing")},
    {"headers: pushed response with upper-case name", true, 0,
     {D(15, "01 03"), H(15, ":status=200\nX=1")}, CLOSE(MESSAGE_ERROR,
     "Header 'X' contains invalid characters")},

    /* ---- datagrams ---- */
    {"datagram: empty", false, 1200, {DG("")}, CLOSE(DATAGRAM_ERROR,
     "Could not parse quarter stream ID")},
    {"datagram: quarter stream id cut", true, 1200, {DG("80 00 01")}, CLOSE(DATAGRAM_ERROR,
     "Could not parse quarter stream ID")},

    /* ---- GOAWAY, CANCEL_PUSH, push ids and ORIGIN ---- */
    {"goaway: a server's id 1 is no request stream", true, 0, {SCTL, D(3, "07 01 01")},
     CLOSE(ID_ERROR, "GOAWAY id 1 is not a client-initiated bidirectional stream")},
    {"goaway: a server's id 2 is no request stream", true, 0, {SCTL, D(3, "07 01 02")},
     CLOSE(ID_ERROR, "GOAWAY id 2 is not a client-initiated bidirectional stream")},
    {"goaway: a server's id 7 is no request stream", true, 0, {SCTL, D(3, "07 01 07")},
     CLOSE(ID_ERROR, "GOAWAY id 7 is not a client-initiated bidirectional stream")},
    {"goaway: a server's id larger than an earlier one", true, 0,
     {SCTL, D(3, "07 01 08"), D(3, "07 01 0c")}, CLOSE_AFTER(ID_ERROR,
     "GOAWAY id 12 is larger than an earlier GOAWAY's (8)", EVENTS(E_GOAWAY(8)))},
    {"goaway: a client's push id larger than an earlier one", false, 0,
     {CCTL, D(2, "07 01 03"), D(2, "07 01 05")}, CLOSE_AFTER(ID_ERROR,
     "GOAWAY id 5 is larger than an earlier GOAWAY's (3)", EVENTS(E_GOAWAY_PUSH(3)))},
    {"goaway: empty", true, 0, {SCTL, D(3, "07 00")}, CLOSE(FRAME_ERROR,
     "Could not parse GOAWAY frame")},
    {"goaway: id varint cut by the frame's end", false, 0, {CCTL, D(2, "07 01 40")},
     CLOSE(FRAME_ERROR, "Could not parse GOAWAY frame")},
    {"goaway: trailing data", true, 0, {SCTL, D(3, "07 02 04 00")}, CLOSE(FRAME_ERROR,
     "GOAWAY frame has trailing data")},
    {"cancel_push: a push the server never promised", false, 0,
     {CCTL, D(2, "0d 01 08"), D(2, "03 01 00")}, CLOSE(ID_ERROR,
     "CANCEL_PUSH names push id 0, which was never promised")},
    {"cancel_push: above the client's MAX_PUSH_ID (8)", true, 0, {SCTL, D(3, "03 01 09")},
     CLOSE(ID_ERROR, "CANCEL_PUSH names push id 9, which was never promised")},
    {"cancel_push: empty", true, 0, {SCTL, D(3, "03 00")}, CLOSE(FRAME_ERROR,
     "Could not parse CANCEL_PUSH frame")},
    {"cancel_push: trailing data", true, 0, {SCTL, D(3, "03 02 00 00")}, CLOSE(FRAME_ERROR,
     "CANCEL_PUSH frame has trailing data")},
    {"push: a push id on a second push stream", true, 0,
     {SCTL, D(15, "01 02"), D(19, "01 02")}, CLOSE(ID_ERROR,
     "Push ID 2 used on a second push stream")},
    {"origin: an entry longer than the frame, at a client", true, 0,
     {SCTL, D(3, "0c 03 00 05 61")}, CLOSE(FRAME_ERROR, "Could not parse ORIGIN frame")},
    {"origin: an entry length cut, at a client", true, 0,
     {SCTL, D(3, "0c 03 00 01 61"), D(3, "0c 01 00")},
     CLOSE_AFTER(FRAME_ERROR, "Could not parse ORIGIN frame", EVENTS(E_ORIGIN("a")))},
    {"origin: larger than max_buffered_frame_size, from its header", true, 0,
     {SCTL, D(3, "0c 80 10 00 00")}, CLOSE(EXCESSIVE_LOAD,
     "Frame of type 0xc exceeds 65536 bytes")},

    /* ---- PRIORITY_UPDATE (#priorities); the rules that do not close: priority_rules ---- */
    {"priority_update: names stream 2, no request stream", false, 0,
     {CCTL, D(2, PU_REQ " 04 02 75 3d 31")}, CLOSE(ID_ERROR,
     "PRIORITY_UPDATE names stream 2, which is not a request stream")},
    {"priority_update: names stream 1, a server-initiated one, empty value", false, 0,
     {CCTL, D(2, PU_REQ " 01 01")}, CLOSE(ID_ERROR,
     "PRIORITY_UPDATE names stream 1, which is not a request stream")},
    {"priority_update: names stream 2^62-1 (8-byte varint)", false, 0,
     {CCTL, D(2, PU_REQ " 08 ff ff ff ff ff ff ff ff")}, CLOSE(ID_ERROR,
     "PRIORITY_UPDATE names stream 4611686018427387903, which is not a request stream")},
    {"priority_update: push 0, never promised", false, 0,
     {CCTL, D(2, PU_PUSH " 04 00 75 3d 31")}, CLOSE(ID_ERROR,
     "PRIORITY_UPDATE names push 0, which was never promised")},
    {"priority_update: push 100 (2-byte varint), never promised", false, 0,
     {CCTL, D(2, PU_PUSH " 02 40 64")}, CLOSE(ID_ERROR,
     "PRIORITY_UPDATE names push 100, which was never promised")},
    {"priority_update: empty payload", false, 0, {CCTL, D(2, PU_REQ " 00")},
     CLOSE(FRAME_ERROR, "Could not parse PRIORITY_UPDATE frame")},
    {"priority_update: push, empty payload", false, 0, {CCTL, D(2, PU_PUSH " 00")},
     CLOSE(FRAME_ERROR, "Could not parse PRIORITY_UPDATE frame")},
    {"priority_update: push id cut short", false, 0, {CCTL, D(2, PU_PUSH " 01 40")},
     CLOSE(FRAME_ERROR, "Could not parse PRIORITY_UPDATE frame")},
    {"priority_update: stream id cut short (3 bytes of a 4-byte varint)", false, 0,
     {CCTL, D(2, PU_REQ " 03 80 00 00")}, CLOSE(FRAME_ERROR,
     "Could not parse PRIORITY_UPDATE frame")},
    {"priority_update: 65,537 bytes, decided from its header", false, 0,
     {CCTL, D(2, PU_REQ " 80 01 00 01")}, CLOSE(EXCESSIVE_LOAD,
     "Frame of type 0xf0700 exceeds 65536 bytes")},
    {"priority_update: push, 1 MB, decided from its header", false, 0,
     {CCTL, D(2, PU_PUSH " 80 10 00 00")}, CLOSE(EXCESSIVE_LOAD,
     "Frame of type 0xf0701 exceeds 65536 bytes")},
    {"priority_update: received by a client", true, 0, {SCTL, D(3, PU_REQ " 04 00 75 3d 31")},
     CLOSE(FRAME_UNEXPECTED, "Servers must not send PRIORITY_UPDATE")},
    {"priority_update: push type received by a client", true, 0, {SCTL, D(3, PU_PUSH " 01 00")},
     CLOSE(FRAME_UNEXPECTED, "Servers must not send PRIORITY_UPDATE")},
    {"priority_update: on a request stream", false, 0, {REQ, D(0, PU_REQ " 04 00 75 3d 31")},
     CLOSE(FRAME_UNEXPECTED, "Invalid frame type on request stream")},
    {"priority_update: first frame of a request stream", false, 0, {D(4, PU_REQ " 01 04")},
     CLOSE(FRAME_UNEXPECTED, "Invalid frame type on request stream")},
    {"priority_update: on a response stream", true, 0, {RSP200, D(0, PU_REQ " 01 00")},
     CLOSE(FRAME_UNEXPECTED, "Invalid frame type on request stream")},
    {"priority_update: on a push stream", true, 0, {D(15, "01 00"), D(15, PU_PUSH " 01 00")},
     CLOSE(FRAME_UNEXPECTED, "Invalid frame type on push stream")},
    {"priority_update: before SETTINGS", false, 0, {D(2, "00 " PU_REQ " 01 00")},
     CLOSE(MISSING_SETTINGS, "")},

    /* ---- rules that must not close ---- */
    {"skip: unknown frames on the control stream", false, 0,
     {CCTL, D(2, "21 03 61 62 63"), D(2, "40 40 00"), D(2, "21 80 10 00 00"), D(2, "61 62")},
     0, NULL, N_EVENTS(0), NULL, 0, 0, NULL},
    {"skip: MAX_PUSH_ID equal and higher", false, 0,
     {CCTL, D(2, "0d 01 05"), D(2, "0d 01 05"), D(2, "0d 02 40 40")}, 0, NULL, N_EVENTS(0),
     NULL, 0, 0, NULL},
    {"skip: unknown frames on a request stream, also last", false, 0,
     {D(0, "21 00"), REQ, D(0, "21 02 00 00 00 02 68 69"), DF(0, "5a 01 00")}, 0, NULL,
     EVENTS(E_HEADERS(0)), "hi", 0, 0, NULL},
    {"skip: GREASE and unknown stream types, split varints", false, 0,
     {D(14, "21 01 02 03"), FIN(14), D(18, "40 40 ff"), RST(18),
      D(22, "c0 00 00 00 00 00 00 21 ff"), FIN(22), RST(26)},
     0, NULL, N_EVENTS(0), NULL, 0, 0, NULL},
    {"events: handshake skipped; the termination reported once, as it came", false, 0,
     {EV(H3Q_QUIC_HANDSHAKE_COMPLETED), CCTL, EV(H3Q_QUIC_CONNECTION_TERMINATED),
      EV(H3Q_QUIC_CONNECTION_TERMINATED)},
     0, NULL, EVENTS(E_CLOSED(0x100, APP, true, "bye")), NULL, 0, 0, NULL},
    {"skip: unknown setting ids", false, 0, {D(2, "00 04 0a 21 05 40 40 07 80 00 40 00 00")},
     0, NULL, N_EVENTS(0), NULL, 0, 0, NULL},
    {"skip: content-length on a 1xx is ignored", true, 0,
     {H(0, ":status=103\ncontent-length=7"), RSP200, DF(0, "00 02 68 69")}, 0, NULL,
     EVENTS(E_HEADERS(0), E_HEADERS(0)), "hi", 0, 0, NULL},
    {"skip: empty DATA frames, request with body", false, 0,
     {H(0, ":method=POST\n:scheme=https\n:authority=a\n:path=/\ncontent-length=2"),
      D(0, "00 00 00 01 68"), D(0, "00 00"), DF(0, "00 01 69")}, 0, NULL,
     EVENTS(E_HEADERS(0)), "hi", 0, 0, NULL},
    {"skip: datagram for stream 4", false, 1200, {DG("01 70 61 79")}, 0, NULL, N_EVENTS(1),
     NULL, 0, 0, NULL},
    {"incomplete: request stream ends before HEADERS", false, 0, {FIN(0)}, 0, NULL,
     N_EVENTS(0), NULL, 0x10d, 0, NULL},
    {"incomplete: request stream with only an unknown frame ends", false, 0,
     {D(4, "21 00"), FIN(4)}, 0, NULL, N_EVENTS(0), NULL, 0x10d, 4, NULL},
    {"incomplete: request stream reset before HEADERS", false, 0, {RST(0)}, 0, NULL,
     N_EVENTS(0), NULL, 0x10d, 0, NULL},
    {"incomplete: request stream reset inside HEADERS", false, 0,
     {D(8, "01 08 00 00 d1"), RST(8)}, 0, NULL, N_EVENTS(0), NULL, 0x10d, 8, "48"},
    {"goaway: a server's reported, equal and smaller ones too", true, 0,
     {SCTL, D(3, "07 08 ff ff ff ff ff ff ff fc"), D(3, "07 01 08"), D(3, "07 01 08"),
      D(3, "07 01 04")},
     0, NULL, EVENTS(E_GOAWAY(0x3ffffffffffffffcULL), E_GOAWAY(8), E_GOAWAY(8), E_GOAWAY(4)),
     NULL, 0, 0, NULL},
    {"goaway: a client's reported with its push id", false, 0,
     {CCTL, D(2, "07 08 ff ff ff ff ff ff ff ff"), D(2, "07 01 05"), D(2, "07 01 00")},
     0, NULL, EVENTS(E_GOAWAY_PUSH(0x3fffffffffffffffULL), E_GOAWAY_PUSH(5),
                     E_GOAWAY_PUSH(0)), NULL, 0, 0, NULL},
    {"cancel_push: at a client, reported once per push id", true, 0,
     {SCTL, D(3, "03 01 08"), D(3, "03 01 08"), D(3, "03 01 00")},
     0, NULL, EVENTS(E_CANCELLED(8), E_CANCELLED(0)), NULL, 0, 0, NULL},
    {"origin: reported by a client, an empty one too", true, 0,
     {SCTL, D(3, "0c 1b 00 09 68 74 74 70 73 3a 2f 2f 61 "
                 "00 0e 68 74 74 70 73 3a 2f 2f 62 3a 38 34 34 33"), D(3, "0c 00")},
     0, NULL, EVENTS(E_ORIGIN("https://a\nhttps://b:8443"), E_ORIGIN("")), NULL, 0, 0, NULL},
    {"origin: ignored by a server, even malformed", false, 0,
     {CCTL, D(2, "0c 05 00 03 61 62 63"), D(2, "0c 01 ff")}, 0, NULL, N_EVENTS(0), NULL, 0, 0,
     NULL},
    {"reset: a request whose headers arrived is reported (and cancelled for QPACK)", false, 0,
     {REQ, RST(0)}, 0, NULL, EVENTS(E_HEADERS(0), E_RESET(0, 0x10c)), NULL, 0, 0, "40"},
    {"reset: a pushed response is reported with its push id", true, 0,
     {D(15, "01 03"), H(15, ":status=200"), RST(15)}, 0, NULL,
     EVENTS(E_PUSHED_HEADERS(15, 3), E_PUSH_RESET(15, 3, 0x10c)), NULL, 0, 0, "4f"},
    {"stop_sending: a request, reported; we reset with the same code", false, 0,
     {REQ, STOP(0)}, 0, NULL, EVENTS(E_HEADERS(0), E_STOP(0, 0x10c)), NULL, 0x10c, 0, NULL},
    {"stop_sending: a request stream we know nothing of is ignored", false, 0, {STOP(4)}, 0,
     NULL, N_EVENTS(0), NULL, 0, 0, NULL},
};

static const char *error_name(uint64_t code) {
    switch (code) {
    case 0x33: return "H3_DATAGRAM_ERROR";
    case 0x103: return "H3_STREAM_CREATION_ERROR";
    case 0x104: return "H3_CLOSED_CRITICAL_STREAM";
    case 0x105: return "H3_FRAME_UNEXPECTED";
    case 0x106: return "H3_FRAME_ERROR";
    case 0x107: return "H3_EXCESSIVE_LOAD";
    case 0x108: return "H3_ID_ERROR";
    case 0x109: return "H3_SETTINGS_ERROR";
    case 0x10a: return "H3_MISSING_SETTINGS";
    case 0x10e: return "H3_MESSAGE_ERROR";
    case 0x200: return "QPACK_DECOMPRESSION_FAILED";
    case 0x201: return "QPACK_ENCODER_STREAM_ERROR";
    case 0x202: return "QPACK_DECODER_STREAM_ERROR";
    }
    return "?";
}

/* What feeding one step did. */
typedef struct outcome {
    size_t calls;
    size_t protocol_errors;
    size_t other_errors;
    size_t events_in_failing_call; /* HTTP events delivered by the failing call */
    char last_error[512];          /* h3q_conn_last_error() right after the failure */
} outcome;

static void note(outcome *o, h3q_conn *conn, h3q_result rc, size_t events_before,
                 const event_log *log) {
    o->calls++;
    if (rc == H3Q_ERR_PROTOCOL) {
        if (o->protocol_errors++ == 0) {
            o->events_in_failing_call = log->len - events_before;
            const char *msg = h3q_conn_last_error(conn);
            snprintf(o->last_error, sizeof o->last_error, "%s", msg ? msg : "(null)");
        }
    } else if (rc != H3Q_OK) {
        o->other_errors++;
        fprintf(stderr, "  unexpected %s\n", h3q_result_str(rc));
    }
}

static h3q_result handle(h3q_conn *conn, const h3q_quic_event *ev, event_log *log) {
    return h3q_conn_handle_event(conn, ev, event_log_cb, log);
}

static void feed_stream(h3q_conn *conn, uint64_t sid, const fake_buf *bytes, bool fin,
                        fake_mode mode, event_log *log, outcome *o) {
    if (mode == FAKE_BYTES) {
        for (size_t i = 0; i < bytes->len; i++) {
            size_t before = log->len;
            note(o, conn, fake_send_stream(conn, sid, bytes->data + i, 1, false, event_log_cb, log),
                 before, log);
        }
    } else if (bytes->len > 0 && !(mode == FAKE_CHUNKS_FIN && fin)) {
        size_t before = log->len;
        note(o, conn, fake_send_stream(conn, sid, bytes->data, bytes->len, false, event_log_cb, log),
             before, log);
    }
    if (fin) {
        size_t n = mode == FAKE_CHUNKS_FIN ? bytes->len : 0;
        size_t before = log->len;
        note(o, conn, fake_send_stream(conn, sid, bytes->data, n, true, event_log_cb, log),
             before, log);
    }
}

static void feed_step(h3q_conn *conn, const step *s, fake_mode mode, event_log *log,
                      outcome *o) {
    fake_buf bytes = {0};
    h3q_quic_event ev;
    memset(&ev, 0, sizeof ev);
    ev.stream_id = s->sid;
    size_t before = log->len;
    switch (s->kind) {
    case DATA:
        CHECK(fake_buf_hex(&bytes, s->text));
        feed_stream(conn, s->sid, &bytes, s->fin, mode, log, o);
        break;
    case HDRS:
        CHECK(fake_headers_frame(&bytes, s->text));
        feed_stream(conn, s->sid, &bytes, s->fin, mode, log, o);
        break;
    case PPRM:
        CHECK(fake_push_promise_frame(&bytes, s->arg, s->text));
        feed_stream(conn, s->sid, &bytes, s->fin, mode, log, o);
        break;
    case RESET:
    case STOPS:
        ev.type = s->kind == RESET ? H3Q_QUIC_STREAM_RESET : H3Q_QUIC_STOP_SENDING_RECEIVED;
        ev.error_code = s->arg;
        note(o, conn, handle(conn, &ev, log), before, log);
        break;
    case DGRAM:
        CHECK(fake_buf_hex(&bytes, s->text));
        ev.type = H3Q_QUIC_DATAGRAM_RECEIVED;
        ev.data = bytes.data;
        ev.data_len = bytes.len;
        note(o, conn, handle(conn, &ev, log), before, log);
        break;
    case EVT:
        ev.type = (h3q_quic_event_type)s->arg;
        if (s->arg == H3Q_QUIC_HANDSHAKE_COMPLETED) {
            ev.data = (const uint8_t *)"h3";
            ev.data_len = 2;
        } else {
            /* The peer closed with H3_NO_ERROR. */
            ev.reason = (const uint8_t *)"bye";
            ev.reason_len = 3;
            ev.error_code = 0x100;
            ev.error_space = H3Q_ERROR_SPACE_APPLICATION;
            ev.closed_by_peer = true;
        }
        note(o, conn, handle(conn, &ev, log), before, log);
        break;
    }
    fake_buf_free(&bytes);
}

static size_t count_steps(const rule *r) {
    size_t n = 0;
    while (n < MAX_STEPS && r->steps[n].kind != END) {
        n++;
    }
    return n;
}

/* After our close (rule `r`), the QUIC connection terminates: reported once, as our
 * close, whatever the termination says (here: the peer's H3_NO_ERROR). */
static void check_termination_after_our_close(h3q_conn *conn, const rule *r, event_log *log) {
    h3q_quic_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = H3Q_QUIC_CONNECTION_TERMINATED;
    ev.error_code = 0x100;
    ev.reason = (const uint8_t *)"bye";
    ev.reason_len = 3;
    ev.error_space = H3Q_ERROR_SPACE_APPLICATION;
    ev.closed_by_peer = true;
    size_t before = log->len;
    CHECK_INT(h3q_conn_handle_event(conn, &ev, event_log_cb, log), H3Q_OK);
    CHECK_INT(h3q_conn_handle_event(conn, &ev, event_log_cb, log), H3Q_OK);
    const expect ours = E_CLOSED(r->code, APP, false, r->reason);
    const expect_list want = {1, &ours};
    check_events(log, before, &want);
    uint64_t code = 0;
    h3q_error_space space = H3Q_ERROR_SPACE_UNSPECIFIED;
    CHECK_INT(h3q_conn_close_code(conn, &code, &space), H3Q_OK);
    CHECK_INT(code, r->code);
    CHECK_INT(space, H3Q_ERROR_SPACE_APPLICATION);
}

static unsigned rules_closing;
static unsigned rules_open;

/* Whatever the rule, h3q tells the transport the priority of request streams (ids 4n) and
 * push streams (server-initiated unidirectional ones past the server's control and QPACK
 * streams 3, 7 and 11) only, never of its own control and QPACK streams, and with an
 * urgency of 0 to 7. */
static void check_priority_calls_are_sane(const fake_transport *fake) {
    for (size_t i = 0; i < fake->priorities_len; i++) {
        const fake_priority *t = &fake->priorities[i];
        bool request = t->stream_id % 4 == 0;
        bool push = t->stream_id % 4 == 3 && t->stream_id > 11;
        CHECK(request || push);
        CHECK(t->urgency <= 7);
        if (!(request || push) || t->urgency > 7) {
            fprintf(stderr, "  set_stream_priority(%" PRIu64 ", %d, %d)\n", t->stream_id,
                    (int)t->urgency, (int)t->incremental);
        }
    }
}

/* The set_stream_priority calls are exactly (or end with) `want`. */
static void check_told(const fake_transport *fake, const told_list *want) {
    unsigned failed_before = check_failed_;
    if (want->how == TOLD_EXACTLY) {
        CHECK_INT(fake->priorities_len, want->n);
    } else {
        CHECK(fake->priorities_len >= want->n);
    }
    if (fake->priorities_len >= want->n) {
        size_t from = fake->priorities_len - want->n;
        for (size_t i = 0; i < want->n; i++) {
            const fake_priority *got = &fake->priorities[from + i];
            CHECK_INT(got->stream_id, want->items[i].stream_id);
            CHECK_INT(got->urgency, want->items[i].urgency);
            CHECK_INT(got->incremental, want->items[i].incremental);
        }
    }
    if (check_failed_ != failed_before) {
        fprintf(stderr, "  ^ the transport was told:\n");
        for (size_t i = 0; i < fake->priorities_len; i++) {
            fprintf(stderr, "    stream %" PRIu64 " u=%d%s\n", fake->priorities[i].stream_id,
                    (int)fake->priorities[i].urgency,
                    fake->priorities[i].incremental ? ", i" : "");
        }
    }
}

/* h3q_conn_get_priority() gives what `want` says; H3Q_DONE writes nothing. */
static void check_get_priority(h3q_conn *conn, const get_check *want) {
    h3q_priority got;
    memset(&got, 0xa5, sizeof got);
    CHECK_INT(h3q_conn_get_priority(conn, want->sid, &got), want->rc);
    if (want->rc == H3Q_OK) {
        CHECK_INT(got.urgency, want->urgency);
        unsigned char byte = 0;
        memcpy(&byte, &got.incremental, 1);
        CHECK_INT(byte, want->incremental ? 1 : 0);
    } else {
        unsigned char bytes[sizeof got];
        memcpy(bytes, &got, sizeof got);
        size_t written = 0;
        for (size_t i = 0; i < sizeof bytes; i++) {
            written += bytes[i] != 0xa5;
        }
        CHECK_INT(written, 0);
    }
}

static void run_rule_checked(const rule *r, fake_mode mode, const h3q_settings *settings,
                             const told_list *told, const get_check *get);

static void run_rule(const rule *r, fake_mode mode, const h3q_settings *settings) {
    run_rule_checked(r, mode, settings, NULL, NULL);
}

static void run_rule_checked(const rule *r, fake_mode mode, const h3q_settings *settings,
                             const told_list *told, const get_check *get) {
    unsigned failed_before = check_failed_;
    fake_transport fake;
    fake_init(&fake, r->client);
    fake.remote_max_datagram_frame_size = r->dgram;
    h3q_transport t = fake_table(&fake);
    h3q_conn *conn = NULL;
    CHECK_INT(h3q_conn_new(&t, settings, &conn), H3Q_OK);
    if (conn == NULL) {
        fake_free(&fake);
        return;
    }
    size_t startup_ops = fake.ops_len;
    event_log log = {0};
    size_t n = count_steps(r);
    CHECK(n > 0);
    outcome before_last = {0};
    outcome last = {0};
    for (size_t i = 0; i < n; i++) {
        feed_step(conn, &r->steps[i], mode, &log, i + 1 == n ? &last : &before_last);
    }
    CHECK_INT(before_last.protocol_errors, 0);
    CHECK_INT(before_last.other_errors, 0);
    CHECK_INT(last.other_errors, 0);

    if (r->code != 0) {
        /* The violation: exactly one H3Q_ERR_PROTOCOL, in the last step. */
        CHECK_INT(last.protocol_errors, 1);
        CHECK_INT(last.events_in_failing_call, 0);
        CHECK_INT(fake.close_count, 1);
        CHECK_INT(fake.close_code, r->code);
        if (fake.close_count > 0) {
            CHECK_STR(fake.close_reason, r->reason);
        }
        char expected[512];
        snprintf(expected, sizeof expected, "%s (0x%" PRIx64 ")%s%s", error_name(r->code),
                 r->code, r->reason[0] ? ": " : "", r->reason);
        CHECK_PREFIX(last.last_error, error_name(r->code));
        CHECK_STR(last.last_error, expected);
        /* The code it closed with, as a value. */
        uint64_t code = 0;
        h3q_error_space space = H3Q_ERROR_SPACE_UNSPECIFIED;
        CHECK_INT(h3q_conn_close_code(conn, &code, &space), H3Q_OK);
        CHECK_INT(code, r->code);
        CHECK_INT(space, H3Q_ERROR_SPACE_APPLICATION);
        CHECK_INT(h3q_conn_close_code(conn, &code, NULL), H3Q_OK);
        CHECK_INT(h3q_conn_close_code(conn, NULL, &space), H3Q_ERR_NULL);
        /* Closed: later input is accepted and ignored, close is not repeated. */
        size_t events = log.len;
        static const uint8_t get[] = {0x01, 0x08, 0x00, 0x00, 0xd1, 0xd7, 0xc1, 0x50, 0x01,
                                      0x61};
        CHECK_INT(fake_send_stream(conn, 40, get, sizeof get, true, event_log_cb, &log),
                  H3Q_OK);
        h3q_quic_event dg;
        memset(&dg, 0, sizeof dg);
        dg.type = H3Q_QUIC_DATAGRAM_RECEIVED;
        dg.data = get;
        dg.data_len = 2;
        CHECK_INT(h3q_conn_handle_event(conn, &dg, event_log_cb, &log), H3Q_OK);
        CHECK_INT(log.len, events);
        CHECK_INT(fake.close_count, 1);
        static const h3q_header ok[] = {FAKE_HDR(":status", "200")};
        CHECK_INT(h3q_conn_send_headers(conn, 0, ok, 1, true), H3Q_ERR_CONNECTION_CLOSED);
        if (r->events.items != NULL) {
            check_events(&log, 0, &r->events);
        }
        check_termination_after_our_close(conn, r, &log);
        rules_closing += mode == FAKE_BYTES;
    } else {
        CHECK_INT(last.protocol_errors, 0);
        CHECK_INT(fake.close_count, 0);
        /* Open, unless the QUIC connection terminated (quietly: no close of ours). */
        bool terminated = false;
        for (size_t i = 0; i < n; i++) {
            terminated |= r->steps[i].kind == EVT &&
                          r->steps[i].arg == H3Q_QUIC_CONNECTION_TERMINATED;
        }
        uint64_t code = 0;
        CHECK_INT(h3q_conn_close_code(conn, &code, NULL), terminated ? H3Q_OK : H3Q_DONE);
        check_events(&log, 0, &r->events);
        /* An empty DATA frame without FIN gives nothing. */
        for (size_t i = 0; i < log.len; i++) {
            const rec_event *e = &log.items[i];
            CHECK(e->type != H3Q_EVENT_DATA_RECEIVED || e->data_len > 0 || e->stream_ended);
        }
        if (r->data != NULL) {
            fake_buf data = {0};
            event_log_data(&log, 0, &data);
            CHECK_INT(data.len, strlen(r->data));
            CHECK(data.len == strlen(r->data) &&
                  (data.len == 0 || memcmp(data.data, r->data, data.len) == 0));
            fake_buf_free(&data);
        }
        /* Nothing sent but what the rule expects (a reset), no events on closed inputs. */
        size_t resets = fake_count(&fake, FAKE_OP_RESET);
        if (r->reset_code != 0) {
            CHECK_INT(resets, 1);
            const fake_op *op = fake_nth(&fake, FAKE_OP_RESET, 0);
            if (op != NULL) {
                CHECK_INT(op->stream_id, r->reset_sid);
                CHECK_INT(op->error_code, r->reset_code);
            }
            CHECK_INT(log.len, r->events.n); /* no DATA */
        } else {
            CHECK_INT(resets, 0);
        }
        /* Our decoder stream (10 for a client, 11 for a server) may carry a Stream
         * Cancellation; nothing else is sent. */
        uint64_t decoder_stream = r->client ? 10 : 11;
        fake_buf expected = {0};
        fake_buf sent = {0};
        if (r->decoder_hex != NULL) {
            CHECK(fake_buf_hex(&expected, r->decoder_hex));
        }
        size_t other = 0;
        for (size_t i = startup_ops; i < fake.ops_len; i++) {
            const fake_op *op = &fake.ops[i];
            if (op->kind == FAKE_OP_STREAM_DATA && op->stream_id == decoder_stream) {
                fake_buf_put(&sent, op->data, op->len);
            } else {
                other += op->kind == FAKE_OP_STREAM_DATA;
            }
        }
        /* Exactly the expected instructions, apart from Insert Count Increments (one
         * byte, 00xxxxxx) sent as the encoder stream arrives. */
        CHECK_INT(other, 0);
        fake_buf kept = {0};
        size_t increments = 0;
        for (size_t i = 0; i < sent.len; i++) {
            if ((sent.data[i] & 0xc0) == 0) {
                increments++;
            } else {
                fake_buf_byte(&kept, sent.data[i]);
            }
        }
        CHECK_INT(kept.len, expected.len);
        CHECK(kept.len == expected.len &&
              (kept.len == 0 || memcmp(kept.data, expected.data, kept.len) == 0));
        CHECK(increments == 0 || r->decoder_hex != NULL);
        fake_buf_free(&kept);
        fake_buf_free(&expected);
        fake_buf_free(&sent);
        if (told != NULL && told->how != TOLD_UNCHECKED) {
            check_told(&fake, told);
        }
        if (get != NULL && get->check) {
            check_get_priority(conn, get);
        }
        rules_open += mode == FAKE_BYTES;
    }
    check_priority_calls_are_sane(&fake);
    if (check_failed_ != failed_before) {
        fprintf(stderr, "  ^ in rule \"%s\" (%s)\n", r->name, fake_mode_name(mode));
    }
    h3q_conn_free(conn);
    event_log_free(&log);
    fake_free(&fake);
}

static void every_rule_in_every_mode(void) {
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        for (int mode = 0; mode < FAKE_MODE_COUNT; mode++) {
            run_rule(&rules[i], (fake_mode)mode, NULL);
        }
    }
    fprintf(stderr, "  %u rules that close, %u rules that must not close, %d modes\n",
            rules_closing, rules_open, FAKE_MODE_COUNT);
}

/* ---- QPACK blocked streams and limits ---------------------------------------------- */

/* The client's encoder stream (6): type, Set Dynamic Table Capacity 220, then inserts
 * ":authority: www.example.com" and ":path: /sample/path" (RFC 9204 B.2). */
#define ENC "02 3f bd 01 c0 0f 77 77 77 2e 65 78 61 6d 70 6c 65 2e 63 6f 6d " \
            "c1 0c 2f 73 61 6d 70 6c 65 2f 70 61 74 68"
/* HEADERS: Required Insert Count 2, Base 0; GET, https (static), then the two entries
 * (post-base indices 0 and 1). Blocked until ENC arrives. */
#define BLOCKED_GET "01 06 03 81 d1 d7 10 11"
#define LONG_PATH "/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"

enum { DEFAULTS, ONE_BLOCKED_STREAM, FIELD_SECTION_200, CHEAP_FRAMES_3 };

static const struct {
    int settings;
    rule r;
} limit_rules[] = {
    {DEFAULTS, {"blocked: HEADERS waits for the encoder stream; held DATA follows in order",
                false, 0, {D(0, BLOCKED_GET " 00 02 68 69"), FIN(0), D(6, ENC)}, 0, NULL,
                N_EVENTS(1), "hi", 0, 0, "80"}},
    {DEFAULTS, {"blocked: FIN right after the blocked HEADERS", false, 0,
                {DF(0, BLOCKED_GET), D(6, ENC)}, 0, NULL, N_EVENTS(1), "", 0, 0, "80"}},
    {DEFAULTS, {"blocked: reset of a blocked stream cancels it once", false, 0,
                {D(0, BLOCKED_GET), RST(0), D(6, ENC)}, 0, NULL, N_EVENTS(0), NULL, 0x10d,
                0, "40"}},
    {ONE_BLOCKED_STREAM, {"blocked: one blocked stream allowed, a second one closes", false,
                          0, {D(0, BLOCKED_GET), D(4, BLOCKED_GET)},
                          CLOSE(QPACK_DECOMPRESSION, "")}},
    {FIELD_SECTION_200, {"max_field_section_size 200: a 257-byte section", false, 0,
                         {H(0, ":method=GET\n:scheme=https\n:authority=a\n:path=" LONG_PATH)},
                         CLOSE(QPACK_DECOMPRESSION, "")}},
    {FIELD_SECTION_200, {"max_field_section_size 200: a 167-byte section passes", false, 0,
                         {HF(0, GET_TEXT)}, 0, NULL, N_EVENTS(1), NULL, 0, 0, NULL}},
};

static void blocked_streams_and_limits(void) {
    for (size_t i = 0; i < sizeof limit_rules / sizeof limit_rules[0]; i++) {
        h3q_settings s;
        h3q_settings_default(&s);
        if (limit_rules[i].settings == ONE_BLOCKED_STREAM) {
            s.qpack_blocked_streams = 1;
        } else if (limit_rules[i].settings == FIELD_SECTION_200) {
            s.max_field_section_size = 200;
        }
        for (int mode = 0; mode < FAKE_MODE_COUNT; mode++) {
            run_rule(&limit_rules[i].r, (fake_mode)mode, &s);
        }
    }
}

/* ---- priorities: PRIORITY_UPDATE rules that do not close, and the budget ------------ */

/* A server (unless `client`) with the peer's control stream; the transport's
 * set_stream_priority calls and h3q_conn_get_priority() checked afterwards. */
static const struct {
    int settings;
    rule r;
    told_list told;
    get_check get;
} priority_rules[] = {
    {DEFAULTS, {"priority: a request's field, no update: told once", false, 0,
                {CCTL, H(0, GET_TEXT "\npriority=u=1, i")}, 0, NULL, EVENTS(E_HEADERS(0)),
                NULL, 0, 0, NULL},
     TOLD(P(0, 1, true)), GET_PRIO(0, 1, true)},
    {DEFAULTS, {"priority: a request without the field has the defaults", false, 0,
                {CCTL, H(4, GET_TEXT)}, 0, NULL, EVENTS(E_HEADERS(4)), NULL, 0, 0, NULL},
     TOLD(P(4, 3, false)), GET_PRIO(4, 3, false)},
    {DEFAULTS, {"priority: several priority fields are one list", false, 0,
                {CCTL, H(0, GET_TEXT "\npriority=u=5\npriority=i")}, 0, NULL,
                EVENTS(E_HEADERS(0)), NULL, 0, 0, NULL},
     TOLD(P(0, 5, true)), GET_PRIO(0, 5, true)},
    {DEFAULTS, {"priority_update: an open request's, reported with its priority", false, 0,
                {CCTL, H(0, GET_TEXT), D(2, PU_REQ " 07 00 " U1_I)}, 0, NULL,
                EVENTS(E_HEADERS(0), E_PRIORITY(0, 1, true)), NULL, 0, 0, NULL},
     TOLD(P(0, 3, false), P(0, 1, true)), GET_PRIO(0, 1, true)},
    {DEFAULTS, {"priority_update: each update of an open request is reported", false, 0,
                {CCTL, HF(8, GET_TEXT "\npriority=u=1"), D(2, PU_REQ " 04 08 75 3d 30"),
                 D(2, PU_REQ " 03 08 20 69")}, 0, NULL,
                EVENTS(E_HEADERS(8), E_PRIORITY(8, 0, false), E_PRIORITY(8, 3, true)), NULL,
                0, 0, NULL},
     TOLD(P(8, 1, false), P(8, 0, false), P(8, 3, true)), GET_PRIO(8, 3, true)},
    {DEFAULTS, {"priority_update: a malformed value gives the defaults", false, 0,
                {CCTL, H(0, GET_TEXT "\npriority=u=1"), D(2, PU_REQ " 04 00 75 3d 28")},
                0, NULL, EVENTS(E_HEADERS(0), E_PRIORITY(0, 3, false)), NULL, 0, 0, NULL},
     TOLD(P(0, 1, false), P(0, 3, false)), GET_PRIO(0, 3, false)},
    {DEFAULTS, {"priority_update: u=9 and i=maybe are ignored, not errors", false, 0,
                {CCTL, H(0, GET_TEXT "\npriority=u=1, i"),
                 D(2, PU_REQ " 0d 00 75 3d 39 2c 20 69 3d 6d 61 79 62 65")},
                0, NULL, EVENTS(E_HEADERS(0), E_PRIORITY(0, 3, false)), NULL, 0, 0, NULL},
     TOLD(P(0, 1, true), P(0, 3, false)), GET_PRIO(0, 3, false)},
    {DEFAULTS, {"priority_update: before the request: kept, no event, wins over the field",
                false, 0, {CCTL, D(2, PU_REQ " 07 08 " U6_I), H(8, GET_TEXT "\npriority=u=0")},
                0, NULL, EVENTS(E_HEADERS(8)), NULL, 0, 0, NULL},
     TOLD(P(8, 6, true)), GET_PRIO(8, 6, true)},
    {DEFAULTS, {"priority_update: two before the request: the later one wins", false, 0,
                {CCTL, D(2, PU_REQ " 04 04 75 3d 32"), D(2, PU_REQ " 04 04 75 3d 35"),
                 HF(4, GET_TEXT)}, 0, NULL, EVENTS(E_HEADERS(4)), NULL, 0, 0, NULL},
     TOLD(P(4, 5, false)), GET_PRIO(4, 5, false)},
    {DEFAULTS, {"priority_update: before the request, nothing told until its head", false, 0,
                {CCTL, D(2, PU_REQ " 07 0c " U6_I)}, 0, NULL, N_EVENTS(0), NULL, 0, 0, NULL},
     TOLD_NOTHING, GET_PRIO_DONE(12)},
    {DEFAULTS, {"priority_update: while the head is still arriving: kept, no event", false, 0,
                {CCTL, D(0, "01 08 00"), D(2, PU_REQ " 04 00 75 3d 37"),
                 D(0, "00 d1 d7 c1 50 01 61")}, 0, NULL, EVENTS(E_HEADERS(0)), NULL, 0, 0,
                NULL},
     TOLD_LAST(P(0, 7, false)), GET_PRIO(0, 7, false)},
    {DEFAULTS, {"priority_update: a finished request (ended before HEADERS): no event, told",
                false, 0, {CCTL, FIN(0), D(2, PU_REQ " 04 00 75 3d 30")}, 0, NULL,
                N_EVENTS(0), NULL, 0x10d, 0, NULL},
     TOLD(P(0, 0, false)), GET_PRIO_DONE(0)},
    {DEFAULTS, {"priority_update: a finished request (reset, stopped): no event, told", false,
                0, {CCTL, REQ, RST(0), STOP(0), D(2, PU_REQ " 07 00 " U6_I)}, 0, NULL,
                EVENTS(E_HEADERS(0), E_RESET(0, 0x10c), E_STOP(0, 0x10c)), NULL, 0x10c, 0,
                "40"},
     TOLD(P(0, 3, false), P(0, 6, true)), GET_PRIO_DONE(0)},
    {DEFAULTS, {"priority_update: cut across events, split varints", false, 0,
                {CCTL, D(2, "80 0f"), D(2, "07 00 07"), D(2, "00 75 3d"), D(2, "31 2c 20"),
                 D(2, "69"), H(0, GET_TEXT)}, 0, NULL, EVENTS(E_HEADERS(0)), NULL, 0, 0, NULL},
     TOLD(P(0, 1, true)), GET_PRIO(0, 1, true)},
    /* PRIORITY_UPDATE counts against the control stream's cheap-frame budget. */
    {CHEAP_FRAMES_3, {"priority_update: 3 within max_cheap_frames 3", false, 0,
                      {CCTL, D(2, PU_REQ " 01 04"), D(2, PU_REQ " 01 08"),
                       D(2, PU_REQ " 01 0c")}, 0, NULL, N_EVENTS(0), NULL,
                      0, 0, NULL},
     TOLD_NOTHING, NO_GET},
    {CHEAP_FRAMES_3, {"priority_update: a 4th beyond max_cheap_frames 3", false, 0,
                      {CCTL, D(2, PU_REQ " 01 04"), D(2, PU_REQ " 01 08"),
                       D(2, PU_REQ " 01 0c"), D(2, PU_REQ " 01 10")},
                      CLOSE(EXCESSIVE_LOAD, "Too many small or empty frames on a stream")},
     {TOLD_UNCHECKED, 0, NULL}, NO_GET},
};

static void priority_update_rules(void) {
    for (size_t i = 0; i < sizeof priority_rules / sizeof priority_rules[0]; i++) {
        h3q_settings s;
        h3q_settings_default(&s);
        if (priority_rules[i].settings == CHEAP_FRAMES_3) {
            s.max_cheap_frames = 3;
        }
        for (int mode = 0; mode < FAKE_MODE_COUNT; mode++) {
            run_rule_checked(&priority_rules[i].r, (fake_mode)mode, &s, &priority_rules[i].told,
                             &priority_rules[i].get);
        }
    }
}

/* The received settings hold every identifier the peer sent, unknown and GREASE ones
 * included, up to 2^62-1; nothing before they arrive. */
static void received_settings_keep_unknown_ids(void) {
    fake_transport fake;
    fake_init(&fake, false);
    h3q_transport t = fake_table(&fake);
    h3q_conn *conn = NULL;
    CHECK_INT(h3q_conn_new(&t, NULL, &conn), H3Q_OK);
    uint64_t value = 77;
    CHECK_INT(h3q_conn_received_setting(conn, 0x1, &value), H3Q_DONE);
    CHECK_INT(value, 77);
    fake_buf b = {0};
    event_log log = {0};
    /* control; SETTINGS { 0x21 (GREASE): 5, 0x40 (2-byte varint): 0, 0x7: 16,
     * 2^62-1: 42 (8-byte varints) } */
    CHECK(fake_buf_hex(&b, "00 04 17 21 05 40 40 00 07 10 ff ff ff ff ff ff ff ff "
                           "c0 00 00 00 00 00 00 2a"));
    for (size_t i = 0; i < b.len; i++) {
        CHECK_INT(fake_send_stream(conn, 2, b.data + i, 1, false, event_log_cb, &log), H3Q_OK);
        if (i + 1 < b.len) {
            CHECK_INT(h3q_conn_received_setting(conn, 0x7, &value), H3Q_DONE);
        }
    }
    CHECK_INT(log.len, 0);
    event_log_free(&log);
    CHECK_INT(fake.close_count, 0);
    CHECK_INT(h3q_conn_received_setting(conn, 0x21, &value), H3Q_OK);
    CHECK_INT(value, 5);
    CHECK_INT(h3q_conn_received_setting(conn, 0x40, &value), H3Q_OK);
    CHECK_INT(value, 0);
    CHECK_INT(h3q_conn_received_setting(conn, 0x7, &value), H3Q_OK);
    CHECK_INT(value, 16);
    CHECK_INT(h3q_conn_received_setting(conn, 0x3fffffffffffffffULL, &value), H3Q_OK);
    CHECK(value == 42);
    CHECK_INT(h3q_conn_received_setting(conn, 0x1, &value), H3Q_DONE);
    fake_buf_free(&b);
    h3q_conn_free(conn);
    fake_free(&fake);
}

int main(void) {
    RUN(every_rule_in_every_mode);
    RUN(blocked_streams_and_limits);
    RUN(priority_update_rules);
    RUN(received_settings_keep_unknown_ids);
    return CHECK_DONE("test_conn_rules");
}
