/** @file h3q/quic.hpp
 * The built-in QUIC layer in C++ (part of h3q.hpp): h3q::config, h3q::endpoint and
 * h3q::quic_connection.
 */
#ifndef H3Q_QUIC_HPP
#define H3Q_QUIC_HPP

#include "core.hpp"

#include <netinet/in.h>

#include <array>
#include <optional>
#include <string>
#include <utility>
#include <vector>

/** @addtogroup cpp
 * @{
 */

namespace h3q {

/** Which side of a connection an endpoint is. */
enum class role {
    client, /**< Opens connections (h3q::endpoint::connect()). */
    server, /**< Accepts them (h3q::endpoint::accept()). */
};

/**
 * The configuration of a QUIC endpoint (h3q_config). h3q::endpoint copies what it needs, so
 * a config may be destroyed or reused once the endpoint exists. The setters return the
 * config, for chaining, and throw h3q::error where the C function fails.
 */
class config {
public:
    /** A configuration for `r` with the defaults (h3q_config_new()). */
    explicit config(role r) {
        h3q_config *raw = nullptr;
        detail::check(h3q_config_new(r == role::server, &raw));
        h_ = owner_type(raw);
    }
    /** Takes ownership of `raw` (NULL: an empty object). */
    explicit config(h3q_config *raw) noexcept : h_(raw) {}

    /** A server configuration. */
    static config server() { return config(role::server); }
    /** A client configuration. */
    static config client() { return config(role::client); }

    /** The C handle, still owned by this object (NULL once moved from). */
    h3q_config *get() const noexcept { return h_.get(); }
    /** Gives up the C handle: the caller frees it with h3q_config_free(). */
    h3q_config *release() noexcept { return h_.release(); }
    /** Holds a handle. */
    explicit operator bool() const noexcept { return h_.get() != nullptr; }
    /** h3q_config_last_error(): borrowed, valid until the next failing call; may be NULL. */
    const char *last_error() const noexcept { return h3q_config_last_error(get()); }

