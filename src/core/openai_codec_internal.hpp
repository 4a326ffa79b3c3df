// Private to the OpenAI codec: pieces both its halves use (tool calls appear in requests,
// in responses and in streamed chunks). Not a public header.
#pragma once

#include <string_view>
#include <vector>

#include "json_read.hpp"
#include "switchyard/core/chat.hpp"
#include "switchyard/core/json_writer.hpp"

namespace switchyard::openai_wire {

// Appends the `tool_calls` array's calls to `msg`; errors name `param`.
Status parse_tool_calls(const json::array& arr, std::string_view param, Message& msg);
// Writes `"tool_calls":[...]`.
void write_tool_calls(JsonWriter& w, const std::vector<ToolCall>& calls);

}  // namespace switchyard::openai_wire
