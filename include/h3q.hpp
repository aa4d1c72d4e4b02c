/** @file h3q.hpp
 * h3q.hpp: a header-only C++17 layer over h3q.h (see the group "C++ layer").
 *
 * Written by hand (unlike h3q.h, which cbindgen generates); it adds no behaviour of its own,
 * only C++ ownership, errors and callbacks around the C API, so h3q.h stays the manual of
 * what every call does. Include it instead of h3q.h and link h3q as for C; it needs C++17
 * with exceptions. Its parts, in h3q/: core.hpp (errors, byte and field views), quic.hpp
 * (the built-in QUIC layer), http3.hpp (HTTP/3 connections and events), qpack.hpp.
 */
#ifndef H3Q_HPP
#define H3Q_HPP

#include "h3q/core.hpp"
#include "h3q/http3.hpp"
#include "h3q/qpack.hpp"
#include "h3q/quic.hpp"

/**
 * @defgroup cpp C++ layer (h3q.hpp)
 *
 * Owning handles, exceptions and lambdas over the C API, for C++17 and later.
 *
 * - **Ownership.** h3q::config, h3q::endpoint, h3q::quic_connection, h3q::h3_connection,
 *   h3q::qpack_encoder and h3q::qpack_decoder each own one C handle and free it with the
 *   matching `h3q_*_free()` when destroyed. They move and never copy; a moved-from object
 *   holds no handle, and every call on it throws h3q::error with `H3Q_ERR_NULL` (queries
 *   that cannot fail give the C API's answer for NULL). `get()` lends the C handle for
 *   calls this layer does not wrap; `release()` gives its ownership to the caller.
 * - **Errors.** A call whose C function returns an error (any negative h3q_result) throws
 *   h3q::error, which carries the code, its name and the handle's last error message;
 *   h3q::attempt() turns it into an h3q::result to test instead. Statuses (`H3Q_DONE`,
 *   `H3Q_BLOCKED`) are not errors: they come back as an empty `std::optional` (or NULL
 *   from h3q::endpoint::next_ready()), as each function says.
 * - **Borrowed and copied data.** Bytes and fields go in as h3q::bytes_view and
 *   h3q::field_view, read during the call only. What h3q lends out (events, encoded
 *   sections, transmits) comes as a view valid until the next call on the same handle,
 *   as h3q.h says for the C function; h3q::event and h3q::field are owning copies.
 * - **Callbacks.** h3q::h3_connection::handle_event() takes any callable; an exception it
 *   throws is held while h3q finishes the call (it must not cross the C ABI) and thrown
 *   again once h3q has returned. h3q::transport turns a C++ class into an h3q_transport
 *   table.
 * - **Threads.** As in C: a handle is not thread-safe but may move between threads.
 */

#endif /* H3Q_HPP */