    /** h3q_config_set_certificate_chain_pem(). */
    config &set_certificate_chain_pem(bytes_view chain_pem, bytes_view key_pem) {
        detail::check(h3q_config_set_certificate_chain_pem(get(), chain_pem.data(),
                                                           chain_pem.size(), key_pem.data(),
                                                           key_pem.size()),
                      get());
        return *this;
    }
    /** h3q_config_load_certificate_chain(). */
    config &load_certificate_chain(const std::string &chain_path, const std::string &key_path) {
        detail::check(
            h3q_config_load_certificate_chain(get(), chain_path.c_str(), key_path.c_str()), get());
        return *this;
    }
    /** h3q_config_generate_self_signed(): returns the certificate's SHA-256 fingerprint. */
    std::array<uint8_t, 32> generate_self_signed(const std::string &host) {
        std::array<uint8_t, 32> fingerprint{};
        detail::check(h3q_config_generate_self_signed(get(), host.c_str(), fingerprint.data()),
                      get());
        return fingerprint;
    }
    /** h3q_config_certificate_chain_pem(): the chain as PEM; empty when there is none. */
    std::string certificate_chain_pem() const {
        size_t len = 0;
        h3q_result r = h3q_config_certificate_chain_pem(get(), nullptr, 0, &len);
        if (r == H3Q_DONE) return std::string();
        if (r != H3Q_ERR_BUFFER_TOO_SMALL) detail::check(r, get());
        std::string pem(len, '\0');
        detail::check(h3q_config_certificate_chain_pem(
                          get(), reinterpret_cast<uint8_t *>(&pem[0]), pem.size(), &len),
                      get());
        pem.resize(len);
        return pem;
    }
    /** h3q_config_add_ca_pem(). */
    config &add_ca_pem(bytes_view pem) {
        detail::check(h3q_config_add_ca_pem(get(), pem.data(), pem.size()), get());
        return *this;
    }
    /** h3q_config_load_ca_file(). */
    config &load_ca_file(const std::string &path) {
        detail::check(h3q_config_load_ca_file(get(), path.c_str()), get());
        return *this;
    }
    /** h3q_config_set_verify_peer(). */
    config &set_verify_peer(bool verify) {
        detail::check(h3q_config_set_verify_peer(get(), verify), get());
        return *this;
    }
    /** h3q_config_set_alpn(): the protocols in preference order. */
    config &set_alpn(std::initializer_list<std::string_view> protocols) {
        detail::c_strings list(protocols);
        detail::check(h3q_config_set_alpn(get(), list.data(), list.size()), get());
        return *this;
    }
    /** h3q_config_set_idle_timeout_ms(). */
    config &set_idle_timeout_ms(uint64_t timeout_ms) {
        detail::check(h3q_config_set_idle_timeout_ms(get(), timeout_ms), get());
        return *this;
    }
    /** h3q_config_set_max_streams(). */
    config &set_max_streams(uint64_t bidi, uint64_t uni) {
        detail::check(h3q_config_set_max_streams(get(), bidi, uni), get());
        return *this;
    }
    /** h3q_config_set_stream_receive_window(). */
    config &set_stream_receive_window(uint64_t bytes) {
        detail::check(h3q_config_set_stream_receive_window(get(), bytes), get());
        return *this;
    }
    /** h3q_config_set_send_window(). */
    config &set_send_window(uint64_t bytes) {
        detail::check(h3q_config_set_send_window(get(), bytes), get());
        return *this;
    }
    /** h3q_config_set_loss_detection(). */
    config &set_loss_detection(uint32_t packet_threshold, double time_threshold) {
        detail::check(h3q_config_set_loss_detection(get(), packet_threshold, time_threshold),
                      get());
        return *this;
    }
    /** h3q_config_set_congestion_control(). */
    config &set_congestion_control(h3q_congestion_control algorithm) {
        detail::check(
            h3q_config_set_congestion_control(get(), static_cast<uint32_t>(algorithm)), get());
        return *this;
    }
    /** h3q_config_set_initial_window(). */
    config &set_initial_window(uint64_t bytes) {
        detail::check(h3q_config_set_initial_window(get(), bytes), get());
        return *this;
    }
    /** h3q_config_set_max_datagram_frame_size(). */
    config &set_max_datagram_frame_size(uint64_t size) {
        detail::check(h3q_config_set_max_datagram_frame_size(get(), size), get());
        return *this;
    }
    /** h3q_config_set_key_log_file(). */
    config &set_key_log_file(const std::string &path) {
        detail::check(h3q_config_set_key_log_file(get(), path.c_str()), get());
        return *this;
    }
    /** h3q_config_set_max_gso_segments(). */
    config &set_max_gso_segments(size_t segments) {
        detail::check(h3q_config_set_max_gso_segments(get(), segments), get());
        return *this;
    }
    /** h3q_config_set_mtu_discovery(). */
    config &set_mtu_discovery(bool enabled) {
        detail::check(h3q_config_set_mtu_discovery(get(), enabled), get());
        return *this;
    }
    /**
     * h3q_config_set_client_auth() (servers): whether clients must present a certificate,
     * and the CA certificates (`ca_pem`, PEM, read during the call) it must chain to;
     * `ca_pem` may be empty with `H3Q_CLIENT_AUTH_OFF`. Throws h3q::error with
     * `H3Q_ERR_INVALID_ARGUMENT` for an unknown mode or a client config, `H3Q_ERR_TLS`
     * when `ca_pem` holds no usable certificate; the config is then unchanged. The
     * server reads what a client presented with quic_connection::peer_certificates().
     */
    config &set_client_auth(h3q_client_auth mode, bytes_view ca_pem = {}) {
        detail::check(h3q_config_set_client_auth(get(), static_cast<uint32_t>(mode),
                                                 ca_pem.data(), ca_pem.size()),
                      get());
        return *this;
    }
    /**
     * h3q_config_set_enable_0rtt(): a server accepts 0-RTT requests (which can be
     * replayed: see quic_connection::stream_is_early()); a client sends them when it
     * resumes (endpoint::connect_resume()). Default off for servers, on for clients.
     */
    config &set_enable_0rtt(bool enabled) {
        detail::check(h3q_config_set_enable_0rtt(get(), enabled), get());
        return *this;
    }
    /**
     * h3q_config_rotate_secrets(): endpoints made from now on get an empty session cache
     * and new token and reset keys (earlier tickets and tokens are refused, as after a
     * restart); the certificate stays.
     */
    config &rotate_secrets() {
        detail::check(h3q_config_rotate_secrets(get()), get());
        return *this;
    }
    /** h3q_config_set_retry(): address validation by Retry for every new connection
     * (servers). It and set_retry_above_rate() set one policy: the last call wins
     * (`set_retry(false)` also ends retrying under load). */
    config &set_retry(bool enabled) {
        detail::check(h3q_config_set_retry(get(), enabled), get());
        return *this;
    }
    /** h3q_config_set_retry_above_rate(): Retry only while more than
     * `handshakes_per_second` new connections arrive (servers). Throws h3q::error with
     * `H3Q_ERR_INVALID_ARGUMENT` for 0 (use set_retry() to retry always). Replaces what
     * set_retry() set. */
    config &set_retry_above_rate(uint32_t handshakes_per_second) {
        detail::check(h3q_config_set_retry_above_rate(get(), handshakes_per_second), get());
        return *this;
    }
    /** h3q_config_set_qlog_dir(): one qlog (JSON-SEQ) per connection in directory `dir`
     * (NUL-terminated, read during the call); nullptr turns it off. Throws h3q::error with
     * `H3Q_ERR_IO` when `dir` is not a directory this process can create files in. */
    config &set_qlog_dir(const char *dir) {
        detail::check(h3q_config_set_qlog_dir(get(), dir), get());
        return *this;
    }
    /** h3q_config_set_server_id(): connection IDs carry `id` (1 to 15 bytes, read during
     * the call) in QUIC-LB's plaintext layout under `config_rotation` (0 to 6); an empty
     * `id` goes back to random connection IDs. Throws h3q::error with
     * `H3Q_ERR_INVALID_ARGUMENT` for a rotation above 6 or an id over 15 bytes. */
    config &set_server_id(bytes_view id, uint8_t config_rotation = 0) {
        detail::check(h3q_config_set_server_id(get(), config_rotation,
                                               id.empty() ? nullptr : id.data(), id.size()),
                      get());
        return *this;
    }

private:
    using owner_type = detail::owner<h3q_config, h3q_config_free>;
    owner_type h_;
};

/**
 * One QUIC connection of the built-in layer (h3q_quic_conn), owned. Made by
 * h3q::endpoint::connect() and h3q::endpoint::accept(). Destroying it frees the handle but
 * does not close the connection (close() first for a graceful close). It may outlive its
 * endpoint and the h3q::h3_connection over it.
 */
class quic_connection {
public:
    /** Takes ownership of `raw` (NULL: an empty object). */
    explicit quic_connection(h3q_quic_conn *raw) noexcept : h_(raw) {}

