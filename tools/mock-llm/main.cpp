// mock-llm entry point: command line, start-up faults, listening, and clean exit on signals.
// Prints exactly one line, "mock-llm listening on HOST:PORT", once the port is open.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>

#include "endpoints.hpp"
#include "faults.hpp"
#include "http_server.hpp"
#include "stats.hpp"

namespace {

// Writes the port to `path` via a rename, so a reader never sees a half-written file.
bool write_port_file(const std::string& path, uint16_t port) {
    const std::string temp = path + ".tmp";
    {
        std::ofstream out(temp, std::ios::trunc);
        out << port << '\n';
        if (!out) return false;
    }
    std::error_code ec;
    std::filesystem::rename(temp, path, ec);
    return !ec;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "mock-llm: a mock OpenAI and Anthropic upstream with fault injection.\n"
        "Fault specs are key=value lists, e.g. 'status=429,retry_after=2'; see README.md."};
    mock_llm::ServerOptions server_options;
    std::string port_file;
    std::string require_key;
    std::vector<std::string> fault_texts;
    std::optional<int64_t> reply_words;
    app.add_option("--host", server_options.host, "address to listen on")->capture_default_str();
    app.add_option("--port", server_options.port, "port to listen on; 0 picks a free one")
        ->capture_default_str();
    app.add_option("--threads", server_options.threads, "worker threads (one io_context each)")
        ->capture_default_str()
        ->check(CLI::Range(1, 256));
    app.add_option("--port-file", port_file, "write the listening port to this file");
    app.add_option("--require-key", require_key,
                   "API key required (Authorization: Bearer KEY, or x-api-key: KEY)");
    app.add_option("--fault", fault_texts,
                   "a fault rule for every request: SPEC with optional model=NAME and count=N; "
                   "repeatable");
    app.add_option("--reply-words", reply_words, "reply with N filler words instead of the echo")
        ->check(CLI::Range(0, 1'000'000));
    CLI11_PARSE(app, argc, argv);

    std::vector<mock_llm::FaultSpec> startup_rules;
    for (const std::string& text : fault_texts) {
        mock_llm::FaultSpec rule;
        const std::string error = mock_llm::parse_fault_spec(text, rule);
        if (!error.empty()) {
            std::cerr << "mock-llm: --fault '" << text << "': " << error << '\n';
            return 2;
        }
        startup_rules.push_back(std::move(rule));
    }

    const size_t workers = server_options.threads;
    mock_llm::FaultBook faults(std::move(startup_rules));
    mock_llm::Stats stats(workers);
    mock_llm::MockService service({require_key, reply_words}, faults, stats, workers);
    mock_llm::HttpServer server(server_options, service);
    if (const std::string error = server.listen(); !error.empty()) {
        std::cerr << "mock-llm: " << error << '\n';
        return 1;
    }

    const auto endpoint = server.local_endpoint();
    if (!port_file.empty() && !write_port_file(port_file, endpoint.port())) {
        std::cerr << "mock-llm: cannot write --port-file " << port_file << '\n';
        return 1;
    }
    const std::string address = endpoint.address().is_v6()
                                    ? "[" + endpoint.address().to_string() + "]"
                                    : endpoint.address().to_string();
    std::cout << "mock-llm listening on " << address << ':' << endpoint.port() << std::endl;

    server.run();
    return 0;
}
