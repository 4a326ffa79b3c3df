// The mock's own compiled copy of Asio and Beast, for builds that define
// BOOST_ASIO_SEPARATE_COMPILATION / BOOST_BEAST_SEPARATE_COMPILATION (the top level does).
// The mock links nothing from src/, so it cannot share the gateway's copy.

#include <utility>  // Boost 1.74's awaitable.hpp misses it

#if defined(BOOST_ASIO_SEPARATE_COMPILATION)
#include <boost/asio/impl/src.hpp>
#endif
#if defined(BOOST_BEAST_SEPARATE_COMPILATION)
#include <boost/beast/src.hpp>
#endif
