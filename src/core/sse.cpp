// Incremental SSE parsing (WHATWG event-stream rules, minus `id`/`retry` bookkeeping).
#include "switchyard/core/sse.hpp"

namespace switchyard {

bool SseParser::feed(std::string_view bytes, std::vector<SseEvent>& out) {
    size_t start = 0;
    for (size_t i = 0; i < bytes.size(); ++i) {
        const char c = bytes[i];
        if (c != '\n' && c != '\r') continue;
        if (c == '\n' && last_was_cr_ && i == start && line_.empty()) {
            // The LF of a CRLF pair whose CR ended the previous line.
            last_was_cr_ = false;
            start = i + 1;
            continue;
        }
        line_.append(bytes.data() + start, i - start);
        on_line(line_, out);
        line_.clear();
        last_was_cr_ = (c == '\r');
        start = i + 1;
    }
    if (start < bytes.size()) {
        last_was_cr_ = false;
        line_.append(bytes.data() + start, bytes.size() - start);
    }
    return line_.size() + pending_.data.size() <= max_event_bytes_;
}

void SseParser::on_line(std::string_view line, std::vector<SseEvent>& out) {
    if (line.empty()) {
        // Blank line dispatches the event (if it had data).
        if (has_data_) out.push_back(std::move(pending_));
        pending_ = SseEvent{};
        has_data_ = false;
        return;
    }
    if (line.front() == ':') return;  // comment / keep-alive
    std::string_view field = line;
    std::string_view value;
    if (auto colon = line.find(':'); colon != std::string_view::npos) {
        field = line.substr(0, colon);
        value = line.substr(colon + 1);
        if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    }
    if (field == "data") {
        if (has_data_) pending_.data.push_back('\n');
        pending_.data.append(value);
        has_data_ = true;
    } else if (field == "event") {
        pending_.event.assign(value);
    }
}

void append_sse_data(std::string& out, std::string_view payload) {
    out.append("data: ");
    out.append(payload);
    out.append("\n\n");
}

void append_sse_event(std::string& out, std::string_view name, std::string_view payload) {
    out.append("event: ");
    out.append(name);
    out.append("\ndata: ");
    out.append(payload);
    out.append("\n\n");
}

}  // namespace switchyard
