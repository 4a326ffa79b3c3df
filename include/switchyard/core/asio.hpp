// Project-wide entry point for Boost.Asio and Boost.Beast.
// Boost 1.74's asio/awaitable.hpp misses <utility>; including it here first fixes that for
// every translation unit. Include this header instead of any Asio/Beast header directly.
#pragma once

#include <utility>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace switchyard {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

template <class T>
using awaitable = net::awaitable<T>;
}  // namespace switchyard
