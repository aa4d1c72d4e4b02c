// The C++ layer (include/h3q.hpp) from a C++17 program: a GET and its response between two
// h3q::endpoint objects exchanging datagrams in memory on a simulated clock; HTTP/3 over an
// h3q::transport of our own; a QPACK round trip; and the error paths: h3q::error with the
// right code, name and message (and as an h3q::result), moved-from handles, exceptions
// thrown by callbacks.
#include "h3q.hpp"

#include "check.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <optional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace {

constexpr uint64_t kSecond = 1000000000ULL;

// Runs `body`, which must throw h3q::error with `code`; returns the error (code 0 if none
// came, with a failed check).
template <class F> h3q::error expect_error(h3q_result code, F &&body) {
    try {
        body();
    } catch (const h3q::error &e) {
        CHECK_INT(e.code(), code);
        return e;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "unexpected exception: %s\n", e.what());
    }
    CHECK(!"the call did not throw h3q::error");
    return h3q::error(0, nullptr);
}

sockaddr_in loopback(uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

// ---- a client and a server over the built-in QUIC layer, in memory ----

// One side's connection: the QUIC handle, HTTP/3 over it, and what the test recorded.
struct session {
    h3q::quic_connection quic;
    std::unique_ptr<h3q::h3_connection> h3;
    std::vector<h3q::event> events; // copies, kept after the callbacks returned
    bool terminated = false;
    unsigned early_data_rejected = 0; // H3Q_QUIC_EARLY_DATA_REJECTED events seen
};

// Changes the configs a network's endpoints are made from (server first), after the
// server got its generated certificate and the client trusts it.
using config_tweak = std::function<void(h3q::config &, h3q::config &)>;

class network {
public:
    // With `carry_ecn`, datagrams arrive with the ECN codepoint they were sent with
    // (receive_ecn()); otherwise without (receive(): a path that clears the bits).
    explicit network(const config_tweak &tweak = nullptr, bool carry_ecn = false)
        : server_addr_(loopback(4433)), client_addr_(loopback(50000)), carry_ecn_(carry_ecn) {
        h3q::config server_cfg = h3q::config::server();
        fingerprint_ = server_cfg.generate_self_signed("localhost");
        server_pem_ = server_cfg.certificate_chain_pem();
        CHECK(server_pem_.rfind("-----BEGIN CERTIFICATE-----", 0) == 0);
        h3q::config client_cfg = h3q::config::client();
        client_cfg.add_ca_pem(server_pem_).set_idle_timeout_ms(30000);
        if (tweak) tweak(server_cfg, client_cfg);
        server_ = h3q::endpoint(server_cfg);
        client_ = h3q::endpoint(client_cfg);
        // The client's config may go now: the endpoint copied what it needs. The server's
        // is kept for restart_server().
        server_cfg_ = std::move(server_cfg);
    }

    // A new server endpoint with the same certificate, as after a restart: it has lost
    // every connection, session and token key of the old one (endpoints of one config
    // share those: the config's secrets are rotated first).
    void restart_server() {
        server_cfg_.rotate_secrets();
        server_ = h3q::endpoint(server_cfg_);
    }

    h3q::endpoint &server() { return server_; }
    h3q::endpoint &client() { return client_; }
    const std::array<uint8_t, 32> &fingerprint() const { return fingerprint_; }
    const std::string &server_pem() const { return server_pem_; }
    uint64_t now() const { return now_; }
    // The ECN codepoint of every datagram the client sent, in order.
    const std::vector<uint8_t> &client_ecn() const { return client_ecn_; }
    // The first byte of every datagram the server sent, in order.
    const std::vector<uint8_t> &server_first_bytes() const { return server_first_bytes_; }

    std::unique_ptr<session> connect() {
        return attach(client_.connect(now_, server_addr_, "localhost"));
    }

    std::unique_ptr<session> connect_resume(h3q::bytes_view ticket) {
        return attach(client_.connect_resume(now_, server_addr_, "localhost", ticket));
    }

    // The client moves to a new UDP socket (port `port`) and tells its endpoint.
    void rebind_client(uint16_t port) {
        client_addr_ = loopback(port);
        client_.rebind(now_);
    }

    // Moves datagrams, accepts server connections and feeds every event, advancing the
    // clock when nothing moves, until done() or 10 simulated seconds pass.
    template <class Done, class OnServerEvent>
    bool run(Done done, OnServerEvent on_server_event) {
        const uint64_t deadline = now_ + 10 * kSecond;
        for (int step = 0; step < 100000; step++) {
            bool moved = flush(client_, server_, client_addr_);
            moved |= flush(server_, client_, server_addr_);
            while (std::optional<h3q::quic_connection> q = server_.accept()) {
                auto s = std::make_unique<session>(session{std::move(*q), nullptr, {}, false});
                s->h3 = std::make_unique<h3q::h3_connection>(s->quic);
                s->quic.set_user_data(s.get());
                accepted_.push_back(std::move(s));
                moved = true;
            }
            moved |= drain(client_, [](session &, const h3q::event_view &) {});
            moved |= drain(server_, on_server_event);
            if (done()) return true;
            if (moved) continue;
            const uint64_t t = std::min(server_.next_timeout(), client_.next_timeout());
            if (t == UINT64_MAX || t > deadline) return false;
            now_ = std::max(now_, t);
            server_.handle_timeout(now_);
            client_.handle_timeout(now_);
        }
        return false;
    }

    // The server's connection `i` (in the order accepted), or NULL.
    session *accepted(size_t i = 0) { return i < accepted_.size() ? accepted_[i].get() : nullptr; }

private:
    std::unique_ptr<session> attach(h3q::quic_connection quic) {
        auto s = std::make_unique<session>(session{std::move(quic), nullptr, {}, false});
        s->h3 = std::make_unique<h3q::h3_connection>(s->quic);
        s->quic.set_user_data(s.get());
        return s;
    }

    // Everything `from` wants to send, delivered to `to` (all datagrams go to the peer). The
    // server's come lent from h3q's buffer, the client's copied into ours.
    bool flush(h3q::endpoint &from, h3q::endpoint &to, const sockaddr_in &from_addr) {
        bool moved = false;
        auto next = [&] {
            return &from == &server_ ? from.poll_transmit_lent(now_)
                                     : from.poll_transmit(now_, buf_, sizeof buf_);
        };
        while (std::optional<h3q::transmit> t = next()) {
            CHECK_INT(t->destination_len, sizeof(sockaddr_in));
            CHECK(t->ecn <= 3);
            if (&from == &client_) client_ecn_.push_back(t->ecn);
            if (&from == &server_ && !t->payload.empty()) {
                server_first_bytes_.push_back(t->payload.data()[0]);
            }
            const sockaddr *addr = reinterpret_cast<const sockaddr *>(&from_addr);
            if (carry_ecn_) {
                to.receive_ecn(now_, addr, sizeof from_addr, t->payload, 0, t->ecn);
            } else {
                to.receive(now_, addr, sizeof from_addr, t->payload);
            }
            moved = true;
        }
        return moved;
    }

    template <class OnEvent> bool drain(h3q::endpoint &ep, OnEvent &&on_event) {
        bool moved = false;
        while (h3q_quic_conn *ready = ep.next_ready()) {
            session &s = *static_cast<session *>(h3q_quic_conn_user_data(ready));
            CHECK(s.quic.get() == ready);
            while (std::optional<h3q_quic_event> ev = s.quic.next_event()) {
                moved = true;
                if (ev->type == H3Q_QUIC_CONNECTION_TERMINATED) s.terminated = true;
                if (ev->type == H3Q_QUIC_EARLY_DATA_REJECTED) s.early_data_rejected++;
                s.h3->handle_event(*ev, [&](const h3q::event_view &e) {
                    s.events.push_back(e.copy());
                    on_event(s, e);
                });
            }
        }
        return moved;
    }

    uint64_t now_ = kSecond;
    sockaddr_in server_addr_;
    sockaddr_in client_addr_;
    bool carry_ecn_;
    std::vector<uint8_t> client_ecn_;
    std::vector<uint8_t> server_first_bytes_;
    std::array<uint8_t, 32> fingerprint_{};
    std::string server_pem_;
    h3q::config server_cfg_{nullptr};
    h3q::endpoint server_{nullptr};
    h3q::endpoint client_{nullptr};
    std::vector<std::unique_ptr<session>> accepted_;
    uint8_t buf_[65536];
};

const h3q::event *find_event(const std::vector<h3q::event> &events, h3q_event_type type) {
    for (const h3q::event &e : events) {
        if (e.type == type) return &e;
    }
    return nullptr;
}

void test_get_over_built_in_quic() {
    auto net = std::make_unique<network>();
    CHECK(net->server().certificate_fingerprint() == std::optional(net->fingerprint()));
    std::unique_ptr<session> client = net->connect();

    const uint64_t stream = client->quic.next_stream_id();
    CHECK_INT(stream, 0);
    client->h3->send_headers(stream,
                             {{":method", "GET"},
                              {":scheme", "https"},
                              {":authority", "localhost"},
                              {":path", "/hello"}},
                             true);

    // The server answers from its HEADERS callback, the body lent without a copy.
    static const char body[] = "hello from h3q.hpp";
    int released = 0;
    std::string seen_path;
    auto serve = [&](session &s, const h3q::event_view &e) {
        if (e.type() != H3Q_EVENT_HEADERS_RECEIVED) return;
        seen_path = std::string(e.header(":path").value_or(""));
        CHECK(e.stream_ended());
        CHECK(!e.push_id().has_value());
        s.h3->send_headers(e.stream_id(), {{":status", "200"}, {"content-type", "text/plain"}},
                           false);
        s.h3->send_data_zerocopy(e.stream_id(), h3q::bytes_view(body, sizeof body - 1), true,
                                 [&released] { released++; });
    };
    auto answered = [&] {
        const h3q::event *last = client->events.empty() ? nullptr : &client->events.back();
        return last != nullptr && last->stream_ended;
    };
    CHECK(net->run(answered, serve));
    CHECK_STR(seen_path.c_str(), "/hello");
    CHECK(client->quic.is_established());
    CHECK(client->quic.alpn() == "h3");

    const h3q::event *head = find_event(client->events, H3Q_EVENT_HEADERS_RECEIVED);
    CHECK(head != nullptr && head->stream_id == stream);
    CHECK(head != nullptr && head->header(":status") == std::optional<std::string_view>("200"));
    CHECK(head != nullptr &&
          head->header("content-type") == std::optional<std::string_view>("text/plain"));
    std::string received;
    for (const h3q::event &e : client->events) {
        if (e.type == H3Q_EVENT_DATA_RECEIVED && e.stream_id == stream) received += e.data;
    }
    CHECK_STR(received.c_str(), body);
    CHECK(client->h3->received_setting(0x1).has_value()); // the server's QPACK capacity
    CHECK(!client->h3->close_code().has_value());
    CHECK(client->quic.stats().bytes_received > 0);

    // The client closes; both sides see how the connection ended.
    client->quic.close(H3Q_H3_NO_ERROR, "done");
    session *server = net->accepted();
    CHECK(server != nullptr);
    CHECK(net->run([&] { return client->terminated && server != nullptr && server->terminated; },
                  [](session &, const h3q::event_view &) {}));
    const h3q::event *closed =
        server ? find_event(server->events, H3Q_EVENT_CONNECTION_CLOSED) : nullptr;
    CHECK(closed != nullptr && closed->error_code == H3Q_H3_NO_ERROR && closed->closed_by_peer);
    CHECK(closed != nullptr && closed->data == "done");
    std::optional<std::pair<uint64_t, h3q_error_space>> code = client->h3->close_code();
    CHECK(code.has_value() && code->first == H3Q_H3_NO_ERROR &&
          code->second == H3Q_ERROR_SPACE_APPLICATION);
    // Sending on a closed connection is fatal, not a refusal.
    h3q::error e = expect_error(H3Q_ERR_CONNECTION_CLOSED, [&] {
        client->h3->send_headers(4, {{":method", "GET"}}, true);
    });
    CHECK(e.is_fatal() && !e.is_refusal());
    // Destroying everything releases the lent body, if the acknowledgement did not already.
    client.reset();
    net.reset();
    CHECK_INT(released, 1);
}

// ---- resumption and 0-RTT, client certificates, Retry, ECN and migration ----

// Sends a GET for `path` on a new request stream; returns the stream id.
uint64_t send_get(session &client, std::string_view path) {
    const uint64_t stream = client.quic.next_stream_id();
    client.h3->send_headers(stream,
                            {{":method", "GET"},
                             {":scheme", "https"},
                             {":authority", "localhost"},
                             {":path", path}},
                            true);
    return stream;
}

// The response on `stream` is complete.
bool ended(const session &client, uint64_t stream) {
    for (const h3q::event &e : client.events) {
        if (e.stream_id == stream && e.stream_ended) return true;
    }
    return false;
}

// The body received on `stream`.
std::string body_of(const session &client, uint64_t stream) {
    std::string body;
    for (const h3q::event &e : client.events) {
        if (e.type == H3Q_EVENT_DATA_RECEIVED && e.stream_id == stream) body += e.data;
    }
    return body;
}

// Answers every request with 200 and its path as the body.
void answer_with_path(session &s, const h3q::event_view &e) {
    if (e.type() != H3Q_EVENT_HEADERS_RECEIVED) return;
    const std::string path(e.header(":path").value_or(""));
    s.h3->send_headers(e.stream_id(), {{":status", "200"}}, false);
    s.h3->send_data(e.stream_id(), path, true);
}

// The DER bytes of the first certificate of a PEM text (empty if there is none).
std::vector<uint8_t> pem_to_der(const std::string &pem) {
    static const std::string begin = "-----BEGIN CERTIFICATE-----";
    const size_t from = pem.find(begin);
    const size_t to = pem.find("-----END CERTIFICATE-----");
    std::vector<uint8_t> der;
    if (from == std::string::npos || to == std::string::npos) return der;
    uint32_t bits = 0;
    int nbits = 0;
    for (size_t i = from + begin.size(); i < to; i++) {
        const char c = pem[i];
        int v;
        if (c >= 'A' && c <= 'Z') v = c - 'A';
        else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
        else if (c >= '0' && c <= '9') v = c - '0' + 52;
        else if (c == '+') v = 62;
        else if (c == '/') v = 63;
        else continue; // line breaks and '=' padding
        bits = (bits << 6) | static_cast<uint32_t>(v);
        nbits += 6;
        if (nbits >= 8) {
            nbits -= 8;
            der.push_back(static_cast<uint8_t>((bits >> nbits) & 0xff));
        }
    }
    return der;
}

void test_resumption_and_0rtt() {
    network net([](h3q::config &server, h3q::config &) { server.set_enable_0rtt(true); });
    std::vector<bool> early_at_server;
    auto serve = [&](session &s, const h3q::event_view &e) {
        if (e.type() == H3Q_EVENT_HEADERS_RECEIVED) {
            early_at_server.push_back(s.quic.stream_is_early(e.stream_id()));
        }
        answer_with_path(s, e);
    };

    // A fresh connection: no early data; a ticket once the server sent one.
    std::unique_ptr<session> first = net.connect();
    CHECK(!first->quic.session_ticket().has_value());
    CHECK_INT(first->quic.early_data(), H3Q_EARLY_DATA_NOT_OFFERED);
    CHECK(!first->quic.is_0rtt());
    const uint64_t s1 = send_get(*first, "/first");
    CHECK(net.run([&] { return ended(*first, s1); }, serve));
    // Without Retry, the server's first datagram is its Initial (long header, type 0; the
    // fixed bit 0x40 is left out: QUIC may grease it, RFC 9287).
    CHECK(!net.server_first_bytes().empty() && (net.server_first_bytes().front() & 0xb0) == 0x80);
    std::optional<std::vector<uint8_t>> ticket;
    CHECK(net.run(
        [&] {
            ticket = first->quic.session_ticket();
            return ticket.has_value();
        },
        serve));
    CHECK(ticket.has_value() && !ticket->empty() && ticket->size() <= H3Q_MAX_SESSION_TICKET);
    CHECK(net.accepted(0) != nullptr && !net.accepted(0)->quic.session_ticket().has_value());
    CHECK_INT(first->quic.early_data(), H3Q_EARLY_DATA_NOT_OFFERED);
    if (!ticket) return;

    // Bad tickets are refused and make nothing.
    h3q::error e = expect_error(H3Q_ERR_INVALID_ARGUMENT,
                                [&] { net.connect_resume("not a session ticket"); });
    CHECK_PREFIX(e.detail().c_str(), "invalid argument: session ticket");
    expect_error(H3Q_ERR_INVALID_ARGUMENT, [&] { net.connect_resume(h3q::bytes_view()); });
    expect_error(H3Q_ERR_INVALID_ARGUMENT, [&] {
        net.client().connect_resume(net.now(), loopback(4433), "example.com", *ticket);
    });
    expect_error(H3Q_ERR_WRONG_ROLE, [&] {
        net.server().connect_resume(net.now(), loopback(50000), "localhost", *ticket);
    });

    // Resumed: the GET goes as 0-RTT, before the handshake completes, and is answered.
    std::unique_ptr<session> second = net.connect_resume(*ticket);
    CHECK_INT(second->quic.early_data(), H3Q_EARLY_DATA_PENDING);
    CHECK(second->quic.is_0rtt());
    const uint64_t s2 = send_get(*second, "/early");
    CHECK(second->quic.is_0rtt() && !second->quic.is_established());
    CHECK(net.run([&] { return ended(*second, s2); }, serve));
    CHECK_INT(second->quic.early_data(), H3Q_EARLY_DATA_ACCEPTED);
    CHECK(!second->quic.is_0rtt());
    CHECK(second->quic.is_established());
    const h3q::event *head = find_event(second->events, H3Q_EVENT_HEADERS_RECEIVED);
    CHECK(head != nullptr && head->header(":status") == std::optional<std::string_view>("200"));
    CHECK(body_of(*second, s2) == "/early");
    CHECK(find_event(second->events, H3Q_EVENT_STREAM_RESET) == nullptr);
    // The server saw the first request as 1-RTT, the second as early (a replay risk).
    CHECK(early_at_server == (std::vector<bool>{false, true}));
    session *server = net.accepted(1);
    CHECK(server != nullptr && server->quic.stream_is_early(s2));
    CHECK(server != nullptr && !server->quic.stream_is_early(s2 + 4));
    CHECK(server != nullptr && server->quic.early_data() == H3Q_EARLY_DATA_NOT_OFFERED);
    // The ticket was used: the first connection offers it no more.
    CHECK(!first->quic.session_ticket().has_value());
}

// A server that lost its sessions (restarted) refuses the early data: the C++ event loop
// passes H3Q_QUIC_EARLY_DATA_REJECTED on, the request comes back rejected, and sent again
// it is answered as 1-RTT.
void test_rejected_0rtt_is_sent_again() {
    network net([](h3q::config &server, h3q::config &) { server.set_enable_0rtt(true); });
    std::vector<bool> early_at_server;
    auto serve = [&](session &s, const h3q::event_view &e) {
        if (e.type() == H3Q_EVENT_HEADERS_RECEIVED) {
            early_at_server.push_back(s.quic.stream_is_early(e.stream_id()));
        }
        answer_with_path(s, e);
    };
    std::unique_ptr<session> first = net.connect();
    const uint64_t s1 = send_get(*first, "/first");
    CHECK(net.run([&] { return ended(*first, s1); }, serve));
    std::optional<std::vector<uint8_t>> ticket;
    CHECK(net.run(
        [&] {
            ticket = first->quic.session_ticket();
            return ticket.has_value();
        },
        serve));
    if (!ticket) return;
    first->quic.close(H3Q_H3_NO_ERROR);
    CHECK(net.run([&] { return first->terminated; }, serve));

    net.restart_server();
    std::unique_ptr<session> resumed = net.connect_resume(*ticket);
    CHECK_INT(resumed->quic.early_data(), H3Q_EARLY_DATA_PENDING);
    const uint64_t early = send_get(*resumed, "/again");
    CHECK(net.run([&] { return find_event(resumed->events, H3Q_EVENT_STREAM_RESET) != nullptr; },
                  serve));
    CHECK_INT(resumed->early_data_rejected, 1);
    CHECK_INT(resumed->quic.early_data(), H3Q_EARLY_DATA_REJECTED);
    const h3q::event *reset = find_event(resumed->events, H3Q_EVENT_STREAM_RESET);
    CHECK(reset != nullptr && reset->stream_id == early &&
          reset->error_code == H3Q_H3_REQUEST_REJECTED);
    // Stream ids start over: the request goes again on the same id, now as 1-RTT.
    const uint64_t again = send_get(*resumed, "/again");
    CHECK_INT(again, early);
    CHECK(net.run([&] { return ended(*resumed, again); }, serve));
    CHECK(body_of(*resumed, again) == "/again");
    CHECK(early_at_server == (std::vector<bool>{false, false}));
}

void test_client_certificates_retry_ecn_and_rebind() {
    std::string client_pem;
    network net(
        [&](h3q::config &server, h3q::config &client) {
            client.generate_self_signed("client.test");
            client_pem = client.certificate_chain_pem();
            // The client's self-signed certificate is its own CA.
            // Retry: one policy, the last setter wins (here: always).
            server.set_client_auth(H3Q_CLIENT_AUTH_REQUIRE, client_pem)
                .set_retry_above_rate(1000)
                .set_retry(true);
        },
        true);
    std::unique_ptr<session> client = net.connect();
    CHECK(client->quic.peer_certificates().empty());
    CHECK(!client->quic.peer_certificate(0).has_value());
    const uint64_t s1 = send_get(*client, "/who");
    CHECK(net.run([&] { return ended(*client, s1); }, answer_with_path));
    CHECK(body_of(*client, s1) == "/who");
    // The client's first datagram went out ECT(0) (its Initial, which the Retry answered).
    CHECK(!net.client_ecn().empty() && net.client_ecn().front() == 2);
    // The server's first datagram was a Retry: long header, type 3.
    CHECK(!net.server_first_bytes().empty() && (net.server_first_bytes().front() & 0xb0) == 0xb0);

    // Each side reads the certificate the other presented: the DER of its PEM.
    const std::vector<uint8_t> client_der = pem_to_der(client_pem);
    const std::vector<uint8_t> server_der = pem_to_der(net.server_pem());
    CHECK(client_der.size() > 100 && client_der[0] == 0x30);
    session *server = net.accepted();
    CHECK(server != nullptr);
    if (server != nullptr) {
        const std::vector<std::vector<uint8_t>> chain = server->quic.peer_certificates();
        CHECK_INT(chain.size(), 1);
        CHECK(!chain.empty() && chain[0] == client_der);
        CHECK(server->quic.peer_certificate(0) == std::optional(client_der));
        CHECK(!server->quic.peer_certificate(1).has_value());
    }
    const std::vector<std::vector<uint8_t>> server_chain = client->quic.peer_certificates();
    CHECK(server_chain.size() == 1 && server_chain[0] == server_der);

    // The client moves to another socket; the connection carries on from there.
    net.rebind_client(50001);
    const uint64_t s2 = send_get(*client, "/moved");
    CHECK(net.run([&] { return ended(*client, s2); }, answer_with_path));
    CHECK(body_of(*client, s2) == "/moved");
    CHECK(client->quic.is_established() && !client->terminated);
    if (server != nullptr) {
        const std::pair<sockaddr_storage, socklen_t> peer = server->quic.remote_address();
        sockaddr_in v4{};
        CHECK_INT(peer.second, sizeof v4);
        std::memcpy(&v4, &peer.first, sizeof v4);
        CHECK_INT(ntohs(v4.sin_port), 50001);
    }
    // The codepoints carried, ECN validation held: every datagram went out ECT(0).
    CHECK(std::all_of(net.client_ecn().begin(), net.client_ecn().end(),
                      [](uint8_t ecn) { return ecn == 2; }));
}

// A server that requires a client certificate refuses a client without one: the
// handshake fails with a TLS alert (a QUIC CRYPTO_ERROR, 0x100 + alert) before HTTP/3.
void test_client_without_certificate_is_refused() {
    network net([](h3q::config &server, h3q::config &) {
        h3q::config other = h3q::config::client();
        other.generate_self_signed("someone.else");
        server.set_client_auth(H3Q_CLIENT_AUTH_REQUIRE, other.certificate_chain_pem());
    });
    std::unique_ptr<session> client = net.connect();
    send_get(*client, "/");
    CHECK(net.run([&] { return client->terminated; }, answer_with_path));
    CHECK(!client->quic.is_established());
    const h3q::event *closed = find_event(client->events, H3Q_EVENT_CONNECTION_CLOSED);
    CHECK(closed != nullptr && closed->error_space == H3Q_ERROR_SPACE_TRANSPORT &&
          closed->error_code >= 0x100 && closed->error_code <= 0x1ff);
    CHECK(find_event(client->events, H3Q_EVENT_HEADERS_RECEIVED) == nullptr);
}

// ---- HTTP/3 over a transport of our own ----

// Stream bytes queued for the peer; the test moves them as QUIC events.
struct queued {
    uint64_t stream_id;
    std::string bytes;
    bool fin;
};

class memory_transport : public h3q::transport {
public:
    explicit memory_transport(bool client) : client_(client) {}

    bool is_client() const override { return client_; }
    void send_stream_data(uint64_t stream_id, h3q::bytes_view data, bool end_stream) override {
        if (fail_sends) throw std::runtime_error("the test makes sends fail");
        uint64_t &next = (stream_id & 2) ? next_uni_ : next_bidi_;
        if (stream_id == next) next += 4;
        out.push_back(queued{stream_id, data.to_string(), end_stream});
    }
    uint64_t next_stream_id(bool unidirectional) override {
        return unidirectional ? next_uni_ : next_bidi_;
    }
    void reset_stream(uint64_t, uint64_t) override {}
    void stop_stream(uint64_t, uint64_t) override {}
    void close(uint64_t error_code, std::string_view) override { closed_with = error_code; }

    // What a QUIC stack does when the server rejected 0-RTT: it forgets every stream it
    // opened, and stream ids start again.
    void forget_streams() {
        out.clear();
        next_bidi_ = client_ ? 0 : 1;
        next_uni_ = client_ ? 2 : 3;
    }

    std::deque<queued> out;
    bool fail_sends = false;
    uint64_t closed_with = UINT64_MAX;

private:
    bool client_;
    uint64_t next_bidi_ = client_ ? 0 : 1;
    uint64_t next_uni_ = client_ ? 2 : 3;
};

// Delivers what `from` queued to `to`, into on_event: one QUIC event per run of chunks on
// one stream (so that one event may carry several HTTP/3 frames).
template <class F> void deliver(memory_transport &from, h3q::h3_connection &to, F &&on_event) {
    while (!from.out.empty()) {
        queued q = std::move(from.out.front());
        from.out.pop_front();
        while (!q.fin && !from.out.empty() && from.out.front().stream_id == q.stream_id) {
            q.bytes += from.out.front().bytes;
            q.fin = from.out.front().fin;
            from.out.pop_front();
        }
        h3q_quic_event ev{};
        ev.type = H3Q_QUIC_STREAM_DATA_RECEIVED;
        ev.stream_id = q.stream_id;
        ev.data = reinterpret_cast<const uint8_t *>(q.bytes.data());
        ev.data_len = q.bytes.size();
        ev.end_stream = q.fin;
        to.handle_event(ev, on_event);
    }
}

void test_transport_and_callback_exceptions() {
    memory_transport client_side(true), server_side(false);
    h3q::h3_connection client(client_side);
    h3q_settings settings = h3q::h3_connection::default_settings();
    settings.enable_grease = false;
    h3q::h3_connection server(server_side, &settings);
    CHECK(!client_side.out.empty()); // the control and QPACK streams opened at once

    const uint64_t stream = client_side.next_stream_id(false);
    client.send_headers(stream, {{":method", "GET"}, {":scheme", "https"},
                                 {":authority", "x"}, {":path", "/"}},
                        true);
    // A callback that throws: the exception reaches the caller once h3q has returned, and
    // the connection goes on.
    int calls = 0;
    bool caught = false;
    try {
        deliver(client_side, server, [&](const h3q::event_view &e) {
            calls++;
            if (e.type() == H3Q_EVENT_HEADERS_RECEIVED) throw std::logic_error("from callback");
        });
    } catch (const std::logic_error &e) {
        caught = std::strcmp(e.what(), "from callback") == 0;
    }
    CHECK(caught);
    CHECK_INT(calls, 1);
    CHECK_INT(server.active_requests(), 1);
    server.send_headers(stream, {{":status", "204"}}, true);

    // One QUIC event with HEADERS and DATA: the callback throws on the first HTTP event,
    // still gets the second, and the first exception comes out.
    const uint64_t post = client_side.next_stream_id(false);
    client.send_headers(post, {{":method", "POST"}, {":scheme", "https"},
                               {":authority", "x"}, {":path", "/upload"}},
                        false);
    client.send_data(post, "body", true);
    std::vector<h3q_event_type> seen;
    caught = false;
    try {
        deliver(client_side, server, [&](const h3q::event_view &e) {
            seen.push_back(e.type());
            if (e.type() == H3Q_EVENT_HEADERS_RECEIVED) throw std::runtime_error("first");
            if (e.type() == H3Q_EVENT_DATA_RECEIVED) throw std::logic_error("second");
        });
    } catch (const std::runtime_error &e) {
        caught = std::strcmp(e.what(), "first") == 0;
    }
    CHECK(caught);
    CHECK(seen == (std::vector<h3q_event_type>{H3Q_EVENT_HEADERS_RECEIVED,
                                               H3Q_EVENT_DATA_RECEIVED}));
    server.reset_stream(post, H3Q_H3_REQUEST_REJECTED);

    // The copying handle_event() on the client side.
    std::vector<h3q::event> got;
    while (!server_side.out.empty()) {
        queued q = std::move(server_side.out.front());
        server_side.out.pop_front();
        h3q_quic_event ev{};
        ev.type = H3Q_QUIC_STREAM_DATA_RECEIVED;
        ev.stream_id = q.stream_id;
        ev.data = reinterpret_cast<const uint8_t *>(q.bytes.data());
        ev.data_len = q.bytes.size();
        ev.end_stream = q.fin;
        for (h3q::event &e : client.handle_event(ev)) got.push_back(std::move(e));
    }
    const h3q::event *head = find_event(got, H3Q_EVENT_HEADERS_RECEIVED);
    CHECK(head != nullptr && head->stream_ended &&
          head->header(":status") == std::optional<std::string_view>("204"));

    // A transport function that throws becomes H3Q_ERR_TRANSPORT, with nothing thrown
    // through h3q.
    client_side.fail_sends = true;
    h3q::error e = expect_error(H3Q_ERR_TRANSPORT, [&] {
        client.send_headers(client_side.next_stream_id(false), {{":method", "GET"}}, true);
    });
    CHECK(e.is_refusal());
    client_side.fail_sends = false;

    // A protocol violation by the peer: a DATA frame on the server's control stream.
    h3q_quic_event bad{};
    static const uint8_t data_frame[] = {0x00, 0x01, 0x00};
    bad.type = H3Q_QUIC_STREAM_DATA_RECEIVED;
    bad.stream_id = 3;
    bad.data = data_frame;
    bad.data_len = sizeof data_frame;
    e = expect_error(H3Q_ERR_PROTOCOL, [&] { client.handle_event(bad); });
    CHECK(e.is_fatal());
    CHECK_PREFIX(e.detail().c_str(), "H3_FRAME_UNEXPECTED");
    CHECK_INT(client_side.closed_with, H3Q_H3_FRAME_UNEXPECTED);
    std::optional<std::pair<uint64_t, h3q_error_space>> code = client.close_code();
    CHECK(code.has_value() && code->first == H3Q_H3_FRAME_UNEXPECTED);
}

// H3Q_QUIC_EARLY_DATA_REJECTED from a QUIC stack of our own goes through handle_event()
// like any other QUIC event: the request sent early comes back rejected, and HTTP/3 opens
// its control and QPACK streams again from stream id 2.
void test_early_data_rejected_passes_through() {
    memory_transport client_side(true);
    h3q::h3_connection client(client_side);
    const uint64_t stream = client_side.next_stream_id(false);
    client.send_headers(stream, {{":method", "GET"}, {":scheme", "https"},
                                 {":authority", "x"}, {":path", "/early"}},
                        true);
    CHECK_INT(client.active_requests(), 1);
    client_side.forget_streams();

    h3q_quic_event rejected{};
    rejected.type = H3Q_QUIC_EARLY_DATA_REJECTED;
    std::vector<h3q::event> got = client.handle_event(rejected);
    CHECK_INT(got.size(), 1);
    CHECK(!got.empty() && got[0].type == H3Q_EVENT_STREAM_RESET && got[0].stream_id == stream &&
          got[0].error_code == H3Q_H3_REQUEST_REJECTED);
    CHECK_INT(client.active_requests(), 0);
    CHECK(!client_side.out.empty() && client_side.out.front().stream_id == 2);
    // Sent again, the request takes stream 0 anew.
    CHECK_INT(client_side.next_stream_id(false), 0);
    client.send_headers(client_side.next_stream_id(false),
                        {{":method", "GET"}, {":scheme", "https"}, {":authority", "x"},
                         {":path", "/early"}},
                        true);
    CHECK_INT(client.active_requests(), 1);
}

// ---- QPACK ----

void test_qpack_round_trip() {
    h3q::qpack_encoder encoder;
    h3q::qpack_decoder decoder(4096, 16);
    encoder.apply_settings(4096, 16);
    const std::string section =
        encoder.encode(0, {{":method", "GET"}, {"x-custom", "value one"}}).to_string();
    decoder.feed_encoder(encoder.take_encoder_stream());
    std::optional<std::vector<h3q::field>> fields = decoder.decode(0, section);
    CHECK(fields.has_value() && fields->size() == 2);
    if (fields && fields->size() == 2) {
        CHECK((*fields)[0].name == ":method" && (*fields)[0].value == "GET");
        CHECK((*fields)[1].name == "x-custom" && (*fields)[1].value == "value one");
    }
    CHECK(!decoder.next_unblocked().has_value());
    encoder.feed_decoder(decoder.take_decoder_stream());

    // A malformed section: QPACK_DECOMPRESSION_FAILED, with the decoder's message.
    h3q::error e = expect_error(H3Q_ERR_PROTOCOL, [&] { decoder.decode(4, "\xff\xff\xff"); });
    CHECK_PREFIX(e.detail().c_str(), "QPACK_DECOMPRESSION_FAILED");
    CHECK(std::string(e.what()).find("QPACK_DECOMPRESSION_FAILED") != std::string::npos);

    const h3q_priority p = h3q::parse_priority("u=1, i");
    CHECK(p.urgency == 1 && p.incremental);
}

// ---- errors and ownership ----

void test_errors_carry_code_name_and_message() {
    h3q::config cfg = h3q::config::client();
    h3q::error e = expect_error(H3Q_ERR_INVALID_ARGUMENT, [&] { cfg.set_max_streams(10, 2); });
    CHECK(e.name() == "H3Q_ERR_INVALID_ARGUMENT");
    CHECK_PREFIX(e.description(), "H3Q_ERR_INVALID_ARGUMENT: ");
    CHECK(!e.detail().empty());
    CHECK(e.is_refusal() && !e.is_fatal());
    CHECK_PREFIX(e.what(), "H3Q_ERR_INVALID_ARGUMENT");
    // The config is unharmed by a refusal.
    cfg.set_max_streams(10, 3);

    e = expect_error(H3Q_ERR_TLS, [&] { cfg.add_ca_pem("not a certificate"); });
    CHECK(!e.detail().empty());
    e = expect_error(H3Q_ERR_INVALID_ARGUMENT, [&] { cfg.set_alpn({"h3", ""}); });
    e = expect_error(H3Q_ERR_INVALID_ARGUMENT, [&] {
        cfg.set_congestion_control(static_cast<h3q_congestion_control>(99));
    });

    // The production settings: chainable, and refused as h3q.h says.
    h3q::config server_cfg = h3q::config::server();
    server_cfg.set_enable_0rtt(true).set_retry(true).set_retry_above_rate(1000);
    e = expect_error(H3Q_ERR_INVALID_ARGUMENT, [&] { server_cfg.set_retry_above_rate(0); });
    CHECK_PREFIX(e.detail().c_str(), "handshakes_per_second 0");
    e = expect_error(H3Q_ERR_INVALID_ARGUMENT, [&] {
        server_cfg.set_client_auth(static_cast<h3q_client_auth>(7));
    });
    CHECK_PREFIX(e.detail().c_str(), "mode: not an h3q_client_auth");
    e = expect_error(H3Q_ERR_TLS, [&] {
        server_cfg.set_client_auth(H3Q_CLIENT_AUTH_REQUIRE, "no certificate here");
    });
    CHECK_PREFIX(e.detail().c_str(), "client CA roots");
    expect_error(H3Q_ERR_TLS, [&] { server_cfg.set_client_auth(H3Q_CLIENT_AUTH_REQUEST); });
    server_cfg.set_client_auth(H3Q_CLIENT_AUTH_OFF);
    e = expect_error(H3Q_ERR_INVALID_ARGUMENT, [&] {
        cfg.set_client_auth(H3Q_CLIENT_AUTH_REQUIRE, "no certificate here");
    });
    CHECK_PREFIX(e.detail().c_str(), "client certificates are asked for by servers");

    // QUIC-LB server ids and the qlog directory.
    const uint8_t sid[] = {0x5e, 0x41, 0x7a};
    server_cfg.set_server_id(h3q::bytes_view(sid, sizeof sid), 1).set_server_id({});
    e = expect_error(H3Q_ERR_INVALID_ARGUMENT,
                     [&] { server_cfg.set_server_id(h3q::bytes_view(sid, 3), 7); });
    CHECK_PREFIX(e.detail().c_str(), "config rotation 7");
    const uint8_t packet[] = {0x40, 0x2b, 0x5e, 0x41, 0x7a, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    h3q::routed_cid routed = h3q::cid_server_id(h3q::bytes_view(packet, sizeof packet), 3);
    CHECK(routed.server_id == std::vector<uint8_t>(sid, sid + 3));
    CHECK_INT(routed.config_rotation, 1);
    e = expect_error(H3Q_ERR_INVALID_ARGUMENT,
                     [&] { h3q::cid_server_id(h3q::bytes_view(packet, 4), 3); });
    CHECK_PREFIX(e.detail().c_str(), "short header's DCID of 12 bytes is cut");
    server_cfg.set_qlog_dir("/tmp").set_qlog_dir(nullptr);
    expect_error(H3Q_ERR_IO, [&] { server_cfg.set_qlog_dir("/nonexistent/h3q-qlogs"); });

    // A server endpoint cannot connect.
    h3q::endpoint server(h3q::config::server());
    // An ECN codepoint is two bits.
    const sockaddr_in from = loopback(50000);
    e = expect_error(H3Q_ERR_INVALID_ARGUMENT, [&] {
        server.receive_ecn(kSecond, reinterpret_cast<const sockaddr *>(&from), sizeof from,
                           "datagram", 0, 4);
    });
    CHECK_PREFIX(e.detail().c_str(), "ecn 4: an ECN codepoint is 0 to 3");
    server.rebind(kSecond); // nothing to move: fine
    e = expect_error(H3Q_ERR_WRONG_ROLE,
                     [&] { server.connect(kSecond, loopback(443), "localhost"); });
    CHECK(e.name() == "H3Q_ERR_WRONG_ROLE");
    CHECK(!server.accept().has_value());
    CHECK(server.next_ready() == nullptr);
    // A transmit buffer below 1472 bytes is refused.
    uint8_t small[100];
    expect_error(H3Q_ERR_BUFFER_TOO_SMALL, [&] { server.poll_transmit(kSecond, small, 100); });

    // The same failures as values, through h3q::attempt().
    h3q::result<void> refused = h3q::attempt([&] { cfg.set_max_streams(10, 2); });
    CHECK(!refused && !refused.ok());
    CHECK_INT(refused.code(), H3Q_ERR_INVALID_ARGUMENT);
    CHECK(refused.failure() != nullptr && !refused.failure()->detail().empty());
    expect_error(H3Q_ERR_INVALID_ARGUMENT, [&] { refused.value(); });
    h3q::result<h3q::quic_connection> wrong_role =
        h3q::attempt([&] { return server.connect(kSecond, loopback(443), "localhost"); });
    CHECK_INT(wrong_role.code(), H3Q_ERR_WRONG_ROLE);
    expect_error(H3Q_ERR_WRONG_ROLE, [&] { std::move(wrong_role).value(); });
    h3q::result<h3q_priority> parsed = h3q::attempt([] { return h3q::parse_priority("u=2"); });
    CHECK(parsed && parsed.code() == H3Q_OK && parsed.failure() == nullptr);
    CHECK_INT(parsed.value().urgency, 2);
    h3q::result<void> fine = h3q::attempt([&] { cfg.set_max_streams(10, 3); });
    CHECK(fine.ok() && fine.failure() == nullptr);
    // Other exceptions are not turned into results.
    bool passed_through = false;
    try {
        h3q::attempt([] { throw std::runtime_error("not h3q's"); });
    } catch (const std::runtime_error &) {
        passed_through = true;
    }
    CHECK(passed_through);
}

void test_moved_from_handles_are_safe() {
    h3q::config a = h3q::config::client();
    h3q::config b = std::move(a);
    CHECK(!a && b);
    CHECK(a.get() == nullptr && a.last_error() == nullptr);
    h3q::error e = expect_error(H3Q_ERR_NULL, [&] { a.set_verify_peer(false); });
    CHECK(e.name() == "H3Q_ERR_NULL");
    CHECK(!e.detail().empty());
    expect_error(H3Q_ERR_NULL, [&] { h3q::endpoint ep(a); });
    b.set_verify_peer(false);

    // Move assignment frees the handle it replaces; the source is left empty.
    h3q::config c = h3q::config::server();
    c = std::move(b);
    CHECK(!b && c);

    h3q::endpoint ep(c);
    h3q::quic_connection q = ep.connect(kSecond, loopback(4433), "localhost");
    h3q::h3_connection h3(q);
    h3q::quic_connection q2 = std::move(q);
    h3q::h3_connection h3b = std::move(h3);
    CHECK(!q && q2 && !h3 && h3b);
    CHECK(q.is_closed() && q.is_drained() && !q.is_established());
    CHECK(q.user_data() == nullptr);
    expect_error(H3Q_ERR_NULL, [&] { q.next_event(); });
    expect_error(H3Q_ERR_NULL, [&] { q.session_ticket(); });
    expect_error(H3Q_ERR_NULL, [&] { q.peer_certificate(0); });
    expect_error(H3Q_ERR_NULL, [&] { q.peer_certificates(); });
    CHECK_INT(q.early_data(), H3Q_EARLY_DATA_NOT_OFFERED);
    CHECK(!q.is_0rtt() && !q.stream_is_early(0));
    // A fresh client connection: nothing offered, and nothing of the peer's yet.
    CHECK_INT(q2.early_data(), H3Q_EARLY_DATA_NOT_OFFERED);
    CHECK(!q2.session_ticket().has_value() && q2.peer_certificates().empty());
    expect_error(H3Q_ERR_NULL, [&] { h3.send_data(0, "x", true); });
    expect_error(H3Q_ERR_NULL, [&] { h3q::h3_connection over_nothing(q); });
    // The h3q_conn may outlive its QUIC connection and the endpoint.
    q2 = h3q::quic_connection(nullptr);
    CHECK(!q2);
    h3q::endpoint gone = std::move(ep);
    gone = h3q::endpoint(nullptr);
    CHECK(gone.next_timeout() == UINT64_MAX);
    expect_error(H3Q_ERR_NULL, [&] { gone.handle_timeout(kSecond); });
    expect_error(H3Q_ERR_NULL, [&] { gone.rebind(kSecond); });
    expect_error(H3Q_ERR_NULL, [&] { gone.connect_resume(kSecond, loopback(4433), "x", "t"); });
    CHECK(h3b.active_requests() == 0);

    // release() hands the C handle over; the object is then empty.
    h3q::qpack_encoder enc;
    h3q_qpack_encoder *raw = enc.release();
    CHECK(raw != nullptr && !enc);
    h3q_qpack_encoder_free(raw);
    expect_error(H3Q_ERR_NULL, [&] { enc.take_encoder_stream(); });
}

} // namespace

int main() {
    RUN(test_get_over_built_in_quic);
    RUN(test_resumption_and_0rtt);
    RUN(test_rejected_0rtt_is_sent_again);
    RUN(test_client_certificates_retry_ecn_and_rebind);
    RUN(test_client_without_certificate_is_refused);
    RUN(test_transport_and_callback_exceptions);
    RUN(test_early_data_rejected_passes_through);
    RUN(test_qpack_round_trip);
    RUN(test_errors_carry_code_name_and_message);
    RUN(test_moved_from_handles_are_safe);
    return CHECK_DONE("test_cpp_raii");
}