    /** The C handle, still owned by this object (NULL once moved from). */
    h3q_quic_conn *get() const noexcept { return h_.get(); }
    /** Gives up the C handle: the caller frees it with h3q_quic_conn_free(). */
    h3q_quic_conn *release() noexcept { return h_.release(); }
    /** Holds a handle. */
    explicit operator bool() const noexcept { return h_.get() != nullptr; }
    /** h3q_quic_conn_last_error(): borrowed, valid until the next failing call; may be
     * NULL. */
    const char *last_error() const noexcept { return h3q_quic_conn_last_error(get()); }

    /**
     * h3q_quic_conn_next_event(): the next QUIC event, or nothing when the queue is empty.
     * Its `data` and `reason` point into the handle: valid until the next call on it.
     */
    std::optional<h3q_quic_event> next_event() {
        h3q_quic_event ev{};
        if (detail::check(h3q_quic_conn_next_event(get(), &ev), get()) == H3Q_DONE) {
            return std::nullopt;
        }
        return ev;
    }
    /** h3q_quic_conn_set_user_data(): h3q keeps the pointer and never reads or frees it. */
    void set_user_data(void *user_data) {
        detail::check(h3q_quic_conn_set_user_data(get(), user_data), get());
    }
    /** h3q_quic_conn_user_data(). */
    void *user_data() const noexcept { return h3q_quic_conn_user_data(get()); }
    /** h3q_quic_conn_send_stream_data(). */
    void send_stream_data(uint64_t stream_id, bytes_view data, bool end_stream) {
        detail::check(
            h3q_quic_conn_send_stream_data(get(), stream_id, data.data(), data.size(), end_stream),
            get());
    }
    /** h3q_quic_conn_get_next_available_stream_id(). */
    uint64_t next_stream_id(bool unidirectional = false) {
        uint64_t id = 0;
        detail::check(h3q_quic_conn_get_next_available_stream_id(get(), unidirectional, &id),
                      get());
        return id;
    }
    /** h3q_quic_conn_stream_send_buffered(). */
    uint64_t stream_send_buffered(uint64_t stream_id) {
        uint64_t bytes = 0;
        detail::check(h3q_quic_conn_stream_send_buffered(get(), stream_id, &bytes), get());
        return bytes;
    }
    /** h3q_quic_conn_unacknowledged_streams(). */
    size_t unacknowledged_streams() {
        size_t count = 0;
        detail::check(h3q_quic_conn_unacknowledged_streams(get(), &count), get());
        return count;
    }
    /** h3q_quic_conn_reset_stream(). */
    void reset_stream(uint64_t stream_id, uint64_t error_code) {
        detail::check(h3q_quic_conn_reset_stream(get(), stream_id, error_code), get());
    }
    /** h3q_quic_conn_stop_stream(). */
    void stop_stream(uint64_t stream_id, uint64_t error_code) {
        detail::check(h3q_quic_conn_stop_stream(get(), stream_id, error_code), get());
    }
    /** h3q_quic_conn_send_datagram_frame(). */
    void send_datagram_frame(bytes_view data) {
        detail::check(h3q_quic_conn_send_datagram_frame(get(), data.data(), data.size()), get());
    }
    /** h3q_quic_conn_close(), as in `close(H3Q_H3_NO_ERROR, "bye")`. */
    void close(uint64_t error_code, std::string_view reason = {}) {
        bytes_view r(reason);
        detail::check(h3q_quic_conn_close(get(), error_code, r.data(), r.size()), get());
    }
    /** h3q_quic_conn_is_established() (false when empty). */
    bool is_established() const noexcept { return h3q_quic_conn_is_established(get()); }
    /** h3q_quic_conn_is_closed() (true when empty). */
    bool is_closed() const noexcept { return h3q_quic_conn_is_closed(get()); }
    /** h3q_quic_conn_is_drained() (true when empty). */
    bool is_drained() const noexcept { return h3q_quic_conn_is_drained(get()); }
    /** h3q_quic_conn_alpn(): a copy of the negotiated ALPN; empty before the handshake. */
    std::string alpn() {
        const uint8_t *data = nullptr;
        size_t len = 0;
        if (detail::check(h3q_quic_conn_alpn(get(), &data, &len), get()) == H3Q_DONE) return {};
        return std::string(detail::view_of(data, len));
    }
    /** h3q_quic_conn_remote_address(): the address and its length. */
    std::pair<sockaddr_storage, socklen_t> remote_address() {
        std::pair<sockaddr_storage, socklen_t> out{};
        detail::check(h3q_quic_conn_remote_address(get(), &out.first, &out.second), get());
        return out;
    }
    /** h3q_quic_conn_stats(). */
    h3q_quic_stats stats() {
        h3q_quic_stats s{};
        detail::check(h3q_quic_conn_stats(get(), &s), get());
        return s;
    }
    /**
     * h3q_quic_conn_peer_certificate(): a copy of certificate `index` (DER) of the chain
     * the peer presented (0: its own, then the intermediates it sent); nothing when there
     * is no such certificate (before the handshake completed, a peer that presented none,
     * or past the end of the chain). On a server that asked for client certificates
     * (config::set_client_auth()) it is the client's, verified during the handshake; on a
     * client, the server's.
     */
    std::optional<std::vector<uint8_t>> peer_certificate(size_t index) {
        size_t len = 0;
        h3q_result r = h3q_quic_conn_peer_certificate(get(), index, nullptr, 0, &len);
        if (r == H3Q_DONE) return std::nullopt;
        if (r != H3Q_ERR_BUFFER_TOO_SMALL) detail::check(r, get());
        std::vector<uint8_t> der(len);
        if (detail::check(h3q_quic_conn_peer_certificate(get(), index, der.data(), der.size(),
                                                         &len),
                          get()) == H3Q_DONE) {
            return std::nullopt;
        }
        der.resize(len);
        return der;
    }
    /** The whole chain the peer presented (peer_certificate() for each index, in order);
     * empty when it presented none or the handshake has not completed. */
    std::vector<std::vector<uint8_t>> peer_certificates() {
        std::vector<std::vector<uint8_t>> chain;
        while (std::optional<std::vector<uint8_t>> der = peer_certificate(chain.size())) {
            chain.push_back(std::move(*der));
        }
        return chain;
    }
    /**
     * h3q_quic_conn_session_ticket(): a copy of the session ticket the server sent on this
     * client connection (at most `H3Q_MAX_SESSION_TICKET` bytes), to resume with
     * endpoint::connect_resume() on the same endpoint; nothing when there is none (not
     * received yet: servers send it just after the handshake, so ask once a response
     * arrived; a server connection; or already used to resume).
     */
    std::optional<std::vector<uint8_t>> session_ticket() {
        std::vector<uint8_t> ticket(H3Q_MAX_SESSION_TICKET);
        size_t len = 0;
        h3q_result r = h3q_quic_conn_session_ticket(get(), ticket.data(), ticket.size(), &len);
        if (r == H3Q_ERR_BUFFER_TOO_SMALL) { // a library with a longer maximum than this header
            ticket.resize(len);
            r = h3q_quic_conn_session_ticket(get(), ticket.data(), ticket.size(), &len);
        }
        if (detail::check(r, get()) == H3Q_DONE) return std::nullopt;
        ticket.resize(len);
        return ticket;
    }
    /** h3q_quic_conn_early_data(): what became of this client connection's 0-RTT data
     * (`H3Q_EARLY_DATA_NOT_OFFERED` when empty or a server connection). */
    h3q_early_data early_data() const noexcept { return h3q_quic_conn_early_data(get()); }
    /** h3q_quic_conn_is_0rtt(): what this client connection sends now goes as 0-RTT
     * (false when empty). */
    bool is_0rtt() const noexcept { return h3q_quic_conn_is_0rtt(get()); }
    /**
     * h3q_quic_conn_stream_is_early() (servers): the client opened request stream
     * `stream_id` before the handshake completed, so its request came as 0-RTT data and
     * may be a replay: answer it only if repeating it is harmless (GET, HEAD), 425 Too
     * Early otherwise. False when empty, on a client, and for any other stream.
     */
    bool stream_is_early(uint64_t stream_id) const noexcept {
        return h3q_quic_conn_stream_is_early(get(), stream_id);
    }

private:
    detail::owner<h3q_quic_conn, h3q_quic_conn_free> h_;
};

/** A UDP payload to send, from h3q::endpoint::poll_transmit(). */
struct transmit {
    bytes_view payload;           /**< In the caller's buffer: valid while it is. */
    sockaddr_storage destination; /**< Where to send it. */
    socklen_t destination_len;    /**< The length of `destination`. */
    size_t segment_size;          /**< The datagram size (UDP_SEGMENT for a GSO batch). */
    /** The ECN codepoint to send it with (the two low bits of IP_TOS / IPV6_TCLASS): 2
     * (ECT(0)) while the path's ECN validation holds, 0 otherwise. Report the codepoints
     * of received datagrams with endpoint::receive_ecn(). */
    uint8_t ecn;

