/** @file h3q/qpack.hpp
 * QPACK on its own in C++ (part of h3q.hpp): h3q::qpack_encoder and h3q::qpack_decoder.
 */
#ifndef H3Q_QPACK_HPP
#define H3Q_QPACK_HPP

#include "core.hpp"

#include <optional>
#include <utility>
#include <vector>

/** @addtogroup cpp
 * @{
 */

namespace h3q {

/**
 * A QPACK encoder on its own (h3q_qpack_encoder), owned. The views it returns point into
 * the encoder and are valid until the next call on it.
 */
class qpack_encoder {
public:
    /** h3q_qpack_encoder_new(). */
    qpack_encoder() {
        h3q_qpack_encoder *raw = nullptr;
        detail::check(h3q_qpack_encoder_new(&raw));
        h_ = owner_type(raw);
    }
    /** Takes ownership of `raw` (NULL: an empty object). */
    explicit qpack_encoder(h3q_qpack_encoder *raw) noexcept : h_(raw) {}

    /** The C handle, still owned by this object (NULL once moved from). */
    h3q_qpack_encoder *get() const noexcept { return h_.get(); }
    /** Gives up the C handle: the caller frees it with h3q_qpack_encoder_free(). */
    h3q_qpack_encoder *release() noexcept { return h_.release(); }
    /** Holds a handle. */
    explicit operator bool() const noexcept { return h_.get() != nullptr; }
    /** h3q_qpack_encoder_last_error(): borrowed, valid until the next failing call. */
    const char *last_error() const noexcept { return h3q_qpack_encoder_last_error(get()); }

    /** h3q_qpack_encoder_apply_settings(). */
    void apply_settings(uint64_t max_table_capacity, uint64_t blocked_streams) {
        detail::check(
            h3q_qpack_encoder_apply_settings(get(), max_table_capacity, blocked_streams), get());
    }
    /** h3q_qpack_encoder_encode(): the encoded section, borrowed until the next call. */
    bytes_view encode(uint64_t stream_id, fields_view headers) {
        std::vector<h3q_header> c = detail::to_c(headers);
        const uint8_t *section = nullptr;
        size_t len = 0;
        detail::check(
            h3q_qpack_encoder_encode(get(), stream_id, c.data(), c.size(), &section, &len), get());
        return bytes_view(section, len);
    }
    /** h3q_qpack_encoder_take_encoder_stream(): borrowed until the next call. */
    bytes_view take_encoder_stream() {
        const uint8_t *data = nullptr;
        size_t len = 0;
        detail::check(h3q_qpack_encoder_take_encoder_stream(get(), &data, &len), get());
        return bytes_view(data, len);
    }
    /** h3q_qpack_encoder_feed_decoder(). */
    void feed_decoder(bytes_view data) {
        detail::check(h3q_qpack_encoder_feed_decoder(get(), data.data(), data.size()), get());
    }
    /** h3q_qpack_encoder_stream_cancelled(). */
    void stream_cancelled(uint64_t stream_id) {
        detail::check(h3q_qpack_encoder_stream_cancelled(get(), stream_id), get());
    }

private:
    using owner_type = detail::owner<h3q_qpack_encoder, h3q_qpack_encoder_free>;
    owner_type h_;
};

/**
 * A QPACK decoder on its own (h3q_qpack_decoder), owned. Decoded fields are returned as
 * copies; the stream bytes it returns are views valid until the next call on it.
 */
class qpack_decoder {
public:
    /** h3q_qpack_decoder_new(). */
    qpack_decoder(uint64_t max_table_capacity, uint64_t max_blocked_streams) {
        h3q_qpack_decoder *raw = nullptr;
        detail::check(h3q_qpack_decoder_new(max_table_capacity, max_blocked_streams, &raw));
        h_ = owner_type(raw);
    }
    /** Takes ownership of `raw` (NULL: an empty object). */
    explicit qpack_decoder(h3q_qpack_decoder *raw) noexcept : h_(raw) {}

    /** The C handle, still owned by this object (NULL once moved from). */
    h3q_qpack_decoder *get() const noexcept { return h_.get(); }
    /** Gives up the C handle: the caller frees it with h3q_qpack_decoder_free(). */
    h3q_qpack_decoder *release() noexcept { return h_.release(); }
    /** Holds a handle. */
    explicit operator bool() const noexcept { return h_.get() != nullptr; }
    /** h3q_qpack_decoder_last_error(): borrowed, valid until the next failing call. */
    const char *last_error() const noexcept { return h3q_qpack_decoder_last_error(get()); }

    /** h3q_qpack_decoder_set_max_field_section_size(). */
    void set_max_field_section_size(uint64_t limit) {
        detail::check(h3q_qpack_decoder_set_max_field_section_size(get(), limit), get());
    }
    /** h3q_qpack_decoder_set_dynamic_table_capacity(). */
    void set_dynamic_table_capacity(uint64_t capacity) {
        detail::check(h3q_qpack_decoder_set_dynamic_table_capacity(get(), capacity), get());
    }
    /** h3q_qpack_decoder_feed_encoder(). */
    void feed_encoder(bytes_view data) {
        detail::check(h3q_qpack_decoder_feed_encoder(get(), data.data(), data.size()), get());
    }
    /** h3q_qpack_decoder_decode(): the fields, or nothing when the section is blocked
     * (it comes out of next_unblocked() later). */
    std::optional<std::vector<field>> decode(uint64_t stream_id, bytes_view section) {
        const h3q_header *headers = nullptr;
        size_t count = 0;
        if (detail::check(h3q_qpack_decoder_decode(get(), stream_id, section.data(),
                                                   section.size(), &headers, &count),
                          get()) == H3Q_BLOCKED) {
            return std::nullopt;
        }
        return detail::copy_fields(headers, count);
    }
    /** h3q_qpack_decoder_next_unblocked(): a stream id and its fields, or nothing. */
    std::optional<std::pair<uint64_t, std::vector<field>>> next_unblocked() {
        uint64_t stream_id = 0;
        const h3q_header *headers = nullptr;
        size_t count = 0;
        if (detail::check(h3q_qpack_decoder_next_unblocked(get(), &stream_id, &headers, &count),
                          get()) == H3Q_DONE) {
            return std::nullopt;
        }
        return std::make_pair(stream_id, detail::copy_fields(headers, count));
    }
    /** h3q_qpack_decoder_cancel_stream(). */
    void cancel_stream(uint64_t stream_id) {
        detail::check(h3q_qpack_decoder_cancel_stream(get(), stream_id), get());
    }
    /** h3q_qpack_decoder_take_decoder_stream(): borrowed until the next call. */
    bytes_view take_decoder_stream() {
        const uint8_t *data = nullptr;
        size_t len = 0;
        detail::check(h3q_qpack_decoder_take_decoder_stream(get(), &data, &len), get());
        return bytes_view(data, len);
    }

private:
    using owner_type = detail::owner<h3q_qpack_decoder, h3q_qpack_decoder_free>;
    owner_type h_;
};

} // namespace h3q

/** @} */

#endif /* H3Q_QPACK_HPP */
