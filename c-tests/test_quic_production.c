/* The production calls of the QUIC layer from C: ECN in and out and migration (the
 * codepoints a pair's connection marks and accepts, rebind mid-connection, misuse), the
 * qlog directory's checks, QUIC-LB server ids (setter and decoder), client
 * certificates, session tickets and Retry. Client certificates: the setter's checks (mode,
 * role, PEM) and the peer's chain as each side reads it (the server's DER certificate on
 * the client; nothing on a server that asked for none; the full exchange with client
 * certificates is tests/quic_client_auth.rs and, against aioquic and ngtcp2,
 * tests/examples_client_auth.sh). Session tickets, resumption, 0-RTT queries and Retry settings: a ticket from a
 * real connection (its size, H3Q_ERR_BUFFER_TOO_SMALL with the size needed, H3Q_DONE when
 * there is none), resuming with it (once: the second use is a full handshake), and every
 * misuse (NULLs, junk or oversized tickets, a ticket for another name, the wrong role, a
 * rate of 0) with its documented code and message. The 0-RTT exchange itself, accepted
 * and rejected, is covered in Rust (tests/quic_resumption.rs) and, through the example
 * programs, against ngtcp2 and aioquic (tests/examples_resumption.sh). The ceiling on UDP
 * payloads: its range, and the transmit buffer it calls for (the datagrams themselves:
 * tests/quic_udp_payload.rs, and against ngtcp2 tests/examples_jumbo.sh). */
#include "h3q.h"

#include "check.h"
#include "endpoint_pair.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

static void settings_are_checked(void) {
    h3q_config *config = NULL;
    CHECK_INT(h3q_config_new(true, &config), H3Q_OK);
    CHECK_INT(h3q_config_set_enable_0rtt(config, true), H3Q_OK);
    CHECK_INT(h3q_config_set_retry(config, true), H3Q_OK);
    CHECK_INT(h3q_config_set_retry_above_rate(config, 1000), H3Q_OK);
    CHECK_INT(h3q_config_set_retry_above_rate(config, 0), H3Q_ERR_INVALID_ARGUMENT);
    CHECK_PREFIX(h3q_config_last_error(config), "handshakes_per_second 0");
    CHECK_INT(h3q_config_set_enable_0rtt(NULL, true), H3Q_ERR_NULL);
    CHECK_INT(h3q_config_set_retry(NULL, true), H3Q_ERR_NULL);
    CHECK_INT(h3q_config_set_retry_above_rate(NULL, 5), H3Q_ERR_NULL);
    CHECK_INT(h3q_config_rotate_secrets(config), H3Q_OK);
    CHECK_INT(h3q_config_rotate_secrets(NULL), H3Q_ERR_NULL);
    CHECK_INT(h3q_config_set_qlog_dir(config, "/nonexistent/h3q-qlogs"), H3Q_ERR_IO);
    CHECK_PREFIX(h3q_config_last_error(config), "qlog dir /nonexistent/h3q-qlogs");
    CHECK_INT(h3q_config_set_qlog_dir(config, "/dev/null"), H3Q_ERR_IO);
    CHECK_INT(h3q_config_set_qlog_dir(config, NULL), H3Q_OK);
    CHECK_INT(h3q_config_set_qlog_dir(NULL, NULL), H3Q_ERR_NULL);
    h3q_config_free(config);
}

static void null_connections_answer_safely(void) {
    size_t len = 7;
    CHECK_INT(h3q_quic_conn_session_ticket(NULL, NULL, 0, &len), H3Q_ERR_NULL);
    CHECK_INT(h3q_quic_conn_early_data(NULL), H3Q_EARLY_DATA_NOT_OFFERED);
    CHECK(!h3q_quic_conn_is_0rtt(NULL));
    CHECK(!h3q_quic_conn_stream_is_early(NULL, 0));
}

static bool has_ticket(pair *p, void *arg) {
    size_t len = 0;
    (void)arg;
    return h3q_quic_conn_session_ticket(p->client_conn.quic, NULL, 0, &len) ==
           H3Q_ERR_BUFFER_TOO_SMALL;
}