    /** `destination` as the `sockaddr` that `sendto()` takes. */
    const sockaddr *address() const noexcept {
        return reinterpret_cast<const sockaddr *>(&destination);
    }
};

/**
 * A QUIC endpoint for one UDP socket (h3q_endpoint), owned. The connections it makes are
 * owned by their h3q::quic_connection objects and may outlive it.
 */
class endpoint {
public:
    /** h3q_endpoint_new(): reads `cfg` during the call only. */
    explicit endpoint(const config &cfg) {
        h3q_endpoint *raw = nullptr;
        detail::check(h3q_endpoint_new(cfg.get(), &raw));
        h_ = owner_type(raw);
    }
    /** Takes ownership of `raw` (NULL: an empty object). */
    explicit endpoint(h3q_endpoint *raw) noexcept : h_(raw) {}

    /** The C handle, still owned by this object (NULL once moved from). */
    h3q_endpoint *get() const noexcept { return h_.get(); }
    /** Gives up the C handle: the caller frees it with h3q_endpoint_free(). */
    h3q_endpoint *release() noexcept { return h_.release(); }
    /** Holds a handle. */
    explicit operator bool() const noexcept { return h_.get() != nullptr; }
    /** h3q_endpoint_last_error(): borrowed, valid until the next failing call; may be NULL. */
    const char *last_error() const noexcept { return h3q_endpoint_last_error(get()); }

