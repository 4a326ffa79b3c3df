// Chat accounting with the real vocabularies (data/vocab, converted by the bootstrap).
#include <gtest/gtest.h>

#include "switchyard/tokens/chat_format.hpp"
#include "switchyard/tokens/chat_tokens.hpp"
#include "switchyard/tokens/tokenizer_registry.hpp"
#include "switchyard/tokens/vocab_file.hpp"

using namespace switchyard;
using namespace switchyard::tokens;

namespace {

const Tokenizer& vocab(std::string_view name) {
    static TokenizerRegistry registry(default_vocab_dir());
    auto got = registry.get(name);
    if (auto* error = std::get_if<std::string>(&got)) {
        ADD_FAILURE() << *error;
        std::abort();
    }
    return *std::get<0>(got);
}

Message msg(Role role, std::string text, std::string name = {}) {
    Message m;
    m.role = role;
    m.text = std::move(text);
    m.name = std::move(name);
    return m;
}

// The worked example of OpenAI's cookbook ("How to count tokens with tiktoken"): the API
// reports 129 prompt tokens for these messages on gpt-3.5-turbo-0613 and gpt-4-0613.
TEST(ChatTokens, OpenAICookbookExampleCounts129) {
    ChatRequest req;
    req.messages = {
        msg(Role::kSystem,
            "You are a helpful, pattern-following assistant that translates corporate jargon "
            "into plain English."),
        msg(Role::kSystem, "New synergies will help drive top-line growth.", "example_user"),
        msg(Role::kSystem, "Things working well together will increase revenue.",
            "example_assistant"),
        msg(Role::kSystem,
            "Let's circle back when we have more bandwidth to touch base on opportunities for "
            "increased leverage.",
            "example_user"),
        msg(Role::kSystem, "Let's talk later when we're less busy about how to do better.",
            "example_assistant"),
        msg(Role::kUser,
            "This late pivot means we don't have time to boil the ocean for the client "
            "deliverable."),
    };
    EXPECT_EQ(count_chat_prompt(vocab("cl100k_base"), ChatFamily::kOpenAI, req), 129);
}

TEST(ChatTokens, Llama2AndMistralUseTheirExactInstPrompt) {
    ChatRequest req;
    req.messages = {msg(Role::kSystem, "Answer briefly."), msg(Role::kUser, "What is BPE?"),
                    msg(Role::kAssistant, "Byte pair encoding."), msg(Role::kUser, "Thanks!")};
    const std::vector<ChatTurn> turns = {{ChatRole::kSystem, "Answer briefly."},
                                         {ChatRole::kUser, "What is BPE?"},
                                         {ChatRole::kAssistant, "Byte pair encoding."},
                                         {ChatRole::kUser, "Thanks!"}};
    EXPECT_EQ(count_chat_prompt(vocab("llama2"), ChatFamily::kLlama2, req),
              static_cast<int64_t>(count_llama2_chat(vocab("llama2"), turns)));
    EXPECT_EQ(count_chat_prompt(vocab("mistral"), ChatFamily::kMistral, req),
              static_cast<int64_t>(count_mistral_chat(vocab("mistral"), turns)));
}

TEST(ChatTokens, EveryFamilyCountsMoreForMoreText) {
    for (auto [name, family] :
         {std::pair{"cl100k_base", ChatFamily::kOpenAI},
          std::pair{"o200k_base", ChatFamily::kOpenAI}, std::pair{"claude", ChatFamily::kAnthropic},
          std::pair{"llama3", ChatFamily::kLlama3}, std::pair{"llama2", ChatFamily::kLlama2},
          std::pair{"mistral", ChatFamily::kMistral}}) {
        ChatRequest short_req;
        short_req.messages = {msg(Role::kUser, "hi")};
        ChatRequest long_req;
        std::string long_text(2000, 'a');
        long_text += " and more words";
        long_req.messages.push_back(msg(Role::kUser, long_text));
        const auto& t = vocab(name);
        const int64_t a = count_chat_prompt(t, family, short_req);
        const int64_t b = count_chat_prompt(t, family, long_req);
        EXPECT_GT(a, 1) << name;
        EXPECT_GT(b, a + 100) << name;
    }
}

}  // namespace
