// Wire pieces both formats share: the error value every endpoint answers with, and SSE events
// (a stream is a generator that knows nothing about sockets; framing is a pure function).
// Plain values and pure functions: thread-safe, never fail.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mock_llm {

// One user-visible error. Each format renders it in its own shape; empty `type`/`code` mean
// "the usual ones for this status", empty `param` renders as null.
struct ApiError {
    int status = 400;
    std::string message;
    std::string type;
    std::string param;
    std::string code;
};

// The error code that makes an injected error the endpoint's "prompt is too long" error.
inline constexpr std::string_view kContextLengthExceeded = "context_length_exceeded";

// Where an event sits in a stream: faults count only kContent events (one per word or
// argument fragment); kPreamble comes before them and kTrailer after.
enum class EventKind { kPreamble, kContent, kTrailer };

struct SseEvent {
    EventKind kind = EventKind::kPreamble;
    std::string bytes;  // the framed event, ready for the wire
};

// A streamed answer as a generator. next() fills `event` and returns false when done.
class SseStream {
public:
    virtual ~SseStream() = default;
    virtual bool next(SseEvent& event) = 0;
    // The framed mid-stream error this format sends for the error_event fault.
    virtual std::string error_event() const = 0;
};

// "data: <json>\n\n"
inline void frame_data(std::string& out, std::string_view json) {
    out += "data: ";
    out += json;
    out += "\n\n";
}

// "event: <name>\ndata: <json>\n\n"
inline void frame_event(std::string& out, std::string_view name, std::string_view json) {
    out += "event: ";
    out += name;
    out += "\ndata: ";
    out += json;
    out += "\n\n";
}

// The same event with its JSON payload cut in half: still SSE, no longer JSON.
inline std::string malform_event(std::string_view event) {
    const size_t data = event.find("data: ");
    if (data == std::string_view::npos) return std::string(event);
    const size_t payload = data + 6;
    const size_t end = event.size() >= 2 ? event.size() - 2 : event.size();
    std::string out(event.substr(0, payload + (end - payload) / 2));
    out += "\n\n";
    return out;
}

}  // namespace mock_llm
