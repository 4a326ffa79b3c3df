// Server-sent events: an incremental parser for upstream streams and pure framing helpers.
// The parser copes with events split across reads at any byte, CRLF or LF line ends,
// comments and multi-line data. Not thread-safe (one parser per stream).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace switchyard {

struct SseEvent {
    std::string event;  // empty when the stream sent no `event:` line
    std::string data;   // data lines joined with '\n'
};

class SseParser {
public:
    // `max_event_bytes` bounds one event's size; past it, feed() reports overflow.
    explicit SseParser(size_t max_event_bytes = 8 << 20) : max_event_bytes_(max_event_bytes) {}

    // Consumes bytes; appends each complete event to `out`. False when an event exceeded
    // the size bound (the stream should be treated as malformed).
    bool feed(std::string_view bytes, std::vector<SseEvent>& out);

private:
    void on_line(std::string_view line, std::vector<SseEvent>& out);

    size_t max_event_bytes_;
    std::string line_;  // partial line carried across feed() calls
    SseEvent pending_;
    bool has_data_ = false;
    bool last_was_cr_ = false;
};

// "data: <payload>\n\n"
void append_sse_data(std::string& out, std::string_view payload);
// "event: <name>\ndata: <payload>\n\n"
void append_sse_event(std::string& out, std::string_view name, std::string_view payload);

}  // namespace switchyard