static void tickets_from_a_connection(void) {
    pair_options options = pair_options_default();
    pair *p = pair_new(&options);
    CHECK(p != NULL);
    if (!p) return;
    h3q_quic_conn *quic = p->client_conn.quic;
    size_t len = 12345;
    uint8_t ticket[H3Q_MAX_SESSION_TICKET];
    /* Before the handshake: none yet. */
    CHECK_INT(h3q_quic_conn_session_ticket(quic, ticket, sizeof ticket, &len), H3Q_DONE);
    CHECK_INT(len, 12345);
    CHECK(pair_settle(p));
    CHECK(pair_run(p, has_ticket, NULL, 2000000000ULL));
    /* The size first (buf NULL, cap 0), then too small, then the ticket. */
    CHECK_INT(h3q_quic_conn_session_ticket(quic, NULL, 0, &len), H3Q_ERR_BUFFER_TOO_SMALL);
    CHECK(len > 0 && len <= H3Q_MAX_SESSION_TICKET);
    size_t needed = len;
    CHECK_INT(h3q_quic_conn_session_ticket(quic, ticket, needed - 1, &len),
              H3Q_ERR_BUFFER_TOO_SMALL);
    CHECK_PREFIX(h3q_quic_conn_last_error(quic), "the session ticket needs");
    CHECK_INT(h3q_quic_conn_session_ticket(quic, ticket, sizeof ticket, NULL), H3Q_ERR_NULL);
    CHECK_INT(h3q_quic_conn_session_ticket(quic, ticket, sizeof ticket, &len), H3Q_OK);
    CHECK_INT(len, needed);
    /* A server connection has none to give. */
    pair_conn *server = pair_server_conn(p);
    CHECK(server != NULL);
    if (server) {
        CHECK_INT(h3q_quic_conn_session_ticket(server->quic, ticket + 0, 0, &len), H3Q_DONE);
        CHECK(!h3q_quic_conn_stream_is_early(server->quic, 0));
        CHECK_INT(h3q_quic_conn_early_data(server->quic), H3Q_EARLY_DATA_NOT_OFFERED);
    }
    CHECK_INT(h3q_quic_conn_session_ticket(quic, ticket, sizeof ticket, &len), H3Q_OK);

    const struct sockaddr *to = (const struct sockaddr *)&p->server_addr;
    socklen_t to_len = sizeof p->server_addr;
    h3q_quic_conn *resumed = NULL, *again = NULL, *bad = NULL;
    static const uint8_t junk[] = "not a ticket";
    static uint8_t oversized[4096];
    /* Misuse first: nothing is created. */
    CHECK_INT(h3q_endpoint_connect_resume(p->client, p->now, to, to_len, "localhost", NULL,
                                          len, &bad),
              H3Q_ERR_NULL);
    CHECK_INT(h3q_endpoint_connect_resume(p->client, p->now, to, to_len, "localhost", junk,
                                          sizeof junk, &bad),
              H3Q_ERR_INVALID_ARGUMENT);
    CHECK_PREFIX(h3q_endpoint_last_error(p->client), "invalid argument: session ticket");
    CHECK_INT(h3q_endpoint_connect_resume(p->client, p->now, to, to_len, "localhost",
                                          oversized, sizeof oversized, &bad),
              H3Q_ERR_INVALID_ARGUMENT);
    CHECK_INT(h3q_endpoint_connect_resume(p->client, p->now, to, to_len, "example.com", ticket,
                                          len, &bad),
              H3Q_ERR_INVALID_ARGUMENT);
    CHECK(strstr(h3q_endpoint_last_error(p->client), "server name") != NULL);
    CHECK_INT(h3q_endpoint_connect_resume(p->server, p->now, to, to_len, "localhost", ticket,
                                          len, &bad),
              H3Q_ERR_WRONG_ROLE);
    CHECK_INT(h3q_endpoint_connect_resume(p->client, p->now, to, to_len, "localhost", ticket,
                                          len, NULL),
              H3Q_ERR_NULL);
    CHECK(bad == NULL);
    /* Resumes (this server allows no early data: no 0-RTT), once. */
    CHECK_INT(h3q_endpoint_connect_resume(p->client, p->now, to, to_len, "localhost", ticket,
                                          len, &resumed),
              H3Q_OK);
    CHECK_INT(h3q_quic_conn_early_data(resumed), H3Q_EARLY_DATA_NOT_OFFERED);
    CHECK(!h3q_quic_conn_is_0rtt(resumed));
    CHECK_INT(h3q_quic_conn_session_ticket(quic, ticket, sizeof ticket, &len), H3Q_DONE);
    CHECK_INT(h3q_endpoint_connect_resume(p->client, p->now, to, to_len, "localhost", ticket,
                                          len, &again),
              H3Q_OK);
    h3q_quic_conn_free(resumed);
    h3q_quic_conn_free(again);
    pair_free(p);
}

