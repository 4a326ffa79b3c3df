// switchyard tokens count|encode: exact token counts (and list-price cost) of a file or stdin,
// with the vocabulary the catalog (or the model's name) picks.
#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>

#include "commands.hpp"
#include "switchyard/config/config.hpp"
#include "switchyard/tokens/chat_tokens.hpp"
#include "switchyard/tokens/ledger.hpp"
#include "switchyard/tokens/tokenizer_registry.hpp"
#include "switchyard/tokens/vocab_file.hpp"

namespace switchyard::cli {
namespace {

struct TokenOptions {
    std::string model;
    std::string vocabulary;
    std::string config;
    std::string file = "-";
};

void add_options(CLI::App* cmd, TokenOptions& o) {
    cmd->add_option("-m,--model", o.model,
                    "Model: the catalog's entry if present, else chosen by name (gpt-4o -> "
                    "o200k_base, claude -> claude, ...)");
    cmd->add_option("--vocab", o.vocabulary,
                    "Vocabulary instead of a model: cl100k_base, o200k_base, claude, llama3, "
                    "llama2, mistral");
    cmd->add_option("-c,--config", o.config, "Config whose catalog to use (default: built-in)");
    cmd->add_option("file", o.file, "Text file, or - for stdin (default)");
}

bool read_input(const std::string& file, std::string& out) {
    if (file == "-") {
        out.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
        return true;
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) return false;
    std::stringstream ss;
    ss << in.rdbuf();
    out = ss.str();
    return true;
}

struct Resolved {
    std::string vocabulary;
    const ModelConfig* model = nullptr;  // when the catalog has it (prices)
};

int with_tokenizer(
    const TokenOptions& o,
    const std::function<int(const tokens::Tokenizer&, const Resolved&, const std::string&)>& f) {
    if (o.model.empty() == o.vocabulary.empty()) {
        std::cerr << "give exactly one of --model or --vocab\n";
        return 2;
    }
    Config cfg;
    try {
        cfg = o.config.empty() ? default_config() : load_config_file(o.config);
    } catch (const ConfigError& e) {
        std::cerr << "invalid config: " << e.what() << "\n";
        return 2;
    }
    Resolved r;
    if (!o.vocabulary.empty()) {
        r.vocabulary = o.vocabulary;
    } else if (const ModelConfig* m = cfg.find_model(o.model)) {
        r.model = m;
        r.vocabulary = m->tokenizer.empty()
                           ? std::string(tokens::vocabulary_for_model(m->upstream_model))
                           : m->tokenizer;
    } else {
        r.vocabulary = std::string(tokens::vocabulary_for_model(o.model));
    }
    tokens::TokenizerRegistry registry(cfg.tokens.vocab_dir.empty() ? tokens::default_vocab_dir()
                                                                    : cfg.tokens.vocab_dir);
    auto loaded = registry.get(r.vocabulary);
    if (auto* error = std::get_if<std::string>(&loaded)) {
        std::cerr << "error: " << *error << "\n";
        return 1;
    }
    std::string text;
    if (!read_input(o.file, text)) {
        std::cerr << "error: cannot read " << o.file << "\n";
        return 1;
    }
    return f(*std::get<0>(loaded), r, text);
}

}  // namespace

void add_token_commands(CLI::App& app, std::vector<std::pair<CLI::App*, Action>>& actions) {
    auto* tokens_cmd = app.add_subcommand("tokens", "Count and encode tokens");
    tokens_cmd->require_subcommand(1);

    auto* count = tokens_cmd->add_subcommand("count", "Count the tokens of a text, with its cost");
    auto count_opts = std::make_shared<TokenOptions>();
    add_options(count, *count_opts);
    actions.emplace_back(count, [=] {
        return with_tokenizer(*count_opts, [&](const tokens::Tokenizer& t, const Resolved& r,
                                               const std::string& text) {
            const auto n = static_cast<int64_t>(t.count(text));
            std::cout << fmt::format("tokens: {}\nvocabulary: {}\nbytes: {}\n", n, r.vocabulary,
                                     text.size());
            if (r.model != nullptr) {
                const auto& p = r.model->price;
                std::cout << fmt::format(
                    "cost as input: ${:.6f} (at ${} per 1M input tokens, {})\n",
                    tokens::to_usd(tokens::cost_nusd(n, 0, p.input_per_1m_usd, 0)),
                    p.input_per_1m_usd, r.model->name);
            } else if (!count_opts->model.empty()) {
                std::cout
                    << "cost: unknown (the model is not in the catalog, so it has no price)\n";
            }
            return 0;
        });
    });

    auto* encode = tokens_cmd->add_subcommand("encode", "Print the token ids of a text");
    auto encode_opts = std::make_shared<TokenOptions>();
    auto show = std::make_shared<bool>(false);
    add_options(encode, *encode_opts);
    encode->add_flag("--show", *show, "Also print each token's text, one per line");
    actions.emplace_back(encode, [=] {
        return with_tokenizer(*encode_opts, [&](const tokens::Tokenizer& t, const Resolved&,
                                                const std::string& text) {
            std::vector<tokens::TokenId> ids;
            t.encode(text, ids);
            if (*show) {
                for (auto id : ids) {
                    const tokens::TokenId one[1] = {id};
                    std::cout << id << "\t" << fmt::format("{:?}", t.decode(one)) << "\n";
                }
            } else {
                std::string line;
                for (size_t i = 0; i < ids.size(); ++i)
                    line += (i ? " " : "") + std::to_string(ids[i]);
                std::cout << line << "\n";
            }
            return 0;
        });
    });
}

}  // namespace switchyard::cli
