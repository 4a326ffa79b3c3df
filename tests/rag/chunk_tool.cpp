// chunk_tool: runs the recursive splitter for the LangChain parity test, which feeds it the
// same texts and settings as LangChain's RecursiveCharacterTextSplitter and compares chunks.
// Protocol on stdin, repeated:
//   "<unit> <size> <overlap> <n_separators>\n", then per separator "<n_bytes>\n<bytes>",
//   then "<n_bytes>\n<bytes>" of text. unit: chars, utf16, or a vocabulary (cl100k_base...).
// For each record one line on stdout: a JSON array of the chunk texts. A construction error
// is answered {"error": "..."}; a read or load failure exits 1 with a message on stderr.
#include <cstdio>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "switchyard/rag/chunking/recursive_chunker.hpp"
#include "switchyard/tokens/tokenizer_registry.hpp"
#include "switchyard/tokens/vocab_file.hpp"

using namespace switchyard;

namespace {

bool read_blob(std::string& out) {
    size_t n = 0;
    if (!(std::cin >> n)) return false;
    std::cin.get();  // '\n'
    out.resize(n);
    return static_cast<bool>(std::cin.read(out.data(), static_cast<std::streamsize>(n)));
}

void append_json_string(std::string& out, std::string_view s) {
    out += '"';
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (c < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out += ch;
                }
        }
    }
    out += '"';
}

}  // namespace

int main() {
    std::ios::sync_with_stdio(false);
    tokens::TokenizerRegistry registry(tokens::default_vocab_dir());
    std::string unit;
    size_t size = 0;
    size_t overlap = 0;
    size_t n_separators = 0;
    while (std::cin >> unit >> size >> overlap >> n_separators) {
        std::cin.get();
        std::vector<std::string> separators(n_separators);
        for (std::string& s : separators) {
            if (!read_blob(s)) {
                std::cerr << "chunk_tool: short read (separator)\n";
                return 1;
            }
        }
        rag::Document document;
        if (!read_blob(document.text)) {
            std::cerr << "chunk_tool: short read (text)\n";
            return 1;
        }
        rag::ChunkSize chunk_size{size, overlap, rag::SizeUnit::kCharacters, nullptr};
        if (unit == "utf16") {
            chunk_size.unit = rag::SizeUnit::kUtf16;
        } else if (unit != "chars") {
            auto got = registry.get(unit);
            if (auto* error = std::get_if<std::string>(&got)) {
                std::cerr << "chunk_tool: " << *error << "\n";
                return 1;
            }
            chunk_size.unit = rag::SizeUnit::kTokens;
            chunk_size.tokenizer = std::get<0>(got);
        }
        std::string line;
        try {
            const rag::RecursiveChunker chunker(chunk_size, std::move(separators));
            auto chunks = chunker.split(document);
            if (!chunks.ok()) {
                line = "{\"error\":";
                append_json_string(line, chunks.error().message);
                line += "}";
            } else {
                line = "[";
                for (size_t i = 0; i < chunks->size(); ++i) {
                    if (i > 0) line += ',';
                    append_json_string(line, (*chunks)[i].text);
                }
                line += "]";
            }
        } catch (const std::invalid_argument& e) {
            line = "{\"error\":";
            append_json_string(line, e.what());
            line += "}";
        }
        line += '\n';
        std::cout << line;
    }
    return 0;
}