static const char *const CA_PEM =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBfzCCASWgAwIBAgIUaU5MzkC1ZfwY2rNC4Kkx9n4WqV8wCgYIKoZIzj0EAwIw\n"
    "-----END CERTIFICATE-----\n";

static void client_auth_is_checked(void) {
    h3q_config *server = NULL, *client = NULL;
    CHECK_INT(h3q_config_new(true, &server), H3Q_OK);
    CHECK_INT(h3q_config_new(false, &client), H3Q_OK);
    CHECK_INT(h3q_config_set_client_auth(server, H3Q_CLIENT_AUTH_OFF, NULL, 0), H3Q_OK);
    CHECK_INT(h3q_config_set_client_auth(server, 7, NULL, 0), H3Q_ERR_INVALID_ARGUMENT);
    CHECK_PREFIX(h3q_config_last_error(server), "mode: not an h3q_client_auth");
    CHECK_INT(h3q_config_set_client_auth(server, H3Q_CLIENT_AUTH_REQUIRE, NULL, 5),
              H3Q_ERR_NULL);
    CHECK_INT(h3q_config_set_client_auth(server, H3Q_CLIENT_AUTH_REQUIRE, NULL, 0), H3Q_ERR_TLS);
    CHECK_PREFIX(h3q_config_last_error(server), "client CA roots: no PEM");
    const uint8_t junk[] = "no certificate here";
    CHECK_INT(h3q_config_set_client_auth(server, H3Q_CLIENT_AUTH_REQUIRE, junk, sizeof junk),
              H3Q_ERR_TLS);
    CHECK_PREFIX(h3q_config_last_error(server), "client CA roots");
    CHECK_INT(h3q_config_set_client_auth(server, H3Q_CLIENT_AUTH_REQUEST,
                                         (const uint8_t *)CA_PEM, strlen(CA_PEM)),
              H3Q_ERR_TLS);
    CHECK_INT(h3q_config_set_client_auth(client, H3Q_CLIENT_AUTH_REQUIRE, junk, sizeof junk),
              H3Q_ERR_INVALID_ARGUMENT);
    CHECK_PREFIX(h3q_config_last_error(client), "client certificates are asked for by servers");
    CHECK_INT(h3q_config_set_client_auth(NULL, H3Q_CLIENT_AUTH_OFF, NULL, 0), H3Q_ERR_NULL);
    h3q_config_free(server);
    h3q_config_free(client);
}

static void peer_certificates_are_readable(void) {
    pair_options options = pair_options_default();
    pair *p = pair_new(&options);
    CHECK(p != NULL);
    if (!p) return;
    size_t len = 0;
    CHECK_INT(h3q_quic_conn_peer_certificate(p->client_conn.quic, 0, NULL, 0, &len), H3Q_DONE);
    CHECK(pair_settle(p));
    /* The client holds the server's certificate; one in the chain. */
    CHECK_INT(h3q_quic_conn_peer_certificate(p->client_conn.quic, 0, NULL, 0, &len),
              H3Q_ERR_BUFFER_TOO_SMALL);
    CHECK(len > 100 && len < 4096);
    uint8_t der[4096];
    size_t der_len = 0;
    CHECK_INT(h3q_quic_conn_peer_certificate(p->client_conn.quic, 0, der, sizeof der, &der_len),
              H3Q_OK);
    CHECK_INT(der_len, len);
    CHECK_INT(der[0], 0x30); /* a DER SEQUENCE */
    CHECK_INT(h3q_quic_conn_peer_certificate(p->client_conn.quic, 1, der, sizeof der, &len),
              H3Q_DONE);
    CHECK_INT(h3q_quic_conn_peer_certificate(p->client_conn.quic, 0, der, sizeof der, NULL),
              H3Q_ERR_NULL);
    CHECK_INT(h3q_quic_conn_peer_certificate(NULL, 0, der, sizeof der, &len), H3Q_ERR_NULL);
    /* The server asked for no client certificate. */
    pair_conn *server = pair_server_conn(p);
    if (server)
        CHECK_INT(h3q_quic_conn_peer_certificate(server->quic, 0, der, sizeof der, &len),
                  H3Q_DONE);
    pair_free(p);
}

static bool always(pair *p, void *arg) {
    (void)p;
    (void)arg;
    return false;
}

