// The one way the mock includes Boost.Asio and Beast: <utility> first (Boost 1.74's
// awaitable.hpp misses it), then the pieces the transport uses, and short aliases.
#pragma once

#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

namespace mock_llm {
namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using HttpRequest = http::request<http::string_body>;
}  // namespace mock_llm