    /** h3q_endpoint_connect(): a client connection to `remote`, verified for
     * `server_name`. */
    quic_connection connect(uint64_t now_ns, const sockaddr *remote, socklen_t remote_len,
                            const std::string &server_name) {
        h3q_quic_conn *raw = nullptr;
        detail::check(
            h3q_endpoint_connect(get(), now_ns, remote, remote_len, server_name.c_str(), &raw),
            get());
        return quic_connection(raw);
    }
    /** h3q_endpoint_connect() to an IPv4 address. */
    quic_connection connect(uint64_t now_ns, const sockaddr_in &remote,
                            const std::string &server_name) {
        return connect(now_ns, reinterpret_cast<const sockaddr *>(&remote), sizeof remote,
                       server_name);
    }
    /** h3q_endpoint_connect() to an IPv6 address. */
    quic_connection connect(uint64_t now_ns, const sockaddr_in6 &remote,
                            const std::string &server_name) {
        return connect(now_ns, reinterpret_cast<const sockaddr *>(&remote), sizeof remote,
                       server_name);
    }
    /**
     * h3q_endpoint_connect_resume(): connect(), resuming the TLS session of `ticket` (from
     * quic_connection::session_ticket() on an earlier connection of this endpoint; read
     * during the call). With 0-RTT on (config::set_enable_0rtt()) and a session that
     * allows it, what is sent before the handshake completes goes as 0-RTT
     * (quic_connection::is_0rtt()); quic_connection::early_data() later says whether the
     * server took it. If it did not, `H3Q_QUIC_EARLY_DATA_REJECTED` comes before
     * `H3Q_QUIC_HANDSHAKE_COMPLETED`, and the h3q::h3_connection reports each request sent
     * early as `H3Q_EVENT_STREAM_RESET` with `H3Q_H3_REQUEST_REJECTED`: send them again.
     * A ticket resumes once; a well-formed one that cannot resume (another endpoint, used,
     * evicted) gives a full handshake. Throws h3q::error with `H3Q_ERR_INVALID_ARGUMENT`
     * for bytes that are not an h3q session ticket (an empty `ticket` included) or a ticket
     * for another server name, and `H3Q_ERR_WRONG_ROLE` on a server endpoint.
     */
    quic_connection connect_resume(uint64_t now_ns, const sockaddr *remote, socklen_t remote_len,
                                   const std::string &server_name, bytes_view ticket) {
        // An empty view may have no pointer: let h3q judge the (empty) ticket, not the NULL.
        static const uint8_t no_bytes = 0;
        const uint8_t *bytes = ticket.data() != nullptr ? ticket.data() : &no_bytes;
        h3q_quic_conn *raw = nullptr;
        detail::check(h3q_endpoint_connect_resume(get(), now_ns, remote, remote_len,
                                                  server_name.c_str(), bytes, ticket.size(),
                                                  &raw),
                      get());
        return quic_connection(raw);
    }
    /** h3q_endpoint_connect_resume() to an IPv4 address. */
    quic_connection connect_resume(uint64_t now_ns, const sockaddr_in &remote,
                                   const std::string &server_name, bytes_view ticket) {
        return connect_resume(now_ns, reinterpret_cast<const sockaddr *>(&remote), sizeof remote,
                              server_name, ticket);
    }
    /** h3q_endpoint_connect_resume() to an IPv6 address. */
    quic_connection connect_resume(uint64_t now_ns, const sockaddr_in6 &remote,
                                   const std::string &server_name, bytes_view ticket) {
        return connect_resume(now_ns, reinterpret_cast<const sockaddr *>(&remote), sizeof remote,
                              server_name, ticket);
    }
    /** h3q_endpoint_receive(). */
    void receive(uint64_t now_ns, const sockaddr *from, socklen_t from_len, bytes_view data) {
        detail::check(
            h3q_endpoint_receive(get(), now_ns, from, from_len, data.data(), data.size()), get());
    }
    /** h3q_endpoint_receive_segments(): a UDP GRO batch. */
    void receive_segments(uint64_t now_ns, const sockaddr *from, socklen_t from_len,
                          bytes_view data, size_t segment_size) {
        detail::check(h3q_endpoint_receive_segments(get(), now_ns, from, from_len, data.data(),
                                                    data.size(), segment_size),
                      get());
    }
    /**
     * h3q_endpoint_receive_ecn(): receive_segments() for datagrams that arrived with the
     * ECN codepoint `ecn` (`tos & 3` of their IP_TOS / IPV6_TCLASS control message).
     * Throws h3q::error with `H3Q_ERR_INVALID_ARGUMENT` for an `ecn` above 3 or a bad
     * address.
     */
    void receive_ecn(uint64_t now_ns, const sockaddr *from, socklen_t from_len, bytes_view data,
                     size_t segment_size, uint8_t ecn) {
        detail::check(h3q_endpoint_receive_ecn(get(), now_ns, from, from_len, data.data(),
                                               data.size(), segment_size, ecn),
                      get());
    }
    /**
     * h3q_endpoint_rebind(): the program replaced the UDP socket (a new local address or
     * port). Every connection moves to a fresh connection ID and sends a PING from the new
     * socket: send what poll_transmit() gives from it. Requests in flight continue.
     */
    void rebind(uint64_t now_ns) { detail::check(h3q_endpoint_rebind(get(), now_ns), get()); }
    /** h3q_endpoint_handle_timeout(). */
    void handle_timeout(uint64_t now_ns) {
        detail::check(h3q_endpoint_handle_timeout(get(), now_ns), get());
    }
    /** h3q_endpoint_accept(): the next new server connection, or nothing. */
    std::optional<quic_connection> accept() {
        h3q_quic_conn *raw = nullptr;
        if (detail::check(h3q_endpoint_accept(get(), &raw), get()) == H3Q_DONE) {
            return std::nullopt;
        }
        return quic_connection(raw);
    }
    /**
     * h3q_endpoint_next_ready(): the next connection with events waiting, or NULL. The
     * handle stays owned by its h3q::quic_connection; find that object (or your state) with
     * h3q_quic_conn_user_data(), set through quic_connection::set_user_data().
     */
    h3q_quic_conn *next_ready() {
        h3q_quic_conn *raw = nullptr;
        if (detail::check(h3q_endpoint_next_ready(get(), &raw), get()) == H3Q_DONE) {
            return nullptr;
        }
        return raw;
    }
    /**
     * h3q_endpoint_poll_transmit_ecn(): writes the next UDP payload into `buf` (`cap` bytes,
     * at least 1472) and says where to send it and with which ECN codepoint
     * (transmit::ecn); nothing when none is waiting. (h3q_endpoint_poll_transmit() is the
     * same call without the codepoint.)
     */
    std::optional<transmit> poll_transmit(uint64_t now_ns, uint8_t *buf, size_t cap) {
        transmit t{};
        size_t len = 0;
        if (detail::check(h3q_endpoint_poll_transmit_ecn(get(), now_ns, buf, cap, &len,
                                                         &t.destination, &t.destination_len,
                                                         &t.segment_size, &t.ecn),
                          get()) == H3Q_DONE) {
            return std::nullopt;
        }
        t.payload = bytes_view(buf, len);
        return t;
    }
    /**
     * h3q_endpoint_poll_transmit_lent(): the next UDP payload without a copy. transmit::payload
     * views h3q's own buffer, valid until the next call on this endpoint: send it first.
     */
    std::optional<transmit> poll_transmit_lent(uint64_t now_ns) {
        transmit t{};
        const uint8_t *data = nullptr;
        size_t len = 0;
        if (detail::check(h3q_endpoint_poll_transmit_lent(get(), now_ns, &data, &len,
                                                          &t.destination, &t.destination_len,
                                                          &t.segment_size, &t.ecn),
                          get()) == H3Q_DONE) {
            return std::nullopt;
        }
        t.payload = bytes_view(data, len);
        return t;
    }
    /** h3q_endpoint_next_timeout(): `UINT64_MAX` when no timer is needed. */
    uint64_t next_timeout() const noexcept { return h3q_endpoint_next_timeout(get()); }
    /** h3q_endpoint_certificate_fingerprint(): nothing for a client. */
    std::optional<std::array<uint8_t, 32>> certificate_fingerprint() {
        std::array<uint8_t, 32> out{};
        if (detail::check(h3q_endpoint_certificate_fingerprint(get(), out.data()), get()) ==
            H3Q_DONE) {
            return std::nullopt;
        }
        return out;
    }

private:
    using owner_type = detail::owner<h3q_endpoint, h3q_endpoint_free>;
    owner_type h_;
};

/** What h3q::cid_server_id() read out of a packet. */
struct routed_cid {
    std::vector<uint8_t> server_id; /**< `server_id_len` bytes */
    uint8_t config_rotation;        /**< 0 to 6 */
};

/**
 * h3q_cid_server_id(): the server id (`server_id_len` bytes) and config rotation in the
 * destination connection ID of the QUIC packet at the start of `packet` (read during the
 * call), as a QUIC-LB load balancer reads them. Throws h3q::error with
 * `H3Q_ERR_INVALID_ARGUMENT` (and the reason) for a packet that holds none.
 */
inline routed_cid cid_server_id(bytes_view packet, size_t server_id_len) {
    routed_cid out{std::vector<uint8_t>(server_id_len), 0};
    uint8_t scratch = 0;
    uint8_t *id = server_id_len != 0 ? out.server_id.data() : &scratch;
    detail::check(h3q_cid_server_id(packet.empty() ? &scratch : packet.data(), packet.size(),
                                    server_id_len, id, &out.config_rotation));
    return out;
}

} // namespace h3q

/** @} */

#endif /* H3Q_QUIC_HPP */