/* ECN: the client's first datagram (its Initial) goes out ECT(0) and is taken with its
 * codepoint; the pair then moves datagrams without their ECN bits, as a path that
 * bleaches them, so validation fails and later datagrams go out Not-ECT (0). A rebind
 * mid-connection keeps the connection. And the misuse of the calls. */
static void ecn_and_rebind(void) {
    pair_options options = pair_options_default();
    pair *p = pair_new(&options);
    CHECK(p != NULL);
    if (!p) return;
    uint8_t buf[1500], ecn = 0xff;
    size_t len = 0, segment = 0;
    struct sockaddr_storage dest;
    socklen_t dest_len = sizeof dest;
    const struct sockaddr *from = (const struct sockaddr *)&p->client_addr;
    CHECK_INT(h3q_endpoint_poll_transmit_ecn(p->client, p->now, buf, sizeof buf, &len, &dest,
                                             &dest_len, &segment, &ecn),
              H3Q_OK);
    CHECK_INT(ecn, 2);
    CHECK_INT(h3q_endpoint_receive_ecn(p->server, p->now, from, sizeof p->client_addr, buf,
                                       len, 0, 4),
              H3Q_ERR_INVALID_ARGUMENT);
    CHECK_PREFIX(h3q_endpoint_last_error(p->server), "ecn 4: an ECN codepoint is 0 to 3");
    CHECK_INT(h3q_endpoint_receive_ecn(p->server, p->now, from, sizeof p->client_addr, buf,
                                       len, 0, ecn),
              H3Q_OK);
    CHECK(pair_settle(p));
    pair_run(p, always, NULL, 500000000ULL);
    CHECK_INT(h3q_endpoint_rebind(p->client, p->now), H3Q_OK);
    CHECK_INT(h3q_endpoint_poll_transmit_ecn(p->client, p->now, buf, sizeof buf, &len, &dest,
                                             &dest_len, &segment, &ecn),
              H3Q_OK);
    CHECK_INT(ecn, 0);
    CHECK_INT(h3q_endpoint_poll_transmit_ecn(p->client, p->now, buf, sizeof buf, &len, &dest,
                                             &dest_len, &segment, NULL),
              H3Q_ERR_NULL);
    CHECK_INT(h3q_endpoint_rebind(NULL, 0), H3Q_ERR_NULL);
    pair_run(p, always, NULL, 200000000ULL);
    CHECK(h3q_quic_conn_is_established(p->client_conn.quic));
    pair_free(p);
}

