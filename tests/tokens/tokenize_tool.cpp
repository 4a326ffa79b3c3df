// tokenize_tool: encodes texts with the library's tokenizers for the parity tests, which
// feed it the same corpus as the reference npm packages and compare ids one by one.
// Protocol on stdin, repeated: a line "<vocabulary> <n_bytes>\n", then exactly n_bytes of
// raw text (any bytes). For each record one line on stdout: the ids separated by spaces.
// count() is checked against encode() on every record; a mismatch or a load failure is
// reported on stderr and exits 1.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "switchyard/tokens/tokenizer_registry.hpp"
#include "switchyard/tokens/vocab_file.hpp"

using namespace switchyard::tokens;

int main() {
    std::ios::sync_with_stdio(false);
    TokenizerRegistry registry(default_vocab_dir());
    std::string vocabulary;
    size_t n_bytes = 0;
    std::vector<TokenId> ids;
    std::string text;
    while (std::cin >> vocabulary >> n_bytes) {
        std::cin.get();  // the '\n' after the header
        text.resize(n_bytes);
        if (!std::cin.read(text.data(), static_cast<std::streamsize>(n_bytes))) {
            std::cerr << "tokenize_tool: short read\n";
            return 1;
        }
        auto got = registry.get(vocabulary);
        if (auto* error = std::get_if<std::string>(&got)) {
            std::cerr << "tokenize_tool: " << *error << "\n";
            return 1;
        }
        const Tokenizer* tokenizer = std::get<0>(got);
        ids.clear();
        tokenizer->encode(text, ids);
        size_t counted = tokenizer->count(text);
        if (counted != ids.size()) {
            std::cerr << "tokenize_tool: " << vocabulary << ": count() = " << counted
                      << " but encode() gave " << ids.size() << " ids\n";
            return 1;
        }
        std::string line;
        for (size_t i = 0; i < ids.size(); ++i) {
            if (i > 0) line += ' ';
            line += std::to_string(ids[i]);
        }
        line += '\n';
        std::cout << line;
        std::cout.flush();
    }
    return 0;
}
