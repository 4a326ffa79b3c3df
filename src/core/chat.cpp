// String forms of the chat enums and small helpers on the chat types.
#include "switchyard/core/chat.hpp"

namespace switchyard {

std::string_view to_string(Role role) {
    switch (role) {
        case Role::kSystem:
            return "system";
        case Role::kDeveloper:
            return "developer";
        case Role::kUser:
            return "user";
        case Role::kAssistant:
            return "assistant";
        case Role::kTool:
            return "tool";
    }
    return "user";
}

std::string_view to_openai_string(FinishReason reason) {
    switch (reason) {
        case FinishReason::kNone:
            return "";
        case FinishReason::kStop:
            return "stop";
        case FinishReason::kLength:
            return "length";
        case FinishReason::kToolCalls:
            return "tool_calls";
        case FinishReason::kContentFilter:
            return "content_filter";
    }
    return "stop";
}

std::string Message::joined_text() const {
    if (!has_parts) return text;
    std::string out;
    for (const auto& p : parts) {
        if (p.type != ContentPart::Type::kText) continue;
        if (!out.empty()) out.push_back('\n');
        out += p.text;
    }
    return out;
}

}  // namespace switchyard