/* QUIC-LB server ids: the setter's checks, and reading an id back from packets. */
static void server_ids(void) {
    h3q_config *config = NULL;
    CHECK_INT(h3q_config_new(true, &config), H3Q_OK);
    const uint8_t id[3] = {0x5e, 0x41, 0x7a};
    CHECK_INT(h3q_config_set_server_id(config, 1, id, sizeof id), H3Q_OK);
    CHECK_INT(h3q_config_set_server_id(config, 7, id, sizeof id), H3Q_ERR_INVALID_ARGUMENT);
    CHECK_PREFIX(h3q_config_last_error(config), "config rotation 7");
    CHECK_INT(h3q_config_set_server_id(config, 0, id, 0), H3Q_ERR_INVALID_ARGUMENT);
    CHECK_INT(h3q_config_set_server_id(config, 0, NULL, 0), H3Q_OK);
    CHECK_INT(h3q_config_set_server_id(config, 0, NULL, 3), H3Q_ERR_NULL);
    CHECK_INT(h3q_config_set_server_id(NULL, 0, id, 3), H3Q_ERR_NULL);
    h3q_config_free(config);

    /* A short-header packet to a CID of 12 bytes: first octet 0x2b (rotation 1,
     * length 12), the id, 8 nonce bytes; then payload. */
    const uint8_t packet[] = {0x40, 0x2b, 0x5e, 0x41, 0x7a, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9};
    uint8_t got[3] = {0}, rotation = 0xff;
    CHECK_INT(h3q_cid_server_id(packet, sizeof packet, 3, got, &rotation), H3Q_OK);
    CHECK(memcmp(got, id, 3) == 0);
    CHECK_INT(rotation, 1);
    CHECK_INT(h3q_cid_server_id(packet, sizeof packet, 3, got, NULL), H3Q_OK);
    CHECK_INT(h3q_cid_server_id(packet, 5, 3, got, NULL), H3Q_ERR_INVALID_ARGUMENT);
    CHECK_PREFIX(h3q_last_error(), "short header's DCID of 12 bytes is cut");
    CHECK_INT(h3q_cid_server_id(packet, sizeof packet, 16, got, NULL),
              H3Q_ERR_INVALID_ARGUMENT);
    CHECK_INT(h3q_cid_server_id(packet, sizeof packet, 3, NULL, NULL), H3Q_ERR_NULL);
    CHECK_INT(h3q_cid_server_id(NULL, 4, 3, got, NULL), H3Q_ERR_NULL);
    const uint8_t unroutable[] = {0x40, 0xeb, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    CHECK_INT(h3q_cid_server_id(unroutable, sizeof unroutable, 3, got, NULL),
              H3Q_ERR_INVALID_ARGUMENT);
}

/* The ceiling on UDP payloads: 1200 to 65527 bytes, 0 for the default; an endpoint with a
 * raised ceiling takes transmit buffers only as large as its largest datagram. */
static void udp_payload_ceiling(void) {
    h3q_config *config = NULL;
    CHECK_INT(h3q_config_new(false, &config), H3Q_OK);
    CHECK_INT(h3q_config_set_max_udp_payload_size(NULL, 1500), H3Q_ERR_NULL);
    const uint64_t bad[] = {1, 1199, 65528, 1u << 20, UINT64_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_INT(h3q_config_set_max_udp_payload_size(config, bad[i]),
                  H3Q_ERR_INVALID_ARGUMENT);
        CHECK_PREFIX(h3q_config_last_error(config), "max UDP payload size");
    }
    CHECK_INT(h3q_config_set_max_udp_payload_size(config, 1200), H3Q_OK);
    CHECK_INT(h3q_config_set_max_udp_payload_size(config, 65527), H3Q_OK);
    CHECK_INT(h3q_config_set_max_udp_payload_size(config, 0), H3Q_OK);
    CHECK_INT(h3q_config_set_max_udp_payload_size(config, 8952), H3Q_OK);
    CHECK_INT(h3q_config_set_mtu_discovery(config, true), H3Q_OK);
    CHECK_INT(h3q_config_set_verify_peer(config, false), H3Q_OK);
    h3q_endpoint *client = NULL;
    CHECK_INT(h3q_endpoint_new(config, &client), H3Q_OK);
    h3q_config_free(config);
    if (!client) return;

    struct sockaddr_in to;
    memset(&to, 0, sizeof to);
    to.sin_family = AF_INET;
    to.sin_port = htons(PAIR_SERVER_PORT);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    h3q_quic_conn *q = NULL;
    CHECK_INT(h3q_endpoint_connect(client, 0, (const struct sockaddr *)&to, sizeof to,
                                   "localhost", &q),
              H3Q_OK);
    uint8_t *buf = malloc(8952);
    CHECK(buf != NULL);
    size_t len = 0, segment = 0;
    struct sockaddr_storage dest;
    socklen_t dest_len = sizeof dest;
    if (buf) {
        /* 1,472 bytes hold an Ethernet-sized datagram, not one of 8,952. */
        CHECK_INT(h3q_endpoint_poll_transmit(client, 0, buf, 1472, &len, &dest, &dest_len,
                                             &segment),
                  H3Q_ERR_BUFFER_TOO_SMALL);
        CHECK(strstr(h3q_endpoint_last_error(client), "at least 8952") != NULL);
        CHECK_INT(h3q_endpoint_poll_transmit(client, 0, buf, 8951, &len, &dest, &dest_len,
                                             &segment),
                  H3Q_ERR_BUFFER_TOO_SMALL);
        /* The Initial still starts at QUIC's 1,200 bytes: discovery grows from there. */
        CHECK_INT(h3q_endpoint_poll_transmit(client, 0, buf, 8952, &len, &dest, &dest_len,
                                             &segment),
                  H3Q_OK);
        CHECK(len >= 1200 && len <= 1472 && segment == len);
    }
    free(buf);
    h3q_quic_conn_free(q);
    h3q_endpoint_free(client);
}

int main(void) {
    udp_payload_ceiling();
    server_ids();
    ecn_and_rebind();
    client_auth_is_checked();
    peer_certificates_are_readable();
    settings_are_checked();
    null_connections_answer_safely();
    tickets_from_a_connection();
    return CHECK_DONE("test_quic_production");
}
