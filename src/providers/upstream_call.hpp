// Private helpers shared by the provider adapters: run one upstream exchange and map a
// non-2xx answer to an Error (logging the provider's original body).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "switchyard/providers/provider.hpp"

namespace switchyard::detail {

using ErrorParser = Error (*)(int status, std::string_view body);

// Reads an error response's body (bounded), maps it with `parse`, logs the original, and
// forwards Retry-After.
awaitable<Error> read_upstream_error(HttpExchange& ex, const ModelConfig& model,
                                     const CallContext& ctx, ErrorParser parse);

// An Error for a missing API key env var.
Error missing_key_error(const ModelConfig& model);

}  // namespace switchyard::detail
