// [INST] chat formats: render, encode and count every conversation of
// tests/data/tokens/sp_chat_cases.json (pieces and ids computed with the reference tokenizers by
// tests/tokens/sentencepiece_chat.mjs) for Llama 2 chat and Mistral instruct.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "switchyard/tokens/chat_format.hpp"
#include "switchyard/tokens/tokenizer_registry.hpp"
#include "switchyard/tokens/vocab_file.hpp"

namespace switchyard::tokens {
namespace {

namespace fs = std::filesystem;
namespace dom = simdjson::dom;

const fs::path kCases =
    fs::path(SWITCHYARD_GOLDEN_DIR) / ".." / "data" / "tokens" / "sp_chat_cases.json";

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

ChatRole role_of(std::string_view role) {
    if (role == "system") return ChatRole::kSystem;
    if (role == "assistant") return ChatRole::kAssistant;
    return ChatRole::kUser;
}

std::string describe(const PromptPiece& p) {
    switch (p.kind) {
        case PromptPiece::Kind::kBos:
            return "<s>";
        case PromptPiece::Kind::kEos:
            return "</s>";
        case PromptPiece::Kind::kText:
            return "text:" + p.text;
    }
    return "?";
}

TEST(ChatFormat, GoldenConversations) {
    TokenizerRegistry registry(default_vocab_dir());
    const std::string json = read_file(kCases);
    ASSERT_FALSE(json.empty()) << kCases;
    dom::parser parser;
    dom::array cases(parser.parse(json));
    ASSERT_GE(cases.size(), 10u);
    for (dom::element c : cases) {
        const std::string name{std::string_view(c["name"])};
        SCOPED_TRACE(name);
        std::vector<ChatTurn> turns;
        for (dom::element t : dom::array(c["turns"])) {
            turns.push_back({role_of(std::string_view(t["role"])), std::string_view(t["text"])});
        }
        for (auto [vocabulary, format] : {std::pair{"llama2", InstFormat::kLlama2Chat},
                                          std::pair{"mistral", InstFormat::kMistralInstruct}}) {
            SCOPED_TRACE(vocabulary);
            auto got = registry.get(vocabulary);
            ASSERT_TRUE(std::holds_alternative<const Tokenizer*>(got));
            const Tokenizer& tokenizer = *std::get<const Tokenizer*>(got);
            dom::element want = c[vocabulary];

            std::vector<std::string> want_pieces;
            for (dom::element p : dom::array(want["pieces"])) {
                std::string_view s;
                if (p.get(s) == simdjson::SUCCESS) {
                    want_pieces.emplace_back(s);
                } else {
                    want_pieces.push_back("text:" + std::string(std::string_view(p["text"])));
                }
            }
            std::vector<std::string> got_pieces;
            for (const PromptPiece& p : render_inst_prompt(format, turns)) {
                got_pieces.push_back(describe(p));
            }
            EXPECT_EQ(got_pieces, want_pieces);

            std::vector<TokenId> want_ids;
            for (dom::element id : dom::array(want["ids"])) {
                want_ids.push_back(static_cast<TokenId>(uint64_t(id)));
            }
            std::vector<TokenId> ids;
            encode_inst_prompt(tokenizer, format, turns, ids);
            EXPECT_EQ(ids, want_ids);
            const auto want_count = static_cast<size_t>(uint64_t(want["count"]));
            EXPECT_EQ(count_inst_prompt(tokenizer, format, turns), want_count);
            const size_t shorthand = format == InstFormat::kLlama2Chat
                                         ? count_llama2_chat(tokenizer, turns)
                                         : count_mistral_chat(tokenizer, turns);
            EXPECT_EQ(shorthand, want_count);
        }
    }
}

TEST(ChatFormat, Llama2TemplateByHand) {
    const ChatTurn turns[] = {{ChatRole::kSystem, "SYS"},
                              {ChatRole::kUser, "  hi  "},
                              {ChatRole::kAssistant, "\thello\n"},
                              {ChatRole::kUser, "bye"}};
    const auto pieces = render_inst_prompt(InstFormat::kLlama2Chat, turns);
    ASSERT_EQ(pieces.size(), 5u);
    EXPECT_EQ(pieces[0].kind, PromptPiece::Kind::kBos);
    // strip() sees the system block and the user text as one string, as in Meta's code, so the
    // user text keeps its leading spaces.
    EXPECT_EQ(pieces[1].text, "[INST] <<SYS>>\nSYS\n<</SYS>>\n\n  hi [/INST] hello ");
    EXPECT_EQ(pieces[2].kind, PromptPiece::Kind::kEos);
    EXPECT_EQ(pieces[3].kind, PromptPiece::Kind::kBos);
    EXPECT_EQ(pieces[4].text, "[INST] bye [/INST]");
}

TEST(ChatFormat, MistralTemplateByHand) {
    const ChatTurn turns[] = {{ChatRole::kUser, "a"},
                              {ChatRole::kUser, "b"},
                              {ChatRole::kAssistant, "c"},
                              {ChatRole::kSystem, "S"}};
    const auto pieces = render_inst_prompt(InstFormat::kMistralInstruct, turns);
    ASSERT_EQ(pieces.size(), 4u);
    EXPECT_EQ(pieces[0].kind, PromptPiece::Kind::kBos);
    EXPECT_EQ(pieces[1].text, "[INST] S\n\na\n\nb [/INST]");
    EXPECT_EQ(pieces[2].text, "c");
    EXPECT_EQ(pieces[3].kind, PromptPiece::Kind::kEos);
    EXPECT_TRUE(render_inst_prompt(InstFormat::kMistralInstruct, {}).empty());
}

}  // namespace
}  // namespace switchyard::tokens
